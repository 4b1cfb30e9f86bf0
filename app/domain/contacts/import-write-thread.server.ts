import type { MessagePort } from "node:worker_threads";
import { openTenantClientForWorker } from "~/db/tenant-worker-client.server";
import { logger } from "~/lib/logger.server";
import { ROW_STRIDE } from "./import-batch.server";
import type {
  ImportWorkerData,
  MainToWriter,
  ParserMessage,
  WriterReport,
  WriterToParser,
} from "./import-pipeline.server";
import { ImportWriter, ZERO_COUNTS } from "./import-writer.server";

/**
 * The writing thread of an import: takes the parser's batches in order, writes them through
 * ImportWriter in transactions of up to `txnRows` rows or `txnMs` milliseconds, acknowledges
 * each batch (the parser's flow control), reports progress to the main thread every 250 ms,
 * and notices a cancel between batches.
 */

export async function runImportWriter(data: ImportWorkerData, parent: MessagePort): Promise<void> {
  const port = data.port;
  const { txnRows, txnMs, gapMs, cacheKib } = data.tuning;
  const db = openTenantClientForWorker(data.workspaceId, data.dbPath);
  db.pragma(`cache_size = -${Math.max(2048, cacheKib)}`);
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
    db.close();
    // Nothing else keeps the thread alive: it ends once the report is sent.
    parent.off("message", onParent);
  }
  parent.postMessage(report);
}
