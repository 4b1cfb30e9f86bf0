import Database from "better-sqlite3";
import { getControlDb } from "./control.server";
import { configureConnection, migrateDatabase, migrationsFor } from "./migrate.server";
import { listTenantFiles, tenantDbPath } from "./tenants.server";

export interface MigrateAllResult {
  control: { version: number };
  tenants: { version: number; files: number; migrated: number };
}

/**
 * Brings the control db and every tenant file on disk to this release's schema. Tenant files
 * are opened directly, outside the LRU, so a full walk does not evict live handles.
 */
export function migrateAll(): MigrateAllResult {
  const control = {
    version: getControlDb().$client.pragma("user_version", { simple: true }) as number,
  };
  const tenants = { version: migrationsFor("tenant").length, files: 0, migrated: 0 };
  for (const id of listTenantFiles()) {
    const client = new Database(tenantDbPath(id), { fileMustExist: true });
    try {
      configureConnection(client);
      if (migrateDatabase(client, "tenant") > 0) tenants.migrated += 1;
      tenants.files += 1;
    } finally {
      client.close();
    }
  }
  return { control, tenants };
}
