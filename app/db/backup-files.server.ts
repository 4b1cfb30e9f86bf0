import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { dataDirHolder } from "~/lib/data-dir-lock.server";
import { getEnv } from "~/lib/env.server";
import { ValidationError } from "~/lib/errors";
import { closeControlDb, controlDbPath, getControlDb } from "./control.server";
import { migrationsFor } from "./migrate.server";
import { closeAllTenantDbs, isWorkspaceId, listTenantFiles, withTenantDb } from "./tenants.server";

export interface BackupManifest {
  format: 1;
  createdAt: string;
  schema: { control: number; tenant: number };
  files: { path: string; bytes: number; sha256: string }[];
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * Copies the control db and every tenant file with SQLite's online backup API: each copy is a
 * consistent snapshot even while the server keeps writing.
 */
export async function backupAll(outDir: string): Promise<BackupManifest> {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    throw new ValidationError(`Backup directory ${outDir} is not empty`);
  }
  mkdirSync(join(outDir, "tenants"), { recursive: true });
  const written: string[] = [];
  await getControlDb().$client.backup(join(outDir, "control.db"));
  written.push("control.db");
  for (const id of listTenantFiles()) {
    const target = join("tenants", `${id}.db`);
    await withTenantDb(id, (db) => db.$client.backup(join(outDir, target)));
    written.push(target);
  }
  const manifest: BackupManifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    schema: { control: migrationsFor("control").length, tenant: migrationsFor("tenant").length },
    files: written.map((path) => ({
      path,
      bytes: statSync(join(outDir, path)).size,
      sha256: sha256File(join(outDir, path)),
    })),
  };
  writeFileSync(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

function readManifest(fromDir: string): BackupManifest {
  const path = join(fromDir, "manifest.json");
  if (!existsSync(path)) throw new ValidationError(`${fromDir} has no manifest.json`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8")) as BackupManifest;
  } catch {
    throw new ValidationError(`${path} is not valid JSON`);
  }
  if (manifest.format !== 1 || !Array.isArray(manifest.files)) {
    throw new ValidationError(`${path} is not a Pleisys Engage backup manifest`);
  }
  for (const file of manifest.files) {
    const ok =
      file.path === "control.db" ||
      (file.path.startsWith("tenants/") && isWorkspaceId(file.path.slice(8, -3)));
    if (!ok || !file.path.endsWith(".db")) {
      throw new ValidationError(`Unexpected file in manifest: ${file.path}`);
    }
    const full = join(fromDir, file.path);
    if (!existsSync(full)) throw new ValidationError(`Backup file missing: ${file.path}`);
    if (sha256File(full) !== file.sha256) {
      throw new ValidationError(`Backup file damaged (checksum mismatch): ${file.path}`);
    }
  }
  if (!manifest.files.some((f) => f.path === "control.db")) {
    throw new ValidationError("The backup has no control.db");
  }
  return manifest;
}

/**
 * Replaces DATA_DIR's databases with a verified backup. The current files are moved aside to
 * DATA_DIR/pre-restore-<time>/, never deleted. Refused while a server uses DATA_DIR.
 */
export function restoreAll(fromDir: string): { restored: number; previous: string } {
  const holder = dataDirHolder();
  if (holder)
    throw new ValidationError(`A server (pid ${holder}) is using DATA_DIR; stop it first`);
  const manifest = readManifest(fromDir);
  const dataDir = getEnv().DATA_DIR;
  closeAllTenantDbs();
  closeControlDb();

  const previous = join(dataDir, `pre-restore-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(join(previous, "tenants"), { recursive: true });
  const current = [
    controlDbPath(),
    ...listTenantFiles().map((id) => join(dataDir, "tenants", `${id}.db`)),
  ];
  let moved = 0;
  for (const db of current) {
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(db + suffix)) {
        renameSync(db + suffix, join(previous, relative(dataDir, db)) + suffix);
        moved += 1;
      }
    }
  }
  for (const file of manifest.files) {
    const target = join(dataDir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(fromDir, file.path), target + ".restoring");
    renameSync(target + ".restoring", target);
  }
  if (moved === 0) rmSync(previous, { recursive: true, force: true });
  return { restored: manifest.files.length, previous };
}

/**
 * A purged workspace leaves no copy behind in DATA_DIR: its files inside the pre-restore
 * folders that restoreAll sets aside. (Backups written elsewhere are the operator's to rotate;
 * ADR 0013.) Returns the files removed.
 */
export function removeTenantBackupCopies(workspaceId: string): number {
  if (!isWorkspaceId(workspaceId)) return 0;
  const dataDir = getEnv().DATA_DIR;
  if (!existsSync(dataDir)) return 0;
  let removed = 0;
  for (const entry of readdirSync(dataDir)) {
    if (!entry.startsWith("pre-restore-")) continue;
    const base = join(dataDir, entry, "tenants", `${workspaceId}.db`);
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      if (!existsSync(base + suffix)) continue;
      rmSync(base + suffix, { force: true });
      removed += 1;
    }
  }
  return removed;
}
