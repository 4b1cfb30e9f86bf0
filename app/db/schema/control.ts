import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The control database: everything that is not one workspace's own data.
 * Times are stored as integer milliseconds since the epoch.
 */

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

/** Registry of workspaces; each owns one SQLite file under DATA_DIR/tenants. */
export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  status: text("status", { enum: ["active", "suspended", "deleted"] })
    .notNull()
    .default("active"),
  createdAt: createdAt(),
  deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
});

/**
 * Append-only audit trail. Each row carries the hash of the previous row, so an edit or a
 * deletion in the middle breaks the chain (see domain/audit). Triggers in the migration refuse
 * UPDATE, and DELETE of rows younger than the 7-year retention.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    actorType: text("actor_type", {
      enum: ["user", "admin", "system", "api_key", "cli"],
    }).notNull(),
    actorId: text("actor_id"),
    workspaceId: text("workspace_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: text("details"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_log_workspace_idx").on(t.workspaceId, t.id),
    index("audit_log_actor_idx").on(t.actorId, t.id),
    index("audit_log_at_idx").on(t.at),
  ],
);

/** One row per job run, whatever started it. */
export const jobRuns = sqliteTable(
  "job_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    trigger: text("trigger", { enum: ["schedule", "cli"] }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    outcome: text("outcome", { enum: ["running", "ok", "error", "skipped"] }).notNull(),
    counts: text("counts"),
    error: text("error"),
  },
  (t) => [index("job_runs_name_idx").on(t.name, t.startedAt)],
);

/** Lease per job so that no two processes (server, CLI) run the same job at once. */
export const jobLocks = sqliteTable("job_locks", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  lockedUntil: integer("locked_until", { mode: "timestamp_ms" }).notNull(),
});
