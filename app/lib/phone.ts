import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/min";

export type PhoneResult =
  { ok: true; e164: string; country: string | null } | { ok: false; reason: string };

const MAX_INPUT = 40;

/**
 * An Indian mobile number written as digits only (the import drops spaces, dashes and brackets
 * first): ten digits starting with 6-9, alone or after 0, 91, 0091 or +91. These are most of
 * the numbers our tenants import, and for every one of them libphonenumber answers +91 and the
 * ten digits, country IN (with IN as the default country; "+91…" with any default country).
 * phone.test.ts checks that equivalence against libphonenumber for every five-digit prefix in
 * each form, so the shortcut can never disagree with the library; anything else goes to it.
 */
const INDIAN_MOBILE = /^(?:\+91|0091|91|0)?[6-9]\d{9}$/;

/** +91… for the Indian mobile forms above, or null when libphonenumber must decide. */
export function indianMobileE164(raw: string, defaultCountry: string): string | null {
  const length = raw.length;
  if (length < 10 || length > 14) return null;
  if (!INDIAN_MOBILE.test(raw)) return null;
  // Without the plus, the prefixes (and the bare ten digits) mean India only for IN.
  if (defaultCountry !== "IN" && raw.charCodeAt(0) !== 43 /* + */) return null;
  // The ten digits are the last ten characters, whatever the prefix.
  return `+91${length === 10 ? raw : raw.slice(length - 10)}`;
}

/**
 * A phone number in any common written form to E.164, reading numbers without a country code as
 * the workspace's default country: "98765 43210", "0091-98765-43210" and "+91 (987) 654-3210"
 * with IN all give +919876543210. The "min" metadata validates length and prefixes per country
 * at ~170k numbers/s; the common Indian mobile forms skip it (indianMobileE164, same answers).
 */
export function normalisePhone(input: string, defaultCountry: string): PhoneResult {
  const raw = input.trim();
  const fast = indianMobileE164(raw, defaultCountry);
  if (fast !== null) return { ok: true, e164: fast, country: "IN" };
  return normalisePhoneWithLibrary(raw, defaultCountry);
}

/** normalisePhone without the shortcut: libphonenumber decides every number (for tests). */
export function normalisePhoneWithLibrary(input: string, defaultCountry: string): PhoneResult {
  const raw = input.trim();
  if (!raw) return { ok: false, reason: "Phone number is empty." };
  if (raw.length > MAX_INPUT) return { ok: false, reason: "Phone number is too long." };
  if (/[a-z]{2,}/i.test(raw) && !/^\+?[\d\s().-]+(ext\.?|x)\s*\d+$/i.test(raw)) {
    return { ok: false, reason: `"${raw}" is not a phone number.` };
  }
  const parsed = parsePhoneNumberFromString(raw, defaultCountry as CountryCode);
  if (!parsed) return { ok: false, reason: `"${raw}" is not a phone number.` };
  if (!parsed.isValid()) {
    return {
      ok: false,
      reason: `"${raw}" is not a valid phone number for ${parsed.country ?? defaultCountry}.`,
    };
  }
  return { ok: true, e164: parsed.number, country: parsed.country ?? null };
}

/** Country of an E.164 number, for display and segments. */
export function phoneCountry(e164: string): string | null {
  return parsePhoneNumberFromString(e164)?.country ?? null;
}
