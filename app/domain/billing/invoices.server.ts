import { eq, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { invoices, invoiceSequences, type Currency } from "~/db/schema/control";
import type { SystemContext } from "~/domain/context";
import { DEFAULT_SAC, type TaxBreakdown } from "./gst";
import { sumMinor } from "./minor-units";
import type { Quote } from "./quote.server";

/**
 * Tax invoices. Numbers are gapless within an Indian financial year (April–March, read in India
 * time): the counter is moved and the invoice inserted in one IMMEDIATE transaction, so a number
 * is never handed out without its invoice, nor twice, whichever process asks.
 */

export type InvoiceRow = typeof invoices.$inferSelect;

/** GST invoice numbers: at most 16 characters of letters, digits, "-" and "/". */
export const INVOICE_PREFIX = "PE";
const IST_OFFSET_MS = (5 * 60 + 30) * 60 * 1000;

/** "2627" for any moment from 1 April 2026 00:00 to 31 March 2027 23:59 India time. */
export function financialYearOf(at: Date): string {
  const ist = new Date(at.getTime() + IST_OFFSET_MS);
  const start = ist.getUTCMonth() >= 3 ? ist.getUTCFullYear() : ist.getUTCFullYear() - 1;
  const two = (year: number) => String(year % 100).padStart(2, "0");
  return `${two(start)}${two(start + 1)}`;
}

export function invoiceNumber(financialYear: string, sequence: number): string {
  return `${INVOICE_PREFIX}${financialYear}-${String(sequence).padStart(6, "0")}`;
}

export interface InvoiceLine {
  description: string;
  /** Taxable value in minor units; a credit (unused time) is negative. */
  amount: number;
}

export interface InvoiceCustomer {
  legalName: string;
  country: string;
  gstin?: string | null;
  state?: string | null;
  address?: string | null;
}

export interface IssueInvoiceInput {
  workspaceId: string;
  currency: Currency;
  lines: InvoiceLine[];
  /** `taxFor` on the lines' sum: the totals printed on the invoice. */
  tax: TaxBreakdown;
  customer: InvoiceCustomer;
  /** Services Accounting Code printed on the invoice. */
  sac: string;
  /** The supplier's Letter of Undertaking reference, printed on zero-rated export invoices. */
  lutReference?: string | null;
}

export class InvoiceInputError extends Error {}

function validate(input: IssueInvoiceInput): void {
  const { tax, lines } = input;
  if (lines.length === 0) throw new InvoiceInputError("An invoice needs at least one line.");
  if (sumMinor(lines.map((l) => l.amount)) !== tax.taxable) {
    throw new InvoiceInputError("The lines do not add up to the taxable amount.");
  }
  if (tax.taxable + tax.cgst + tax.sgst + tax.igst !== tax.total) {
    throw new InvoiceInputError("The tax does not add up to the total.");
  }
  if (tax.total <= 0) throw new InvoiceInputError("An invoice is for a positive amount.");
  if (tax.kind === "export" && !input.lutReference) {
    throw new InvoiceInputError("A zero-rated export invoice needs the LUT reference.");
  }
  if (!/^\d{6}$/.test(input.sac)) throw new InvoiceInputError("A SAC code has six digits.");
}

/**
 * The invoice for a charged quote: its lines and amounts as they are, so the invoice, the ledger
 * charge and the preview show the same numbers.
 */
export function invoiceInputFromQuote(
  quote: Quote,
  facts: {
    workspaceId: string;
    customer: InvoiceCustomer;
    sac?: string;
    lutReference?: string | null;
  },
): IssueInvoiceInput {
  return {
    workspaceId: facts.workspaceId,
    currency: quote.currency,
    lines: quote.lines.map((l) => ({ description: l.description, amount: l.amount })),
    tax: {
      ...quote.tax,
      taxable: quote.subtotal,
      cgst: quote.cgst,
      sgst: quote.sgst,
      igst: quote.igst,
      tax: quote.cgst + quote.sgst + quote.igst,
      total: quote.total,
    },
    customer: facts.customer,
    sac: facts.sac ?? DEFAULT_SAC,
    lutReference: facts.lutReference ?? null,
  };
}

/** Allocates the next number of the financial year of `ctx.now()` and stores the invoice. */
export function issueInvoice(ctx: SystemContext, input: IssueInvoiceInput): InvoiceRow {
  validate(input);
  const issuedAt = ctx.now();
  const financialYear = financialYearOf(issuedAt);
  const db = getControlDb();
  return db.transaction(
    (tx) => {
      const counter = tx
        .insert(invoiceSequences)
        .values({ financialYear, lastNumber: 1 })
        .onConflictDoUpdate({
          target: invoiceSequences.financialYear,
          set: { lastNumber: sql`${invoiceSequences.lastNumber} + 1` },
        })
        .returning()
        .get();
      const { tax } = input;
      return tx
        .insert(invoices)
        .values({
          number: invoiceNumber(financialYear, counter.lastNumber),
          financialYear,
          sequence: counter.lastNumber,
          workspaceId: input.workspaceId,
          currency: input.currency,
          subtotal: tax.taxable,
          cgst: tax.cgst,
          sgst: tax.sgst,
          igst: tax.igst,
          total: tax.total,
          taxKind: tax.kind,
          placeOfSupply: tax.placeOfSupply,
          customer: JSON.stringify(input.customer),
          data: JSON.stringify({
            lines: input.lines,
            sac: input.sac,
            lutReference: tax.kind === "export" ? input.lutReference : null,
          }),
          issuedAt,
        })
        .returning()
        .get();
    },
    { behavior: "immediate" },
  );
}

export function invoiceByNumber(number: string): InvoiceRow | undefined {
  return getControlDb().select().from(invoices).where(eq(invoices.number, number)).get();
}

export function invoicesForWorkspace(workspaceId: string): InvoiceRow[] {
  return getControlDb()
    .select()
    .from(invoices)
    .where(eq(invoices.workspaceId, workspaceId))
    .orderBy(invoices.id)
    .all();
}
