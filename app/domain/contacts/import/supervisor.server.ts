import { and, desc, eq } from "drizzle-orm";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MessageChannel, type Worker } from "node:worker_threads";
import { controlDbPath } from "~/db/control.server";
import { contactImports } from "~/db/schema/tenant";
import { isWorkspaceId, tenantDbPath } from "~/db/tenants.server";
import { getEnv } from "~/lib/env.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { getSubjectIndexKey } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";
import { singleton } from "~/lib/singleton.server";
import { startWorker } from "~/lib/worker.server";
import { recordAudit } from "../../audit/audit.server";
import type { Actor, RequestInfo, WorkspaceContext } from "../../context";
import { listAttributeDefinitions } from "../attributes.server";
import { parseCsvFormat, type ImportField } from "./csv-format.server";
import {
  DEFAULT_TUNING,
  type ImportTuning,
  type ImportWorkerData,
  type MainToWriter,
  type WriterReport,
} from "./threads.server";
import { parseImportOptions } from "./record-batches.server";
import type { ImportCounts } from "./record-writer.server";
import { suppressionKey } from "../suppression-hash.server";
import {
  type ImportStatus,
  type StoredImportOptions,
  type ImportSummary,
  type ImportProgress,
  inTenant,
  uploadsDir,
  absolutePath,
  lockPath,
  toSummary,
  findRow,
} from "./imports.server";

/**
 * CSV contact imports are three steps: the upload (uploads.server.ts), the column mapping and
 * options (mapping.server.ts), then the run, supervised here: two worker threads (parse-thread
 * and write-thread, talking as threads.server.ts describes) with progress kept in the
 * workspace's own database, so it survives a page reload and, after a crash, the run resumes
 * where its last commit left it. At most one import runs per process at a time (two cores: the
 * import takes both); others wait as "queued".
 */

const ACTIVE: readonly ImportStatus[] = ["queued", "running", "cancelling"];
const FINISHED: readonly ImportStatus[] = ["cancelled", "completed", "failed"];
const MAX_CONCURRENT = 1;
/** An import interrupted this many times in a row (crash loop) is marked failed. */
const MAX_RESUMES = 3;
const WORKER = "app/workers/contact-import.worker.ts";

export function listImports(ctx: WorkspaceContext, options: { limit?: number } = {}) {
  const limit = Math.min(Math.max(options.limit ?? 20, 1), 100);
  return ctx.db
    .select()
    .from(contactImports)
    .orderBy(desc(contactImports.createdAt))
    .limit(limit)
    .all()
    .map((row) => withLive(ctx.workspaceId, toSummary(row)));
}
// ---------------------------------------------------------------------------------------------
// Running

interface Job {
  workspaceId: string;
  importId: string;
  actor: Actor;
  request?: RequestInfo;
  resumes: number;
}

interface Run {
  job: Job;
  writer: Worker | null;
  parser: Worker | null;
  live: ImportCounts | null;
  startedAt: number;
  startRows: number;
  startBytes: number;
  cancelling: boolean;
  outcome: Extract<WriterReport, { type: "done" }> | null;
}

interface Runner {
  /** Set on shutdown: runs end without an outcome and resume at the next start. */
  stopping: boolean;
  queue: Job[];
  running: Map<string, Run>;
  waiters: Map<string, ((summary: ImportSummary) => void)[]>;
  tuning: ImportTuning;
}

const runner = singleton<Runner>("contact-import-runner", () => ({
  stopping: false,
  queue: [],
  running: new Map(),
  waiters: new Map(),
  tuning: { ...DEFAULT_TUNING },
}));

/** For the benchmark and tests: transaction sizes, batch sizes, thread priority. */
export function setImportTuning(tuning: Partial<ImportTuning>): void {
  runner.tuning = { ...runner.tuning, ...tuning };
}

function withLive(workspaceId: string, summary: ImportSummary): ImportSummary {
  const run = runner.running.get(summary.id);
  if (!run || run.job.workspaceId !== workspaceId) return summary;
  return {
    ...summary,
    status: run.cancelling && summary.status === "running" ? "cancelling" : summary.status,
    counts: run.live && run.live.rowsDone >= summary.counts.rowsDone ? run.live : summary.counts,
  };
}

/** Starts a mapped import: it runs as soon as no other import runs in this process. */
export function startImport(ctx: WorkspaceContext, id: string): ImportSummary {
  const row = findRow(ctx.db, id);
  if (row.status !== "uploaded") {
    throw new ValidationError("This import has already been started.");
  }
  if (!row.mapping || !row.options) {
    throw new ValidationError("Choose the columns and options before starting the import.");
  }
  const queued = ctx.db
    .update(contactImports)
    .set({ status: "queued" })
    .where(and(eq(contactImports.id, id), eq(contactImports.status, "uploaded")))
    .returning()
    .get();
  if (!queued) throw new ValidationError("This import has already been started.");
  runner.queue.push({
    workspaceId: ctx.workspaceId,
    importId: id,
    actor: ctx.actor,
    request: ctx.request,
    resumes: 0,
  });
  pump();
  return toSummary(queued);
}

function pump(): void {
  while (!runner.stopping && runner.running.size < MAX_CONCURRENT && runner.queue.length > 0) {
    const job = runner.queue.shift()!;
    try {
      launch(job);
    } catch (error) {
      logger.error({ err: error, importId: job.importId }, "starting a contact import failed");
      finishWithoutWorker(job, "failed", "The import could not be started. Try again.");
    }
  }
}

function writeLock(job: Job): void {
  writeFileSync(
    lockPath(job.workspaceId, job.importId),
    JSON.stringify({ pid: process.pid, resumes: job.resumes }),
    { mode: 0o600 },
  );
}

function readLock(workspaceId: string, importId: string): { pid: number; resumes: number } | null {
  try {
    const value = JSON.parse(readFileSync(lockPath(workspaceId, importId), "utf8")) as {
      pid?: unknown;
      resumes?: unknown;
    };
    return { pid: Number(value.pid) || 0, resumes: Number(value.resumes) || 0 };
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removeFiles(workspaceId: string, importId: string, filePath?: string): void {
  rmSync(filePath ? absolutePath(filePath) : join(uploadsDir(workspaceId), `${importId}.csv`), {
    force: true,
  });
  rmSync(lockPath(workspaceId, importId), { force: true });
}

function launch(job: Job): void {
  const prepared = inTenant(job.workspaceId, (db) => {
    const row = findRow(db, job.importId);
    if (row.status === "cancelling") {
      return { cancelled: true as const };
    }
    if (row.status !== "queued" && row.status !== "running") return null;
    const options = JSON.parse(row.options ?? "null") as StoredImportOptions | null;
    if (!row.mapping || !options) throw new Error("import has no mapping");
    const suppressionsUpTo = db.$client
      .prepare("SELECT coalesce(max(rowid), 0) FROM suppressions")
      .pluck()
      .get() as number;
    const data: Omit<ImportWorkerData, "role" | "port"> = {
      workspaceId: job.workspaceId,
      dbPath: tenantDbPath(job.workspaceId),
      importId: job.importId,
      filePath: absolutePath(row.filePath),
      fileBytes: row.fileBytes,
      format: parseCsvFormat(row.format),
      mapping: JSON.parse(row.mapping) as ImportField[],
      options: parseImportOptions(row.options),
      definitions: listAttributeDefinitions({ db }),
      defaultCountry: options.defaultCountry,
      suppressionKey: suppressionKey(db).toString("base64"),
      controlDbPath: controlDbPath(),
      subjectIndexKey: getSubjectIndexKey().toString("base64"),
      suppressionsUpTo,
      skipRows: row.rowsDone,
      actorType: job.actor.type,
      tuning: runner.tuning,
    };
    if (!existsSync(data.filePath)) {
      return { missing: true as const, row };
    }
    db.update(contactImports)
      .set({ status: "running", startedAt: row.startedAt ?? new Date() })
      .where(eq(contactImports.id, job.importId))
      .run();
    return { data, row };
  });
  if (!prepared) return;
  if ("cancelled" in prepared) {
    finishWithoutWorker(job, "cancelled", null);
    return;
  }
  if ("missing" in prepared) {
    finishWithoutWorker(job, "failed", "The uploaded file is gone, so the import cannot run.");
    return;
  }
  const { data, row } = prepared;
  writeLock(job);

  const run: Run = {
    job,
    writer: null,
    parser: null,
    live: null,
    startedAt: Date.now(),
    startRows: row.rowsDone,
    startBytes: row.bytesDone,
    cancelling: false,
    outcome: null,
  };
  runner.running.set(job.importId, run);

  const { port1, port2 } = new MessageChannel();
  // Bounded heaps keep the process's memory flat. The parser allocates a few short-lived
  // strings per cell: a young generation of 48 MB keeps its garbage collection to about 5% of
  // its time (24 MB: ~1.3 s more CPU per million rows, on threads the writer needs; 8 MB: a
  // fifth); the writer allocates little.
  const writer = startWorker(WORKER, {
    workerData: { ...data, role: "write" },
    name: "import-writer",
    resourceLimits: { maxOldGenerationSizeMb: data.tuning.heapMb, maxYoungGenerationSizeMb: 16 },
  });
  const parser = startWorker(WORKER, {
    workerData: { ...data, role: "parse" },
    name: "import-parser",
    resourceLimits: { maxOldGenerationSizeMb: data.tuning.heapMb, maxYoungGenerationSizeMb: 48 },
  });
  run.writer = writer;
  run.parser = parser;
  // The channel's ends travel as the first message: workerData can't transfer ports here.
  writer.postMessage({ port: port1 }, [port1]);
  parser.postMessage({ port: port2 }, [port2]);

  let parserFailed = false;
  const abortWriter = (message: string) => {
    if (parserFailed || run.outcome) return;
    parserFailed = true;
    writer.postMessage({ type: "abort", message } satisfies MainToWriter);
  };
  parser.on("error", (error) => {
    logger.error({ err: error, importId: job.importId }, "contact import parser crashed");
    abortWriter("The import stopped because the file could not be processed to the end.");
  });
  parser.on("exit", (code) => {
    if (code !== 0)
      abortWriter("The import stopped because the file could not be processed to the end.");
  });
  writer.on("message", (report: WriterReport) => {
    if (report.type === "progress") run.live = report.counts;
    else {
      run.outcome = report;
      run.live = report.counts;
    }
  });
  writer.on("error", (error) => {
    logger.error({ err: error, importId: job.importId }, "contact import writer crashed");
  });
  writer.on("exit", () => {
    void parser.terminate();
    settle(run);
  });
}

/** A run's end: the outcome recorded (or failure if the writer died), files removed, audited. */
function settle(run: Run): void {
  const { job } = run;
  runner.running.delete(job.importId);
  if (runner.stopping) return;
  try {
    const summary = inTenant(job.workspaceId, (db) => {
      let row = findRow(db, job.importId);
      if (!run.outcome || !FINISHED.includes(row.status)) {
        db.update(contactImports)
          .set({
            status: "failed",
            finishedAt: new Date(),
            error:
              row.error ??
              "The import stopped unexpectedly. The rows counted were imported; import the file again to add the rest.",
          })
          .where(eq(contactImports.id, job.importId))
          .run();
        row = findRow(db, job.importId);
      }
      removeFiles(job.workspaceId, job.importId, row.filePath);
      return toSummary(row);
    });
    audit(job, summary);
    resolveWaiters(summary);
  } catch (error) {
    logger.error({ err: error, importId: job.importId }, "finishing a contact import failed");
  }
  pump();
}

function finishWithoutWorker(job: Job, status: "cancelled" | "failed", error: string | null) {
  try {
    const summary = inTenant(job.workspaceId, (db) => {
      const row = db
        .update(contactImports)
        .set({ status, error, finishedAt: new Date() })
        .where(eq(contactImports.id, job.importId))
        .returning()
        .get();
      if (!row) return null;
      removeFiles(job.workspaceId, job.importId, row.filePath);
      return toSummary(row);
    });
    if (summary) {
      audit(job, summary);
      resolveWaiters(summary);
    }
  } catch (err) {
    logger.error({ err, importId: job.importId }, "closing a contact import failed");
  }
}

/** "contacts.imported" with the counts and options: never names, addresses or the file name. */
function audit(job: Job, summary: ImportSummary): void {
  const c = summary.counts;
  recordAudit(
    { actor: job.actor, request: job.request, now: () => new Date() },
    {
      action: "contacts.imported",
      workspaceId: job.workspaceId,
      target: { type: "contact_import", id: summary.id },
      details: {
        status: summary.status,
        rows: c.rowsDone,
        imported: c.imported,
        updated: c.updated,
        skipped: c.skipped,
        suppressed: c.suppressed,
        errors: c.errors,
        warnings: c.warnings,
        bytes: summary.fileBytes,
        onExisting: summary.options?.onExisting ?? null,
        list: summary.options?.listId ?? null,
        tags: summary.options?.tagIds.length ?? 0,
        consentChannels: summary.options?.consent?.channels ?? [],
        resumed: job.resumes > 0,
      },
    },
  );
}

function resolveWaiters(summary: ImportSummary): void {
  const waiting = runner.waiters.get(summary.id) ?? [];
  runner.waiters.delete(summary.id);
  for (const resolve of waiting) resolve(summary);
}

/**
 * Resolves once the import has finished (completed, cancelled or failed), whichever process
 * runs it: the CLI and tests wait with this.
 */
export function waitForImport(workspaceId: string, id: string): Promise<ImportSummary> {
  return new Promise((resolve, reject) => {
    const check = () => inTenant(workspaceId, (db) => toSummary(findRow(db, id)));
    let summary: ImportSummary;
    try {
      summary = check();
    } catch (error) {
      reject(error);
      return;
    }
    if (FINISHED.includes(summary.status) && !runner.running.has(id)) {
      resolve(summary);
      return;
    }
    const queuedHere = runner.queue.some((j) => j.importId === id);
    if (runner.running.has(id) || queuedHere) {
      const list = runner.waiters.get(id) ?? [];
      list.push(resolve);
      runner.waiters.set(id, list);
      return;
    }
    // Run by another process: poll its stored state.
    const timer = setInterval(() => {
      try {
        const now = check();
        if (FINISHED.includes(now.status)) {
          clearInterval(timer);
          resolve(now);
        }
      } catch (error) {
        clearInterval(timer);
        reject(error);
      }
    }, 200);
  });
}

/**
 * Stops an import. Rows already written stay (they are counted in the summary); an import that
 * has not started yet is simply dropped with its file.
 */
export function cancelImport(ctx: WorkspaceContext, id: string): ImportSummary {
  const row = findRow(ctx.db, id);
  if (FINISHED.includes(row.status)) {
    throw new ValidationError("This import has already finished.");
  }
  const run = runner.running.get(id);
  if (run && run.job.workspaceId === ctx.workspaceId) {
    // The writer notices between batches and records "cancelled" itself: no second writer
    // competes for the workspace's write lock here.
    if (!run.cancelling) {
      run.cancelling = true;
      run.writer?.postMessage({ type: "cancel" } satisfies MainToWriter);
    }
    recordCancelRequest(ctx, id);
    return withLive(ctx.workspaceId, toSummary(row));
  }
  const index = runner.queue.findIndex((j) => j.importId === id);
  if (row.status === "uploaded" || index >= 0 || row.status === "queued") {
    if (index >= 0) runner.queue.splice(index, 1);
    const done = ctx.db
      .update(contactImports)
      .set({ status: "cancelled", finishedAt: ctx.now() })
      .where(eq(contactImports.id, id))
      .returning()
      .get()!;
    removeFiles(ctx.workspaceId, id, done.filePath);
    recordCancelRequest(ctx, id);
    const summary = toSummary(done);
    if (row.status !== "uploaded") {
      audit(
        {
          workspaceId: ctx.workspaceId,
          importId: id,
          actor: ctx.actor,
          request: ctx.request,
          resumes: 0,
        },
        summary,
      );
    }
    resolveWaiters(summary);
    return summary;
  }
  // Running in another process (the CLI): it reads the status between batches.
  const updated = ctx.db
    .update(contactImports)
    .set({ status: "cancelling" })
    .where(and(eq(contactImports.id, id), eq(contactImports.status, "running")))
    .returning()
    .get();
  recordCancelRequest(ctx, id);
  return toSummary(updated ?? row);
}

function recordCancelRequest(ctx: WorkspaceContext, id: string): void {
  recordAudit(ctx, {
    action: "contacts.import_cancelled",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_import", id },
  });
}

/** Stored state plus this process's live counts, with the rate and the time left. */
export function getImportProgress(ctx: WorkspaceContext, id: string): ImportProgress {
  const summary = withLive(ctx.workspaceId, toSummary(findRow(ctx.db, id)));
  const run = runner.running.get(id);
  const c = summary.counts;
  const finished = FINISHED.includes(summary.status);
  const percent = finished
    ? summary.status === "completed"
      ? 100
      : Math.min(100, (100 * c.bytesDone) / Math.max(1, summary.fileBytes))
    : Math.min(99, (100 * c.bytesDone) / Math.max(1, summary.fileBytes));
  let rowsPerSecond: number | null = null;
  let etaSeconds: number | null = null;
  const now = ctx.now().getTime();
  if (finished && summary.startedAt && summary.finishedAt) {
    const seconds = (summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000;
    rowsPerSecond = seconds > 0 ? Math.round(c.rowsDone / seconds) : null;
  } else if (summary.status === "running" || summary.status === "cancelling") {
    const since = run ? run.startedAt : summary.startedAt?.getTime();
    const rows = c.rowsDone - (run ? run.startRows : 0);
    const bytes = c.bytesDone - (run ? run.startBytes : 0);
    const seconds = since ? (now - since) / 1000 : 0;
    if (seconds >= 1 && rows > 0) {
      rowsPerSecond = Math.round(rows / seconds);
      const bytesPerSecond = bytes / seconds;
      etaSeconds =
        bytesPerSecond > 0
          ? Math.max(0, Math.round((summary.fileBytes - c.bytesDone) / bytesPerSecond))
          : null;
    }
  }
  return {
    ...summary,
    percent: Math.round(percent * 10) / 10,
    rowsPerSecond,
    etaSeconds,
    live: Boolean(run),
  };
}
// ---------------------------------------------------------------------------------------------
// Startup recovery

export interface RecoveryReport {
  resumed: number;
  cancelled: number;
  failed: number;
  removed: number;
}

/**
 * Called once at boot. Imports that a crash or restart left queued or running are resumed from
 * their last commit (their counts, rejected rows and contacts all agree up to it), unless they
 * were interrupted MAX_RESUMES times already (then they are marked failed); imports being
 * cancelled become cancelled. Another live process's imports (the CLI's) are left alone, and
 * files of finished or unknown imports are removed.
 */
export function recoverImports(): RecoveryReport {
  const report: RecoveryReport = { resumed: 0, cancelled: 0, failed: 0, removed: 0 };
  runner.stopping = false;
  const root = join(getEnv().DATA_DIR, "uploads");
  if (!existsSync(root)) return report;
  const system: Actor = { type: "system", id: "import-recovery" };
  for (const workspaceId of readdirSync(root)) {
    if (!isWorkspaceId(workspaceId)) continue;
    const ids = new Set(
      readdirSync(join(root, workspaceId))
        .map((name) => /^(imp_[0-9a-f]{20})\.(csv|lock|csv\.part)$/.exec(name)?.[1])
        .filter((id): id is string => Boolean(id)),
    );
    try {
      inTenant(workspaceId, (db) => {
        for (const importId of ids) {
          if (runner.running.has(importId) || runner.queue.some((j) => j.importId === importId)) {
            continue;
          }
          const row = db.select().from(contactImports).where(eq(contactImports.id, importId)).get();
          rmSync(join(root, workspaceId, `${importId}.csv.part`), { force: true });
          if (!row || FINISHED.includes(row.status)) {
            removeFiles(workspaceId, importId, row?.filePath);
            report.removed++;
            continue;
          }
          if (!ACTIVE.includes(row.status)) continue;
          const lock = readLock(workspaceId, importId);
          if (lock && isAlive(lock.pid)) continue;
          const job: Job = {
            workspaceId,
            importId,
            actor: system,
            resumes: (lock?.resumes ?? 0) + 1,
          };
          if (row.status === "cancelling") {
            finishWithoutWorker(job, "cancelled", null);
            report.cancelled++;
          } else if (job.resumes > MAX_RESUMES) {
            finishWithoutWorker(
              job,
              "failed",
              "The import stopped unexpectedly several times and was given up. The rows counted were imported; import the rest of the file again.",
            );
            report.failed++;
          } else {
            db.update(contactImports)
              .set({ status: "queued" })
              .where(eq(contactImports.id, importId))
              .run();
            runner.queue.push(job);
            report.resumed++;
          }
        }
      });
    } catch (error) {
      if (error instanceof NotFoundError) {
        // The workspace's data is gone: so is any reason to keep its uploads.
        rmSync(join(root, workspaceId), { recursive: true, force: true });
        continue;
      }
      logger.error({ err: error, workspaceId }, "recovering contact imports failed");
    }
  }
  if (report.resumed || report.cancelled || report.failed) {
    logger.info(report, "contact imports recovered");
  }
  pump();
  return report;
}

/** Ends this process's imports without recording an outcome; recoverImports resumes them. */
export async function stopImportsForShutdown(): Promise<void> {
  runner.stopping = true;
  runner.queue.length = 0;
  await Promise.all(
    [...runner.running.values()].flatMap((run) => [
      run.writer?.terminate(),
      run.parser?.terminate(),
    ]),
  );
}
