import { and, eq, getTableColumns, isNotNull, sql } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { forEachTenant, listTenantFiles, withTenantDb } from "~/db/tenants.server";
import { getVault, VaultError, type Vault } from "~/lib/crypto/vault.server";
import { logger } from "~/lib/logger.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { aadFor, encryptedColumnsIn, type EncryptedColumn } from "./encrypted-columns.server";

/** The control db or a tenant file: rotation needs only select/update on registered tables. */
type AnyDb = BetterSQLite3Database<Record<string, unknown>>;

export interface RotationResult {
  /** Key id every rotated value now carries. */
  keyId: string;
  /** Values re-encrypted in the control db. */
  control: number;
  /** Values re-encrypted across all workspace files. */
  tenants: number;
  /** Workspace files walked. */
  workspaces: number;
  /** Workspaces whose file could not be rotated; their transaction was rolled back. */
  failed: { workspaceId: string; error: string }[];
}

const PAGE = 500;

/** The property name drizzle knows a column by (`totpSecretEnc` for `totp_secret_enc`). */
function propertyOf(entry: EncryptedColumn): string {
  const found = Object.entries(getTableColumns(entry.table)).find(([, c]) => c === entry.column);
  if (!found) throw new Error(`${entry.aadPrefix}: the column is not in the registered table`);
  return found[0];
}

/**
 * Re-encrypts, under the current key, every registered value in one database that carries
 * another key id. One IMMEDIATE transaction: either the whole file moves or nothing does, and a
 * server writing meanwhile waits (busy_timeout) instead of interleaving.
 */
function rotateDatabase(db: AnyDb, entries: readonly EncryptedColumn[], vault: Vault): number {
  if (entries.length === 0) return 0;
  const prefix = `v1.${vault.keyId}.`;
  return db.transaction(
    (tx) => {
      let rotated = 0;
      for (const entry of entries) {
        const property = propertyOf(entry);
        const stale = and(
          isNotNull(entry.column),
          sql`substr(${entry.column}, 1, ${prefix.length}) <> ${prefix}`,
        );
        // Each rotated row leaves the `stale` set, so the next page starts where this one ended.
        for (;;) {
          const page = tx
            .select({ id: entry.id, value: entry.column })
            .from(entry.table)
            .where(stale)
            .limit(PAGE)
            .all() as { id: string | number; value: string }[];
          if (page.length === 0) break;
          for (const row of page) {
            const aad = aadFor(entry, row.id);
            let plaintext: string;
            try {
              plaintext = vault.decrypt(row.value, aad);
            } catch (error) {
              if (!(error instanceof VaultError)) throw error;
              throw new VaultError(error.code, `${entry.aadPrefix} of ${row.id}: ${error.message}`);
            }
            const result = tx
              .update(entry.table)
              .set({ [property]: vault.encrypt(plaintext, aad) })
              .where(and(eq(entry.id, row.id), eq(entry.column, row.value)))
              .run();
            if (result.changes !== 1) {
              throw new Error(`${entry.aadPrefix} of ${row.id} changed during rotation`);
            }
            rotated += 1;
          }
        }
      }
      return rotated;
    },
    { behavior: "immediate" },
  );
}

/**
 * `keys rotate`: moves every stored secret (encryptedColumns) to the current key, the control
 * db first, then each workspace file, including deleted workspaces whose file still awaits
 * purging. Idempotent: a second run rotates nothing. A value under a key that is no longer
 * configured, or that fails authentication, stops its database's rotation with a VaultError
 * (the control db's aborts the whole run; a workspace's is reported in `failed`).
 */
export async function rotateEncryptionKeys(ctx: SystemContext): Promise<RotationResult> {
  const vault = getVault();
  const tenantEntries = encryptedColumnsIn("tenant");
  const control = rotateDatabase(getControlDb(), encryptedColumnsIn("control"), vault);

  let tenants = 0;
  const rotateTenant = (db: AnyDb) => {
    tenants += rotateDatabase(db, tenantEntries, vault);
  };
  const walk = await forEachTenant((_id, db) => rotateTenant(db));

  // forEachTenant skips deleted workspaces; their files still hold secrets until purged.
  const files = new Set(listTenantFiles());
  const deleted = getControlDb()
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(eq(workspaces.status, "deleted"))
    .all()
    .filter(({ id }) => files.has(id));
  let visited = walk.visited;
  const failed = [...walk.failed];
  for (const { id } of deleted) {
    try {
      await withTenantDb(id, (db) => rotateTenant(db));
      visited += 1;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ err: error, workspaceId: id }, "key rotation failed for a workspace");
      failed.push({ workspaceId: id, error: message });
    }
  }

  const result: RotationResult = {
    keyId: vault.keyId,
    control,
    tenants,
    workspaces: visited,
    failed,
  };
  recordAudit(ctx, {
    action: "keys.rotated",
    details: {
      keyId: vault.keyId,
      control,
      tenants,
      workspaces: visited,
      failed: failed.length,
      failedWorkspaces: failed.slice(0, 50).map((f) => f.workspaceId),
    },
  });
  return result;
}
