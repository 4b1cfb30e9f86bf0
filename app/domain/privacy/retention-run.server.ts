import { and, eq, inArray, isNotNull, lt } from "drizzle-orm";
import { existsSync, rmSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { getControlDb } from "~/db/control.server";
import { aiUsage, auditLog, dsarTasks, usageDaily } from "~/db/schema/control";
import { tenantMeta } from "~/db/schema/tenant";
import { forEachTenant, type TenantDb } from "~/db/tenants.server";
import { getEnv } from "~/lib/env.server";
import { logger } from "~/lib/logger.server";
import { accountsDueForPurge, purgeClosedAccount } from "../accounts/closure.server";
import { purgeExpiredBilling } from "../billing/ledger.server";
import { systemContext, type TenantContext } from "../context";
import { purgeDeletedWorkspace, workspacesDueForPurge } from "../workspaces/deletion.server";
import { expireUnverifiedRequests } from "./dsar-requests.server";
import { daysMs, RETENTION, yearsBefore } from "./retention-policy";

/**
 * The daily retention run (policy §5): deletes exactly what its period has ended
 * for, and records how much of each kind (counts, never content). Every period comes from
 * retention-policy.ts; `now` is passed in so tests move a clock instead of waiting.
 */

export interface RetentionCounts {
  accountsDeleted: number;
  workspacesPurged: number;
  tenantFilesRemoved: number;
  backupFilesRemoved: number;
  subjectEntriesDropped: number;
  auditRowsDeleted: number;
  billingLedgerRowsDeleted: number;
  invoicesDeleted: number;
  usageRowsDeleted: number;
  aiUsageRowsDeleted: number;
  dsarRequestsExpired: number;
  dsarExportsDeleted: number;
  messagesCleared: number;
  aiDraftsCleared: number;
  webhookEventsDeleted: number;
  workspaces: number;
  failed: number;
}

/** What one run did in one workspace's file (kept in that file, shown on its retention page). */
export interface WorkspaceRetentionRun {
  at: string;
  messagesCleared: number;
  /** Absent in runs recorded before AI drafts existed. */
  aiDraftsCleared?: number;
  webhookEventsDeleted: number;
}

const RUNS_KEY = "retention.runs";
/** Messages created before this (ms) were cleared already: each run scans only the new day. */
const CLEARED_BEFORE_KEY = "retention.messages_cleared_before";
const RUNS_KEPT = 10;

function readMeta(db: TenantDb, key: string): string | undefined {
  return db.select().from(tenantMeta).where(eq(tenantMeta.key, key)).get()?.value;
}

function writeMeta(db: TenantDb, key: string, value: string): void {
  db.insert(tenantMeta)
    .values({ key, value })
    .onConflictDoUpdate({ target: tenantMeta.key, set: { value } })
    .run();
}

/**
 * One workspace's file: message content and recipient cleared after 90 days (the row, status
 * and times stay for reports), webhook events deleted after 30. Each kind is one statement on
 * an index, so visiting thousands of files a day stays cheap.
 */
export function applyWorkspaceRetention(db: TenantDb, now: Date): WorkspaceRetentionRun {
  const messagesBefore = now.getTime() - daysMs(RETENTION.messageContentDays);
  const eventsBefore = now.getTime() - daysMs(RETENTION.webhookEventDays);
  const draftsBefore = now.getTime() - daysMs(RETENTION.aiDraftDays);
  const client = db.$client;
  const apply = client.transaction((): WorkspaceRetentionRun => {
    const clearedBefore = Number(readMeta(db, CLEARED_BEFORE_KEY) ?? 0);
    let messagesCleared = 0;
    if (messagesBefore > clearedBefore) {
      const due = `FROM messages WHERE created_at >= ? AND created_at < ?
          AND status NOT IN ('queued', 'sending')`;
      client
        .prepare(`DELETE FROM message_contents WHERE message_id IN (SELECT id ${due})`)
        .run(clearedBefore, messagesBefore);
      messagesCleared = client
        .prepare(`UPDATE messages SET recipient = '' WHERE id IN (SELECT id ${due})`)
        .run(clearedBefore, messagesBefore).changes;
      writeMeta(db, CLEARED_BEFORE_KEY, String(messagesBefore));
    }
    const webhookEventsDeleted =
      client
        .prepare("DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND processed_at < ?")
        .run(eventsBefore).changes +
      client
        .prepare("DELETE FROM webhook_events WHERE processed_at IS NULL AND received_at < ?")
        .run(eventsBefore).changes;
    // A draft still waiting after this long is stale: it closes as discarded when cleared.
    const aiDraftsCleared = client
      .prepare(
        `UPDATE ai_drafts
            SET body = '', citations = '[]',
                status = CASE WHEN status IN ('pending', 'ready') THEN 'discarded' ELSE status END,
                discard_reason = CASE WHEN status IN ('pending', 'ready') THEN 'Expired' ELSE discard_reason END,
                closed_at = COALESCE(closed_at, ?)
          WHERE created_at < ? AND (body <> '' OR status IN ('pending', 'ready'))`,
      )
      .run(now.getTime(), draftsBefore).changes;
    const run = { at: now.toISOString(), messagesCleared, aiDraftsCleared, webhookEventsDeleted };
    const runs = readWorkspaceRetentionRuns({ db });
    writeMeta(db, RUNS_KEY, JSON.stringify([run, ...runs].slice(0, RUNS_KEPT)));
    return run;
  });
  return apply.immediate();
}

/** The last runs in this workspace, newest first. */
export function readWorkspaceRetentionRuns({ db }: TenantContext): WorkspaceRetentionRun[] {
  const raw = readMeta(db, RUNS_KEY);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as WorkspaceRetentionRun[]) : [];
  } catch {
    return [];
  }
}

/**
 * The audit trigger refuses deleting rows younger than 7 years by the database's own clock, so
 * the cutoff is never later than that (a clock moved forward in a test cannot trip it).
 */
function sevenYearCutoff(now: Date, years: number): Date {
  const earlier = Math.min(now.getTime(), Date.now());
  return new Date(yearsBefore(new Date(earlier), years).getTime() - 1000);
}

/** A stored export path, resolved inside DATA_DIR (or null when it points elsewhere). */
function exportFilePath(stored: string): string | null {
  const root = resolve(getEnv().DATA_DIR);
  for (const candidate of [resolve(root, stored), resolve(root, "exports", stored)]) {
    const rel = relative(root, candidate);
    if (rel.startsWith("..") || isAbsolute(rel)) continue;
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function purgeControlData(
  now: Date,
): Pick<
  RetentionCounts,
  | "auditRowsDeleted"
  | "billingLedgerRowsDeleted"
  | "invoicesDeleted"
  | "usageRowsDeleted"
  | "aiUsageRowsDeleted"
  | "dsarRequestsExpired"
  | "dsarExportsDeleted"
> {
  const db = getControlDb();
  const auditCutoff = sevenYearCutoff(now, RETENTION.auditYears);
  const billingCutoff = sevenYearCutoff(now, RETENTION.billingYears);
  const auditRowsDeleted = db.delete(auditLog).where(lt(auditLog.at, auditCutoff)).run().changes;
  // Billing records (ledger, invoices) are kept 7 years like the audit log; their triggers also
  // go by the database's clock, so the same never-later-than-now rule applies.
  const billing = purgeExpiredBilling(new Date(Math.min(now.getTime(), Date.now()) - 1000));
  const usageRowsDeleted = db
    .delete(usageDaily)
    .where(lt(usageDaily.day, billingCutoff.toISOString().slice(0, 10)))
    .run().changes;
  const aiUsageRowsDeleted = db.delete(aiUsage).where(lt(aiUsage.at, billingCutoff)).run().changes;

  const dsarRequestsExpired = expireUnverifiedRequests(now);

  const expiredExports = db
    .select({ id: dsarTasks.id, file: dsarTasks.exportFile })
    .from(dsarTasks)
    .where(and(isNotNull(dsarTasks.exportFile), lt(dsarTasks.exportExpiresAt, now)))
    .all();
  let dsarExportsDeleted = 0;
  for (const row of expiredExports) {
    const path = exportFilePath(row.file!);
    if (path) {
      rmSync(path, { force: true });
      dsarExportsDeleted += 1;
    }
  }
  if (expiredExports.length) {
    db.update(dsarTasks)
      .set({ exportFile: null })
      .where(
        inArray(
          dsarTasks.id,
          expiredExports.map((row) => row.id),
        ),
      )
      .run();
  }
  return {
    auditRowsDeleted,
    billingLedgerRowsDeleted: billing.ledgerRows,
    invoicesDeleted: billing.invoices,
    usageRowsDeleted,
    aiUsageRowsDeleted,
    dsarRequestsExpired,
    dsarExportsDeleted,
  };
}

export async function runRetention(now: Date): Promise<RetentionCounts> {
  const ctx = systemContext("retention", () => now);
  const counts: RetentionCounts = {
    accountsDeleted: 0,
    workspacesPurged: 0,
    tenantFilesRemoved: 0,
    backupFilesRemoved: 0,
    subjectEntriesDropped: 0,
    auditRowsDeleted: 0,
    billingLedgerRowsDeleted: 0,
    invoicesDeleted: 0,
    usageRowsDeleted: 0,
    aiUsageRowsDeleted: 0,
    dsarRequestsExpired: 0,
    dsarExportsDeleted: 0,
    messagesCleared: 0,
    aiDraftsCleared: 0,
    webhookEventsDeleted: 0,
    workspaces: 0,
    failed: 0,
  };
  // Workspaces before accounts: a closure deletes the workspaces it owned alone, and those
  // (30 days) are always due before the account (90 days).
  for (const workspaceId of workspacesDueForPurge(now)) {
    try {
      const purged = purgeDeletedWorkspace(ctx, workspaceId);
      counts.workspacesPurged += 1;
      counts.tenantFilesRemoved += purged.tenantFilesRemoved;
      counts.backupFilesRemoved += purged.backupFilesRemoved;
      counts.subjectEntriesDropped += purged.subjectEntriesDropped;
    } catch (error) {
      logger.error({ err: error, workspaceId }, "retention: workspace purge failed");
      counts.failed += 1;
    }
  }
  for (const userId of accountsDueForPurge(now)) {
    if (purgeClosedAccount(ctx, userId)) counts.accountsDeleted += 1;
  }
  Object.assign(counts, purgeControlData(now));

  const visit = await forEachTenant((_workspaceId, db) => {
    const run = applyWorkspaceRetention(db, now);
    counts.messagesCleared += run.messagesCleared;
    counts.aiDraftsCleared += run.aiDraftsCleared ?? 0;
    counts.webhookEventsDeleted += run.webhookEventsDeleted;
  });
  counts.workspaces = visit.visited;
  counts.failed += visit.failed.length;
  return counts;
}
