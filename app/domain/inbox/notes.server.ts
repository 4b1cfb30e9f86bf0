import { and, desc, eq, isNull } from "drizzle-orm";
import { conversationActivity, conversations, inboxNotifications } from "~/db/schema/tenant-inbox";
import { NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { publishInboxEvent } from "./live.server";
import { membersWith, type InboxMember } from "./teams.server";

/**
 * Private notes in a conversation (never sent to the customer) with @mentions, and the
 * notifications they and assignments leave for members.
 */

export const MAX_NOTE = 5000;

/**
 * The members an "@Name" in the text points at: the longest full name written after an "@"
 * (case-insensitive, ending at a word boundary), else a first name only one member has.
 */
export function findMentions(body: string, members: readonly InboxMember[]): string[] {
  const found = new Set<string>();
  const lower = body.toLowerCase();
  const byLength = [...members].sort((a, b) => b.name.length - a.name.length);
  const boundary = (index: number) =>
    index >= lower.length || !/[\p{L}\p{N}_]/u.test(lower[index]!);
  for (let at = lower.indexOf("@"); at !== -1; at = lower.indexOf("@", at + 1)) {
    const rest = lower.slice(at + 1);
    const full = byLength.find((m) => {
      const name = m.name.toLowerCase();
      return name && rest.startsWith(name) && boundary(at + 1 + name.length);
    });
    if (full) {
      found.add(full.userId);
      continue;
    }
    const word = /^[\p{L}\p{N}_.-]+/u.exec(rest)?.[0];
    if (!word) continue;
    const firsts = members.filter((m) => m.name.toLowerCase().split(/\s+/)[0] === word);
    if (firsts.length === 1) found.add(firsts[0]!.userId);
  }
  return [...found];
}

export function addNote(
  ctx: WorkspaceContext,
  authorId: string,
  conversationId: number,
  body: string,
): { id: number; mentions: string[] } {
  const text = body.trim();
  if (!text)
    throw new ValidationError("Write the note first.", { body: ["Write the note first."] });
  if (text.length > MAX_NOTE) {
    const message = `Keep a note under ${MAX_NOTE.toLocaleString("en-US")} characters.`;
    throw new ValidationError(message, { body: [message] });
  }
  const exists = ctx.db
    .select({ id: conversations.id })
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .get();
  if (!exists) throw new NotFoundError("Conversation", conversationId);
  const mentions = findMentions(text, membersWith(ctx, "inbox:read"));
  const now = ctx.now();
  const notified = mentions.filter((u) => u !== authorId);
  const id = ctx.db.transaction((tx) => {
    const note = tx
      .insert(conversationActivity)
      .values({
        conversationId,
        at: now,
        actorId: authorId,
        kind: "note",
        body: text,
        data: JSON.stringify({ mentions }),
      })
      .returning({ id: conversationActivity.id })
      .get();
    for (const userId of notified) {
      tx.insert(inboxNotifications)
        .values({ userId, conversationId, kind: "mention", actorId: authorId, createdAt: now })
        .run();
    }
    return note.id;
  });
  const at = now.getTime();
  publishInboxEvent(ctx.workspaceId, { type: "note", conversationId, at });
  for (const userId of notified) {
    publishInboxEvent(ctx.workspaceId, { type: "notification", userId, conversationId, at });
  }
  return { id, mentions };
}

export interface InboxNotification {
  id: number;
  conversationId: number;
  kind: "mention" | "assigned";
  actorId: string | null;
  createdAt: Date;
  readAt: Date | null;
}

/** The member's newest notifications (unread ones first when `unreadOnly`). */
export function listNotifications(
  ctx: WorkspaceContext,
  userId: string,
  options: { unreadOnly?: boolean; limit?: number } = {},
): InboxNotification[] {
  return ctx.db
    .select({
      id: inboxNotifications.id,
      conversationId: inboxNotifications.conversationId,
      kind: inboxNotifications.kind,
      actorId: inboxNotifications.actorId,
      createdAt: inboxNotifications.createdAt,
      readAt: inboxNotifications.readAt,
    })
    .from(inboxNotifications)
    .where(
      and(
        eq(inboxNotifications.userId, userId),
        options.unreadOnly ? isNull(inboxNotifications.readAt) : undefined,
      ),
    )
    .orderBy(desc(inboxNotifications.createdAt), desc(inboxNotifications.id))
    .limit(Math.min(options.limit ?? 50, 200))
    .all();
}

/** Opening a conversation reads its notifications for that member. Returns how many. */
export function markNotificationsRead(
  ctx: WorkspaceContext,
  userId: string,
  conversationId: number,
): number {
  return ctx.db
    .update(inboxNotifications)
    .set({ readAt: ctx.now() })
    .where(
      and(
        eq(inboxNotifications.userId, userId),
        eq(inboxNotifications.conversationId, conversationId),
        isNull(inboxNotifications.readAt),
      ),
    )
    .run().changes;
}
