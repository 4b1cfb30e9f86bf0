import { percentOf } from "./minor-units";

/**
 * Indian GST for our one kind of supply (software as a service, 18%). Rounding: each component
 * (CGST, SGST, IGST) is computed from the taxable amount on its own and rounded half up to the
 * paisa, so CGST always equals SGST and the invoice never shows unequal halves. Why:
 * docs/decisions/0021-gst-invoices.md.
 */

export const GST_RATE_BP = 1800;

/** Licensing services for the right to use computer software (docs/decisions/0021). */
export const DEFAULT_SAC = "997331";
export const HALF_RATE_BP = GST_RATE_BP / 2;

/** GST state and union-territory codes (the first two digits of a GSTIN). */
export const GST_STATES: Readonly<Record<string, string>> = {
  "01": "Jammu and Kashmir",
  "02": "Himachal Pradesh",
  "03": "Punjab",
  "04": "Chandigarh",
  "05": "Uttarakhand",
  "06": "Haryana",
  "07": "Delhi",
  "08": "Rajasthan",
  "09": "Uttar Pradesh",
  "10": "Bihar",
  "11": "Sikkim",
  "12": "Arunachal Pradesh",
  "13": "Nagaland",
  "14": "Manipur",
  "15": "Mizoram",
  "16": "Tripura",
  "17": "Meghalaya",
  "18": "Assam",
  "19": "West Bengal",
  "20": "Jharkhand",
  "21": "Odisha",
  "22": "Chhattisgarh",
  "23": "Madhya Pradesh",
  "24": "Gujarat",
  "26": "Dadra and Nagar Haveli and Daman and Diu",
  "27": "Maharashtra",
  "29": "Karnataka",
  "30": "Goa",
  "31": "Lakshadweep",
  "32": "Kerala",
  "33": "Tamil Nadu",
  "34": "Puducherry",
  "35": "Andaman and Nicobar Islands",
  "36": "Telangana",
  "37": "Andhra Pradesh",
  "38": "Ladakh",
  "97": "Other Territory",
};

export function isGstState(code: string): boolean {
  return Object.hasOwn(GST_STATES, code);
}

const BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * The GSTIN check character: each of the first 14 characters as a base-36 value, weighted 1, 2,
 * 1, 2… from the left; each product contributes its base-36 quotient plus remainder; the check
 * value is (36 − sum mod 36) mod 36.
 */
export function gstinCheckCharacter(first14: string): string {
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    const value = BASE36.indexOf(first14[i] ?? "");
    if (value < 0) throw new Error(`not a GSTIN character: ${first14[i]}`);
    const product = value * (i % 2 === 0 ? 1 : 2);
    sum += Math.floor(product / 36) + (product % 36);
  }
  return BASE36[(36 - (sum % 36)) % 36]!;
}

export type GstinCheck =
  { ok: true; gstin: string; stateCode: string; pan: string } | { ok: false; reason: string };

/**
 * A regular taxpayer's GSTIN: state code, PAN (5 letters, 4 digits, 1 letter), entity number
 * (1–9, A–Z), the letter Z, and the check character. Spaces and case are forgiven.
 */
export function checkGstin(input: string): GstinCheck {
  const gstin = input.replace(/\s+/g, "").toUpperCase();
  if (gstin.length !== 15) {
    return { ok: false, reason: `A GSTIN has 15 characters; this has ${gstin.length}.` };
  }
  if (!/^[0-9A-Z]{15}$/.test(gstin)) {
    return { ok: false, reason: "A GSTIN has only letters and digits." };
  }
  const stateCode = gstin.slice(0, 2);
  if (!isGstState(stateCode)) {
    return { ok: false, reason: `${stateCode} is not an Indian state or territory code.` };
  }
  const pan = gstin.slice(2, 12);
  if (!/^[A-Z]{5}[0-9]{4}[A-Z]$/.test(pan)) {
    return { ok: false, reason: `Characters 3–12 must be a PAN (like ABCDE1234F); got ${pan}.` };
  }
  if (!/^[1-9A-Z]$/.test(gstin[12]!)) {
    return { ok: false, reason: "Character 13 (the entity number) must be 1–9 or A–Z." };
  }
  if (gstin[13] !== "Z") {
    return { ok: false, reason: "Character 14 must be Z." };
  }
  const expected = gstinCheckCharacter(gstin);
  if (gstin[14] !== expected) {
    return {
      ok: false,
      reason: `The check character does not match (expected ${expected}, got ${gstin[14]}); look for a typing mistake.`,
    };
  }
  return { ok: true, gstin, stateCode, pan };
}

export interface TaxCustomer {
  /** ISO 3166 alpha-2. */
  country: string;
  gstin?: string;
  /** GST state code of the customer's address, for customers without a GSTIN. */
  state?: string;
}

export type TaxKind = "intra_state" | "inter_state" | "export";

export interface TaxBreakdown {
  kind: TaxKind;
  /** GST state code where the supply is taxed; null for an export. */
  placeOfSupply: string | null;
  /** Validated and normalised, when the customer gave one. */
  gstin: string | null;
  taxable: number;
  cgst: number;
  sgst: number;
  igst: number;
  tax: number;
  total: number;
  /** Export of services without payment of tax, under the supplier's Letter of Undertaking. */
  zeroRatedUnderLut: boolean;
}

/** Which field was wrong and why; callers turn it into a form error or a CLI usage error. */
export class TaxInputError extends Error {
  constructor(
    readonly field: "gstin" | "state" | "supplierState" | "country",
    message: string,
  ) {
    super(message);
  }
}

/**
 * GST on one taxable amount (minor units; negative for a credit). Place of supply for a
 * customer in India: the GSTIN's state; otherwise the state on record; with neither, the
 * supplier's state (IGST Act s.12(2)(b)(ii)). A customer outside India is an export: zero tax,
 * whatever the supplier's state.
 */
export function taxFor(input: {
  supplierState: string;
  customer: TaxCustomer;
  amount: number;
}): TaxBreakdown {
  const { supplierState, customer, amount } = input;
  const country = customer.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) {
    throw new TaxInputError("country", "The country must be a two-letter ISO code.");
  }
  if (country !== "IN") {
    if (customer.gstin) {
      throw new TaxInputError("gstin", "A GSTIN belongs to a customer in India.");
    }
    return {
      kind: "export",
      placeOfSupply: null,
      gstin: null,
      taxable: amount,
      cgst: 0,
      sgst: 0,
      igst: 0,
      tax: 0,
      total: amount,
      zeroRatedUnderLut: true,
    };
  }
  if (!isGstState(supplierState)) {
    throw new TaxInputError("supplierState", `${supplierState} is not a GST state code.`);
  }
  let gstin: string | null = null;
  let placeOfSupply: string;
  const state = customer.state?.trim();
  if (state !== undefined && state !== "" && !isGstState(state)) {
    throw new TaxInputError("state", `${state} is not a GST state code (01–38, 97).`);
  }
  if (customer.gstin) {
    const check = checkGstin(customer.gstin);
    if (!check.ok) throw new TaxInputError("gstin", check.reason);
    if (state && state !== check.stateCode) {
      throw new TaxInputError(
        "state",
        `The GSTIN is registered in ${GST_STATES[check.stateCode]} (${check.stateCode}), not ${GST_STATES[state]} (${state}).`,
      );
    }
    gstin = check.gstin;
    placeOfSupply = check.stateCode;
  } else {
    placeOfSupply = state || supplierState;
  }
  if (placeOfSupply === supplierState) {
    const half = percentOf(amount, HALF_RATE_BP);
    return {
      kind: "intra_state",
      placeOfSupply,
      gstin,
      taxable: amount,
      cgst: half,
      sgst: half,
      igst: 0,
      tax: 2 * half,
      total: amount + 2 * half,
      zeroRatedUnderLut: false,
    };
  }
  const igst = percentOf(amount, GST_RATE_BP);
  return {
    kind: "inter_state",
    placeOfSupply,
    gstin,
    taxable: amount,
    cgst: 0,
    sgst: 0,
    igst,
    tax: igst,
    total: amount + igst,
    zeroRatedUnderLut: false,
  };
}
