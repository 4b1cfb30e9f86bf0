import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import type { SystemContext } from "~/domain/context";
import { purgeDeletedWorkspace } from "~/domain/workspaces/deletion.server";
import { findWorkspaceBySlug } from "~/domain/workspaces/workspaces.server";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { taxFor } from "./gst";
import { invoicesForWorkspace, issueInvoice } from "./invoices.server";
import {
  appendLedger,
  LedgerConflictError,
  ledgerBalance,
  ledgerByKey,
  ledgerForWorkspace,
  purgeExpiredBilling,
  type LedgerEntryInput,
} from "./ledger.server";

const YEAR = 365.25 * 24 * 60 * 60 * 1000;
const system: SystemContext = { actor: { type: "system", id: "test" }, now: () => new Date() };
const at = (date: Date): SystemContext => ({ ...system, now: () => date });

/** The raw connection: what a bug or a person with file access would run, not our code. */
const raw = () => getControlDb().$client;

const entry = (key: string, overrides: Partial<LedgerEntryInput> = {}): LedgerEntryInput => ({
  workspaceId: "ws_ledger",
  kind: "charge",
  amount: 707_882,
  currency: "INR",
  provider: "razorpay",
  providerRef: "pay_123",
  idempotencyKey: key,
  ...overrides,
});

describe("billing ledger", () => {
  it("stores the sign the kind gives and sums to what is owed and the wallet", () => {
    const ws = "ws_signs";
    const add = (kind: LedgerEntryInput["kind"], amount: number) =>
      appendLedger(system, entry(`signs-${kind}`, { workspaceId: ws, kind, amount })).row.amount;
    expect(add("charge", 1000)).toBe(1000);
    expect(add("payment", 1000)).toBe(-1000);
    expect(add("refund", 300)).toBe(300);
    expect(add("credit_note", 300)).toBe(-300);
    expect(add("wallet_topup", 5000)).toBe(5000);
    expect(add("wallet_debit", 80)).toBe(-80);
    expect(add("wallet_refund", 80)).toBe(80);
    expect(ledgerBalance(ws, "INR", ["charge", "payment", "refund", "credit_note"])).toBe(0);
    expect(ledgerBalance(ws, "INR", ["wallet_topup", "wallet_debit", "wallet_refund"])).toBe(5000);
  });

  it("is idempotent by key: the same entry again returns the first row, no second row", () => {
    const first = appendLedger(system, entry("idem-1"));
    const second = appendLedger(at(new Date(Date.now() + 60_000)), entry("idem-1"));
    expect(first.created).toBe(true);
    expect(second).toEqual({ row: first.row, created: false });
    expect(
      raw()
        .prepare("SELECT count(*) AS n FROM billing_ledger WHERE idempotency_key = 'idem-1'")
        .get(),
    ).toEqual({ n: 1 });
  });

  it("refuses a different entry under a used key, keeping the first", () => {
    const first = appendLedger(system, entry("idem-2"));
    const error = thrown(() => appendLedger(system, entry("idem-2", { amount: 1 })));
    expect(error).toBeInstanceOf(LedgerConflictError);
    expect(ledgerByKey("idem-2")).toEqual(first.row);
  });

  it("refuses amounts that are not positive whole minor units, storing nothing", () => {
    expect(thrown(() => appendLedger(system, entry("bad-1", { amount: 0 }))).message).toMatch(
      /positive/,
    );
    expect(thrown(() => appendLedger(system, entry("bad-2", { amount: -5 }))).message).toMatch(
      /positive/,
    );
    expect(thrown(() => appendLedger(system, entry("bad-3", { amount: 10.5 }))).message).toMatch(
      /whole number/,
    );
    expect(ledgerByKey("bad-1") ?? ledgerByKey("bad-2") ?? ledgerByKey("bad-3")).toBeUndefined();
  });

  it("the database refuses UPDATE, DELETE of recent rows, and a sign against the kind", () => {
    const { row } = appendLedger(system, entry("append-only"));
    expect(() =>
      raw().prepare("UPDATE billing_ledger SET amount = 1 WHERE id = ?").run(row.id),
    ).toThrow("billing_ledger is append-only");
    expect(() => raw().prepare("DELETE FROM billing_ledger WHERE id = ?").run(row.id)).toThrow(
      "billing_ledger rows are kept for 7 years",
    );
    expect(() =>
      raw()
        .prepare(
          `INSERT INTO billing_ledger (workspace_id, at, kind, amount, currency, idempotency_key)
           VALUES ('ws_x', 0, 'payment', 100, 'INR', 'wrong-sign')`,
        )
        .run(),
    ).toThrow(/CHECK constraint failed/);
    expect(ledgerByKey("append-only")).toEqual(row);
  });

  it("keeps a workspace's rows after the workspace is deleted, purged and its row removed", async () => {
    const ctx = await makeWorkspace("ledger-keeps");
    appendLedger(system, entry("keeps-1", { workspaceId: ctx.workspaceId }));
    appendLedger(system, entry("keeps-2", { workspaceId: ctx.workspaceId, kind: "payment" }));
    purgeDeletedWorkspace(system, ctx.workspaceId);
    raw().prepare("DELETE FROM workspaces WHERE id = ?").run(ctx.workspaceId);
    expect(findWorkspaceBySlug("ledger-keeps")).toBeUndefined();
    expect(ledgerForWorkspace(ctx.workspaceId).map((r) => [r.idempotencyKey, r.amount])).toEqual([
      ["keeps-1", 707_882],
      ["keeps-2", -707_882],
    ]);
  });

  it("purges only rows older than 7 years, through purgeExpiredBilling", () => {
    const now = new Date();
    appendLedger(
      at(new Date(now.getTime() - 7.1 * YEAR)),
      entry("old-1", { workspaceId: "ws_old" }),
    );
    appendLedger(
      at(new Date(now.getTime() - 6.9 * YEAR)),
      entry("young-1", { workspaceId: "ws_old" }),
    );
    const counts = purgeExpiredBilling(now);
    expect(counts.ledgerRows).toBe(1);
    expect(ledgerForWorkspace("ws_old").map((r) => r.idempotencyKey)).toEqual(["young-1"]);
    // A clock pushed forward does not get past the database: the trigger reads its own time.
    expect(() => purgeExpiredBilling(new Date(now.getTime() + 10 * YEAR))).toThrow(
      "billing_ledger rows are kept for 7 years",
    );
    expect(ledgerForWorkspace("ws_old")).toHaveLength(1);
  });
});

describe("purging invoices", () => {
  it("removes old invoices, except one a kept ledger entry still points at", () => {
    const now = new Date();
    const old = at(new Date(now.getTime() - 7.2 * YEAR));
    const issue = () =>
      issueInvoice(old, {
        workspaceId: "ws_old_invoices",
        currency: "INR",
        lines: [{ description: "Starter (monthly), full period", amount: 199_900 }],
        tax: taxFor({ supplierState: "29", customer: { country: "IN" }, amount: 199_900 }),
        customer: { legalName: "Old Traders", country: "IN" },
        sac: "997331",
      });
    const [gone, kept] = [issue(), issue()];
    appendLedger(
      system,
      entry("refund-of-old", {
        workspaceId: "ws_old_invoices",
        kind: "refund",
        amount: 100,
        invoiceId: kept.id,
      }),
    );
    expect(purgeExpiredBilling(now).invoices).toBe(1);
    expect(invoicesForWorkspace("ws_old_invoices").map((i) => i.number)).toEqual([kept.number]);
    expect(gone.number).not.toBe(kept.number);
  });
});
