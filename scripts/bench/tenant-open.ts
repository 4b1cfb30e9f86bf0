/**
 * tenant-open: create and migrate 1,000 tenant files, then reopen them through the LRU.
 * The limit is the same SQL on raw better-sqlite3 (open, pragmas, migration statements,
 * close) in the same run, so the ratio shows what our layer costs on top of SQLite itself.
 */
import Database from "better-sqlite3";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { perSecond, report } from "./report";

const TENANTS = Number(process.env.BENCH_TENANTS ?? 1000);
const root = mkdtempSync(join(tmpdir(), "engage-bench-tenant-open-"));
process.env.DATA_DIR = join(root, "data");
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";

const { newWorkspaceId, provisionTenantDb, getTenantDb, closeAllTenantDbs, createTenantScope } =
  await import("~/db/tenants.server");
const { migrationsFor, configureConnection } = await import("~/db/migrate.server");
const { getEnv } = await import("~/lib/env.server");

const ids = Array.from({ length: TENANTS }, () => newWorkspaceId());
const shuffled = [...ids].sort(() => Math.random() - 0.5);
const statements = migrationsFor("tenant").flatMap((m) => m.sql.filter((s) => s.trim()));
const version = migrationsFor("tenant").length;
const rawDir = join(root, "raw");
mkdirSync(rawDir);

// Limit: what the same work costs on raw better-sqlite3.
const rawCreate = perSecond(TENANTS, () => {
  for (const id of ids) {
    const db = new Database(join(rawDir, `${id}.db`));
    configureConnection(db);
    db.transaction(() => {
      for (const sql of statements) db.exec(sql);
      db.pragma(`user_version = ${version}`);
      db.prepare("INSERT INTO tenant_meta (key, value) VALUES ('workspace_id', ?)").run(id);
    }).immediate();
    db.close();
  }
});
const rawReopen = perSecond(TENANTS, () => {
  for (const id of shuffled) {
    const db = new Database(join(rawDir, `${id}.db`), { fileMustExist: true });
    configureConnection(db);
    db.pragma("user_version", { simple: true });
    db.close();
  }
});

const ours = perSecond(TENANTS, () => {
  for (const id of ids) provisionTenantDb(id);
});
closeAllTenantDbs();
// Each open happens inside a request-like scope, as the server does it.
const reopen = perSecond(TENANTS, () => {
  for (const id of shuffled) {
    const scope = createTenantScope();
    scope.run(() => getTenantDb(id));
    scope.release();
  }
});
// Hits: the most recently used handles, already open.
const hot = shuffled.slice(-Math.min(getEnv().MAX_OPEN_TENANT_DBS, TENANTS));
const hits = perSecond(hot.length * 100, () => {
  for (let i = 0; i < 100; i++) for (const id of hot) getTenantDb(id);
});
const rawHits = perSecond(hot.length * 100, () => {
  const map = new Map(hot.map((id) => [id, id]));
  for (let i = 0; i < 100; i++) for (const id of hot) map.get(id);
});

const common = { bench: "tenant-open", tenants: TENANTS, lru_cap: getEnv().MAX_OPEN_TENANT_DBS };
report({
  ...common,
  scenario: "create-and-migrate",
  seconds: ours.seconds,
  per_s: ours.perS,
  limit_per_s: rawCreate.perS,
});
report({
  ...common,
  scenario: "reopen-through-lru",
  seconds: reopen.seconds,
  per_s: reopen.perS,
  limit_per_s: rawReopen.perS,
});
report({
  ...common,
  scenario: "lru-hit",
  seconds: hits.seconds,
  per_s: hits.perS,
  limit_per_s: rawHits.perS,
});

closeAllTenantDbs();
rmSync(root, { recursive: true, force: true });
