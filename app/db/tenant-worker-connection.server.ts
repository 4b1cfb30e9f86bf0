import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { existsSync } from "node:fs";
import { NotFoundError } from "~/lib/errors";
import { configureConnection, migrateDatabase } from "./migrate.server";
import * as schema from "./schema/tenant";
import { tenantDbPath, type TenantDb } from "./tenants.server";

/**
 * A worker thread's own connection to one workspace's file. SQLite handles cannot cross
 * threads, so a worker (CSV import, contact export) opens its own, outside the main thread's
 * LRU, and closes it when done. Same settings as every other connection (WAL, busy_timeout,
 * foreign keys); the id is validated exactly as getTenantDb validates it, and the file must
 * already exist: a worker never creates a workspace.
 */
export function openTenantDbForWorker(workspaceId: string): TenantDb & { close(): void } {
  const path = tenantDbPath(workspaceId);
  if (!existsSync(path)) throw new NotFoundError("workspace database", workspaceId);
  const client = new Database(path, { fileMustExist: true });
  try {
    configureConnection(client);
    // Normally a no-op (the main thread migrated the file on open): one pragma read.
    migrateDatabase(client, "tenant");
  } catch (error) {
    client.close();
    throw error;
  }
  const db = drizzle(client, { schema }) as TenantDb;
  return Object.assign(db, {
    close() {
      if (client.open) client.close();
    },
  });
}
