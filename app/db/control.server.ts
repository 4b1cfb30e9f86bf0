import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { getEnv } from "~/lib/env.server";
import { singleton } from "~/lib/singleton.server";
import { configureConnection, migrateDatabase } from "./migrate.server";
import * as schema from "./schema/control";

export type ControlDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

interface ControlHandle {
  db?: ControlDb;
}

const handle = singleton<ControlHandle>("control-db", () => ({}));

export function controlDbPath(): string {
  return join(getEnv().DATA_DIR, "control.db");
}

/** The control database, opened and migrated on first use. */
export function getControlDb(): ControlDb {
  if (handle.db) return handle.db;
  mkdirSync(getEnv().DATA_DIR, { recursive: true, mode: 0o700 });
  const client = new Database(controlDbPath());
  configureConnection(client);
  migrateDatabase(client, "control");
  handle.db = drizzle(client, { schema }) as ControlDb;
  return handle.db;
}

export function closeControlDb(): void {
  if (!handle.db) return;
  handle.db.$client.close();
  handle.db = undefined;
}
