import type Database from "better-sqlite3";
import { readMigrationFiles, type MigrationMeta } from "drizzle-orm/migrator";
import { join } from "node:path";
import { APP_ROOT } from "~/lib/app-root.server";

export type SchemaKind = "control" | "tenant";

const cache = new Map<SchemaKind, MigrationMeta[]>();

/** drizzle-kit's generated migrations, read from disk once per process. */
export function migrationsFor(kind: SchemaKind): MigrationMeta[] {
  let list = cache.get(kind);
  if (!list) {
    list = readMigrationFiles({ migrationsFolder: join(APP_ROOT, "drizzle", kind) });
    cache.set(kind, list);
  }
  return list;
}

/**
 * Applies pending migrations. The count of applied migrations lives in PRAGMA user_version, so
 * opening an up-to-date tenant file costs one pragma read instead of a table scan; this matters
 * when a job walks thousands of tenant files. BEGIN IMMEDIATE serialises two processes that
 * open the same file at once: the second one sees the new version and applies nothing.
 */
export function migrateDatabase(db: Database.Database, kind: SchemaKind): number {
  const migrations = migrationsFor(kind);
  const current = () => db.pragma("user_version", { simple: true }) as number;
  if (current() === migrations.length) return 0;
  return db
    .transaction(() => {
      const from = current();
      if (from > migrations.length) {
        throw new Error(
          `The ${kind} database is at schema version ${from}, newer than this release ` +
            `(${migrations.length}). Upgrade the application before opening it.`,
        );
      }
      for (const migration of migrations.slice(from)) {
        for (const statement of migration.sql) {
          if (statement.trim()) db.exec(statement);
        }
      }
      db.pragma(`user_version = ${migrations.length}`);
      return migrations.length - from;
    })
    .immediate();
}

/**
 * Page cache: a connection may keep up to 32 MiB of its file's pages, so a busy workspace's
 * indexes stay in memory; all connections together stop growing at 256 MiB (SQLite's soft heap
 * limit is process-wide), after which each recycles its own pages. A small workspace only ever
 * uses what its file holds. Decision: docs/decisions/0019-sqlite-page-cache.md.
 */
export const PAGE_CACHE_KIB_PER_CONNECTION = 32 * 1024;
export const SQLITE_HEAP_SOFT_LIMIT_BYTES = 256 * 1024 * 1024;

/** Connection settings shared by the control db and every tenant file. */
export function configureConnection(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  // Deleted rows are overwritten, not left in free pages: an erased person leaves no trace.
  db.pragma("secure_delete = ON");
  db.pragma(`cache_size = -${PAGE_CACHE_KIB_PER_CONNECTION}`);
  db.pragma(`soft_heap_limit = ${SQLITE_HEAP_SOFT_LIMIT_BYTES}`);
}
