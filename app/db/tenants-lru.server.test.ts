import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type * as TenantsModule from "./tenants.server";
import type { TenantDb } from "./tenants.server";

/**
 * The LRU of open tenant handles, with the cap lowered to 3. The env is read once, so the cap
 * is set before the modules are first imported (dynamically, below).
 */
type Tenants = typeof TenantsModule;

let t: Tenants;
let ids: string[];

beforeAll(async () => {
  process.env.MAX_OPEN_TENANT_DBS = "3";
  // vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
  delete process.env.BASE_URL;
  t = await import("./tenants.server");
  const { getEnv } = await import("~/lib/env.server");
  expect(getEnv().MAX_OPEN_TENANT_DBS).toBe(3);
  ids = Array.from({ length: 5 }, () => t.newWorkspaceId()).sort();
  for (const id of ids) t.provisionTenantDb(id);
  // Provisioning went through the LRU too.
  expect(t.openTenantDbCount()).toBe(3);
});

beforeEach(() => {
  t.closeAllTenantDbs();
});

const open = (db: TenantDb) => db.$client.open;

describe("tenant handle LRU", () => {
  it("keeps at most MAX_OPEN_TENANT_DBS open, closing the least recently used", () => {
    const handles = ids.map((id) => t.getTenantDb(id));
    expect(t.openTenantDbCount()).toBe(3);
    expect(handles.map(open)).toEqual([false, false, true, true, true]);
  });

  it("moves a used handle to the front", () => {
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const dbA = t.getTenantDb(a);
    const dbB = t.getTenantDb(b);
    const dbC = t.getTenantDb(c);
    expect(t.getTenantDb(a)).toBe(dbA); // a is now the most recent: order b, c, a

    const dbD = t.getTenantDb(d); // evicts b
    expect(open(dbB)).toBe(false);
    expect([dbA, dbC, dbD].map(open)).toEqual([true, true, true]);

    const dbE = t.getTenantDb(e); // evicts c
    expect(open(dbC)).toBe(false);
    expect([dbA, dbD, dbE].map(open)).toEqual([true, true, true]);
    expect(t.openTenantDbCount()).toBe(3);

    // An evicted workspace comes back as a fresh handle.
    const reopened = t.getTenantDb(b);
    expect(reopened).not.toBe(dbB);
    expect(open(reopened)).toBe(true);
    expect(open(dbA)).toBe(false);
  });

  it("does not close a handle a scope still uses, even over the cap", () => {
    const scope = t.createTenantScope();
    const inScope = scope.run(() => ids.map((id) => t.getTenantDb(id)));

    expect(t.openTenantDbCount()).toBe(5);
    expect(inScope.map(open)).toEqual([true, true, true, true, true]);

    scope.release();

    expect(t.openTenantDbCount()).toBe(3);
    expect(inScope.map(open)).toEqual([false, false, true, true, true]);
  });

  it("skips a leased least-recently-used handle and evicts the next one", () => {
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const scope = t.createTenantScope();
    const dbA = scope.run(() => t.getTenantDb(a));
    const dbB = t.getTenantDb(b);
    const dbC = t.getTenantDb(c);
    t.getTenantDb(d);
    t.getTenantDb(e);

    expect(open(dbA)).toBe(true);
    expect([dbB, dbC].map(open)).toEqual([false, false]);
    expect(t.openTenantDbCount()).toBe(3);

    scope.release();
    // Within the cap after release: nothing more to close.
    expect(open(dbA)).toBe(true);
    expect(t.openTenantDbCount()).toBe(3);
  });

  it("keeps the lease across awaits inside the scope", async () => {
    const scope = t.createTenantScope();
    const first = await scope.run(async () => {
      const db = t.getTenantDb(ids[0]!);
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const id of ids.slice(1)) t.getTenantDb(id);
      return db;
    });
    expect(open(first)).toBe(true);
    expect(t.openTenantDbCount()).toBe(5);
    scope.release();
    expect(open(first)).toBe(false);
    expect(t.openTenantDbCount()).toBe(3);
  });

  it("release is idempotent: a second release does not drop another scope's lease", () => {
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const first = t.createTenantScope();
    first.run(() => t.getTenantDb(a));
    first.release();
    first.release();

    const second = t.createTenantScope();
    const dbA = second.run(() => t.getTenantDb(a));
    for (const id of [b, c, d, e]) t.getTenantDb(id);

    expect(open(dbA)).toBe(true);
    second.release();
    t.getTenantDb(b); // a is now the least recently used and unleased
    expect(open(dbA)).toBe(false);
    expect(t.openTenantDbCount()).toBe(3);
  });

  it("withTenantDb holds its handles for the call and releases them after", async () => {
    let inside: TenantDb[] = [];
    const count = await t.withTenantDb(ids[0]!, (db) => {
      inside = [db, ...ids.slice(1).map((id) => t.getTenantDb(id))];
      return t.openTenantDbCount();
    });
    expect(count).toBe(5);
    expect(t.openTenantDbCount()).toBe(3);
    expect(inside.map(open)).toEqual([false, false, true, true, true]);
  });

  it("withTenantDb releases on error too", async () => {
    let inside: TenantDb[] = [];
    await expect(
      t.withTenantDb(ids[0]!, async (db) => {
        inside = [db, ...ids.slice(1).map((id) => t.getTenantDb(id))];
        await Promise.resolve();
        throw new Error("failed inside");
      }),
    ).rejects.toThrow("failed inside");

    expect(t.openTenantDbCount()).toBe(3);
    expect(inside.map(open)).toEqual([false, false, true, true, true]);
  });

  it("forEachTenant walks more workspaces than the cap and leaves at most the cap open", async () => {
    const { getControlDb } = await import("./control.server");
    const { workspaces } = await import("./schema/control");
    getControlDb()
      .insert(workspaces)
      .values(ids.map((id) => ({ id, slug: id, name: id })))
      .onConflictDoNothing()
      .run();
    let maxOpen = 0;
    const result = await t.forEachTenant(() => {
      maxOpen = Math.max(maxOpen, t.openTenantDbCount());
    });
    expect(result).toEqual({ visited: 5, failed: [] });
    expect(maxOpen).toBe(3);
    expect(t.openTenantDbCount()).toBe(3);
  });

  it("closeAllTenantDbs closes every handle", () => {
    const handles = ids.slice(0, 3).map((id) => t.getTenantDb(id));
    t.closeAllTenantDbs();
    expect(t.openTenantDbCount()).toBe(0);
    expect(handles.map(open)).toEqual([false, false, false]);
  });
});
