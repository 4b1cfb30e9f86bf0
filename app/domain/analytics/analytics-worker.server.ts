import type { Worker } from "node:worker_threads";
import type { WorkspaceProfile } from "../context";
import { NotFoundError } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import { startWorker } from "~/lib/worker.server";
import type {
  AnalyticsArgs,
  AnalyticsQueryName,
  AnalyticsReply,
  AnalyticsRequest,
  AnalyticsResult,
} from "./queries.server";

/**
 * Runs the analytics queries (queries.server.ts) in one long-lived worker thread. Identical
 * requests in flight share one answer, so ten people watching the same campaign's progress
 * cost one query. The worker starts on first use, and again after a crash (pending requests
 * are refused with an error, never left hanging).
 */

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<
  number,
  { resolve: (value: unknown) => void; reject: (e: Error) => void }
>();
const inFlight = new Map<string, Promise<unknown>>();

function failAll(error: Error): void {
  for (const { reject } of pending.values()) reject(error);
  pending.clear();
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const started = startWorker("app/workers/analytics.worker.ts", { name: "analytics" });
  started.unref();
  started.on("message", (reply: AnalyticsReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(reply.notFound ? new NotFoundError(reply.error) : new Error(reply.error));
  });
  const lost = (error: Error) => {
    if (worker !== started) return;
    worker = null;
    logger.error({ err: error }, "the analytics worker stopped");
    failAll(error);
  };
  started.on("error", lost);
  started.on("exit", (code) =>
    lost(new Error(`The analytics worker stopped (exit code ${code}).`)),
  );
  worker = started;
  return started;
}

/** Answers `name` for the workspace in the analytics worker. */
export function queryAnalytics<K extends AnalyticsQueryName>(
  name: K,
  workspace: WorkspaceProfile,
  ...args: AnalyticsArgs<K>
): Promise<AnalyticsResult<K>> {
  const key = JSON.stringify([name, workspace, args]);
  const shared = inFlight.get(key);
  if (shared) return shared as Promise<AnalyticsResult<K>>;
  const request: AnalyticsRequest = { id: nextId++, name, workspace, args };
  const answer = new Promise<unknown>((resolve, reject) => {
    pending.set(request.id, { resolve, reject });
    ensureWorker().postMessage(request);
  }).finally(() => inFlight.delete(key));
  inFlight.set(key, answer);
  return answer as Promise<AnalyticsResult<K>>;
}
