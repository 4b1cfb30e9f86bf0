import type { Currency } from "~/db/schema/control";

/**
 * Money is an integer count of minor units (paise for INR, cents for USD). Nothing in billing
 * holds a fraction: every division goes through `mulDivHalfUp`, which rounds once, half away
 * from zero, using BigInt so that a large amount times a long period cannot lose precision.
 */

export interface Money {
  amount: number;
  currency: Currency;
}

export class MoneyError extends Error {}

export function assertMinorUnits(amount: number, what = "amount"): number {
  if (!Number.isSafeInteger(amount)) {
    throw new MoneyError(`${what} must be a whole number of minor units, got ${amount}`);
  }
  return amount;
}

/** `amount × numerator ÷ denominator`, rounded half away from zero (0.5 paise → 1 paisa). */
export function mulDivHalfUp(amount: number, numerator: number, denominator: number): number {
  assertMinorUnits(amount);
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new MoneyError("mulDivHalfUp needs whole numbers and a positive denominator");
  }
  const product = BigInt(amount) * BigInt(numerator);
  const negative = product < 0n;
  const magnitude = negative ? -product : product;
  const d = BigInt(denominator);
  const rounded = (magnitude * 2n + d) / (2n * d);
  return Number(negative ? -rounded : rounded);
}

/** A rate in basis points (900 = 9%) applied to an amount, rounded half up on its own. */
export function percentOf(amount: number, basisPoints: number): number {
  return mulDivHalfUp(amount, basisPoints, 10_000);
}

export function sumMinor(amounts: readonly number[]): number {
  return amounts.reduce((total, a) => assertMinorUnits(total + assertMinorUnits(a), "sum"), 0);
}
