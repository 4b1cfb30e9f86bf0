import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import type { SystemContext } from "~/domain/context";
import { thrown } from "../../../tests/support/errors";
import { taxFor } from "./gst";
import {
  financialYearOf,
  InvoiceInputError,
  invoiceByNumber,
  invoicesForWorkspace,
  issueInvoice,
  type IssueInvoiceInput,
} from "./invoices.server";

const at = (iso: string): SystemContext => ({
  actor: { type: "system", id: "test" },
  now: () => new Date(iso),
});
const raw = () => getControlDb().$client;

function invoice(
  workspaceId: string,
  overrides: Partial<IssueInvoiceInput> = {},
): IssueInvoiceInput {
  const lines = [
    { description: "Starter (monthly), unused time", amount: -133_267 },
    { description: "Growth (monthly), rest of the period", amount: 399_933 },
  ];
  return {
    workspaceId,
    currency: "INR",
    lines,
    tax: taxFor({
      supplierState: "29",
      customer: { country: "IN", gstin: "29AAGCB7383J1Z4" },
      amount: 266_666,
    }),
    customer: { legalName: "Bharat Traders", country: "IN", gstin: "29AAGCB7383J1Z4", state: "29" },
    sac: "997331",
    ...overrides,
  };
}

/** Runs the allocator in its own process against this file's control db. */
function allocate(count: number, workspaceId: string, barrier: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "tests/support/invoice-allocator.ts",
        String(count),
        workspaceId,
        barrier,
        "5",
      ],
      { env: process.env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

describe("invoices", () => {
  it("reads the financial year in India time, April to March", () => {
    expect(financialYearOf(new Date("2026-04-01T00:00:00+05:30"))).toBe("2627");
    expect(financialYearOf(new Date("2027-03-31T18:29:59Z"))).toBe("2627");
    expect(financialYearOf(new Date("2027-03-31T18:30:00Z"))).toBe("2728");
    expect(financialYearOf(new Date("2099-12-31T00:00:00Z"))).toBe("9900");
  });

  it("numbers each financial year from 1, at most 16 characters, with the tax split stored", () => {
    const first = issueInvoice(at("2027-03-31T18:00:00Z"), invoice("ws_fy"));
    const second = issueInvoice(at("2027-03-31T18:29:00Z"), invoice("ws_fy"));
    const nextYear = issueInvoice(at("2027-03-31T18:31:00Z"), invoice("ws_fy"));
    expect([first.number, second.number, nextYear.number]).toEqual([
      "PE2627-000001",
      "PE2627-000002",
      "PE2728-000001",
    ]);
    expect(first.number.length).toBeLessThanOrEqual(16);
    expect(first).toMatchObject({
      financialYear: "2627",
      sequence: 1,
      subtotal: 266_666,
      cgst: 24_000,
      sgst: 24_000,
      igst: 0,
      total: 314_666,
      taxKind: "intra_state",
      placeOfSupply: "29",
    });
    expect(JSON.parse(first.customer)).toMatchObject({ gstin: "29AAGCB7383J1Z4" });
    expect(invoicesForWorkspace("ws_fy")).toHaveLength(3);
  });

  it("refuses inconsistent input without using a number", () => {
    const ctx = at("2027-06-01T00:00:00Z");
    const bad: Partial<IssueInvoiceInput>[] = [
      { lines: [] },
      { lines: [{ description: "x", amount: 1 }] },
      { sac: "9983" },
      {
        currency: "USD",
        tax: taxFor({ supplierState: "29", customer: { country: "US" }, amount: 266_666 }),
      },
    ];
    for (const overrides of bad) {
      expect(thrown(() => issueInvoice(ctx, invoice("ws_bad", overrides)))).toBeInstanceOf(
        InvoiceInputError,
      );
    }
    const exportInvoice = issueInvoice(
      ctx,
      invoice("ws_bad", { ...bad[3], lutReference: "AD290426000123X" }),
    );
    expect(exportInvoice).toMatchObject({
      number: "PE2728-000002",
      taxKind: "export",
      total: 266_666,
    });
    expect(JSON.parse(exportInvoice.data)).toMatchObject({
      sac: "997331",
      lutReference: "AD290426000123X",
    });
  });

  it("invoices and their counters cannot be edited, deleted or skipped ahead", () => {
    const issued = issueInvoice(at("2027-07-01T00:00:00Z"), invoice("ws_locked"));
    expect(() =>
      raw().prepare("UPDATE invoices SET total = 1 WHERE id = ?").run(issued.id),
    ).toThrow("invoices are append-only");
    expect(() => raw().prepare("DELETE FROM invoices WHERE id = ?").run(issued.id)).toThrow(
      "invoices are kept for 7 years",
    );
    expect(() =>
      raw().prepare("UPDATE invoice_sequences SET last_number = last_number + 2").run(),
    ).toThrow("invoice numbers move up by one");
    expect(() => raw().prepare("DELETE FROM invoice_sequences").run()).toThrow(
      "invoice sequences are never deleted",
    );
    expect(invoiceByNumber(issued.number)).toEqual(issued);
  });

  it("is gapless when several processes allocate at once: exactly 1..N", async () => {
    getControlDb(); // migrated once here, so the children only allocate
    const before = raw()
      .prepare("SELECT last_number AS n FROM invoice_sequences WHERE financial_year = ?")
      .get(financialYearOf(new Date())) as { n: number } | undefined;
    const base = before?.n ?? 0;
    const barrier = mkdtempSync(join(process.env.DATA_DIR!, "barrier-"));
    const batches = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => allocate(40, `ws_proc_${i}`, barrier)),
    );
    const numbers = batches.flat();
    expect(numbers).toHaveLength(200);
    const year = financialYearOf(new Date());
    const sequences = numbers.map((n) => {
      expect(n).toMatch(new RegExp(`^PE${year}-\\d{6}$`));
      return Number(n.slice(-6));
    });
    expect([...sequences].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => base + i + 1),
    );
    // Each process saw its own numbers rising, and the processes really interleaved.
    const owns = batches.map((batch) => batch.map((n) => Number(n.slice(-6))));
    for (const own of owns) expect(own).toEqual([...own].sort((a, b) => a - b));
    const interleaved = owns.some((own) => own[own.length - 1]! - own[0]! + 1 > own.length);
    expect(interleaved).toBe(true);
  }, 60_000);
});
