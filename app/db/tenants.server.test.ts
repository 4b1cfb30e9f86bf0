import Database from "better-sqlite3";
import { eq } from "drizzle-orm";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { NotFoundError } from "~/lib/errors";
import { APP_ROOT } from "~/lib/app-root.server";
import { getControlDb } from "./control.server";
import { PAGE_CACHE_KIB_PER_CONNECTION, SQLITE_HEAP_SOFT_LIMIT_BYTES } from "./migrate.server";
import { workspaces } from "./schema/control";
import { tenantMeta } from "./schema/tenant";
import {
  closeAllTenantDbs,
  deleteTenantDb,
  forEachTenant,
  getTenantDb,
  InvalidTenantError,
  isWorkspaceId,
  listTenantFiles,
  newWorkspaceId,
  openTenantDbCount,
  provisionTenantDb,
  tenantDbPath,
  tenantsDir,
  withTenantDb,
} from "./tenants.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const DATA_DIR = process.env.DATA_DIR!;

/** Every path under DATA_DIR, relative, sorted. */
function listing(dir = DATA_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => relative(DATA_DIR, join(dir, p)))
    .sort();
}

/** The number of migrations drizzle-kit's journal lists, read independently of migrate.server. */
function tenantMigrationCount(): number {
  const journal = JSON.parse(
    readFileSync(join(APP_ROOT, "drizzle", "tenant", "meta", "_journal.json"), "utf8"),
  ) as { entries: unknown[] };
  return journal.entries.length;
}

/** Sorted valid ids, so id order is predictable. */
function ids(count: number): string[] {
  return Array.from({ length: count }, () => newWorkspaceId()).sort();
}

function resetTenants(): void {
  closeAllTenantDbs();
  rmSync(tenantsDir(), { recursive: true, force: true });
  getControlDb().delete(workspaces).run();
}

beforeEach(() => {
  resetTenants();
});

describe("tenant ids", () => {
  const bad = [
    "../control",
    "ws_../../x",
    "WS_AAAAAAAAAAAAAAAA",
    "ws_aaaa/aaaaaaaaaaa",
    "",
    "ws_aaaaaaaaaaaaaaa", // 15 characters
    "ws_aaaaaaaaaaaaaaaaa", // 17 characters
    "ws_AAAAAAAAAAAAAAAA",
    "ws_aaaaaaaaaaaaaaa\n",
    "xx_aaaaaaaaaaaaaaaa",
  ];

  it.each(bad)("refuses %j everywhere without touching the disk", (id) => {
    // Make sure there is something an escape could reach: the control db and a tenants dir.
    provisionTenantDb(newWorkspaceId());
    const before = listing();
    expect(before).toContain("control.db");

    expect(() => getTenantDb(id)).toThrow(InvalidTenantError);
    expect(() => tenantDbPath(id)).toThrow(InvalidTenantError);
    expect(() => provisionTenantDb(id)).toThrow(InvalidTenantError);
    expect(() => deleteTenantDb(id)).toThrow(InvalidTenantError);
    expect(isWorkspaceId(id)).toBe(false);

    expect(listing()).toEqual(before);
  });

  it("a rejected ../control does not delete or open the control db", () => {
    const control = join(DATA_DIR, "control.db");
    getControlDb();
    expect(existsSync(control)).toBe(true);
    expect(() => deleteTenantDb("../control")).toThrow(InvalidTenantError);
    expect(existsSync(control)).toBe(true);
    expect(openTenantDbCount()).toBe(0);
  });

  it("the error is a 404 that says nothing about paths", () => {
    const error = (() => {
      try {
        tenantDbPath("../control");
      } catch (e) {
        return e as InvalidTenantError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidTenantError);
    expect(error!.status).toBe(404);
    expect(error!.message).not.toContain("control");
  });

  it("newWorkspaceId makes distinct, valid ids", () => {
    const made = Array.from({ length: 1000 }, () => newWorkspaceId());
    for (const id of made) {
      expect(id).toMatch(/^ws_[0-9a-z]{16}$/);
      expect(isWorkspaceId(id)).toBe(true);
    }
    expect(new Set(made).size).toBe(1000);
    // All 36 characters turn up: the generator is not stuck on a subset of the alphabet.
    const chars = new Set(made.flatMap((id) => [...id.slice(3)]));
    expect(chars.size).toBe(36);
  });

  it("tenantDbPath puts a valid id's file under DATA_DIR/tenants", () => {
    const id = newWorkspaceId();
    expect(tenantDbPath(id)).toBe(join(DATA_DIR, "tenants", `${id}.db`));
  });
});

describe("provisionTenantDb", () => {
  it("creates a configured, migrated file that knows its workspace", () => {
    const id = newWorkspaceId();
    const db = provisionTenantDb(id);
    const path = join(DATA_DIR, "tenants", `${id}.db`);
    expect(existsSync(path)).toBe(true);

    expect(db.$client.name).toBe(path);
    expect(db.$client.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.$client.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.$client.pragma("busy_timeout", { simple: true })).toBe(5000);
    // A busy workspace keeps its indexes in memory; all files together stay under one ceiling.
    expect(db.$client.pragma("cache_size", { simple: true })).toBe(-PAGE_CACHE_KIB_PER_CONNECTION);
    expect(db.$client.pragma("soft_heap_limit", { simple: true })).toBe(
      SQLITE_HEAP_SOFT_LIMIT_BYTES,
    );
    expect(db.$client.pragma("user_version", { simple: true })).toBe(tenantMigrationCount());
    expect(db.select().from(tenantMeta).all()).toEqual([{ key: "workspace_id", value: id }]);

    // The settings live in the file too, as another process would see them.
    const other = new Database(path, { readonly: true });
    try {
      expect(other.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(other.pragma("user_version", { simple: true })).toBe(tenantMigrationCount());
    } finally {
      other.close();
    }
  });

  it("is harmless when repeated, open or closed", () => {
    const id = newWorkspaceId();
    const first = provisionTenantDb(id);
    first.insert(tenantMeta).values({ key: "note", value: "kept" }).run();

    expect(provisionTenantDb(id)).toBe(first);
    expect(openTenantDbCount()).toBe(1);

    closeAllTenantDbs();
    expect(first.$client.open).toBe(false);
    const again = provisionTenantDb(id);
    expect(again).not.toBe(first);
    expect(again.select().from(tenantMeta).orderBy(tenantMeta.key).all()).toEqual([
      { key: "note", value: "kept" },
      { key: "workspace_id", value: id },
    ]);
    expect(listTenantFiles()).toEqual([id]);
  });

  it("getTenantDb then returns the same handle", () => {
    const id = newWorkspaceId();
    const db = provisionTenantDb(id);
    expect(getTenantDb(id)).toBe(db);
  });
});

describe("getTenantDb", () => {
  it("throws NotFoundError for a valid but unprovisioned id and creates no file", () => {
    provisionTenantDb(newWorkspaceId());
    const before = listing();
    const id = newWorkspaceId();

    expect(() => getTenantDb(id)).toThrow(NotFoundError);
    expect(existsSync(tenantDbPath(id))).toBe(false);
    expect(listing()).toEqual(before);
    expect(openTenantDbCount()).toBe(1);
  });

  it("throws NotFoundError when there is no tenants dir at all", () => {
    const id = newWorkspaceId();
    expect(existsSync(tenantsDir())).toBe(false);
    expect(() => getTenantDb(id)).toThrow(NotFoundError);
    expect(existsSync(tenantsDir())).toBe(false);
  });

  it("reopens a closed workspace lazily", () => {
    const id = newWorkspaceId();
    provisionTenantDb(id).insert(tenantMeta).values({ key: "k", value: "v" }).run();
    closeAllTenantDbs();
    expect(openTenantDbCount()).toBe(0);
    const db = getTenantDb(id);
    expect(db.$client.open).toBe(true);
    expect(db.select().from(tenantMeta).where(eq(tenantMeta.key, "k")).get()).toEqual({
      key: "k",
      value: "v",
    });
  });
});

describe("withTenantDb", () => {
  it("returns fn's result and releases on error", async () => {
    const id = newWorkspaceId();
    provisionTenantDb(id);
    await expect(withTenantDb(id, (db) => db.select().from(tenantMeta).all().length)).resolves.toBe(
      1,
    );
    await expect(
      withTenantDb(id, async () => {
        await Promise.resolve();
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expect(withTenantDb(newWorkspaceId(), () => 1)).rejects.toThrow(NotFoundError);
  });
});

describe("deleteTenantDb", () => {
  it("closes the open handle and removes the file with its WAL and shm", () => {
    const id = newWorkspaceId();
    const db = provisionTenantDb(id);
    db.insert(tenantMeta).values({ key: "contact", value: "data" }).run();
    const path = tenantDbPath(id);
    expect(existsSync(path + "-wal")).toBe(true);
    expect(existsSync(path + "-shm")).toBe(true);

    expect(deleteTenantDb(id)).toBe(true);

    expect(db.$client.open).toBe(false);
    expect(openTenantDbCount()).toBe(0);
    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      expect(existsSync(path + suffix)).toBe(false);
    }
    expect(listTenantFiles()).toEqual([]);
    expect(() => getTenantDb(id)).toThrow(NotFoundError);
  });

  it("removes leftover -wal/-shm/-journal files of a closed workspace", () => {
    const id = newWorkspaceId();
    provisionTenantDb(id);
    closeAllTenantDbs();
    const path = tenantDbPath(id);
    // What a crash leaves behind; SQLite cleans these up itself only on a clean close.
    for (const suffix of ["-wal", "-shm", "-journal"]) writeFileSync(path + suffix, "leftover");

    expect(deleteTenantDb(id)).toBe(true);

    for (const suffix of ["", "-wal", "-shm", "-journal"]) {
      expect(existsSync(path + suffix)).toBe(false);
    }
  });

  it("leaves other workspaces alone and returns false for a missing file", () => {
    const [a, b] = ids(2) as [string, string];
    provisionTenantDb(a);
    const other = provisionTenantDb(b);
    expect(deleteTenantDb(a)).toBe(true);
    expect(deleteTenantDb(a)).toBe(false);
    expect(deleteTenantDb(newWorkspaceId())).toBe(false);
    expect(other.$client.open).toBe(true);
    expect(listTenantFiles()).toEqual([b]);
  });
});

describe("listTenantFiles", () => {
  it("lists valid ids with a .db file, sorted, ignoring anything else", () => {
    const made = ids(3);
    for (const id of [...made].reverse()) provisionTenantDb(id);
    writeFileSync(join(tenantsDir(), "notes.txt"), "x");
    writeFileSync(join(tenantsDir(), "WS_AAAAAAAAAAAAAAAA.db"), "x");
    expect(listTenantFiles()).toEqual(made);
  });
});

describe("forEachTenant", () => {
  type Status = "active" | "suspended" | "deleted";

  function addWorkspaces(statuses: Status[], provision = true): string[] {
    const made = ids(statuses.length);
    getControlDb()
      .insert(workspaces)
      .values(made.map((id, i) => ({ id, slug: id, name: `W ${i}`, status: statuses[i]! })))
      .run();
    if (provision) for (const id of made) provisionTenantDb(id);
    closeAllTenantDbs();
    return made;
  }

  it("visits active and suspended workspaces in id order, each with its own db", async () => {
    const statuses: Status[] = ["active", "suspended", "deleted", "active", "deleted", "suspended"];
    const made = addWorkspaces(statuses);
    const seen: string[] = [];

    const result = await forEachTenant((id, db) => {
      expect(db.select().from(tenantMeta).where(eq(tenantMeta.key, "workspace_id")).get()).toEqual({
        key: "workspace_id",
        value: id,
      });
      seen.push(id);
    });

    const expected = made.filter((_, i) => statuses[i] !== "deleted");
    expect(seen).toEqual(expected);
    expect(result).toEqual({ visited: expected.length, failed: [] });
  });

  it("visits only the statuses asked for", async () => {
    const statuses: Status[] = ["active", "deleted", "suspended", "deleted"];
    const made = addWorkspaces(statuses);
    const seen: string[] = [];
    const result = await forEachTenant((id) => void seen.push(id), { statuses: ["deleted"] });
    expect(seen).toEqual([made[1], made[3]]);
    expect(result.visited).toBe(2);
  });

  it("reports a workspace whose file is missing and still visits the rest", async () => {
    const made = addWorkspaces(["active", "active", "active", "suspended"]);
    const missing = made[1]!;
    expect(deleteTenantDb(missing)).toBe(true);
    const seen: string[] = [];

    const result = await forEachTenant((id) => void seen.push(id));

    expect(seen).toEqual(made.filter((id) => id !== missing));
    expect(result.visited).toBe(3);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.workspaceId).toBe(missing);
    expect(result.failed[0]!.error).toContain("not found");
  });

  it("reports a workspace whose callback throws and goes on", async () => {
    const made = addWorkspaces(["active", "active", "active"]);
    const seen: string[] = [];
    const result = await forEachTenant(async (id) => {
      seen.push(id);
      if (id === made[0]) throw new Error("this one broke");
    });
    expect(seen).toEqual(made);
    expect(result.visited).toBe(2);
    expect(result.failed).toEqual([{ workspaceId: made[0], error: "this one broke" }]);
  });

  it("pages through more workspaces than pageSize", async () => {
    const made = addWorkspaces([
      "active",
      "active",
      "suspended",
      "active",
      "active",
      "active",
      "active",
    ]);
    const seen: string[] = [];
    const result = await forEachTenant((id) => void seen.push(id), { pageSize: 2 });
    expect(seen).toEqual(made);
    expect(result.visited).toBe(7);

    const exact: string[] = [];
    await forEachTenant((id) => void exact.push(id), { pageSize: 7 });
    expect(exact).toEqual(made);
    const one: string[] = [];
    await forEachTenant((id) => void one.push(id), { pageSize: 1 });
    expect(one).toEqual(made);
  });
});

describe("tenant migrations on open", () => {
  it("migrates a file whose schema was rolled back", () => {
    const id = newWorkspaceId();
    provisionTenantDb(id);
    closeAllTenantDbs();

    const raw = new Database(tenantDbPath(id));
    raw.pragma("foreign_keys = OFF");
    const tables = raw
      .prepare(
        // Full-text tables first: dropping one drops its shadow tables with it.
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY sql LIKE 'CREATE VIRTUAL TABLE%' DESC`,
      )
      .pluck()
      .all() as string[];
    for (const table of tables) raw.exec(`DROP TABLE IF EXISTS "${table}"`);
    raw.pragma("user_version = 0");
    raw.close();

    const db = getTenantDb(id);
    expect(db.$client.pragma("user_version", { simple: true })).toBe(tenantMigrationCount());
    expect(db.select().from(tenantMeta).all()).toEqual([]);
    db.insert(tenantMeta).values({ key: "after", value: "migration" }).run();
  });

  it("refuses to open a file from a newer release", () => {
    const id = newWorkspaceId();
    provisionTenantDb(id);
    closeAllTenantDbs();
    const raw = new Database(tenantDbPath(id));
    raw.pragma(`user_version = ${tenantMigrationCount() + 1}`);
    raw.close();

    expect(() => getTenantDb(id)).toThrow(/newer/);
    expect(() => provisionTenantDb(id)).toThrow(/newer/);
    expect(openTenantDbCount()).toBe(0);

    // The file is untouched: still at the newer version.
    const check = new Database(tenantDbPath(id), { readonly: true });
    try {
      expect(check.pragma("user_version", { simple: true })).toBe(tenantMigrationCount() + 1);
    } finally {
      check.close();
    }
  });
});
