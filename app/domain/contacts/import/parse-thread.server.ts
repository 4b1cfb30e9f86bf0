import { openTenantClientForWorker } from "~/db/tenant-worker-client.server";
import { describeCsvError, openCsvRecords } from "./csv-format.server";
import { packRow, suppressionMatcher, type RowBatch } from "./record-batches.server";
import type { ImportWorkerData, ParserMessage, WriterToParser } from "./threads.server";
import { compileRowPlan, normaliseImportRow } from "./records.server";

/**
 * The parsing thread of an import: streams the file through csv-parse, normalises every row as
 * the contact form would, matches suppressions, and sends rows and rejections to the writing
 * thread in small batches, never more than `inflight` ahead of it.
 */

function readFailure(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && code.startsWith("CSV_")) return describeCsvError(error);
  if (code === "ENOENT") return "The uploaded file is gone, so the import cannot continue.";
  return "The uploaded file could not be read to the end, so the import stopped.";
}

export async function runImportParser(data: ImportWorkerData): Promise<void> {
  const port = data.port;
  const plan = compileRowPlan({
    headers: data.format.headers,
    mapping: data.mapping,
    definitions: data.definitions,
    defaultCountry: data.defaultCountry,
  });
  let isSuppressed: ((row: { email: string | null; phone: string | null }) => boolean) | null =
    null;
  if (data.suppressionsUpTo > 0) {
    const db = openTenantClientForWorker(data.workspaceId, data.dbPath);
    try {
      const hashes = db
        .prepare("SELECT hash FROM suppressions WHERE rowid <= ?")
        .pluck()
        .all(data.suppressionsUpTo) as string[];
      if (hashes.length) {
        isSuppressed = suppressionMatcher(
          Buffer.from(data.suppressionKey, "base64"),
          new Set(hashes),
        );
      }
    } finally {
      db.close();
    }
  }

  let inflight = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  port.on("message", (message: WriterToParser) => {
    if (message.type === "ack") inflight--;
    else stopped = true;
    wake?.();
  });
  port.on("close", () => {
    stopped = true;
    wake?.();
  });

  const { batchRows, inflight: maxInflight } = data.tuning;
  const stream = openCsvRecords(data.filePath, data.format);
  let consumed = 0;
  let seq = 0;
  let rows: (string | number | null)[] = [];
  let errors: (string | number)[] = [];
  let errorRows = 0;
  let warnings: (string | number)[] = [];
  let warningRows = 0;
  let size = 0;

  const send = async () => {
    const batch: RowBatch = {
      type: "batch",
      seq: seq++,
      rows,
      errors,
      errorRows,
      warnings,
      warningRows,
      rowsDone: consumed,
      bytesDone: Math.min(stream.bytesRead(), data.fileBytes),
    };
    port.postMessage(batch);
    rows = [];
    errors = [];
    errorRows = 0;
    warnings = [];
    warningRows = 0;
    size = 0;
    inflight++;
    while (inflight >= maxInflight && !stopped) {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };

  try {
    for await (const chunk of stream.records) {
      for (const cells of chunk) {
        consumed++;
        if (consumed <= data.skipRows) continue;
        const rowNumber = stream.rowOffset() + consumed;
        const result = normaliseImportRow(cells, plan);
        if (result.kind === "row") {
          packRow(rows, rowNumber, result.row, isSuppressed ? isSuppressed(result.row) : false);
          if (result.warnings !== null) {
            for (const w of result.warnings) warnings.push(rowNumber, w.column, w.reason);
            warningRows++;
          }
          size++;
        } else if (result.kind === "error") {
          for (const e of result.errors) errors.push(rowNumber, e.column, e.reason);
          errorRows++;
          size++;
        }
        if (size >= batchRows) {
          await send();
          if (stopped) return;
        }
      }
    }
    if (stopped) return;
    await send();
    port.postMessage({ type: "end" } satisfies ParserMessage);
  } catch (error) {
    if (!stopped) {
      // Rows before the problem are sent first, so they are imported and counted.
      if (size > 0) await send();
      port.postMessage({ type: "fail", message: readFailure(error) } satisfies ParserMessage);
    }
  } finally {
    stream.close();
  }
}
