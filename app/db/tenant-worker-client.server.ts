import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { NotFoundError } from "~/lib/errors";
import { configureConnection, migrateDatabase } from "./migrate.server";

/**
 * A worker thread's own raw connection to one workspace's file, at the path the main thread
 * resolved (tenantDbPath). SQLite handles cannot cross threads, so a worker opens its own,
 * outside the main thread's LRU, and closes it when done. Same settings as every other
 * connection (WAL, busy_timeout, foreign keys); the file must already exist: a worker never
 * creates a workspace. No drizzle here: the import threads use prepared statements only, and
 * a thread that loads less costs less memory.
 */
export function openTenantClientForWorker(workspaceId: string, path: string): Database.Database {
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
  return client;
}
