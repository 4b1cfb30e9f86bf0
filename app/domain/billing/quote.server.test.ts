import { describe, expect, it } from "vitest";
import type { SystemContext } from "~/domain/context";
import { thrown } from "../../../tests/support/errors";
import { chargeChange } from "./charge.server";
import { invoiceInputFromQuote, issueInvoice } from "./invoices.server";
import { ledgerForWorkspace } from "./ledger.server";
import {
  addInterval,
  QUOTE_VALID_MS,
  QuoteError,
  quoteChange,
  type QuoteInput,
} from "./quote.server";

const DAY = 24 * 60 * 60 * 1000;
const start = new Date("2026-11-01T00:00:00Z");
const end = new Date("2026-12-01T00:00:00Z"); // 30 days
const KARNATAKA = "29AAGCB7383J1Z4";

const clock = (at: Date): SystemContext => ({
  actor: { type: "system", id: "test" },
  now: () => at,
});

function input(overrides: Partial<QuoteInput> = {}): QuoteInput {
  return {
    current: { plan: "starter", interval: "month", periodStart: start, periodEnd: end },
    next: { plan: "growth", interval: "month" },
    currency: "INR",
    customer: { country: "IN", gstin: KARNATAKA },
    supplierState: "29",
    at: new Date(start.getTime() + 10 * DAY),
    ...overrides,
  };
}

describe("quoteChange", () => {
  it("upgrade mid-period: credit unused time, charge the rest on the new plan, now", () => {
    const quote = quoteChange(input());
    // 20 of 30 days left: 2/3 of ₹1,999 credited, 2/3 of ₹5,999 charged.
    expect(quote.effective).toBe("now");
    expect(quote.lines.map((l) => [l.kind, l.plan, l.amount])).toEqual([
      ["credit", "starter", -133_267],
      ["charge", "growth", 399_933],
    ]);
    expect(quote).toMatchObject({
      currency: "INR",
      subtotal: 266_666,
      cgst: 24_000,
      sgst: 24_000,
      igst: 0,
      total: 314_666,
      subscription: {
        plan: "growth",
        interval: "month",
        periodStart: start.toISOString(),
        periodEnd: end.toISOString(),
      },
    });
  });

  it("prorates by the second", () => {
    const at = new Date(end.getTime() - 1000);
    const quote = quoteChange(input({ at, currency: "USD", customer: { country: "US" } }));
    // One second of 2,592,000: 2900 × 1/2592000 and 7900 × 1/2592000 both round to 0.
    expect(quote.lines.map((l) => l.amount)).toEqual([-0, 0]);
    const half = quoteChange(
      input({
        at: new Date(start.getTime() + 15 * DAY),
        currency: "USD",
        customer: { country: "US" },
      }),
    );
    expect(half.lines.map((l) => l.amount)).toEqual([-1450, 3950]);
    expect(half).toMatchObject({ subtotal: 2500, igst: 0, total: 2500 });
    expect(half.tax).toMatchObject({ kind: "export", zeroRatedUnderLut: true });
  });

  it("downgrade: at renewal, nothing charged now", () => {
    const quote = quoteChange(
      input({
        current: { plan: "business", interval: "month", periodStart: start, periodEnd: end },
        next: { plan: "starter", interval: "month" },
      }),
    );
    expect(quote).toMatchObject({
      effective: "renewal",
      lines: [],
      subtotal: 0,
      cgst: 0,
      sgst: 0,
      igst: 0,
      total: 0,
      subscription: {
        plan: "starter",
        periodStart: end.toISOString(),
        periodEnd: "2027-01-01T00:00:00.000Z",
      },
    });
  });

  it("monthly to yearly: a new yearly period now, less the unused month", () => {
    const at = new Date(start.getTime() + 10 * DAY);
    const quote = quoteChange(input({ next: { plan: "starter", interval: "year" }, at }));
    expect(quote.effective).toBe("now");
    expect(quote.lines.map((l) => l.amount)).toEqual([-133_267, 1_999_000]);
    expect(quote.subscription).toEqual({
      plan: "starter",
      interval: "year",
      periodStart: at.toISOString(),
      periodEnd: "2027-11-11T00:00:00.000Z",
    });
  });

  it("yearly to monthly on the same plan waits for renewal", () => {
    const yearEnd = new Date("2027-11-01T00:00:00Z");
    const quote = quoteChange(
      input({
        current: { plan: "growth", interval: "year", periodStart: start, periodEnd: yearEnd },
        next: { plan: "growth", interval: "month" },
      }),
    );
    expect(quote).toMatchObject({ effective: "renewal", total: 0 });
  });

  it("a first subscription is the full price from now", () => {
    const at = new Date("2027-01-31T10:00:00Z");
    const quote = quoteChange(
      input({ current: undefined, next: { plan: "business", interval: "month" }, at }),
    );
    expect(quote).toMatchObject({
      subtotal: 1_499_900,
      cgst: 134_991,
      sgst: 134_991,
      total: 1_769_882,
    });
    expect(quote.subscription.periodEnd).toBe("2027-02-28T10:00:00.000Z");
  });

  it("refuses no change and a moment outside the period", () => {
    const same = thrown(() => quoteChange(input({ next: { plan: "starter", interval: "month" } })));
    expect(same).toBeInstanceOf(QuoteError);
    expect(same.message).toBe("The workspace is already on Starter.");
    const outside = thrown(() => quoteChange(input({ at: end })));
    expect((outside as QuoteError).field).toBe("at");
  });

  it("adds calendar months and years, clamping the day", () => {
    expect(addInterval(new Date("2027-01-31T00:00:00Z"), "month").toISOString()).toBe(
      "2027-02-28T00:00:00.000Z",
    );
    expect(addInterval(new Date("2028-02-29T00:00:00Z"), "year").toISOString()).toBe(
      "2029-02-28T00:00:00.000Z",
    );
  });
});

describe("chargeChange records exactly the quote", () => {
  it("upgrade mid-period: the ledger charge is the preview's total and lines", () => {
    const preview = quoteChange(input());
    // Paid five minutes after the preview: same numbers, because the preview's moment is reused.
    const ctx = clock(new Date(input().at.getTime() + 5 * 60 * 1000));
    const { quote, entry, created } = chargeChange(ctx, {
      ...input(),
      workspaceId: "ws_upgrade",
      idempotencyKey: "checkout-1",
      provider: "razorpay",
      providerRef: "pay_1",
    });
    expect(created).toBe(true);
    expect(quote).toEqual(preview);
    expect(entry).toMatchObject({ kind: "charge", amount: preview.total, currency: "INR" });
    const data = JSON.parse(entry!.data!);
    expect(data).toMatchObject({
      lines: preview.lines,
      subtotal: preview.subtotal,
      cgst: preview.cgst,
      sgst: preview.sgst,
      igst: preview.igst,
      total: preview.total,
    });
    // A retry of the same payment records nothing new.
    const again = chargeChange(ctx, {
      ...input(),
      workspaceId: "ws_upgrade",
      idempotencyKey: "checkout-1",
    });
    expect(again.created).toBe(false);
    expect(again.entry!.id).toBe(entry!.id);
    expect(ledgerForWorkspace("ws_upgrade")).toHaveLength(1);
  });

  it("the invoice for the charge shows the same lines and amounts", () => {
    const ctx = clock(input().at);
    const { quote, entry } = chargeChange(ctx, {
      ...input(),
      workspaceId: "ws_invoice",
      idempotencyKey: "checkout-invoice",
    });
    const issued = issueInvoice(
      ctx,
      invoiceInputFromQuote(quote, {
        workspaceId: "ws_invoice",
        customer: { legalName: "Bharat Traders", country: "IN", gstin: KARNATAKA },
      }),
    );
    expect(issued).toMatchObject({
      subtotal: quote.subtotal,
      cgst: quote.cgst,
      sgst: quote.sgst,
      igst: 0,
      total: entry!.amount,
      taxKind: "intra_state",
      placeOfSupply: "29",
    });
    expect(JSON.parse(issued.data)).toMatchObject({
      sac: "997331",
      lines: quote.lines.map((l) => ({ description: l.description, amount: l.amount })),
    });
  });

  it("downgrade: the quote says renewal and nothing is recorded", () => {
    const downgrade = input({
      current: { plan: "growth", interval: "month", periodStart: start, periodEnd: end },
      next: { plan: "starter", interval: "month" },
    });
    const preview = quoteChange(downgrade);
    const result = chargeChange(clock(downgrade.at), {
      ...downgrade,
      workspaceId: "ws_downgrade",
      idempotencyKey: "downgrade-1",
    });
    expect(result.quote).toEqual(preview);
    expect(result.entry).toBeNull();
    expect(ledgerForWorkspace("ws_downgrade")).toEqual([]);
  });

  it("refuses a preview too old to be charged as shown", () => {
    const late = clock(new Date(input().at.getTime() + QUOTE_VALID_MS + 1));
    const error = thrown(() =>
      chargeChange(late, { ...input(), workspaceId: "ws_late", idempotencyKey: "late-1" }),
    );
    expect(error).toBeInstanceOf(QuoteError);
    expect(ledgerForWorkspace("ws_late")).toEqual([]);
  });
});
