import { eq, inArray } from "drizzle-orm";
import { contacts } from "~/db/schema/tenant";
import { conversations } from "~/db/schema/tenant-inbox";
import type { WorkspaceContext } from "../context";
import { assignConversation, type AssignInput } from "./assignment.server";
import { getConversation } from "./conversations.server";
import { addLabelToConversation, listLabels, removeLabelFromConversation } from "./labels.server";
import { assertCanReply, canSeeConversation, type InboxMember } from "./members.server";
import { addNote, listNotifications, markNotificationsRead } from "./notes.server";
import { listTeams, membersWith } from "./teams.server";
import { userNames } from "./user-names.server";

/**
 * The conversation page's sidebar (assignment, labels, private notes) and the inbox's "For
 * you" list. Every action first checks that the member sees the conversation (the same 404 as
 * a missing one) and may answer it.
 */

export interface SidebarChoices {
  /** Who it can be assigned to: members who can reply, only the team's when it has one. */
  assignees: { userId: string; name: string }[];
  teams: { id: number; name: string }[];
  /** Labels the conversation does not have yet. */
  labels: { id: number; name: string }[];
}

export function sidebarChoices(
  ctx: WorkspaceContext,
  conversation: { teamId: number | null; labels: readonly { id: number }[] },
): SidebarChoices {
  const teams = listTeams(ctx);
  const team =
    conversation.teamId === null ? null : teams.find((t) => t.id === conversation.teamId);
  const inTeam = team ? new Set(team.members.map((m) => m.userId)) : null;
  const has = new Set(conversation.labels.map((l) => l.id));
  return {
    assignees: membersWith(ctx, "inbox:reply")
      .filter((m) => !inTeam || inTeam.has(m.userId))
      .map((m) => ({ userId: m.userId, name: m.name || m.email }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    teams: teams.map((t) => ({ id: t.id, name: t.name })),
    labels: listLabels(ctx)
      .filter((l) => !has.has(l.id))
      .map((l) => ({ id: l.id, name: l.name })),
  };
}

/** The member opened the conversation: their mentions and assignments in it are read. */
export function openConversation(ctx: WorkspaceContext, member: InboxMember, id: number) {
  const conversation = getConversation(ctx, member, id);
  markNotificationsRead(ctx, member.userId, id);
  return conversation;
}

function answerable(ctx: WorkspaceContext, member: InboxMember, id: number) {
  getConversation(ctx, member, id);
  assertCanReply(member);
}

/** Assign to a member (null: nobody) and/or a team (null: none), from the conversation page. */
export function assignFromConversation(
  ctx: WorkspaceContext,
  member: InboxMember,
  id: number,
  input: AssignInput,
) {
  answerable(ctx, member, id);
  return assignConversation(ctx, member.userId, id, input);
}

export function labelConversation(
  ctx: WorkspaceContext,
  member: InboxMember,
  id: number,
  labelId: number,
  change: "add" | "remove",
): void {
  answerable(ctx, member, id);
  if (change === "add") addLabelToConversation(ctx, member.userId, id, labelId);
  else removeLabelFromConversation(ctx, member.userId, id, labelId);
}

/** A private note (never sent to the customer); @mentions notify the members named. */
export function noteOnConversation(
  ctx: WorkspaceContext,
  member: InboxMember,
  id: number,
  body: string,
) {
  answerable(ctx, member, id);
  return addNote(ctx, member.userId, id, body);
}

export interface ForYouItem {
  id: number;
  conversationId: number;
  kind: "mention" | "assigned";
  contact: string;
  actor: string | null;
  createdAt: Date;
}

/**
 * The member's unread mentions and assignments, newest first, for conversations they can
 * still see (a conversation that moved to another team drops out).
 */
export function forYou(ctx: WorkspaceContext, member: InboxMember, limit = 10): ForYouItem[] {
  const unread = listNotifications(ctx, member.userId, { unreadOnly: true, limit: 50 });
  if (unread.length === 0) return [];
  const ids = [...new Set(unread.map((n) => n.conversationId))];
  const rows = ctx.db
    .select({
      id: conversations.id,
      assigneeId: conversations.assigneeId,
      teamId: conversations.teamId,
      name: contacts.name,
      phone: contacts.phone,
      email: contacts.email,
      contactId: contacts.id,
    })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(inArray(conversations.id, ids))
    .all();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const names = userNames(unread.flatMap((n) => (n.actorId ? [n.actorId] : [])));
  return unread
    .flatMap((n): ForYouItem[] => {
      const c = byId.get(n.conversationId);
      if (!c || !canSeeConversation(member, c)) return [];
      return [
        {
          id: n.id,
          conversationId: n.conversationId,
          kind: n.kind,
          contact: c.name || c.phone || c.email || `Contact ${c.contactId}`,
          actor: n.actorId ? names.get(n.actorId) || null : null,
          createdAt: n.createdAt,
        },
      ];
    })
    .slice(0, limit);
}
