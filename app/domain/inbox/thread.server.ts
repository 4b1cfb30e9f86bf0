import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import type { MessageContent } from "~/channels/types";
import {
  campaigns,
  inboundMessages,
  messageContents,
  messages,
  type MessageStatus,
} from "~/db/schema/tenant";
import { conversationActivity } from "~/db/schema/tenant-inbox";
import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import type { MessageKind } from "../delivery/outbox.server";
import { userNames } from "./user-names.server";

/**
 * A conversation's thread: what the customer wrote, what was sent, and notes and events, merged
 * by time. Each source is read newest first from its conversation index, so a page costs three
 * small index ranges however long the conversation is.
 */

type Named = { id: number; name: string } | null;
type Person = { id: string; name: string } | null;

export type ThreadItem =
  | {
      type: "in";
      key: string;
      id: number;
      at: Date;
      text: string;
      attachmentId: string | null;
      campaign: Named;
      /** An out-of-office reply or list mail: nothing answered it automatically. */
      automated: boolean;
    }
  | {
      type: "out";
      key: string;
      id: string;
      at: Date;
      text: string;
      /** Template messages: the template's name. */
      template: string | null;
      status: MessageStatus;
      error: string | null;
      kind: MessageKind;
      author: Person;
      campaign: Named;
    }
  | {
      type: "note" | "event";
      key: string;
      id: number;
      at: Date;
      kind: string;
      body: string;
      actor: Person;
      data: unknown;
    };

export interface ThreadPage {
  /** Oldest first. */
  items: ThreadItem[];
  /** Pass as `before` for the older items; null when this page reaches the start. */
  before: string | null;
}

/** Ties at one millisecond: activity (e.g. "created") first, then inbound, outbound, by id. */
const RANK = { act: 0, in: 1, out: 2 } as const;
type Source = keyof typeof RANK;

interface Cursor {
  at: number;
  rank: number;
  id: string;
}

function decode(before: string): Cursor {
  const m = /^(\d{1,16})~([012])~([\w-]{1,64})$/.exec(before);
  if (!m) throw new ValidationError("That link to older messages is no longer valid.");
  return { at: Number(m[1]), rank: Number(m[2]), id: m[3]! };
}

/** The keyset condition for one source: strictly older than the cursor in (at, rank, id). */
function olderThan(cursor: Cursor | null, source: Source, at: SQL, id: SQL): SQL | undefined {
  if (!cursor) return undefined;
  const rank = RANK[source];
  if (rank < cursor.rank) return sql`${at} <= ${cursor.at}`;
  if (rank > cursor.rank) return sql`${at} < ${cursor.at}`;
  const key = source === "out" ? cursor.id : Number(cursor.id);
  return sql`(${at}, ${id}) < (${cursor.at}, ${key})`;
}

/** What a sent message says, as one line of text. */
export function messageText(content: MessageContent | null): {
  text: string;
  template: string | null;
} {
  if (!content) return { text: "", template: null };
  switch (content.channel) {
    case "email":
      return { text: `${content.subject}\n\n${content.text}`, template: null };
    case "whatsapp":
      if (content.type === "template") {
        return { text: content.bodyParams.join(" · "), template: content.name };
      }
      if (content.type === "media") {
        return {
          text: content.caption || `[${content.media.kind}: ${content.media.filename}]`,
          template: null,
        };
      }
      return { text: content.text, template: null };
    case "telegram":
      // Telegram's HTML subset: the words, not the markup.
      return {
        text: content.parseMode === "HTML" ? content.text.replace(/<[^>]*>/g, "") : content.text,
        template: null,
      };
    default:
      return { text: content.text, template: null };
  }
}

export function conversationThread(
  ctx: WorkspaceContext,
  conversationId: number,
  options: { before?: string; limit?: number } = {},
): ThreadPage {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const cursor = options.before ? decode(options.before) : null;
  const inbound = ctx.db
    .select({ m: inboundMessages, campaignName: campaigns.name })
    .from(inboundMessages)
    .leftJoin(campaigns, eq(campaigns.id, inboundMessages.campaignId))
    .where(
      and(
        eq(inboundMessages.conversationId, conversationId),
        olderThan(cursor, "in", sql`${inboundMessages.at}`, sql`${inboundMessages.id}`),
      ),
    )
    .orderBy(desc(inboundMessages.at), desc(inboundMessages.id))
    .limit(limit + 1)
    .all();
  const outbound = ctx.db
    .select({ m: messages, content: messageContents.content, campaignName: campaigns.name })
    .from(messages)
    .leftJoin(messageContents, eq(messageContents.messageId, messages.id))
    .leftJoin(campaigns, eq(campaigns.id, messages.campaignId))
    .where(
      and(
        eq(messages.conversationId, conversationId),
        olderThan(cursor, "out", sql`${messages.createdAt}`, sql`${messages.id}`),
      ),
    )
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(limit + 1)
    .all();
  const activity = ctx.db
    .select()
    .from(conversationActivity)
    .where(
      and(
        eq(conversationActivity.conversationId, conversationId),
        olderThan(cursor, "act", sql`${conversationActivity.at}`, sql`${conversationActivity.id}`),
      ),
    )
    .orderBy(desc(conversationActivity.at), desc(conversationActivity.id))
    .limit(limit + 1)
    .all();

  const people = userNames([
    ...outbound.flatMap((r) => (r.m.authorId ? [r.m.authorId] : [])),
    ...activity.flatMap((r) => (r.actorId ? [r.actorId] : [])),
  ]);
  const person = (id: string | null): Person => (id ? { id, name: people.get(id) ?? "" } : null);
  const named = (id: number | null, name: string | null): Named =>
    id !== null && name !== null ? { id, name } : null;

  type Sorted = { item: ThreadItem; at: number; rank: number; id: string | number };
  const all: Sorted[] = [
    ...inbound.map(({ m, campaignName }) => ({
      at: m.at.getTime(),
      rank: RANK.in,
      id: m.id,
      item: {
        type: "in" as const,
        key: `in-${m.id}`,
        id: m.id,
        at: m.at,
        // An email reads as our own emails do in the thread: its subject, then the text.
        text: m.emailSubject ? `${m.emailSubject}\n\n${m.text}` : m.text,
        attachmentId: m.attachmentId,
        campaign: named(m.campaignId, campaignName),
        automated: m.automated,
      },
    })),
    ...outbound.map(({ m, content, campaignName }) => {
      const shown = messageText(content ? (JSON.parse(content) as MessageContent) : null);
      return {
        at: m.createdAt.getTime(),
        rank: RANK.out,
        id: m.id,
        item: {
          type: "out" as const,
          key: `out-${m.id}`,
          id: m.id,
          at: m.createdAt,
          text: shown.text,
          template: shown.template,
          status: m.status,
          error: m.error,
          kind: m.kind,
          author: person(m.authorId),
          campaign: named(m.campaignId, campaignName),
        },
      };
    }),
    ...activity.map((a) => ({
      at: a.at.getTime(),
      rank: RANK.act,
      id: a.id,
      item: {
        type: a.kind === "note" ? ("note" as const) : ("event" as const),
        key: `act-${a.id}`,
        id: a.id,
        at: a.at,
        kind: a.kind,
        body: a.body,
        actor: person(a.actorId),
        data: a.data ? (JSON.parse(a.data) as unknown) : null,
      },
    })),
  ];
  // Newest first across the three sources; the page is the newest `limit` of them.
  all.sort((a, b) => b.at - a.at || b.rank - a.rank || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const page = all.slice(0, limit);
  const oldest = page.at(-1);
  return {
    items: page.reverse().map((s) => s.item),
    before: all.length > limit && oldest ? `${oldest.at}~${oldest.rank}~${oldest.id}` : null,
  };
}
