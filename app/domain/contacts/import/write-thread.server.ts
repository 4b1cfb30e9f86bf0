import type { MessagePort } from "node:worker_threads";
import type Database from "better-sqlite3";
import { openControlClientForWorker } from "~/db/control-worker-client.server";
import { openTenantClientForWorker } from "~/db/tenant-worker-client.server";
import { logger } from "~/lib/logger.server";
import {
  deleteSubjectHashes,
  importMarker,
  indexContactsSince,
  insertSubjectHashes,
  releaseSubjects,
} from "../../privacy/subject-index-sync.server";
import { ROW_STRIDE } from "./record-batches.server";
import type {
  ImportWorkerData,
  MainToWriter,
  ParserMessage,
  WriterReport,
  WriterToParser,
} from "./threads.server";
import { ImportWriter, ZERO_COUNTS } from "./record-writer.server";

/**
 * The writing thread of an import: takes the parser's batches in order, writes them through
 * ImportWriter in transactions of up to `txnRows` rows or `txnMs` milliseconds, acknowledges
 * each batch (the parser's flow control), reports progress to the main thread every 250 ms,
 * and notices a cancel between batches.
 *
 * The privacy subject index: hashing and indexing each row as it is written would cost the
 * import about as much again (two HMACs and two random inserts into the control db per row),
 * so the thread puts up the import's marker before its first commit (the workspace then counts
 * as holding anyone), and once the import has ended indexes the contacts it changed, lets go
 * of the addresses its updates replaced, and takes the marker down. If the thread dies first,
 * the marker stays until the next start rebuilds the workspace's entries.
 */

export async function runImportWriter(data: ImportWorkerData, parent: MessagePort): Promise<void> {
  const port = data.port;
  const { txnRows, txnMs, gapMs, cacheKib } = data.tuning;
  const db = openTenantClientForWorker(data.workspaceId, data.dbPath);
  db.pragma(`cache_size = -${Math.max(2048, cacheKib)}`);
  let control: Database.Database | null = null;
  const marker = importMarker(data.importId);
  let writer: ImportWriter | null = null;
  const queue: ParserMessage[] = [];
  let cancel = false;
  let wake: (() => void) | null = null;
  port.on("message", (message: ParserMessage) => {
    queue.push(message);
    wake?.();
  });
  const onParent = (message: MainToWriter) => {
    if (message.type === "cancel") cancel = true;
    else queue.push({ type: "fail", message: message.message });
    wake?.();
  };
  parent.on("message", onParent);

  let report: Extract<WriterReport, { type: "done" }>;
  try {
    control = openControlClientForWorker(data.controlDbPath);
    insertSubjectHashes(control, data.workspaceId, [marker]);
    writer = new ImportWriter({
      client: db,
      importId: data.importId,
      options: data.options,
      actorType: data.actorType,
      suppressionKey: Buffer.from(data.suppressionKey, "base64"),
      suppressionsCheckedUpTo: data.suppressionsUpTo,
    });
    if (writer.storedStatus() === "cancelling") cancel = true;
    let lastReport = 0;
    let txnStarted = 0;
    let txnSize = 0;
    let outcome: { status: "completed" | "cancelled" | "failed"; error: string | null } | null =
      null;
    while (!outcome) {
      if (cancel) {
        outcome = { status: "cancelled", error: null };
        break;
      }
      const message = queue.shift();
      if (!message) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      if (message.type === "end") outcome = { status: "completed", error: null };
      else if (message.type === "fail") outcome = { status: "failed", error: message.message };
      else {
        if (!writer.open) {
          writer.begin();
          txnStarted = Date.now();
          txnSize = 0;
        }
        writer.write(message);
        txnSize += message.rows.length / ROW_STRIDE + message.errorRows;
        port.postMessage({ type: "ack", seq: message.seq } satisfies WriterToParser);
        const now = Date.now();
        if (now - lastReport >= 250) {
          parent.postMessage({ type: "progress", counts: writer.current } satisfies WriterReport);
          lastReport = now;
        }
        if (txnSize >= txnRows || now - txnStarted >= txnMs) {
          writer.commit();
          if (writer.storedStatus() === "cancelling") cancel = true;
          if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        }
      }
    }
    if (outcome.status === "cancelled") port.postMessage({ type: "stop" } satisfies WriterToParser);
    writer.finish(outcome.status, outcome.error);
    report = { type: "done", ...outcome, counts: writer.committed };
  } catch (error) {
    logger.error({ err: error, importId: data.importId }, "contact import failed");
    let counts = writer?.committed;
    const message =
      "The import stopped because of an unexpected problem. The rows counted above were imported; import the file again to add the rest.";
    try {
      writer?.rollback();
      writer?.finish("failed", message);
      counts = writer?.committed;
    } catch (finishError) {
      logger.error({ err: finishError, importId: data.importId }, "recording a failed import");
    }
    report = {
      type: "done",
      status: "failed",
      error: message,
      counts: counts ?? ZERO_COUNTS,
    };
  } finally {
    port.close();
    if (control) {
      try {
        if (writer) catchUpSubjectIndex(data, db, control, writer.released);
        deleteSubjectHashes(control, data.workspaceId, [marker]);
      } catch (error) {
        logger.error({ err: error, importId: data.importId }, "indexing imported contacts failed");
      }
    }
    control?.close();
    db.close();
    // Nothing else keeps the thread alive: it ends once the report is sent.
    parent.off("message", onParent);
  }
  parent.postMessage(report);
}

/** After the import: its contacts into the privacy index, replaced addresses out of it. */
function catchUpSubjectIndex(
  data: ImportWorkerData,
  db: Database.Database,
  control: Database.Database,
  released: readonly { email: string | null; phone: string | null }[],
): void {
  const key = Buffer.from(data.subjectIndexKey, "base64");
  // A resumed import keeps its first start: the rows of every earlier run are covered too.
  const since = db
    .prepare("SELECT started_at FROM contact_imports WHERE id = ?")
    .pluck()
    .get(data.importId) as number | null | undefined;
  const started = Date.now();
  const indexed = indexContactsSince(db, control, data.workspaceId, key, since ?? 0);
  const unindexed = releaseSubjects(db, control, data.workspaceId, key, released);
  logger.info(
    { importId: data.importId, ...indexed, unindexed, ms: Date.now() - started },
    "imported contacts indexed for privacy requests",
  );
}
