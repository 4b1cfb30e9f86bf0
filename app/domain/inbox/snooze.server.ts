import { and, eq, lte } from "drizzle-orm";
import { conversationActivity, conversations } from "~/db/schema/tenant-inbox";
import {
  forEachTenant,
  forTenants,
  type ForEachTenantResult,
  type TenantDb,
} from "~/db/tenants.server";
import type { WorkspaceContext } from "../context";
import { systemContext } from "../context";
import { workspaceContextFor } from "../workspaces/access.server";
import { drainAssignmentQueue, enqueueForAssignment } from "./assignment.server";
import {
  dueInboxWorkspaces,
  markInboxDue,
  pendingInboxWork,
  settleInboxDue,
} from "./inbox-due.server";
import { publishInboxEvent } from "./live.server";

/**
 * Snoozed conversations whose time came go back to open (activity "woke"), and wait in the
 * assignment queue again when nobody has them. Returns the woken ids.
 */
export function wakeSnoozed(ctx: WorkspaceContext, now: Date): number[] {
  const woken = ctx.db.transaction(
    (tx) => {
      const due = tx
        .select({ id: conversations.id })
        .from(conversations)
        .where(and(eq(conversations.status, "snoozed"), lte(conversations.snoozedUntil, now)))
        .all()
        .map((r) => r.id);
      for (const id of due) {
        tx.update(conversations)
          .set({ status: "open", snoozedUntil: null, updatedAt: now })
          .where(eq(conversations.id, id))
          .run();
        tx.insert(conversationActivity)
          .values({
            conversationId: id,
            at: now,
            actorId: null,
            kind: "woke",
            data: JSON.stringify({ from: "snoozed", to: "open" }),
          })
          .run();
      }
      return due;
    },
    { behavior: "immediate" },
  );
  for (const id of woken) {
    publishInboxEvent(ctx.workspaceId, {
      type: "conversation",
      conversationId: id,
      at: now.getTime(),
    });
    enqueueForAssignment(ctx, id);
  }
  return woken;
}

/**
 * Whether this process already looked at every workspace once. Files restored from a backup,
 * or written before the due list existed, can hold snoozes and queued conversations with no
 * row in it; one pass per process start finds them.
 */
let sweptAll = false;

/**
 * The inbox's minutely round over the workspaces due in `inbox_due` (and, on a process's first
 * run, every workspace): wake snoozed conversations, drain the assignment queue (agents who went
 * quiet dropped out; anyone who can take one gets it), then settle the workspace's row.
 */
export async function inboxMinutely(now: Date) {
  let woken = 0;
  let assigned = 0;
  const base = systemContext("inbox-minutely", () => now);
  const visit = (workspaceId: string, db: TenantDb) => {
    const ctx = workspaceContextFor(base, workspaceId, db);
    woken += wakeSnoozed(ctx, now).length;
    assigned += drainAssignmentQueue(ctx).length;
    settleInboxDue(ctx);
  };
  const due = dueInboxWorkspaces(now);
  let result: ForEachTenantResult;
  if (sweptAll) {
    result = await forTenants(due, visit);
  } else {
    const listed = new Set(due);
    // Kept cheap for the many workspaces with nothing pending: two reads on partial indexes,
    // no workspace context, no write. Only those with work due now get the full visit.
    result = await forEachTenant((workspaceId, db) => {
      if (listed.has(workspaceId)) return visit(workspaceId, db);
      const pending = pendingInboxWork(db);
      if (pending.queued || (pending.snoozeEndsAt ?? Infinity) <= now.getTime()) {
        return visit(workspaceId, db);
      }
      if (pending.snoozeEndsAt !== null) markInboxDue(workspaceId, pending.snoozeEndsAt);
    });
    sweptAll = true;
  }
  return {
    workspaces: result.visited,
    failed: result.failed.length,
    due: due.length,
    woken,
    assigned,
  };
}
