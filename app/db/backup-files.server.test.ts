import Database from "better-sqlite3";
import { asc, eq } from "drizzle-orm";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { APP_ROOT } from "~/lib/app-root.server";
import { ValidationError } from "~/lib/errors";
import { backupAll, restoreAll, type BackupManifest } from "./backup-files.server";
import { closeControlDb, controlDbPath, getControlDb } from "./control.server";
import { workspaces } from "./schema/control";
import { tenantMeta } from "./schema/tenant";
import {
  closeAllTenantDbs,
  getTenantDb,
  listTenantFiles,
  newWorkspaceId,
  provisionTenantDb,
  tenantDbPath,
  tenantsDir,
} from "./tenants.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const DATA_DIR = process.env.DATA_DIR!;

/** Every path under dir, relative to it, sorted. */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => relative(dir, join(dir, p)))
    .sort();
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Migration counts from drizzle-kit's journals, read independently of migrate.server. */
function migrationCount(kind: "control" | "tenant"): number {
  const journal = JSON.parse(
    readFileSync(join(APP_ROOT, "drizzle", kind, "meta", "_journal.json"), "utf8"),
  ) as { entries: unknown[] };
  return journal.entries.length;
}

function freshDir(): string {
  return join(mkdtempSync(join(tmpdir(), "engage-backup-")), "out");
}

function preRestoreDirs(): string[] {
  return readdirSync(DATA_DIR).filter((name) => name.startsWith("pre-restore-"));
}

/** Reads one file directly, as an operator would, without the app's handles. */
function readOnly<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function workspaceNames(): string[] {
  return getControlDb()
    .select({ name: workspaces.name })
    .from(workspaces)
    .orderBy(asc(workspaces.slug))
    .all()
    .map((w) => w.name);
}

function notes(id: string): string[] {
  return getTenantDb(id)
    .select({ value: tenantMeta.value })
    .from(tenantMeta)
    .where(eq(tenantMeta.key, "note"))
    .all()
    .map((r) => r.value);
}

/** Two workspaces with a row in the control db and a note in each tenant file (left in WAL). */
function seed(): [string, string] {
  const [a, b] = [newWorkspaceId(), newWorkspaceId()].sort() as [string, string];
  getControlDb()
    .insert(workspaces)
    .values([
      { id: a, slug: "alpha", name: "Alpha" },
      { id: b, slug: "beta", name: "Beta" },
    ])
    .run();
  provisionTenantDb(a).insert(tenantMeta).values({ key: "note", value: "alpha note" }).run();
  provisionTenantDb(b).insert(tenantMeta).values({ key: "note", value: "beta note" }).run();
  return [a, b];
}

beforeEach(() => {
  closeAllTenantDbs();
  closeControlDb();
  rmSync(DATA_DIR, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true });
});

describe("backupAll", () => {
  it("copies the control db and every tenant file, with a manifest of their sha256", async () => {
    const [a, b] = seed();
    // Still in the WAL, not yet in the main files: the backup must include it anyway.
    expect(existsSync(controlDbPath() + "-wal")).toBe(true);
    expect(existsSync(tenantDbPath(a) + "-wal")).toBe(true);
    const out = freshDir();

    const manifest = await backupAll(out);

    expect(listing(out)).toEqual([
      "control.db",
      "manifest.json",
      "tenants",
      `tenants/${a}.db`,
      `tenants/${b}.db`,
    ]);
    const written = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as BackupManifest;
    expect(written).toEqual(manifest);
    expect(manifest.format).toBe(1);
    expect(Math.abs(Date.parse(manifest.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(manifest.schema).toEqual({
      control: migrationCount("control"),
      tenant: migrationCount("tenant"),
    });
    expect(manifest.files.map((f) => f.path)).toEqual([
      "control.db",
      `tenants/${a}.db`,
      `tenants/${b}.db`,
    ]);
    for (const file of manifest.files) {
      const path = join(out, file.path);
      expect(file.sha256).toBe(sha256(path));
      expect(file.bytes).toBe(statSync(path).size);
      expect(readOnly(path, (db) => db.pragma("integrity_check", { simple: true }))).toBe("ok");
    }

    // The copies hold the data.
    expect(
      readOnly(join(out, "control.db"), (db) =>
        db.prepare("SELECT name FROM workspaces ORDER BY slug").pluck().all(),
      ),
    ).toEqual(["Alpha", "Beta"]);
    expect(
      readOnly(join(out, "tenants", `${b}.db`), (db) =>
        db.prepare("SELECT value FROM tenant_meta WHERE key = 'note'").pluck().all(),
      ),
    ).toEqual(["beta note"]);
    // And the live databases are still usable.
    expect(notes(a)).toEqual(["alpha note"]);
  });

  it("backs up a data dir without workspaces", async () => {
    getControlDb();
    const out = freshDir();
    const manifest = await backupAll(out);
    expect(manifest.files.map((f) => f.path)).toEqual(["control.db"]);
    expect(listing(out)).toEqual(["control.db", "manifest.json", "tenants"]);
  });

  it("refuses a directory that is not empty and writes nothing into it", async () => {
    seed();
    const out = freshDir();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "keep.txt"), "mine");

    await expect(backupAll(out)).rejects.toThrow(ValidationError);
    await expect(backupAll(out)).rejects.toThrow(/not empty/);
    expect(listing(out)).toEqual(["keep.txt"]);

    // An existing empty directory is fine.
    const empty = freshDir();
    mkdirSync(empty, { recursive: true });
    expect((await backupAll(empty)).files).toHaveLength(3);
  });
});

describe("restoreAll", () => {
  it("brings back the backed-up data and keeps the current files aside", async () => {
    const [a, b] = seed();
    const out = freshDir();
    await backupAll(out);

    // Everything changes after the backup: rows edited, removed, a workspace added.
    getControlDb()
      .update(workspaces)
      .set({ name: "Alpha renamed" })
      .where(eq(workspaces.id, a))
      .run();
    getTenantDb(b).delete(tenantMeta).where(eq(tenantMeta.key, "note")).run();
    const c = newWorkspaceId();
    getControlDb().insert(workspaces).values({ id: c, slug: "gamma", name: "Gamma" }).run();
    provisionTenantDb(c).insert(tenantMeta).values({ key: "note", value: "gamma note" }).run();
    const staleHandle = getTenantDb(a);
    expect(workspaceNames()).toHaveLength(3);

    const result = restoreAll(out);

    expect(result.restored).toBe(3);
    expect(staleHandle.$client.open).toBe(false);
    expect(workspaceNames()).toEqual(["Alpha", "Beta"]);
    expect(notes(a)).toEqual(["alpha note"]);
    expect(notes(b)).toEqual(["beta note"]);
    expect(listTenantFiles()).toEqual([a, b]);
    expect(listing(tenantsDir()).some((name) => name.endsWith(".restoring"))).toBe(false);

    // The files as they were just before the restore, under DATA_DIR/pre-restore-<time>/.
    expect(preRestoreDirs()).toEqual([relative(DATA_DIR, result.previous)]);
    expect(result.previous).toMatch(/pre-restore-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    const kept = listing(result.previous);
    for (const path of ["control.db", `tenants/${a}.db`, `tenants/${b}.db`, `tenants/${c}.db`]) {
      expect(kept).toContain(path);
    }
    expect(
      readOnly(join(result.previous, "control.db"), (db) =>
        db.prepare("SELECT name FROM workspaces ORDER BY slug").pluck().all(),
      ),
    ).toEqual(["Alpha renamed", "Beta", "Gamma"]);
    expect(
      readOnly(join(result.previous, "tenants", `${c}.db`), (db) =>
        db.prepare("SELECT value FROM tenant_meta WHERE key = 'note'").pluck().all(),
      ),
    ).toEqual(["gamma note"]);

    // The restored databases are writable again.
    getTenantDb(a).insert(tenantMeta).values({ key: "after", value: "restore" }).run();
    expect(getControlDb().select().from(workspaces).all()).toHaveLength(2);
  });

  it("leaves no pre-restore directory behind when DATA_DIR held no databases", async () => {
    seed();
    const out = freshDir();
    await backupAll(out);
    closeAllTenantDbs();
    closeControlDb();
    rmSync(DATA_DIR, { recursive: true, force: true });
    mkdirSync(DATA_DIR, { recursive: true });

    const result = restoreAll(out);

    expect(result.restored).toBe(3);
    expect(existsSync(result.previous)).toBe(false);
    expect(preRestoreDirs()).toEqual([]);
    expect(workspaceNames()).toEqual(["Alpha", "Beta"]);
  });

  it("refuses a backup whose file does not match the manifest, touching nothing", async () => {
    const [a, b] = seed();
    const out = freshDir();
    await backupAll(out);
    getControlDb()
      .update(workspaces)
      .set({ name: "Alpha renamed" })
      .where(eq(workspaces.id, a))
      .run();
    // One flipped byte in one tenant file.
    const damaged = join(out, "tenants", `${b}.db`);
    const bytes = readFileSync(damaged);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(damaged, bytes);
    const before = listing(DATA_DIR);

    expect(() => restoreAll(out)).toThrow(ValidationError);
    expect(() => restoreAll(out)).toThrow(`checksum mismatch): tenants/${b}.db`);

    expect(listing(DATA_DIR)).toEqual(before);
    expect(preRestoreDirs()).toEqual([]);
    expect(workspaceNames()).toEqual(["Alpha renamed", "Beta"]);
  });

  it("refuses a manifest that is missing, malformed, incomplete or points outside", async () => {
    const [a] = seed();
    const out = freshDir();
    const manifest = await backupAll(out);
    const manifestPath = join(out, "manifest.json");
    const withFiles = (files: BackupManifest["files"]) =>
      writeFileSync(manifestPath, JSON.stringify({ ...manifest, files }));
    const before = listing(DATA_DIR);

    const cases: [() => void, RegExp][] = [
      [() => rmSync(manifestPath), /has no manifest\.json/],
      [() => writeFileSync(manifestPath, "{not json"), /is not valid JSON/],
      [() => writeFileSync(manifestPath, '{"format":2,"files":[]}'), /not a Pleisys Engage/],
      [
        () => withFiles([{ path: "../control.db", bytes: 1, sha256: "x" }]),
        /Unexpected file in manifest: \.\.\/control\.db/,
      ],
      [
        () => withFiles([{ path: "tenants/../../../etc/passwd.db", bytes: 1, sha256: "x" }]),
        /Unexpected file in manifest/,
      ],
      [() => withFiles(manifest.files.slice(1)), /has no control\.db/],
      [
        () => {
          withFiles(manifest.files);
          rmSync(join(out, "tenants", `${a}.db`));
        },
        /Backup file missing: tenants\//,
      ],
    ];
    for (const [damage, message] of cases) {
      damage();
      expect(() => restoreAll(out)).toThrow(message);
    }

    expect(listing(DATA_DIR)).toEqual(before);
    expect(preRestoreDirs()).toEqual([]);
    expect(workspaceNames()).toEqual(["Alpha", "Beta"]);
  });

  it("refuses while a live server's pid file is in DATA_DIR, not for a stale one", async () => {
    seed();
    const out = freshDir();
    await backupAll(out);
    getControlDb().update(workspaces).set({ name: "changed" }).run();
    const pidFile = join(DATA_DIR, "server.pid");

    // The test runner that started this worker is alive and is not this process.
    const live = process.ppid;
    writeFileSync(pidFile, String(live));
    expect(() => restoreAll(out)).toThrow(ValidationError);
    expect(() => restoreAll(out)).toThrow(`A server (pid ${live}) is using DATA_DIR`);
    expect(preRestoreDirs()).toEqual([]);
    expect(workspaceNames()).toEqual(["changed", "changed"]);

    // A crashed server's pid file: the process is gone.
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(pidFile, String(dead));
    expect(restoreAll(out).restored).toBe(3);
    expect(workspaceNames()).toEqual(["Alpha", "Beta"]);
  });
});
