import { drizzle } from "drizzle-orm/better-sqlite3";
import * as schema from "./schema/tenant";
import { openTenantClientForWorker } from "./tenant-worker-client.server";
import { tenantDbPath, type TenantDb } from "./tenants.server";

/**
 * A worker thread's own connection to one workspace's file, with drizzle on top (see
 * openTenantClientForWorker for the raw one). The id is validated exactly as getTenantDb
 * validates it.
 */
export function openTenantDbForWorker(workspaceId: string): TenantDb & { close(): void } {
  const client = openTenantClientForWorker(workspaceId, tenantDbPath(workspaceId));
  const db = drizzle(client, { schema }) as TenantDb;
  return Object.assign(db, {
    close() {
      if (client.open) client.close();
    },
  });
}
