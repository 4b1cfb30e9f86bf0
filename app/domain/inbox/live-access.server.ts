import type { WorkspaceContext } from "~/domain/context";
import { NotFoundError } from "~/lib/errors";
import type { Role } from "~/lib/roles";
import type { InboxEvent } from "./live.server";

/** A member acting in the inbox: the route's context with their role and id. */
export type InboxMemberContext = WorkspaceContext & { role: Role; userId: string };

/** Roles that see every conversation of the workspace (marketers read-only). */
const SEE_ALL: readonly Role[] = ["owner", "admin", "marketer"];

interface ConversationScope {
  assignee_id: string | null;
  team_id: number | null;
}

/**
 * Whether the member may follow a conversation live (its events, its presence).
 *
 * Integration point: this is the inbox's team scoping rule, written here so that the live
 * pieces never tell an agent about another team's conversation. Once the conversations domain
 * has its own `canSeeConversation`, this function should call it instead of its own query.
 * Returns false for a conversation that does not exist.
 */
export function mayFollowConversation(ctx: InboxMemberContext, conversationId: number): boolean {
  const row = ctx.db.$client
    .prepare("SELECT assignee_id, team_id FROM conversations WHERE id = ?")
    .get(conversationId) as ConversationScope | undefined;
  if (!row) return false;
  if (SEE_ALL.includes(ctx.role)) return true;
  if (ctx.role !== "agent") return false;
  if (row.assignee_id === ctx.userId) return true;
  if (row.team_id === null) return row.assignee_id === null;
  return (
    ctx.db.$client
      .prepare("SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?")
      .get(row.team_id, ctx.userId) !== undefined
  );
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
 * conversations they may see.
 */
export function inboxEventFilter(ctx: InboxMemberContext): (event: InboxEvent) => boolean {
  const seesAll = SEE_ALL.includes(ctx.role);
  return (event) => {
    if (event.type === "notification") return event.userId === ctx.userId;
    if (seesAll) return true;
    return mayFollowConversation(ctx, event.conversationId);
  };
}
