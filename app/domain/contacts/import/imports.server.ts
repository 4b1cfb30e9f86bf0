import { eq, sql } from "drizzle-orm";
import { join } from "node:path";
import {
  contactImportErrors,
  contactImports,
  contactImportWarnings,
  type IMPORT_STATUSES,
} from "~/db/schema/tenant";
import { createTenantScope, getTenantDb, type TenantDb } from "~/db/tenants.server";
import { csvLine } from "~/lib/csv";
import { getEnv } from "~/lib/env.server";
import { NotFoundError } from "~/lib/errors";
import type { WorkspaceContext } from "../../context";
import { parseCsvFormat, type CsvFormat, type ImportField } from "./csv-format.server";
import { parseImportOptions, type ImportOptions } from "./record-batches.server";
import type { ImportCounts } from "./record-writer.server";

/**
 * An import as the workspace's database records it: status, settings, counts, and the rows it
 * rejected or warned about. Shared by the upload, mapping and supervisor steps.
 */

export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** The stored options: what the form chose plus the workspace's country at that time. */
export interface StoredImportOptions extends ImportOptions {
  defaultCountry: string;
}

export interface ImportSummary {
  id: string;
  status: ImportStatus;
  fileName: string;
  fileBytes: number;
  format: CsvFormat | null;
  mapping: ImportField[] | null;
  options: StoredImportOptions | null;
  counts: ImportCounts;
  error: string | null;
  createdBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface ImportProgress extends ImportSummary {
  /** 0–100, from bytes read of the file. */
  percent: number;
  rowsPerSecond: number | null;
  etaSeconds: number | null;
  /** True while this process runs it (counts include the open transaction). */
  live: boolean;
}
const IMPORT_ID = /^imp_[0-9a-f]{20}$/;

export function isImportId(value: string | undefined | null): value is string {
  return typeof value === "string" && IMPORT_ID.test(value);
}

/** A workspace's file for a unit of work outside any request (worker events, boot). */
export function inTenant<T>(workspaceId: string, fn: (db: TenantDb) => T): T {
  const scope = createTenantScope();
  try {
    return scope.run(() => fn(getTenantDb(workspaceId)));
  } finally {
    scope.release();
  }
}

export function uploadsDir(workspaceId: string): string {
  return join(getEnv().DATA_DIR, "uploads", workspaceId);
}

export function absolutePath(relative: string): string {
  return join(getEnv().DATA_DIR, relative);
}

export function lockPath(workspaceId: string, importId: string): string {
  return join(uploadsDir(workspaceId), `${importId}.lock`);
}

type ImportRow = typeof contactImports.$inferSelect;

export function toSummary(row: ImportRow): ImportSummary {
  let format: CsvFormat | null = null;
  let options: StoredImportOptions | null = null;
  let mapping: ImportField[] | null = null;
  try {
    format = row.format ? parseCsvFormat(row.format) : null;
    mapping = row.mapping ? (JSON.parse(row.mapping) as ImportField[]) : null;
    if (row.options) {
      const parsed = JSON.parse(row.options) as { defaultCountry?: unknown };
      options = {
        ...parseImportOptions(row.options),
        defaultCountry: String(parsed.defaultCountry ?? ""),
      };
    }
  } catch {
    // A record this code did not write: shown with what is readable.
  }
  return {
    id: row.id,
    status: row.status,
    fileName: row.fileName,
    fileBytes: row.fileBytes,
    format,
    mapping,
    options,
    counts: {
      rowsDone: row.rowsDone,
      bytesDone: row.bytesDone,
      imported: row.imported,
      updated: row.updated,
      skipped: row.skipped,
      suppressed: row.suppressed,
      errors: row.errors,
      warnings: row.warnings,
    },
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}

export function findRow(db: TenantDb, id: string): ImportRow {
  const row = isImportId(id)
    ? db.select().from(contactImports).where(eq(contactImports.id, id)).get()
    : undefined;
  if (!row) throw new NotFoundError("Import");
  return row;
}

export function getImport(ctx: WorkspaceContext, id: string): ImportSummary {
  return toSummary(findRow(ctx.db, id));
}

/** The rejected rows as CSV chunks (Row, Column, Reason), read a page at a time. */
export function* exportImportErrors(ctx: WorkspaceContext, id: string): Generator<string> {
  findRow(ctx.db, id);
  yield csvLine(["Row", "Column", "Reason"]);
  const page = ctx.db.$client.prepare(
    `SELECT rowid AS seq, "row", "column", reason FROM contact_import_errors
     WHERE import_id = ? AND ("row" > ? OR ("row" = ? AND rowid > ?))
     ORDER BY "row", rowid LIMIT 1000`,
  );
  let after = { row: -1, seq: -1 };
  for (;;) {
    const rows = page.all(id, after.row, after.row, after.seq) as {
      seq: number;
      row: number;
      column: string;
      reason: string;
    }[];
    if (rows.length === 0) return;
    yield rows.map((r) => csvLine([r.row, r.column, r.reason])).join("");
    const last = rows[rows.length - 1]!;
    after = { row: last.row, seq: last.seq };
  }
}

/** The first rejected rows, for the summary page. */
export function listImportErrors(ctx: WorkspaceContext, id: string, limit = 20) {
  findRow(ctx.db, id);
  return ctx.db
    .select({
      row: contactImportErrors.row,
      column: contactImportErrors.column,
      reason: contactImportErrors.reason,
    })
    .from(contactImportErrors)
    .where(eq(contactImportErrors.importId, id))
    .orderBy(contactImportErrors.row, sql`rowid`)
    .limit(limit)
    .all();
}

/** The first values left out of kept rows, for the summary page. */
export function listImportWarnings(ctx: WorkspaceContext, id: string, limit = 20) {
  findRow(ctx.db, id);
  return ctx.db
    .select({
      row: contactImportWarnings.row,
      column: contactImportWarnings.column,
      reason: contactImportWarnings.reason,
    })
    .from(contactImportWarnings)
    .where(eq(contactImportWarnings.importId, id))
    .orderBy(contactImportWarnings.row, sql`rowid`)
    .limit(limit)
    .all();
}
