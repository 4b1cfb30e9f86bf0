import { and, asc, desc, eq, gt, isNotNull, isNull, or, sql, type SQL } from "drizzle-orm";
import { contacts } from "~/db/schema/tenant";
import {
  CONVERSATION_STATUSES,
  conversations,
  teams,
  type ConversationStatus,
} from "~/db/schema/tenant-inbox";
import type { Channel } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { contactMatchWhere } from "../contacts/search.server";
import type { WorkspaceContext } from "../context";
import { labelsOf, wakeSnoozed, type LabelChip } from "./conversations.server";
import { seesEverything, visibleConversationsWhere, type InboxMember } from "./members.server";
import { userNames } from "./user-names.server";

/**
 * The inbox list: one view (all, mine, unassigned, a team) in one status, newest first or
 * oldest waiting first, keyset-paged (no OFFSET) on the conversations indexes.
 */

export type ConversationView = "all" | "mine" | "unassigned" | { teamId: number };
export type ConversationOrder = "newest" | "oldest-waiting";

export interface ConversationFilter {
  view: ConversationView;
  status: ConversationStatus;
  order: ConversationOrder;
  q?: string;
  cursor?: string;
}

export interface ConversationListRow {
  id: number;
  status: ConversationStatus;
  channel: Channel;
  contact: { id: number; name: string; email: string | null; phone: string | null };
  assignee: { id: string; name: string } | null;
  team: { id: number; name: string } | null;
  preview: string;
  lastMessageAt: Date;
  waitingSince: Date | null;
  snoozedUntil: Date | null;
  labels: LabelChip[];
}

export interface ConversationPage {
  rows: ConversationListRow[];
  nextCursor: string | null;
}

export const BAD_INBOX_CURSOR = "That page link is no longer valid. Start again from the top.";
/** Sorts after every real time: conversations nobody waits on come last in "oldest waiting". */
const NEVER = 8_640_000_000_000_000;
/** A search looks at this many matching contacts and messages at most (the newest messages). */
const SEARCH_CAP = 1000;

function decodeCursor(cursor: string): { v: number; id: number } {
  const m = /^(\d{1,16})~(\d{1,12})$/.exec(cursor);
  if (!m) throw new ValidationError(BAD_INBOX_CURSOR, { cursor: [BAD_INBOX_CURSOR] });
  return { v: Number(m[1]), id: Number(m[2]) };
}

/** The user's words as an FTS5 query: each word quoted (no operators), the last one a prefix. */
export function ftsQuery(q: string): string | null {
  const words = q
    .normalize("NFKC")
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 8);
  if (words.length === 0) return null;
  return words.map((w, i) => `"${w}"${i === words.length - 1 ? "*" : ""}`).join(" ");
}

/** Conversations whose contact or whose customer messages match `q`, as one condition. */
function searchWhere(ctx: WorkspaceContext, q: string): SQL {
  const contactIds: number[] = [];
  const match = contactMatchWhere(ctx, { q });
  if (match) {
    const rows = ctx.db.$client
      .prepare(`SELECT c.id FROM contacts c WHERE ${match.sql} LIMIT ${SEARCH_CAP}`)
      .pluck()
      .all(...match.params) as number[];
    contactIds.push(...rows);
  }
  const conversationIds: number[] = [];
  const fts = ftsQuery(q);
  if (fts) {
    const rows = ctx.db.$client
      .prepare(
        `SELECT DISTINCT m.conversation_id FROM inbound_messages_fts f
         JOIN inbound_messages m ON m.id = f.rowid
         WHERE inbound_messages_fts MATCH ? AND m.conversation_id IS NOT NULL
         ORDER BY f.rowid DESC LIMIT ${SEARCH_CAP}`,
      )
      .pluck()
      .all(fts) as number[];
    conversationIds.push(...rows);
  }
  const parts: SQL[] = [];
  if (contactIds.length) parts.push(sql`${conversations.contactId} IN ${contactIds}`);
  if (conversationIds.length) parts.push(sql`${conversations.id} IN ${conversationIds}`);
  return parts.length ? or(...parts)! : sql`0`;
}

export function listConversations(
  ctx: WorkspaceContext,
  member: InboxMember,
  filter: ConversationFilter,
  limit = 50,
): ConversationPage {
  const size = Math.min(Math.max(limit, 1), 200);
  wakeSnoozed(ctx);
  const view = filter.view;
  const viewWhere =
    view === "all"
      ? undefined
      : view === "mine"
        ? eq(conversations.assigneeId, member.userId)
        : view === "unassigned"
          ? isNull(conversations.assigneeId)
          : eq(conversations.teamId, view.teamId);
  const q = filter.q?.trim() ?? "";
  const cursor = filter.cursor ? decodeCursor(filter.cursor) : null;
  const search = q ? searchWhere(ctx, q) : undefined;
  const waiting = sql<number>`coalesce(${conversations.waitingSince}, ${NEVER})`;
  const newest = filter.order === "newest";
  const select = (where: SQL | undefined, order: SQL[], count: number) =>
    ctx.db
      .select({
        c: conversations,
        contact: {
          id: contacts.id,
          name: contacts.name,
          email: contacts.email,
          phone: contacts.phone,
        },
        teamName: teams.name,
        waiting,
      })
      .from(conversations)
      .innerJoin(contacts, eq(contacts.id, conversations.contactId))
      .leftJoin(teams, eq(teams.id, conversations.teamId))
      .where(
        and(
          eq(conversations.status, filter.status),
          viewWhere,
          visibleConversationsWhere(member),
          search,
          where,
        ),
      )
      .orderBy(...order)
      .limit(count)
      .all();
  let rows: ReturnType<typeof select>;
  if (newest) {
    rows = select(
      cursor
        ? sql`(${conversations.lastMessageAt}, ${conversations.id}) < (${cursor.v}, ${cursor.id})`
        : undefined,
      [desc(conversations.lastMessageAt), desc(conversations.id)],
      size + 1,
    );
  } else {
    // Oldest waiting first, in two index walks (the *_waiting_idx indexes): the conversations
    // someone waits on by waiting time, then those nobody waits on by id. One ORDER BY over
    // coalesce(waiting_since, NEVER) sorted every conversation of the status instead.
    const inWaiting = !cursor || cursor.v < NEVER;
    rows = inWaiting
      ? select(
          and(
            isNotNull(conversations.waitingSince),
            cursor
              ? sql`(${conversations.waitingSince}, ${conversations.id}) > (${cursor.v}, ${cursor.id})`
              : undefined,
          ),
          [asc(conversations.waitingSince), asc(conversations.id)],
          size + 1,
        )
      : [];
    if (rows.length < size + 1) {
      rows = rows.concat(
        select(
          and(
            isNull(conversations.waitingSince),
            cursor && !inWaiting ? gt(conversations.id, cursor.id) : undefined,
          ),
          [asc(conversations.id)],
          size + 1 - rows.length,
        ),
      );
    }
  }
  const page = rows.slice(0, size);
  const labels = labelsOf(
    ctx.db,
    page.map((r) => r.c.id),
  );
  const names = userNames(page.flatMap((r) => (r.c.assigneeId ? [r.c.assigneeId] : [])));
  const last = page.at(-1);
  return {
    rows: page.map(({ c, contact, teamName }) => ({
      id: c.id,
      status: c.status,
      channel: c.channel,
      contact,
      assignee: c.assigneeId ? { id: c.assigneeId, name: names.get(c.assigneeId) ?? "" } : null,
      team: c.teamId !== null && teamName ? { id: c.teamId, name: teamName } : null,
      preview: c.preview,
      lastMessageAt: c.lastMessageAt,
      waitingSince: c.waitingSince,
      snoozedUntil: c.snoozedUntil,
      labels: labels.get(c.id) ?? [],
    })),
    nextCursor:
      rows.length > size && last
        ? `${newest ? last.c.lastMessageAt.getTime() : last.waiting}~${last.c.id}`
        : null,
  };
}

/** The team views a member gets: their own teams; owners, admins and marketers see every team. */
export function inboxTeams(
  ctx: WorkspaceContext,
  member: InboxMember,
): { id: number; name: string }[] {
  const all = ctx.db
    .select({ id: teams.id, name: teams.name })
    .from(teams)
    .orderBy(teams.name)
    .all();
  return seesEverything(member) ? all : all.filter((t) => member.teamIds.includes(t.id));
}

/** Reads the list's URL parameters; unknown values fall back to the defaults. */
export function readInboxQuery(params: URLSearchParams): ConversationFilter {
  const view = params.get("view") ?? "all";
  const team = /^team-(\d{1,9})$/.exec(view);
  const status = params.get("status") ?? "open";
  return {
    view: team
      ? { teamId: Number(team[1]) }
      : view === "mine" || view === "unassigned"
        ? view
        : "all",
    status: (CONVERSATION_STATUSES as readonly string[]).includes(status)
      ? (status as ConversationStatus)
      : "open",
    order: params.get("order") === "oldest-waiting" ? "oldest-waiting" : "newest",
    q: (params.get("q") ?? "").slice(0, 200),
    cursor: params.get("cursor") || undefined,
  };
}
