import { and, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { markDueIn, setDueIn } from "~/db/due-lists.server";
import { inboxDue, workspaces } from "~/db/schema/control";
import { conversations } from "~/db/schema/tenant-inbox";
import type { TenantDb } from "~/db/tenants.server";
import type { WorkspaceContext } from "../context";
import { readInboxSettings } from "./inbox-settings.server";

/**
 * The inbox's due list (control db `inbox_due`): which workspaces have a snooze ending or
 * conversations waiting in the assignment queue, and from when. The minutely job opens only
 * those workspaces' files. Work that becomes due marks it here; the job settles it after each
 * visit.
 */

/**
 * A queue nobody could take from is looked at again this often: agents who went quiet drop
 * out, someone may come online.
 */
export const QUEUE_RECHECK_MS = 60_000;

/** The workspace has inbox work due at `at` (an earlier time already recorded wins). */
export function markInboxDue(workspaceId: string, at: Date | number): void {
  markDueIn(inboxDue, workspaceId, typeof at === "number" ? at : at.getTime());
}

/** Conversations wait in the queue for an agent: look again in a minute. */
export function markQueueDue(ctx: WorkspaceContext): void {
  markInboxDue(ctx.workspaceId, ctx.now().getTime() + QUEUE_RECHECK_MS);
}

/** A deleted workspace has no inbox work any more. */
export function forgetInboxDue(workspaceId: string): void {
  setDueIn(inboxDue, workspaceId, null);
}

/** Live (active or suspended) workspaces whose inbox work is due by `now`. */
export function dueInboxWorkspaces(now: Date): string[] {
  return getControlDb()
    .select({ id: inboxDue.workspaceId })
    .from(inboxDue)
    .innerJoin(workspaces, eq(workspaces.id, inboxDue.workspaceId))
    .where(and(lte(inboxDue.nextDueAt, now), inArray(workspaces.status, ["active", "suspended"])))
    .orderBy(inboxDue.workspaceId)
    .all()
    .map((row) => row.id);
}

export interface PendingInboxWork {
  /** The earliest end of a timed snooze (ms), or null. */
  snoozeEndsAt: number | null;
  /** Whether any conversation waits in the assignment queue. */
  queued: boolean;
}

/** What the workspace's file holds for the minutely job: two reads on partial indexes. */
export function pendingInboxWork(db: TenantDb): PendingInboxWork {
  const snooze = db
    .select({ at: sql<number | null>`min(${conversations.snoozedUntil})` })
    .from(conversations)
    .where(and(eq(conversations.status, "snoozed"), isNotNull(conversations.snoozedUntil)))
    .get();
  const queued = db
    .select({ id: conversations.id })
    .from(conversations)
    .where(isNotNull(conversations.queuedAt))
    .limit(1)
    .get();
  return { snoozeEndsAt: snooze?.at ?? null, queued: queued !== undefined };
}

/**
 * After the minutely job's visit: the row becomes the earliest snooze end still ahead, or a
 * minute from now while the queue is not empty, or goes. Written while holding the file's write
 * lock, so a snooze or queue entry committed meanwhile is either read here or marked after this
 * write (and marks keep the earlier time): none is lost.
 */
export function settleInboxDue(ctx: WorkspaceContext): number | null {
  const autoAssign = readInboxSettings(ctx).autoAssign;
  const recheckAt = ctx.now().getTime() + QUEUE_RECHECK_MS;
  return ctx.db.transaction(
    () => {
      // ctx.db is this transaction's connection: its reads see the transaction.
      const pending = pendingInboxWork(ctx.db);
      const times = [pending.snoozeEndsAt, pending.queued && autoAssign ? recheckAt : null];
      const present = times.filter((t): t is number => t !== null);
      const next = present.length ? Math.min(...present) : null;
      setDueIn(inboxDue, ctx.workspaceId, next);
      return next;
    },
    { behavior: "immediate" },
  );
}
