import { and, eq, inArray, ne } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { memberships, workspaces } from "~/db/schema/control";
import {
  agentStates,
  conversationActivity,
  conversations,
  inboxNotifications,
  teamMembers,
} from "~/db/schema/tenant-inbox";
import { createTenantScope, getTenantDb } from "~/db/tenants.server";
import { NotFoundError } from "~/lib/errors";
import { systemContext, type WorkspaceContext } from "../context";
import { workspaceContextFor } from "../workspaces/access.server";
import { drainAssignmentQueue } from "./assignment.server";
import { readInboxSettings } from "./inbox-settings.server";
import { publishInboxEvent } from "./live.server";

export interface ReleaseOptions {
  /**
   * false while the member may still come back (an account closed but not yet purged can be
   * reopened): their teams and notifications are kept; only their work is handed back.
   */
  forget?: boolean;
}

/**
 * A member leaves a workspace (removed, account closed or erased): nobody waits on them: their
 * open conversations are unassigned, those still waiting for an answer go back to the
 * auto-assignment queue, and the queue is drained (never to them: they are no longer online).
 * Unless told they may come back, the inbox also forgets them in that workspace's file (teams,
 * availability, notifications).
 */
export function releaseInboxMember(
  ctx: WorkspaceContext,
  userId: string,
  { forget = true }: ReleaseOptions = {},
): { unassigned: number } {
  const now = ctx.now();
  const autoAssign = readInboxSettings(ctx).autoAssign;
  const released = ctx.db.transaction(
    (tx) => {
      tx.delete(agentStates).where(eq(agentStates.userId, userId)).run();
      if (forget) {
        tx.delete(teamMembers).where(eq(teamMembers.userId, userId)).run();
        tx.delete(inboxNotifications).where(eq(inboxNotifications.userId, userId)).run();
      }
      const held = tx
        .select()
        .from(conversations)
        .where(and(eq(conversations.assigneeId, userId), ne(conversations.status, "resolved")))
        .all();
      for (const c of held) {
        const waiting = autoAssign && c.status === "open" && c.waitingSince !== null;
        tx.update(conversations)
          .set({ assigneeId: null, queuedAt: waiting ? (c.queuedAt ?? now) : null, updatedAt: now })
          .where(eq(conversations.id, c.id))
          .run();
        tx.insert(conversationActivity)
          .values({
            conversationId: c.id,
            at: now,
            actorId: null,
            kind: "assigned",
            body: "Unassigned: the member left the workspace",
            data: JSON.stringify({
              assigneeId: null,
              teamId: c.teamId,
              previousAssigneeId: userId,
              previousTeamId: c.teamId,
            }),
          })
          .run();
      }
      return held.map((c) => c.id);
    },
    { behavior: "immediate" },
  );
  for (const conversationId of released) {
    publishInboxEvent(ctx.workspaceId, { type: "conversation", conversationId, at: now.getTime() });
  }
  if (released.length) drainAssignmentQueue(ctx);
  return { unassigned: released.length };
}

/** releaseInboxMember in one workspace, opened for the occasion (control-side callers). */
export function releaseInboxMemberIn(
  workspaceId: string,
  userId: string,
  options: ReleaseOptions = {},
): { unassigned: number } {
  const scope = createTenantScope();
  try {
    return scope.run(() => {
      const ctx = workspaceContextFor(
        systemContext("member-left"),
        workspaceId,
        getTenantDb(workspaceId),
      );
      return releaseInboxMember(ctx, userId, options);
    });
  } finally {
    scope.release();
  }
}

/** Every live workspace the user is a member of (deleted ones keep their state for restores). */
export function releaseInboxMemberEverywhere(
  userId: string,
  except: readonly string[] = [],
  options: ReleaseOptions = {},
) {
  const rows = getControlDb()
    .select({ id: workspaces.id })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(and(eq(memberships.userId, userId), inArray(workspaces.status, ["active", "suspended"])))
    .all();
  for (const { id } of rows) {
    if (except.includes(id)) continue;
    try {
      releaseInboxMemberIn(id, userId, options);
    } catch (error) {
      // A workspace whose file was never created has no inbox to release.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}
