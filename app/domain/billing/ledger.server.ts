import { and, eq, inArray, isNotNull, lt, notInArray } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { billingLedger, invoices, type Currency, type LedgerKind } from "~/db/schema/control";
import type { SystemContext } from "~/domain/context";
import { RETENTION, yearsBefore } from "~/domain/privacy/retention-policy";
import { assertMinorUnits } from "./minor-units";

/**
 * The billing ledger: one append-only list of every movement of money, in the control db.
 * Each entry carries an idempotency key, so a retried webhook or job writes it once.
 */

export type LedgerRow = typeof billingLedger.$inferSelect;

/** +1: the customer owes more (or the wallet holds more); −1: less. */
export const LEDGER_SIGN: Record<LedgerKind, 1 | -1> = {
  charge: 1,
  refund: 1,
  payment: -1,
  credit_note: -1,
  wallet_topup: 1,
  wallet_refund: 1,
  wallet_debit: -1,
};

export interface LedgerEntryInput {
  workspaceId: string;
  kind: LedgerKind;
  /** Positive minor units; the stored sign comes from the kind (LEDGER_SIGN). */
  amount: number;
  currency: Currency;
  provider?: string | null;
  providerRef?: string | null;
  /** Unique across the ledger: the same key is the same movement of money. */
  idempotencyKey: string;
  invoiceId?: number | null;
  data?: Record<string, unknown>;
}

export class LedgerError extends Error {}

/**
 * The same key with different facts is a bug in the caller (two movements sharing a key), not a
 * retry: refusing it keeps the first row and says so instead of hiding the second.
 */
export class LedgerConflictError extends LedgerError {
  constructor(readonly existing: LedgerRow) {
    super(`idempotency key ${existing.idempotencyKey} was already used for a different entry`);
  }
}

function validate(entry: LedgerEntryInput): void {
  assertMinorUnits(entry.amount);
  if (entry.amount <= 0)
    throw new LedgerError("A ledger amount is positive; the kind sets its sign.");
  if (!LEDGER_SIGN[entry.kind]) throw new LedgerError(`unknown ledger kind ${entry.kind}`);
  if (entry.idempotencyKey.trim() === "") throw new LedgerError("An idempotency key is required.");
  if (entry.workspaceId.trim() === "") throw new LedgerError("A workspace is required.");
}

/**
 * Appends one entry, or returns the entry already stored under the same idempotency key
 * (`created: false`, no second row). Read-then-insert runs in one IMMEDIATE transaction so two
 * processes retrying at once still write one row.
 */
export function appendLedger(
  ctx: SystemContext,
  entry: LedgerEntryInput,
): { row: LedgerRow; created: boolean } {
  validate(entry);
  const amount = LEDGER_SIGN[entry.kind] * entry.amount;
  const db = getControlDb();
  return db.transaction(
    (tx) => {
      const existing = tx
        .select()
        .from(billingLedger)
        .where(eq(billingLedger.idempotencyKey, entry.idempotencyKey))
        .get();
      if (existing) {
        const same =
          existing.workspaceId === entry.workspaceId &&
          existing.kind === entry.kind &&
          existing.amount === amount &&
          existing.currency === entry.currency;
        if (!same) throw new LedgerConflictError(existing);
        return { row: existing, created: false };
      }
      const row = tx
        .insert(billingLedger)
        .values({
          workspaceId: entry.workspaceId,
          at: ctx.now(),
          kind: entry.kind,
          amount,
          currency: entry.currency,
          provider: entry.provider ?? null,
          providerRef: entry.providerRef ?? null,
          idempotencyKey: entry.idempotencyKey,
          invoiceId: entry.invoiceId ?? null,
          data: entry.data ? JSON.stringify(entry.data) : null,
        })
        .returning()
        .get();
      return { row, created: true };
    },
    { behavior: "immediate" },
  );
}

export function ledgerByKey(idempotencyKey: string): LedgerRow | undefined {
  return getControlDb()
    .select()
    .from(billingLedger)
    .where(eq(billingLedger.idempotencyKey, idempotencyKey))
    .get();
}

/** A workspace's entries, oldest first; still there after the workspace is deleted. */
export function ledgerForWorkspace(workspaceId: string): LedgerRow[] {
  return getControlDb()
    .select()
    .from(billingLedger)
    .where(eq(billingLedger.workspaceId, workspaceId))
    .orderBy(billingLedger.id)
    .all();
}

/** Sum of signed amounts of the given kinds: what is owed, or the wallet balance. */
export function ledgerBalance(
  workspaceId: string,
  currency: Currency,
  kinds: readonly LedgerKind[],
): number {
  return getControlDb()
    .select({ amount: billingLedger.amount })
    .from(billingLedger)
    .where(
      and(
        eq(billingLedger.workspaceId, workspaceId),
        eq(billingLedger.currency, currency),
        inArray(billingLedger.kind, [...kinds]),
      ),
    )
    .all()
    .reduce((sum, r) => sum + r.amount, 0);
}

/**
 * The only way billing records leave: ledger entries and invoices older than the retention
 * period (7 years). An old invoice a kept ledger entry still points at stays too. The database
 * triggers refuse anything younger, whatever clock the caller passes.
 */
export function purgeExpiredBilling(now: Date): { ledgerRows: number; invoices: number } {
  const cutoff = yearsBefore(now, RETENTION.billingYears);
  const db = getControlDb();
  return db.transaction(
    (tx) => {
      const ledgerRows = tx.delete(billingLedger).where(lt(billingLedger.at, cutoff)).run().changes;
      const stillReferenced = tx
        .select({ id: billingLedger.invoiceId })
        .from(billingLedger)
        .where(isNotNull(billingLedger.invoiceId));
      const invoiceRows = tx
        .delete(invoices)
        .where(and(lt(invoices.issuedAt, cutoff), notInArray(invoices.id, stillReferenced)))
        .run().changes;
      return { ledgerRows, invoices: invoiceRows };
    },
    { behavior: "immediate" },
  );
}
