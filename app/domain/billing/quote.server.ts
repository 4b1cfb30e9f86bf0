import type { Currency } from "~/db/schema/control";
import { taxFor, type TaxCustomer, type TaxKind } from "./gst";
import { mulDivHalfUp, sumMinor } from "./minor-units";
import { PLANS, planPrice, type Interval, type PlanId } from "./plans";

/**
 * The price of a plan change, computed once and used twice: the preview a person is shown and
 * the charge the checkout records both call `quoteChange` with the same input, so they cannot
 * differ. Rules (docs/decisions/0020-plans-and-prices.md):
 * - a higher plan takes effect now: the unused part of the current period is credited at the
 *   current price and charged at the new one, prorated by whole seconds;
 * - a lower plan, or monthly instead of yearly, takes effect at renewal: nothing is charged now;
 * - yearly instead of monthly (same or higher plan) takes effect now: a new yearly period starts,
 *   less the unused part of the month already paid.
 */

export interface CurrentSubscription {
  plan: PlanId;
  interval: Interval;
  periodStart: Date;
  periodEnd: Date;
}

export interface QuoteInput {
  /** Absent: a first subscription (after the trial), charged in full from `at`. */
  current?: CurrentSubscription;
  next: { plan: PlanId; interval: Interval };
  currency: Currency;
  customer: TaxCustomer;
  /** The supplier's GST state code: decides intra-state (CGST + SGST) or inter-state (IGST). */
  supplierState: string;
  /** The moment the quote is for; the charge reuses it (see QUOTE_VALID_MS). */
  at: Date;
}

export interface QuoteLine {
  kind: "charge" | "credit";
  plan: PlanId;
  interval: Interval;
  description: string;
  /** Minor units; credits are negative. */
  amount: number;
  from: string;
  to: string;
}

export interface Quote {
  currency: Currency;
  effective: "now" | "renewal";
  lines: QuoteLine[];
  subtotal: number;
  cgst: number;
  sgst: number;
  igst: number;
  total: number;
  tax: {
    kind: TaxKind;
    placeOfSupply: string | null;
    gstin: string | null;
    zeroRatedUnderLut: boolean;
  };
  /** The subscription after the change: from now, or from renewal when effective then. */
  subscription: { plan: PlanId; interval: Interval; periodStart: string; periodEnd: string };
}

/** How long a preview may be charged as shown. */
export const QUOTE_VALID_MS = 30 * 60 * 1000;

export class QuoteError extends Error {
  constructor(
    readonly field: "plan" | "interval" | "current" | "at",
    message: string,
  ) {
    super(message);
  }
}

/** One calendar month or year later, in UTC; 31 January + 1 month is 28 (or 29) February. */
export function addInterval(start: Date, interval: Interval): Date {
  const end = new Date(start.getTime());
  const day = end.getUTCDate();
  end.setUTCDate(1);
  if (interval === "month") end.setUTCMonth(end.getUTCMonth() + 1);
  else end.setUTCFullYear(end.getUTCFullYear() + 1);
  const lastDay = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate();
  end.setUTCDate(Math.min(day, lastDay));
  return end;
}

const seconds = (from: Date, to: Date) => Math.floor((to.getTime() - from.getTime()) / 1000);

function describe(plan: PlanId, interval: Interval, part: string): string {
  return `${PLANS[plan].name} (${interval === "month" ? "monthly" : "yearly"}), ${part}`;
}

function line(
  kind: QuoteLine["kind"],
  sub: { plan: PlanId; interval: Interval },
  amount: number,
  from: Date,
  to: Date,
  part: string,
): QuoteLine {
  return {
    kind,
    plan: sub.plan,
    interval: sub.interval,
    description: describe(sub.plan, sub.interval, part),
    amount,
    from: from.toISOString(),
    to: to.toISOString(),
  };
}

interface Change {
  effective: Quote["effective"];
  lines: QuoteLine[];
  subscription: Quote["subscription"];
}

function planChange(input: QuoteInput): Change {
  const { current, next, currency, at } = input;
  const fullPeriod = (start: Date): Change => {
    const end = addInterval(start, next.interval);
    return {
      effective: "now",
      lines: [
        line(
          "charge",
          next,
          planPrice(next.plan, next.interval, currency),
          start,
          end,
          "full period",
        ),
      ],
      subscription: { ...next, periodStart: start.toISOString(), periodEnd: end.toISOString() },
    };
  };
  if (!current) return fullPeriod(at);

  const { periodStart, periodEnd } = current;
  if (!(periodEnd > periodStart)) {
    throw new QuoteError("current", "The current period must end after it starts.");
  }
  if (at < periodStart || at >= periodEnd) {
    throw new QuoteError("at", "The change must fall inside the current period.");
  }
  const rankChange = PLANS[next.plan].rank - PLANS[current.plan].rank;
  if (rankChange === 0 && next.interval === current.interval) {
    throw new QuoteError("plan", `The workspace is already on ${PLANS[next.plan].name}.`);
  }
  const atRenewal = rankChange < 0 || (rankChange === 0 && next.interval === "month");
  if (atRenewal) {
    const end = addInterval(periodEnd, next.interval);
    return {
      effective: "renewal",
      lines: [],
      subscription: { ...next, periodStart: periodEnd.toISOString(), periodEnd: end.toISOString() },
    };
  }
  const remaining = seconds(at, periodEnd);
  const length = seconds(periodStart, periodEnd);
  const unused = mulDivHalfUp(
    planPrice(current.plan, current.interval, currency),
    remaining,
    length,
  );
  const credit = line("credit", current, -unused, at, periodEnd, "unused time");
  if (next.interval === "year" && current.interval === "month") {
    const period = fullPeriod(at);
    return { ...period, lines: [credit, ...period.lines] };
  }
  // A higher plan on the current period's terms; a yearly period stays yearly until renewal.
  const onCurrentTerms = { plan: next.plan, interval: current.interval };
  const charge = mulDivHalfUp(planPrice(next.plan, current.interval, currency), remaining, length);
  return {
    effective: "now",
    lines: [credit, line("charge", onCurrentTerms, charge, at, periodEnd, "rest of the period")],
    subscription: {
      ...onCurrentTerms,
      periodStart: periodStart.toISOString(),
      periodEnd: periodEnd.toISOString(),
    },
  };
}

/** The exact amounts of a plan change, in minor units. Throws QuoteError or TaxInputError. */
export function quoteChange(input: QuoteInput): Quote {
  const change = planChange(input);
  const subtotal = sumMinor(change.lines.map((l) => l.amount));
  // A higher price over the same time never costs less than the credit; guard the invariant.
  if (subtotal < 0) throw new Error("a plan change charged now cannot be negative");
  const tax = taxFor({
    supplierState: input.supplierState,
    customer: input.customer,
    amount: subtotal,
  });
  return {
    currency: input.currency,
    effective: change.effective,
    lines: change.lines,
    subtotal,
    cgst: tax.cgst,
    sgst: tax.sgst,
    igst: tax.igst,
    total: tax.total,
    tax: {
      kind: tax.kind,
      placeOfSupply: tax.placeOfSupply,
      gstin: tax.gstin,
      zeroRatedUnderLut: tax.zeroRatedUnderLut,
    },
    subscription: change.subscription,
  };
}
