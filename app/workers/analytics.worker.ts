/**
 * The analytics worker thread (started once by app/domain/analytics/analytics-worker.server.ts):
 * answers report, progress and overview queries on its own read connections, one request at a
 * time, keeping a few workspace files open for the next request.
 */
import { parentPort } from "node:worker_threads";
import { openTenantDbForWorker } from "~/db/tenant-worker-connection.server";
import type { TenantDb } from "~/db/tenants.server";
import {
  analyticsQueries,
  type AnalyticsReply,
  type AnalyticsRequest,
} from "~/domain/analytics/queries.server";
import { systemContext, type WorkspaceContext } from "~/domain/context";
import { NotFoundError } from "~/lib/errors";

const OPEN_FILES = 8;
const open = new Map<string, TenantDb & { close(): void }>();

function dbFor(workspaceId: string): TenantDb {
  let db = open.get(workspaceId);
  if (db) {
    open.delete(workspaceId);
  } else {
    db = openTenantDbForWorker(workspaceId);
    if (open.size >= OPEN_FILES) {
      const [oldest, oldestDb] = open.entries().next().value!;
      oldestDb.close();
      open.delete(oldest);
    }
  }
  open.set(workspaceId, db);
  return db;
}

parentPort!.on("message", (request: AnalyticsRequest) => {
  let reply: AnalyticsReply;
  try {
    const ctx: WorkspaceContext = {
      ...systemContext("analytics"),
      workspaceId: request.workspace.id,
      workspace: request.workspace,
      db: dbFor(request.workspace.id),
    };
    const query = analyticsQueries[request.name] as (c: typeof ctx, ...a: unknown[]) => unknown;
    reply = { id: request.id, ok: true, result: query(ctx, ...request.args) };
  } catch (error) {
    reply = {
      id: request.id,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      notFound: error instanceof NotFoundError,
    };
  }
  parentPort!.postMessage(reply);
});
