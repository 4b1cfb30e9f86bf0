/**
 * Worker thread that writes a campaign's messages (started by queueCampaign in
 * app/domain/campaigns/queue.server.ts through app/lib/worker.server.ts). Opens its own
 * connection to the workspace's file and reports each committed slice so the main thread can
 * wake the dispatcher.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openTenantClientForWorker } from "~/db/tenant-worker-client.server";
import { drizzle } from "drizzle-orm/better-sqlite3";
import * as schema from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { systemContext } from "~/domain/context";
import {
  writeCampaignMessages,
  type CampaignQueueMessage,
  type CampaignQueueWorkerData,
} from "~/domain/campaigns/queue.server";

const data = workerData as CampaignQueueWorkerData;
const post = (message: CampaignQueueMessage) => parentPort!.postMessage(message);
const client = openTenantClientForWorker(data.workspaceId, data.dbPath);
try {
  const db = drizzle(client, { schema }) as TenantDb;
  const ctx = {
    ...systemContext("campaign-queue"),
    workspaceId: data.workspaceId,
    workspace: data.workspace,
    db,
  };
  const result = writeCampaignMessages(ctx, data.campaignId, {
    part: data.part,
    winner: data.winner,
    notBefore: data.notBefore,
    ceiling: data.ceiling,
    onSlice: (done, queued) => post({ type: "slice", done, queued }),
  });
  post({ type: "done", ...result });
} catch (error) {
  post({ type: "error", error: error instanceof Error ? error.message : String(error) });
} finally {
  client.close();
}
