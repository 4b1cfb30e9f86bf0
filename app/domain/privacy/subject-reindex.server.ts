import { and, eq, gte, lt } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { getControlDb } from "~/db/control.server";
import { subjectIndex } from "~/db/schema/control";
import { forEachTenant, withTenantDb, type TenantDb } from "~/db/tenants.server";
import { ValidationError } from "~/lib/errors";
import { getSubjectIndexKey } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";
import { acquireJobLock, releaseJobLock } from "../operations/job-runs.server";
import {
  deleteSubjectHashes,
  dropIndexedHashes,
  indexContactBatch,
  insertSubjectHashes,
  MARKER_END,
  MARKER_FIRST,
  subjectMarker,
} from "./subject-index-sync.server";

/**
 * Rebuilding the privacy subject index from the workspace files: for installs that had
 * contacts before the index existed (run once at the first start, see
 * app/jobs/privacy-reindex.server.ts), by an operator (`privacy reindex`), and at start for
 * workspaces whose marker a crash left behind. Per workspace: a marker goes up (the workspace
 * counts as holding anyone meanwhile), its entries are dropped, its contacts re-added in
 * batches that yield to other work, and the marker comes down only when all is written: a
 * rebuild that fails half-way leaves the marker, never a gap.
 */

/** One rebuild at a time in any process: a rebuild takes down other rebuilds' markers. */
const REBUILD_LOCK = "subject-index-rebuild";
const LOCK_MS = 6 * 3_600_000;
const IMPORT_MARKER = subjectMarker("import:");
const REBUILD_MARKER = subjectMarker("rebuild:");
const FINISHED_IMPORTS = ["completed", "failed", "cancelled"];
/**
 * Rebuilds run on the server's own thread, between requests: a batch of 2,000 contacts (4,000
 * entries) takes tens of ms, then the rebuild pauses so requests queued meanwhile go first
 * (a page waits at most one batch; a million contacts take about a minute in the background).
 */
const REBUILD_BATCH = 2_000;
const REBUILD_PAUSE_MS = 5;

export interface WorkspaceReindex {
  workspaceId: string;
  contacts: number;
  entries: number;
}

export interface ReindexResult {
  workspaces: number;
  contacts: number;
  entries: number;
  failed: number;
}

export interface ReindexOptions {
  /** Only this workspace; all active and suspended ones when absent. */
  workspaceId?: string;
  /** Called after each workspace (the CLI prints a line). */
  onWorkspace?: (done: WorkspaceReindex) => void;
  /** Stops between batches (shutdown); the workspace being rebuilt keeps its marker. */
  signal?: AbortSignal;
  /** Contacts per batch: each is one synchronous step on this thread (see REBUILD_BATCH). */
  batchSize?: number;
}

function markersOf(workspaceId: string): string[] {
  return getControlDb()
    .select({ hash: subjectIndex.hash })
    .from(subjectIndex)
    .where(
      and(
        eq(subjectIndex.workspaceId, workspaceId),
        gte(subjectIndex.hash, MARKER_FIRST),
        lt(subjectIndex.hash, MARKER_END),
      ),
    )
    .all()
    .map((row) => row.hash);
}

/**
 * Markers nobody will take down: another rebuild's (none runs: we hold the lock) and those of
 * imports that have ended. Read before the rebuild drops anything, so every write of such an
 * import precedes the rebuild's reading and is covered by it.
 */
function staleMarkers(db: TenantDb, markers: readonly string[]): string[] {
  const status = db.$client.prepare("SELECT status FROM contact_imports WHERE id = ?").pluck();
  return markers.filter((marker) => {
    if (marker.startsWith(REBUILD_MARKER)) return true;
    if (!marker.startsWith(IMPORT_MARKER)) return false;
    const state = status.get(marker.slice(IMPORT_MARKER.length)) as string | undefined;
    return state === undefined || FINISHED_IMPORTS.includes(state);
  });
}

const pause = () => sleep(REBUILD_PAUSE_MS);

async function rebuildWorkspace(
  workspaceId: string,
  db: TenantDb,
  options: ReindexOptions,
): Promise<WorkspaceReindex> {
  const control = getControlDb().$client;
  const key = getSubjectIndexKey();
  const stale = staleMarkers(db, markersOf(workspaceId));
  const marker = subjectMarker(`rebuild:${randomUUID()}`);
  insertSubjectHashes(control, workspaceId, [marker]);
  const batchSize = options.batchSize ?? REBUILD_BATCH;
  while (dropIndexedHashes(control, workspaceId, batchSize * 2) > 0) await pause();
  const done: WorkspaceReindex = { workspaceId, contacts: 0, entries: 0 };
  let afterId = 0;
  for (;;) {
    if (options.signal?.aborted) throw new Error("The rebuild was stopped.");
    const batch = indexContactBatch(db.$client, control, workspaceId, key, afterId, {
      limit: batchSize,
    });
    if (!batch) break;
    afterId = batch.lastId;
    done.contacts += batch.contacts;
    done.entries += batch.added;
    // Other work (requests, the dispatcher) gets its turn between batches.
    await pause();
  }
  deleteSubjectHashes(control, workspaceId, [...stale, marker]);
  return done;
}

async function underRebuildLock<T>(run: () => Promise<T>): Promise<T> {
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  if (!acquireJobLock(REBUILD_LOCK, holder, new Date(), LOCK_MS)) {
    throw new ValidationError("Another rebuild of the privacy index is running. Try again later.");
  }
  try {
    return await run();
  } finally {
    releaseJobLock(REBUILD_LOCK, holder);
  }
}

/** Rebuilds the index of one workspace or of all of them; returns the counts. */
export function reindexSubjects(options: ReindexOptions = {}): Promise<ReindexResult> {
  return underRebuildLock(async () => {
    const result: ReindexResult = { workspaces: 0, contacts: 0, entries: 0, failed: 0 };
    const one = async (workspaceId: string, db: TenantDb) => {
      if (options.signal?.aborted) return;
      const done = await rebuildWorkspace(workspaceId, db, options);
      result.workspaces += 1;
      result.contacts += done.contacts;
      result.entries += done.entries;
      options.onWorkspace?.(done);
    };
    if (options.workspaceId) {
      const workspaceId = options.workspaceId;
      await withTenantDb(workspaceId, (db) => one(workspaceId, db));
    } else {
      const walk = await forEachTenant(one);
      result.failed = walk.failed.length;
      if (options.signal?.aborted) throw new Error("The rebuild was stopped.");
    }
    return result;
  });
}

/**
 * Rebuilds the workspaces whose markers nobody will take down (a crash during an import or a
 * rebuild); returns how many. Imports still running keep theirs.
 */
export function repairSubjectIndex(options: { signal?: AbortSignal } = {}): Promise<number> {
  const marked = getControlDb()
    .selectDistinct({ workspaceId: subjectIndex.workspaceId })
    .from(subjectIndex)
    .where(and(gte(subjectIndex.hash, MARKER_FIRST), lt(subjectIndex.hash, MARKER_END)))
    .all()
    .map((row) => row.workspaceId);
  if (marked.length === 0) return Promise.resolve(0);
  return underRebuildLock(async () => {
    let repaired = 0;
    for (const workspaceId of marked) {
      if (options.signal?.aborted) break;
      try {
        await withTenantDb(workspaceId, async (db) => {
          if (staleMarkers(db, markersOf(workspaceId)).length === 0) return;
          await rebuildWorkspace(workspaceId, db, options);
          repaired += 1;
        });
      } catch (error) {
        logger.error({ err: error, workspaceId }, "repairing the privacy index failed");
      }
    }
    return repaired;
  });
}
