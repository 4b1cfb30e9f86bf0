import { and, eq, sql } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { contactImports } from "~/db/schema/tenant";
import { getEnv } from "~/lib/env.server";
import { AppError, NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../../context";
import { listAttributeDefinitions, type AttributeDefinition } from "../attributes.server";
import {
  guessMapping,
  sniffCsvFile,
  type CsvFormat,
  type CsvSniff,
  type ImportField,
} from "./csv-format.server";
import { type ImportSummary, uploadsDir, absolutePath, toSummary, findRow } from "./imports.server";

/**
 * The first step of a CSV import: the file, streamed to DATA_DIR/uploads with a size limit, its
 * format sniffed from the head, and the preview with guessed columns the mapping page shows.
 */

export class ImportTooLargeError extends AppError {
  constructor(limit: number) {
    super(
      `The file is larger than ${formatMegabytes(limit)}, the most one import takes. Split it into smaller files and import them one after the other.`,
      413,
      "file_too_large",
    );
  }
}

export function formatMegabytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : Number(mb.toFixed(1))} MB`;
}

export function importUploadLimit(): number {
  return getEnv().IMPORT_MAX_BYTES;
}

export interface Upload {
  fileName: string;
  /** The file's bytes, as they arrive (a multipart part, a file stream). */
  data: AsyncIterable<Uint8Array>;
}

function cleanFileName(name: string): string {
  const base = [...basename(name.replace(/\\/g, "/"))]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join("")
    .trim();
  return (base || "upload.csv").slice(0, 200);
}

/** Removes uploads that were never started, a day after they came in. */
function dropStaleUploads(ctx: WorkspaceContext): void {
  const dayAgo = new Date(ctx.now().getTime() - 24 * 60 * 60 * 1000);
  const stale = ctx.db
    .select({ id: contactImports.id, filePath: contactImports.filePath })
    .from(contactImports)
    .where(
      and(
        eq(contactImports.status, "uploaded"),
        sql`${contactImports.createdAt} < ${dayAgo.getTime()}`,
      ),
    )
    .all();
  for (const row of stale) {
    rmSync(absolutePath(row.filePath), { force: true });
    ctx.db
      .update(contactImports)
      .set({
        status: "cancelled",
        finishedAt: ctx.now(),
        error: "Not started within a day of the upload.",
      })
      .where(eq(contactImports.id, row.id))
      .run();
  }
}

/** Drops an upload that was never started (its form was refused): the row and the file. */
export function discardUpload(ctx: WorkspaceContext, id: string): void {
  const row = ctx.db
    .delete(contactImports)
    .where(and(eq(contactImports.id, id), eq(contactImports.status, "uploaded")))
    .returning({ filePath: contactImports.filePath })
    .get();
  if (row) rmSync(absolutePath(row.filePath), { force: true });
}

/**
 * Streams an upload to DATA_DIR/uploads/<workspace>/<import>.csv (never more than
 * IMPORT_MAX_BYTES on disk), then reads its format, headers and first rows. A file that is too
 * large, empty, binary or not CSV is removed again and refused with a message saying why.
 */
export async function createImport(
  ctx: WorkspaceContext,
  upload: Upload,
): Promise<{ import: ImportSummary; sniff: CsvSniff }> {
  const limit = importUploadLimit();
  const id = `imp_${randomBytes(10).toString("hex")}`;
  const dir = uploadsDir(ctx.workspaceId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const relative = join("uploads", ctx.workspaceId, `${id}.csv`);
  const final = absolutePath(relative);
  const partial = `${final}.part`;
  let bytes = 0;
  try {
    const out = createWriteStream(partial, { mode: 0o600 });
    const closed = once(out, "close");
    try {
      for await (const chunk of upload.data) {
        bytes += chunk.byteLength;
        if (bytes > limit) throw new ImportTooLargeError(limit);
        if (!out.write(chunk)) await once(out, "drain");
      }
    } finally {
      out.end();
      await closed;
    }
    if (bytes === 0) throw new ValidationError("The file is empty. Upload a CSV file with rows.");
    renameSync(partial, final);
    const sniff = await sniffCsvFile(final);
    if (sniff.preview.length === 0) {
      throw new ValidationError(
        "The file has a header row but no contacts under it. Add rows and upload it again.",
      );
    }
    dropStaleUploads(ctx);
    const format: CsvFormat = {
      encoding: sniff.encoding,
      bomBytes: sniff.bomBytes,
      delimiter: sniff.delimiter,
      headers: sniff.headers,
      estimatedRows: sniff.estimatedRows,
    };
    const row = ctx.db
      .insert(contactImports)
      .values({
        id,
        status: "uploaded",
        fileName: cleanFileName(upload.fileName),
        filePath: relative,
        fileBytes: bytes,
        format: JSON.stringify(format),
        createdBy: ctx.actor.id ?? ctx.actor.type,
        createdAt: ctx.now(),
      })
      .returning()
      .get();
    return { import: toSummary(row), sniff };
  } catch (error) {
    rmSync(partial, { force: true });
    rmSync(final, { force: true });
    throw error;
  }
}

export interface ImportPreview {
  headers: string[];
  rows: string[][];
  /** The stored mapping, or the one guessed from the headers. */
  mapping: ImportField[];
  definitions: AttributeDefinition[];
  format: CsvFormat;
}

/** The mapping step's data: headers, the first rows as read from the file, and the guesses. */
export async function getImportPreview(ctx: WorkspaceContext, id: string): Promise<ImportPreview> {
  const row = findRow(ctx.db, id);
  const summary = toSummary(row);
  if (!summary.format) throw new NotFoundError("Import");
  const definitions = listAttributeDefinitions(ctx);
  let rows: string[][] = [];
  try {
    rows = (await sniffCsvFile(absolutePath(row.filePath))).preview;
  } catch {
    rows = [];
  }
  return {
    headers: summary.format.headers,
    rows,
    mapping: summary.mapping ?? guessMapping(summary.format.headers, definitions),
    definitions,
    format: summary.format,
  };
}
