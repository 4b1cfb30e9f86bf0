import { describe, expect, it } from "vitest";
import { thrown } from "../../../tests/support/errors";
import {
  checkGstin,
  GST_STATES,
  gstinCheckCharacter,
  taxFor,
  TaxInputError,
  type TaxCustomer,
} from "./gst";
import { mulDivHalfUp, percentOf } from "./minor-units";

// Real-shaped GSTINs whose check characters are right (the first is GSTN's published sample).
const MAHARASHTRA = "27AAPFU0939F1ZV";
const KARNATAKA = "29AAGCB7383J1Z4";
const TAMIL_NADU = "33AAACH7409R1Z8";

/** A deterministic spread of amounts: every small one, then pseudo-random large ones. */
function amounts(): number[] {
  const out: number[] = [];
  for (let a = 0; a <= 5_000; a++) out.push(a);
  let seed = 17;
  for (let i = 0; i < 5_000; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    out.push(seed % 10_000_000_00);
  }
  return out;
}

describe("GSTIN check", () => {
  it("accepts real-shaped GSTINs, forgiving spaces and case", () => {
    for (const gstin of [MAHARASHTRA, KARNATAKA, TAMIL_NADU]) {
      expect(checkGstin(gstin)).toEqual({
        ok: true,
        gstin,
        stateCode: gstin.slice(0, 2),
        pan: gstin.slice(2, 12),
      });
    }
    expect(checkGstin(" 27aapfu0939f1zv ")).toMatchObject({ ok: true, gstin: MAHARASHTRA });
  });

  it("computes the check character with the base-36 weighted sum", () => {
    expect(gstinCheckCharacter(MAHARASHTRA.slice(0, 14))).toBe("V");
    expect(gstinCheckCharacter(KARNATAKA.slice(0, 14))).toBe("4");
    expect(gstinCheckCharacter(TAMIL_NADU.slice(0, 14))).toBe("8");
  });

  it("refuses every single-character change of the check character, with the reason", () => {
    for (const c of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
      if (c === "V") continue;
      const result = checkGstin(MAHARASHTRA.slice(0, 14) + c);
      expect(result).toEqual({
        ok: false,
        reason: `The check character does not match (expected V, got ${c}); look for a typing mistake.`,
      });
    }
  });

  it("catches a typing mistake in the body (two digits swapped)", () => {
    expect(checkGstin("27AAPFU9039F1ZV").ok).toBe(false);
  });

  it("names what is wrong with the shape", () => {
    const reasons = (g: string) => {
      const r = checkGstin(g);
      return r.ok ? "accepted" : r.reason;
    };
    expect(reasons("27AAPFU0939F1Z")).toBe("A GSTIN has 15 characters; this has 14.");
    expect(reasons("27AAPFU0939F1Z-")).toBe("A GSTIN has only letters and digits.");
    expect(reasons("99AAPFU0939F1ZV")).toBe("99 is not an Indian state or territory code.");
    expect(reasons("27AAPF10939F1ZV")).toMatch(/^Characters 3–12 must be a PAN/);
    expect(reasons("27AAPFU0939F0ZV")).toMatch(/^Character 13/);
    expect(reasons("27AAPFU0939F1YV")).toBe("Character 14 must be Z.");
  });
});

describe("taxFor", () => {
  const supplierState = "29";

  it("same state: CGST 9% and SGST 9%, each rounded half up on its own", () => {
    const tax = taxFor({
      supplierState,
      customer: { country: "IN", gstin: KARNATAKA },
      amount: 599_900,
    });
    expect(tax).toEqual({
      kind: "intra_state",
      placeOfSupply: "29",
      gstin: KARNATAKA,
      taxable: 599_900,
      cgst: 53_991,
      sgst: 53_991,
      igst: 0,
      tax: 107_982,
      total: 707_882,
      zeroRatedUnderLut: false,
    });
    // 9% of 5 paise is 0.45 → 0; of 6 paise, 0.54 → 1; of 50 paise, 4.5 → 5 (half up).
    const cgstOf = (amount: number) =>
      taxFor({ supplierState, customer: { country: "IN", state: "29" }, amount }).cgst;
    expect([cgstOf(5), cgstOf(6), cgstOf(50)]).toEqual([0, 1, 5]);
  });

  it("other state: IGST 18% only, place of supply from the GSTIN", () => {
    const tax = taxFor({
      supplierState,
      customer: { country: "IN", gstin: MAHARASHTRA },
      amount: 199_900,
    });
    expect(tax).toMatchObject({
      kind: "inter_state",
      placeOfSupply: "27",
      cgst: 0,
      sgst: 0,
      igst: 35_982,
      total: 235_882,
    });
  });

  it("without a GSTIN: the state on record, else the supplier's state", () => {
    const kindFor = (customer: TaxCustomer) =>
      taxFor({ supplierState, customer, amount: 1000 }).kind;
    expect(kindFor({ country: "IN", state: "07" })).toBe("inter_state");
    expect(kindFor({ country: "IN", state: "29" })).toBe("intra_state");
    expect(kindFor({ country: "IN" })).toBe("intra_state");
  });

  it("outside India: zero-rated export under LUT", () => {
    expect(taxFor({ supplierState, customer: { country: "US" }, amount: 7_900 })).toEqual({
      kind: "export",
      placeOfSupply: null,
      gstin: null,
      taxable: 7_900,
      cgst: 0,
      sgst: 0,
      igst: 0,
      tax: 0,
      total: 7_900,
      zeroRatedUnderLut: true,
    });
  });

  it("refuses inconsistent or unknown facts with the field and reason", () => {
    const refusal = (customer: TaxCustomer, supplier = supplierState) => {
      const error = thrown(() => taxFor({ supplierState: supplier, customer, amount: 100 }));
      expect(error).toBeInstanceOf(TaxInputError);
      return [(error as TaxInputError).field, error.message];
    };
    expect(refusal({ country: "IN", state: "99" })).toEqual([
      "state",
      "99 is not a GST state code (01–38, 97).",
    ]);
    expect(refusal({ country: "IN", gstin: MAHARASHTRA, state: "29" })).toEqual([
      "state",
      "The GSTIN is registered in Maharashtra (27), not Karnataka (29).",
    ]);
    expect(refusal({ country: "IN", gstin: "27AAPFU0939F1ZW" })[0]).toBe("gstin");
    expect(refusal({ country: "US", gstin: MAHARASHTRA })[0]).toBe("gstin");
    expect(refusal({ country: "IN" }, "00")[0]).toBe("supplierState");
    expect(refusal({ country: "India" })[0]).toBe("country");
  });

  it("halves are equal and sum exactly to the tax, for every amount (property)", () => {
    for (const amount of amounts()) {
      const intra = taxFor({ supplierState, customer: { country: "IN", state: "29" }, amount });
      expect(intra.cgst).toBe(intra.sgst);
      expect(intra.cgst + intra.sgst).toBe(intra.tax);
      expect(intra.taxable + intra.tax).toBe(intra.total);
      // Each half is 9% rounded half up: within half a paisa of the exact value.
      expect(Math.abs(intra.cgst * 100 - amount * 9)).toBeLessThanOrEqual(50);
      const inter = taxFor({ supplierState, customer: { country: "IN", state: "27" }, amount });
      expect(inter.igst).toBe(percentOf(amount, 1800));
      expect(Math.abs(inter.igst - intra.tax)).toBeLessThanOrEqual(1);
      expect(Number.isInteger(intra.total) && Number.isInteger(inter.total)).toBe(true);
    }
  });

  it("knows every GST state code it checks against", () => {
    expect(Object.keys(GST_STATES)).toHaveLength(37);
    expect(GST_STATES["36"]).toBe("Telangana");
  });
});

describe("money", () => {
  it("rounds half away from zero, once, without floating point", () => {
    expect(mulDivHalfUp(5, 1, 2)).toBe(3);
    expect(mulDivHalfUp(-5, 1, 2)).toBe(-3);
    expect(mulDivHalfUp(4, 1, 3)).toBe(1);
    expect(mulDivHalfUp(149_990_00, 31_535_999, 31_536_000)).toBe(149_990_00);
    expect(() => mulDivHalfUp(1.5, 1, 2)).toThrow(/whole number/);
  });
});
