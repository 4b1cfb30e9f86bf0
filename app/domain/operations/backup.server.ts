import { backupAll, restoreAll, type BackupManifest } from "~/db/backup-files.server";
import { migrateAll, type MigrateAllResult } from "~/db/operations.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";

/** Operator actions on the whole data directory; each one leaves an audit record. */
export async function createBackup(ctx: SystemContext, outDir: string): Promise<BackupManifest> {
  const manifest = await backupAll(outDir);
  recordAudit(ctx, {
    action: "system.backup_created",
    details: {
      files: manifest.files.length,
      bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
    },
  });
  return manifest;
}

export function restoreBackup(ctx: SystemContext, fromDir: string) {
  const result = restoreAll(fromDir);
  recordAudit(ctx, { action: "system.backup_restored", details: { files: result.restored } });
  return result;
}

export function migrateEverything(ctx: SystemContext): MigrateAllResult {
  const result = migrateAll();
  if (result.tenants.migrated > 0) {
    recordAudit(ctx, { action: "system.migrated", details: { ...result.tenants } });
  }
  return result;
}
