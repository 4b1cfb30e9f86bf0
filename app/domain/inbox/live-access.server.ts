import { can } from "~/lib/permission-table";
import { eq } from "drizzle-orm";
import { conversations } from "~/db/schema/tenant-inbox";
import type { WorkspaceContext } from "~/domain/context";
import { NotFoundError } from "~/lib/errors";
import type { Role } from "~/lib/roles";
import type { InboxEvent } from "./live.server";
import { canSeeConversation, loadInboxMember, seesEverything } from "./members.server";

/** A member acting in the inbox: the route's context with their role and id. */
export type InboxMemberContext = WorkspaceContext & { role: Role; userId: string };

/**
 * Whether the member may follow a conversation live (its events, its presence): the inbox's
 * one visibility rule, canSeeConversation. False for a conversation that does not exist.
 */
export function mayFollowConversation(ctx: InboxMemberContext, conversationId: number): boolean {
  const row = ctx.db
    .select({ assigneeId: conversations.assigneeId, teamId: conversations.teamId })
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .get();
  if (!row) return false;
  return canSeeConversation(loadInboxMember(ctx, ctx.userId, ctx.role), row);
}

/** mayFollowConversation, or a 404 that says no more than a missing conversation would. */
export function requireFollowableConversation(
  ctx: InboxMemberContext,
  conversationId: number,
): void {
  if (!mayFollowConversation(ctx, conversationId)) {
    throw new NotFoundError("Conversation", conversationId);
  }
}

/**
 * Which events a member's open inbox pages are told about. Notifications go to the member they
 * name only. Managers hear about every conversation without a lookup; agents only about the
 * conversations they may see (read at each event: assignments and teams change).
 */
export function inboxEventFilter(ctx: InboxMemberContext): (event: InboxEvent) => boolean {
  const seesAll = can(ctx.role, "inbox:read") && seesEverything(ctx);
  return (event) => {
    if (event.type === "notification") return event.userId === ctx.userId;
    if (seesAll) return true;
    return mayFollowConversation(ctx, event.conversationId);
  };
}
