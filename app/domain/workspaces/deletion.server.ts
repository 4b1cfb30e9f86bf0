import { and, asc, count, desc, eq, isNull, lt, ne } from "drizzle-orm";
import { removeTenantBackupCopies } from "~/db/backup-files.server";
import { getControlDb } from "~/db/control.server";
import { invitations, ipAllowlist, memberships, workspaces } from "~/db/schema/control";
import { deleteTenantDb, tenantDbPath, withTenantDb } from "~/db/tenants.server";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "~/lib/errors";
import { existsSync } from "node:fs";
import { reauthenticate } from "../accounts/mfa.server";
import { getUser } from "../accounts/users.server";
import { recordAudit } from "../audit/audit.server";
import { removeWorkspaceContactFiles } from "../contacts/housekeeping.server";
import { removeWorkspaceAttachments } from "../inbox/attachments.server";
import { forgetInboxDue, markInboxDue } from "../inbox/inbox-due.server";
import type { SystemContext } from "../context";
import { removeWorkspaceIntegrations } from "../delivery/integrations.server";
import { forgetDue, settleDue } from "../delivery/outbox.server";
import { daysMs, RETENTION } from "../privacy/retention-policy";
import { dropWorkspaceSubjects } from "../privacy/subject-index.server";
import { deleteWorkspaceApiKeys } from "./api-keys.server";
import { findMembership, type Workspace } from "./workspaces.server";

/**
 * Deleting a workspace (owner, re-authenticated, slug typed): it stops being reachable at once
 * (pages 404, API keys refused, webhooks answered without effect, dispatcher and campaign
 * runner skip it) and its data is purged by the retention job within 30 days (policy §5). Until
 * the purge falls due a platform admin can restore it.
 *
 * After the purge the workspace row stays as a tombstone: billing rows (usage_daily, ai_usage)
 * reference it and must stay 7 years, and deleting the row would cascade them away. The
 * tombstone's slug becomes its id, which frees the address and marks it purged (ADR 0013).
 */

/** The policy's promise: a deleted workspace's data is gone within this. */
const ERASED_WITHIN_MS = daysMs(RETENTION.deletedWorkspaceDays);
/**
 * The retention job runs once a day, so a deleted workspace falls due one day before the
 * promise: whichever daily run comes first after that purges it, still inside the 30 days.
 */
const WINDOW_MS = daysMs(RETENTION.deletedWorkspaceDays - 1);

/** The latest moment the workspace's data is erased (what people are told). */
export function workspacePurgeDate(deletedAt: Date): Date {
  return new Date(deletedAt.getTime() + ERASED_WITHIN_MS);
}

/** From then the next retention run purges it; a platform admin can restore it until then. */
export function workspacePurgeDueAt(deletedAt: Date): Date {
  return new Date(deletedAt.getTime() + WINDOW_MS);
}

export interface DeletionProof {
  /** The workspace's address, typed by the owner. */
  confirmSlug: string;
  password?: string;
  code?: string;
}

/** The session's last sign-in time, for accounts with no password or code to re-enter. */
export interface ReauthSession {
  authenticatedAt: Date;
}

/** Marks it deleted and cuts every way in; shared by deletion and account closure. */
export function markWorkspaceDeleted(
  ctx: SystemContext,
  workspaceId: string,
  reason: "owner" | "account_closed",
): void {
  const now = ctx.now();
  const db = getControlDb();
  db.transaction((tx) => {
    const changed = tx
      .update(workspaces)
      .set({ status: "deleted", deletedAt: now })
      .where(and(eq(workspaces.id, workspaceId), ne(workspaces.status, "deleted")))
      .run().changes;
    if (!changed) throw new NotFoundError("Workspace");
    // Pending invitations would otherwise let someone join a workspace that is gone.
    tx.update(invitations)
      .set({ revokedAt: now })
      .where(
        and(
          eq(invitations.workspaceId, workspaceId),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .run();
  });
  forgetDue(workspaceId);
  forgetInboxDue(workspaceId);
  recordAudit(ctx, {
    action: "workspace.deleted",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
    details: { reason, purgeOn: workspacePurgeDate(now).toISOString() },
  });
}

/** The owner deletes the workspace: re-authentication and the typed slug first. */
export async function deleteWorkspace(
  ctx: SystemContext,
  workspace: Workspace,
  userId: string,
  proof: DeletionProof,
  session: ReauthSession,
): Promise<{ purgeOn: Date; restorableUntil: Date }> {
  if (findMembership(workspace.id, userId)?.role !== "owner") {
    throw new ForbiddenError("Only the workspace's owner can delete it.");
  }
  if (proof.confirmSlug.trim() !== workspace.slug) {
    const message = `Type the workspace's address, ${workspace.slug}, exactly.`;
    throw new ValidationError(message, { confirmSlug: [message] });
  }
  await reauthenticate(ctx, getUser(userId), proof, session.authenticatedAt);
  markWorkspaceDeleted(ctx, workspace.id, "owner");
  return {
    purgeOn: workspacePurgeDate(ctx.now()),
    restorableUntil: workspacePurgeDueAt(ctx.now()),
  };
}

function isPurged(row: { id: string; slug: string }): boolean {
  return row.slug === row.id;
}

/** A platform admin brings a deleted workspace back, only until its purge falls due. */
export async function restoreWorkspace(ctx: SystemContext, workspaceId: string): Promise<void> {
  const row = getControlDb().select().from(workspaces).where(eq(workspaces.id, workspaceId)).get();
  if (!row || row.status !== "deleted" || !row.deletedAt) throw new NotFoundError("Workspace");
  if (
    isPurged(row) ||
    workspacePurgeDueAt(row.deletedAt) <= ctx.now() ||
    !existsSync(tenantDbPath(row.id))
  ) {
    throw new ConflictError(
      `This workspace was deleted more than ${RETENTION.deletedWorkspaceDays - 1} days ago: its data is erased or about to be, and it can no longer be restored.`,
    );
  }
  getControlDb()
    .update(workspaces)
    .set({ status: "active", deletedAt: null })
    .where(eq(workspaces.id, row.id))
    .run();
  // Messages that were waiting when it was deleted are due again.
  await withTenantDb(row.id, (db) => settleDue(db, row.id));
  // Snoozes and the assignment queue too: the next minutely run looks and settles its row.
  markInboxDue(row.id, ctx.now());
  recordAudit(ctx, {
    action: "workspace.restored",
    workspaceId: row.id,
    target: { type: "workspace", id: row.id },
  });
}

/** Restores the workspaces a closure deleted (reopening inside their window). */
export async function restoreWorkspacesDeletedAt(
  ctx: SystemContext,
  ownerId: string,
  deletedAt: Date,
): Promise<number> {
  const rows = getControlDb()
    .select({ id: workspaces.id })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(
      and(
        eq(memberships.userId, ownerId),
        eq(memberships.role, "owner"),
        eq(workspaces.status, "deleted"),
        eq(workspaces.deletedAt, deletedAt),
      ),
    )
    .all();
  let restored = 0;
  for (const row of rows) {
    try {
      await restoreWorkspace(ctx, row.id);
      restored += 1;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  return restored;
}

export interface PurgeCounts {
  tenantFilesRemoved: number;
  backupFilesRemoved: number;
  subjectEntriesDropped: number;
}

/**
 * Removes everything of a workspace deleted more than 30 days ago except the tombstone row and
 * its billing rows: its file (connection closed first) with -wal/-shm, copies of it in
 * DATA_DIR, uploads and exports, privacy-index entries, provider accounts, outbox and inbox due entries, API
 * keys, IP allowlist, invitations and memberships.
 */
export function purgeDeletedWorkspace(ctx: SystemContext, workspaceId: string): PurgeCounts {
  const counts: PurgeCounts = {
    tenantFilesRemoved: deleteTenantDb(workspaceId) ? 1 : 0,
    backupFilesRemoved: removeTenantBackupCopies(workspaceId),
    subjectEntriesDropped: dropWorkspaceSubjects(workspaceId),
  };
  removeWorkspaceContactFiles(workspaceId);
  removeWorkspaceAttachments(workspaceId);
  removeWorkspaceIntegrations(workspaceId);
  forgetDue(workspaceId);
  forgetInboxDue(workspaceId);
  deleteWorkspaceApiKeys(workspaceId);
  const db = getControlDb();
  db.transaction((tx) => {
    tx.delete(ipAllowlist).where(eq(ipAllowlist.workspaceId, workspaceId)).run();
    tx.delete(invitations).where(eq(invitations.workspaceId, workspaceId)).run();
    tx.delete(memberships).where(eq(memberships.workspaceId, workspaceId)).run();
    tx.update(workspaces).set({ slug: workspaceId }).where(eq(workspaces.id, workspaceId)).run();
  });
  recordAudit(ctx, {
    action: "workspace.purged",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
    details: { ...counts },
  });
  return counts;
}

/** Deleted workspaces past their window and not purged yet. */
export function workspacesDueForPurge(now: Date): string[] {
  return getControlDb()
    .select({ id: workspaces.id, slug: workspaces.slug })
    .from(workspaces)
    .where(
      and(
        eq(workspaces.status, "deleted"),
        lt(workspaces.deletedAt, new Date(now.getTime() - WINDOW_MS)),
      ),
    )
    .orderBy(asc(workspaces.id))
    .all()
    .filter((row) => !isPurged(row))
    .map((row) => row.id);
}

export interface DeletedWorkspaceRow {
  id: string;
  slug: string;
  name: string;
  deletedAt: Date;
  purgeOn: Date;
  purged: boolean;
  restorable: boolean;
}

export const DELETED_PAGE_SIZE = 50;

/** For the admin page: deleted workspaces, newest first. */
export function listDeletedWorkspaces(
  now: Date,
  page = 1,
): { rows: DeletedWorkspaceRow[]; total: number } {
  const db = getControlDb();
  const where = eq(workspaces.status, "deleted");
  const total = db.select({ n: count() }).from(workspaces).where(where).get()?.n ?? 0;
  const rows = db
    .select()
    .from(workspaces)
    .where(where)
    .orderBy(desc(workspaces.deletedAt))
    .limit(DELETED_PAGE_SIZE)
    .offset((page - 1) * DELETED_PAGE_SIZE)
    .all()
    .map((row) => {
      const deletedAt = row.deletedAt ?? row.createdAt;
      const purgeOn = workspacePurgeDate(deletedAt);
      const purged = isPurged(row);
      return {
        id: row.id,
        slug: purged ? "" : row.slug,
        name: row.name,
        deletedAt,
        purgeOn,
        purged,
        restorable: !purged && workspacePurgeDueAt(deletedAt) > now,
      };
    });
  return { rows, total };
}
