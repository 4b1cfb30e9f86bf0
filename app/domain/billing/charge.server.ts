import type { SystemContext } from "~/domain/context";
import { appendLedger, type LedgerRow } from "./ledger.server";
import {
  QUOTE_VALID_MS,
  QuoteError,
  quoteChange,
  type Quote,
  type QuoteInput,
} from "./quote.server";

/**
 * Records what a plan change costs. It recomputes the quote from the same input the preview
 * used (including its moment `at`), so the charge is the preview to the paisa; a preview older
 * than QUOTE_VALID_MS must be shown again.
 */
export interface ChargeChangeInput extends QuoteInput {
  workspaceId: string;
  /** One key per attempt to pay this change: a retry records nothing new. */
  idempotencyKey: string;
  provider?: string | null;
  providerRef?: string | null;
}

export function chargeChange(
  ctx: SystemContext,
  input: ChargeChangeInput,
): { quote: Quote; entry: LedgerRow | null; created: boolean } {
  const age = ctx.now().getTime() - input.at.getTime();
  if (age < 0 || age > QUOTE_VALID_MS) {
    throw new QuoteError("at", "This price has expired; look at the new one before paying.");
  }
  const quote = quoteChange(input);
  if (quote.effective === "renewal" || quote.total === 0) {
    return { quote, entry: null, created: false };
  }
  const { row, created } = appendLedger(ctx, {
    workspaceId: input.workspaceId,
    kind: "charge",
    amount: quote.total,
    currency: quote.currency,
    provider: input.provider ?? null,
    providerRef: input.providerRef ?? null,
    idempotencyKey: input.idempotencyKey,
    data: {
      reason: "plan_change",
      at: input.at.toISOString(),
      lines: quote.lines,
      subtotal: quote.subtotal,
      cgst: quote.cgst,
      sgst: quote.sgst,
      igst: quote.igst,
      total: quote.total,
      tax: quote.tax,
      subscription: quote.subscription,
    },
  });
  return { quote, entry: row, created };
}
