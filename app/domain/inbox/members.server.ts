import { can } from "~/lib/permission-table";
import { and, eq, inArray, isNull, or, type SQL } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { users } from "~/db/schema/control";
import { conversations, teamMembers } from "~/db/schema/tenant-inbox";
import { ForbiddenError } from "~/lib/errors";
import type { Role } from "~/lib/roles";
import type { WorkspaceContext } from "../context";

/**
 * Who is looking at the inbox, and what they may see. Owners, admins and marketers see every
 * conversation (marketers cannot reply: they lack inbox:reply). An agent sees conversations
 * assigned to them, those of their teams, and unassigned ones without a team; never another
 * team's.
 */
export interface InboxMember {
  userId: string;
  name: string;
  role: Role;
  teamIds: number[];
}

export function loadInboxMember(ctx: WorkspaceContext, userId: string, role: Role): InboxMember {
  const teamIds = ctx.db
    .select({ teamId: teamMembers.teamId })
    .from(teamMembers)
    .where(eq(teamMembers.userId, userId))
    .all()
    .map((r) => r.teamId);
  const user = getControlDb()
    .select({ name: users.name })
    .from(users)
    .where(eq(users.id, userId))
    .get();
  return { userId, name: user?.name ?? "", role, teamIds };
}

/** Whether the member's role sees every conversation (no team scoping). */
export function seesEverything(member: Pick<InboxMember, "role">): boolean {
  return member.role !== "agent";
}

export function canSeeConversation(
  member: InboxMember,
  conv: { assigneeId: string | null; teamId: number | null },
): boolean {
  if (!can(member.role, "inbox:read")) return false;
  if (seesEverything(member)) return true;
  if (conv.assigneeId === member.userId) return true;
  if (conv.teamId !== null) return member.teamIds.includes(conv.teamId);
  return conv.assigneeId === null;
}

/** The same rule as canSeeConversation, as a condition on `conversations` (undefined: all). */
export function visibleConversationsWhere(member: InboxMember): SQL | undefined {
  if (seesEverything(member)) return undefined;
  const parts: (SQL | undefined)[] = [
    eq(conversations.assigneeId, member.userId),
    and(isNull(conversations.assigneeId), isNull(conversations.teamId)),
  ];
  if (member.teamIds.length > 0) parts.push(inArray(conversations.teamId, member.teamIds));
  return or(...parts);
}

export function canReply(member: Pick<InboxMember, "role">): boolean {
  return can(member.role, "inbox:reply");
}

/** Throws unless the member may reply in the inbox. */
export function assertCanReply(member: Pick<InboxMember, "role">): void {
  if (!canReply(member)) throw new ForbiddenError();
}
