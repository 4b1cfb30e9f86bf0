import { and, desc, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import { createHmac } from "node:crypto";
import { existsSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { contactExports, lists, segments } from "~/db/schema/tenant";
import { withTenantDb } from "~/db/tenants.server";
import { getEnv } from "~/lib/env.server";
import { AppError, NotFoundError, ValidationError } from "~/lib/errors";
import { getSecrets } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";
import { newId, safeEqual, sha256Hex } from "~/lib/tokens";
import { singleton } from "~/lib/singleton.server";
import { runWorker } from "~/lib/worker.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext, WorkspaceContext } from "../context";
import { writeContactsCsv } from "./contact-export-writer.server";
import { findSegmentByName, getSegment, prepareSavedSegment } from "../segments/segments.server";
import { type CompiledWhere } from "../segments/compile.server";

/**
 * Contact exports: all contacts, a list or a segment as CSV, written by a worker thread to
 * DATA_DIR/exports/<workspaceId>/<id>.csv and downloadable for 24 hours through a signed link
 * that also requires a signed-in member with contacts:read. Each export is audited with its
 * scope and row count (never personal data); each download is audited too.
 */

export const EXPORT_LINK_HOURS = 24;
const HOUR_MS = 3_600_000;
/** Exports run one at a time per process: one core for the web, one for the worker. */
const MAX_RUNNING = 1;
export const WORKER_MODULE = "app/workers/contact-export.worker.ts";

export type ExportScope =
  { kind: "all" } | { kind: "list"; listId: number } | { kind: "segment"; segmentId: number };

export type ExportStatus = (typeof contactExports.$inferSelect)["status"];

/** The link has expired (410): the person should start a new export. */
export class ExportExpiredError extends AppError {
  constructor() {
    super("This download link has expired. Start a new export.", 410, "export_expired");
  }
}

export function scopeToText(scope: ExportScope): string {
  switch (scope.kind) {
    case "all":
      return "all";
    case "list":
      return `list:${scope.listId}`;
    case "segment":
      return `segment:${scope.segmentId}`;
  }
}

/** "all", "list:<id>" or "segment:<id>"; anything else is a validation error. */
export function parseExportScope(text: string | null | undefined): ExportScope {
  const value = (text ?? "").trim();
  if (value === "all") return { kind: "all" };
  const m = /^(list|segment):([1-9]\d{0,14})$/.exec(value);
  if (!m) {
    const message = "Choose what to export: all contacts, a list or a segment.";
    throw new ValidationError(message, { scope: [message] });
  }
  const id = Number(m[2]);
  return m[1] === "list" ? { kind: "list", listId: id } : { kind: "segment", segmentId: id };
}

/** The WHERE over `contacts c` for a scope; a missing list or segment is a clear 400. */
export function scopeWhere(ctx: WorkspaceContext, scope: ExportScope): CompiledWhere {
  switch (scope.kind) {
    case "all":
      return { sql: "1", params: [] };
    case "list": {
      const list = ctx.db
        .select({ id: lists.id })
        .from(lists)
        .where(eq(lists.id, scope.listId))
        .get();
      if (!list) {
        const message = "That list no longer exists. Choose another.";
        throw new ValidationError(message, { scope: [message] });
      }
      return {
        sql: "EXISTS (SELECT 1 FROM list_members lm WHERE lm.list_id = ? AND lm.contact_id = c.id)",
        params: [scope.listId],
      };
    }
    case "segment": {
      const row = ctx.db
        .select({ id: segments.id })
        .from(segments)
        .where(eq(segments.id, scope.segmentId))
        .get();
      if (!row) {
        const message = "That segment no longer exists. Choose another.";
        throw new ValidationError(message, { scope: [message] });
      }
      return prepareSavedSegment(ctx, getSegment(ctx, scope.segmentId)).where;
    }
  }
}

/** Resolves the CLI's --list NAME / --segment NAME (case-insensitive) to a scope. */
export function scopeByName(
  ctx: WorkspaceContext,
  names: { list?: string; segment?: string },
): ExportScope {
  if (names.list !== undefined && names.segment !== undefined) {
    throw new ValidationError("Export a list or a segment, not both.");
  }
  if (names.list !== undefined) {
    const row = ctx.db
      .select({ id: lists.id })
      .from(lists)
      .where(sql`lower(${lists.name}) = lower(${names.list.trim()})`)
      .get();
    if (!row) throw new NotFoundError(`List “${names.list}”`);
    return { kind: "list", listId: row.id };
  }
  if (names.segment !== undefined) {
    const segment = findSegmentByName(ctx, names.segment);
    if (!segment) throw new NotFoundError(`Segment “${names.segment}”`);
    return { kind: "segment", segmentId: segment.id };
  }
  return { kind: "all" };
}

// ---------------------------------------------------------------------------------------------
// Files and links

export function exportsDir(workspaceId: string): string {
  return join(getEnv().DATA_DIR, "exports", workspaceId);
}

/** An export's file path (stored relative to DATA_DIR), resolved and kept inside DATA_DIR. */
function absoluteFile(stored: string): string {
  const root = resolve(getEnv().DATA_DIR);
  const full = resolve(root, stored);
  const rel = relative(root, full);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new NotFoundError("Export file");
  return full;
}

/**
 * The download token for an export: an HMAC of the workspace and export ids under the
 * instance's session secret. Only its SHA-256 is stored; the page can show the link again
 * because it can derive it, and nobody can derive it without the secret.
 */
export function exportToken(workspaceId: string, exportId: string): string {
  return createHmac("sha256", getSecrets().sessionSecret)
    .update(`contact-export\n${workspaceId}\n${exportId}`)
    .digest("base64url");
}

// ---------------------------------------------------------------------------------------------
// Running in the worker

interface Job {
  workspaceId: string;
  exportId: string;
  where: CompiledWhere;
  file: string;
  /** Who started it, for the audit entry written when it completes. */
  audit: SystemContext;
  scopeText: string;
  resolve: (value: ContactExport) => void;
}

interface Runner {
  queue: Job[];
  running: number;
  /** "<workspaceId>:<exportId>" of every export queued or running in this process. */
  active: Set<string>;
  startedAt: number;
}

const runner = singleton<Runner>("contact-export-runner", () => ({
  queue: [],
  running: 0,
  active: new Set(),
  startedAt: Date.now() - Math.round(process.uptime() * 1000),
}));

export interface ContactExportWorkerData {
  workspaceId: string;
  exportId: string;
  file: string;
  where: CompiledWhere;
}

/** Records the outcome. The request that started the export is gone: the handle is taken afresh. */
async function finish(job: Job, outcome: { rows: number } | { error: string }) {
  const now = job.audit.now();
  return withTenantDb(job.workspaceId, (db) => {
    const update =
      "rows" in outcome
        ? {
            status: "completed" as const,
            rows: outcome.rows,
            finishedAt: now,
            expiresAt: new Date(now.getTime() + EXPORT_LINK_HOURS * HOUR_MS),
          }
        : { status: "failed" as const, error: outcome.error, finishedAt: now };
    const row = db
      .update(contactExports)
      .set(update)
      .where(eq(contactExports.id, job.exportId))
      .returning()
      .get();
    if (!row) throw new NotFoundError("Export", job.exportId);
    if ("rows" in outcome) {
      recordAudit(job.audit, {
        action: "contacts.exported",
        workspaceId: job.workspaceId,
        target: { type: "contact_export", id: job.exportId },
        details: { scope: job.scopeText, rows: outcome.rows, format: "csv" },
      });
    }
    return toExport(row, now);
  });
}

async function runJob(job: Job): Promise<void> {
  let outcome: { rows: number } | { error: string };
  try {
    await withTenantDb(job.workspaceId, (db) =>
      db
        .update(contactExports)
        .set({ status: "running" })
        .where(eq(contactExports.id, job.exportId))
        .run(),
    );
    const result = await runWorker<{ rows: number }>(WORKER_MODULE, {
      name: `contact-export ${job.exportId}`,
      workerData: {
        workspaceId: job.workspaceId,
        exportId: job.exportId,
        file: job.file,
        where: job.where,
      } satisfies ContactExportWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    outcome = { rows: result.rows };
  } catch (error) {
    logger.error(
      { err: error, workspaceId: job.workspaceId, exportId: job.exportId },
      "contact export failed",
    );
    rmSync(job.file, { force: true });
    rmSync(`${job.file}.part`, { force: true });
    outcome = { error: "The export could not be written. Try again, or contact support." };
  }
  try {
    job.resolve(await finish(job, outcome));
  } catch (error) {
    logger.error({ err: error, exportId: job.exportId }, "recording a contact export failed");
  }
}

function pump(): void {
  while (runner.running < MAX_RUNNING && runner.queue.length > 0) {
    const job = runner.queue.shift()!;
    runner.running += 1;
    void runJob(job).finally(() => {
      runner.running -= 1;
      runner.active.delete(`${job.workspaceId}:${job.exportId}`);
      pump();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// API

export interface ContactExport {
  id: string;
  status: ExportStatus;
  scope: string;
  rows: number;
  error: string | null;
  createdBy: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  expiresAt: Date;
  /** Completed, not expired, file present: the link works. */
  downloadable: boolean;
  expired: boolean;
}

function toExport(row: typeof contactExports.$inferSelect, now: Date): ContactExport {
  const expired = row.status === "completed" && row.expiresAt.getTime() <= now.getTime();
  return {
    id: row.id,
    status: row.status,
    scope: row.scope,
    rows: row.rows,
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    expiresAt: row.expiresAt,
    expired,
    downloadable:
      row.status === "completed" &&
      !expired &&
      row.filePath !== null &&
      existsSync(absoluteFile(row.filePath)),
  };
}

/**
 * Starts an export of `scope` ("all", "list:<id>", "segment:<id>"). The segment is compiled
 * now, so later edits don't change a running export. Returns at once with the export's id;
 * `done` settles when the worker has finished (the page polls instead).
 */
export function startContactExport(
  ctx: WorkspaceContext,
  scopeText: string,
): { id: string; done: Promise<ContactExport> } {
  const scope = parseExportScope(scopeText);
  return startContactExportWhere(ctx, scopeToText(scope), scopeWhere(ctx, scope));
}

/**
 * Starts an export of the contacts matching `where`, recorded as `scopeText` ("selected" and
 * "matching" for the contacts list's ticked rows and search).
 */
export function startContactExportWhere(
  ctx: WorkspaceContext,
  scopeText: string,
  where: CompiledWhere,
): { id: string; done: Promise<ContactExport> } {
  const id = newId("exp");
  const stored = join("exports", ctx.workspaceId, `${id}.csv`);
  const now = ctx.now();
  ctx.db
    .insert(contactExports)
    .values({
      id,
      status: "queued",
      scope: scopeText,
      filePath: stored,
      rows: 0,
      tokenHash: sha256Hex(exportToken(ctx.workspaceId, id)),
      // Until it finishes; then 24 hours from the finish.
      expiresAt: new Date(now.getTime() + EXPORT_LINK_HOURS * HOUR_MS),
      createdBy: ctx.actor.id ?? null,
      createdAt: now,
    })
    .run();
  const done = new Promise<ContactExport>((resolveDone) => {
    runner.active.add(`${ctx.workspaceId}:${id}`);
    runner.queue.push({
      workspaceId: ctx.workspaceId,
      exportId: id,
      where,
      file: absoluteFile(stored),
      audit: { actor: ctx.actor, request: ctx.request, now: ctx.now },
      scopeText,
      resolve: resolveDone,
    });
  });
  pump();
  return { id, done };
}

/**
 * Exports still marked queued or running that no worker in this process knows about were cut
 * short by a restart: they are marked failed, so the page doesn't wait for them forever.
 */
function failInterrupted(ctx: WorkspaceContext): void {
  const pending = ctx.db
    .select({ id: contactExports.id, createdAt: contactExports.createdAt })
    .from(contactExports)
    .where(inArray(contactExports.status, ["queued", "running"]))
    .all();
  for (const row of pending) {
    if (runner.active.has(`${ctx.workspaceId}:${row.id}`)) continue;
    if (row.createdAt.getTime() >= runner.startedAt) continue;
    ctx.db
      .update(contactExports)
      .set({
        status: "failed",
        error: "The export was interrupted by a restart. Start it again.",
        finishedAt: ctx.now(),
      })
      .where(eq(contactExports.id, row.id))
      .run();
    rmSync(join(exportsDir(ctx.workspaceId), `${row.id}.csv.part`), { force: true });
  }
}

/** Deletes the files of expired exports (the rows stay, as history without personal data). */
export function purgeExpiredContactExports(ctx: WorkspaceContext): number {
  const expired = ctx.db
    .select({ id: contactExports.id, filePath: contactExports.filePath })
    .from(contactExports)
    .where(and(isNotNull(contactExports.filePath), lte(contactExports.expiresAt, ctx.now())))
    .all();
  let purged = 0;
  for (const row of expired) {
    if (runner.active.has(`${ctx.workspaceId}:${row.id}`)) continue;
    rmSync(absoluteFile(row.filePath!), { force: true });
    ctx.db
      .update(contactExports)
      .set({ filePath: null })
      .where(eq(contactExports.id, row.id))
      .run();
    purged += 1;
  }
  return purged;
}

/** The newest exports, for the export page; tidies interrupted and expired ones first. */
export function listContactExports(ctx: WorkspaceContext, limit = 20): ContactExport[] {
  failInterrupted(ctx);
  purgeExpiredContactExports(ctx);
  const now = ctx.now();
  return ctx.db
    .select()
    .from(contactExports)
    .orderBy(desc(contactExports.createdAt), desc(contactExports.id))
    .limit(Math.min(Math.max(limit, 1), 100))
    .all()
    .map((row) => toExport(row, now));
}

export function getContactExport(ctx: WorkspaceContext, id: string): ContactExport {
  const row = ctx.db.select().from(contactExports).where(eq(contactExports.id, id)).get();
  if (!row) throw new NotFoundError("Export");
  return toExport(row, ctx.now());
}

export interface ExportDownload {
  path: string;
  bytes: number;
  rows: number;
  createdAt: Date;
}

/**
 * Checks a download: the export must belong to this workspace (it is read from this
 * workspace's own file), the token must be its token, it must be finished, and the link must
 * not have expired (410). A wrong token looks exactly like a missing export (404). The
 * download is audited.
 */
export function openContactExportDownload(
  ctx: WorkspaceContext,
  exportId: string,
  token: string,
): ExportDownload {
  const row = /^exp_[0-9a-z]{16}$/.test(exportId)
    ? ctx.db.select().from(contactExports).where(eq(contactExports.id, exportId)).get()
    : undefined;
  if (!row || !token || !safeEqual(sha256Hex(token), row.tokenHash)) {
    throw new NotFoundError("Export");
  }
  if (row.status !== "completed") throw new NotFoundError("Finished export");
  if (row.expiresAt.getTime() <= ctx.now().getTime() || !row.filePath) {
    throw new ExportExpiredError();
  }
  const path = absoluteFile(row.filePath);
  if (!existsSync(path)) throw new ExportExpiredError();
  recordAudit(ctx, {
    action: "contacts.export_downloaded",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_export", id: row.id },
    details: { scope: row.scope, rows: row.rows },
  });
  return { path, bytes: statSync(path).size, rows: row.rows, createdAt: row.createdAt };
}

/**
 * The CLI's export: writes straight to `outPath` in this process (there is no web to keep
 * responsive) and audits it like any other export.
 */
export function exportContactsToFile(
  ctx: WorkspaceContext,
  scope: ExportScope,
  outPath: string,
): { rows: number; file: string } {
  const where = scopeWhere(ctx, scope);
  const file = resolve(outPath);
  const { rows } = writeContactsCsv(ctx.db, where, file);
  recordAudit(ctx, {
    action: "contacts.exported",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: { scope: scopeToText(scope), rows, format: "csv" },
  });
  return { rows, file };
}

/** For tests and shutdown: resolves when no export is queued or running in this process. */
export async function waitForContactExports(): Promise<void> {
  while (runner.running > 0 || runner.queue.length > 0) {
    await new Promise((r) => setTimeout(r, 20));
  }
}
