/**
 * Amounts are stored as integers in the currency's minor unit (paise, cents) and shown and
 * typed as decimal money. Both workspace currencies (INR, USD) have two decimals.
 */

export const MINOR_DIGITS = 2;
const MINOR_PER_MAJOR = 10 ** MINOR_DIGITS;
/** Far above any per-message price; keeps minor units well inside safe integers. */
export const MAX_MAJOR_AMOUNT = 1_000_000;

/** "0.88" for 88 minor units: the plain decimal an input is filled with. */
export function minorToDecimal(minor: number): string {
  return (minor / MINOR_PER_MAJOR).toFixed(MINOR_DIGITS);
}

const moneyFormatters = new Map<string, Intl.NumberFormat>();

/** "₹0.88" / "$0.01", for reading (tables, totals). */
export function formatMoney(minor: number, currency: string): string {
  let formatter = moneyFormatters.get(currency);
  if (!formatter) {
    // Indian digit grouping (1,23,456) for rupees, Western for dollars.
    formatter = new Intl.NumberFormat(currency === "INR" ? "en-IN" : "en-US", {
      style: "currency",
      currency,
      minimumFractionDigits: MINOR_DIGITS,
      maximumFractionDigits: MINOR_DIGITS,
    });
    moneyFormatters.set(currency, formatter);
  }
  return formatter.format(minor / MINOR_PER_MAJOR);
}

export type ParsedMoney = { ok: true; minor: number } | { ok: false; message: string };

/**
 * Reads a typed amount ("0.88", "1,200.5", " 12 ") into minor units without floating-point
 * rounding. Says what is wrong otherwise: not a number, negative, too many decimals, too large.
 */
export function parseMoney(input: string): ParsedMoney {
  const text = input.trim().replace(/[,\s]/g, "");
  if (!text) return { ok: false, message: "Enter an amount, for example 0.88." };
  if (/^-\d*\.?\d*$/.test(text) && text !== "-") {
    return { ok: false, message: "A price can't be negative." };
  }
  const match = /^(\d+)(?:\.(\d*))?$|^\.(\d+)$/.exec(text);
  if (!match) return { ok: false, message: "Enter an amount as a number, for example 0.88." };
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? match[3] ?? "";
  if (fraction.length > MINOR_DIGITS) {
    return { ok: false, message: `Use at most ${MINOR_DIGITS} decimal places.` };
  }
  const minor = Number(whole) * MINOR_PER_MAJOR + Number(fraction.padEnd(MINOR_DIGITS, "0"));
  if (minor / MINOR_PER_MAJOR > MAX_MAJOR_AMOUNT) {
    return { ok: false, message: `Enter at most ${MAX_MAJOR_AMOUNT.toLocaleString("en-IN")}.` };
  }
  return { ok: true, minor };
}
