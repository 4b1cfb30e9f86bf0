/**
 * Worker thread for contact exports (started by contact-export.server.ts through
 * app/lib/worker.server.ts). Opens its own connection to the workspace's file, streams the
 * matching contacts to CSV and answers { ok, result: { rows } } or { ok: false, error }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openTenantDbForWorker } from "~/db/tenant-worker-connection.server";
import type { ContactExportWorkerData } from "~/domain/contacts/contact-export.server";
import { writeContactsCsv } from "~/domain/contacts/contact-export-writer.server";
import type { WorkerReply } from "~/lib/worker.server";

function run(data: ContactExportWorkerData): { rows: number } {
  const db = openTenantDbForWorker(data.workspaceId);
  try {
    const { rows } = writeContactsCsv(db, data.where, data.file);
    return { rows };
  } finally {
    db.close();
  }
}

let reply: WorkerReply<{ rows: number }>;
try {
  reply = { ok: true, result: run(workerData as ContactExportWorkerData) };
} catch (error) {
  reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
}
parentPort?.postMessage(reply);
