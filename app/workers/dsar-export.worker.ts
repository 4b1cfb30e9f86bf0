/**
 * Worker thread for privacy exports (started by dsar-fulfil.server.ts through
 * app/lib/worker.server.ts). Opens its own raw connection to the workspace's file (no drizzle:
 * a thread that loads less starts sooner), collects what it holds about one person and writes
 * the zip; answers { ok, result: { bytes, rows } } or { ok: false, error }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openTenantClientForWorker } from "~/db/tenant-worker-client.server";
import { collectContactBundle, writeBundleZip } from "~/domain/privacy/dsar-bundle.server";
import type { DsarExportWorkerData } from "~/domain/privacy/dsar-fulfil.server";
import type { WorkerReply } from "~/lib/worker.server";

function run(data: DsarExportWorkerData): { bytes: number; rows: number } {
  const client = openTenantClientForWorker(data.workspaceId, data.path);
  try {
    const bundle = collectContactBundle(
      client,
      data.subject,
      Buffer.from(data.suppressionKey, "base64"),
      new Date(data.now),
    );
    return writeBundleZip(data.file, bundle);
  } finally {
    client.close();
  }
}

let reply: WorkerReply<{ bytes: number; rows: number }>;
try {
  reply = { ok: true, result: run(workerData as DsarExportWorkerData) };
} catch (error) {
  reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
}
parentPort?.postMessage(reply);
