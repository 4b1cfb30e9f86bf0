import { and, eq, lte } from "drizzle-orm";
import { conversationActivity, conversations } from "~/db/schema/tenant-inbox";
import { forEachTenant } from "~/db/tenants.server";
import type { WorkspaceContext } from "../context";
import { systemContext } from "../context";
import { workspaceContextFor } from "../workspaces/access.server";
import { drainAssignmentQueue, enqueueForAssignment } from "./assignment.server";
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
 * The inbox's minutely round over every workspace: wake snoozed conversations, then drain the
 * assignment queue (agents who went quiet dropped out; anyone who can take one gets it).
 */
export async function inboxMinutely(now: Date) {
  let woken = 0;
  let assigned = 0;
  const result = await forEachTenant((workspaceId, db) => {
    const ctx = workspaceContextFor(
      systemContext("inbox-minutely", () => now),
      workspaceId,
      db,
    );
    woken += wakeSnoozed(ctx, now).length;
    assigned += drainAssignmentQueue(ctx).length;
  });
  return { workspaces: result.visited, failed: result.failed.length, woken, assigned };
}
