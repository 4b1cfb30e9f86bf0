import type { Statement } from "better-sqlite3";
import { and, desc, eq, sql } from "drizzle-orm";
import { campaigns, contacts } from "~/db/schema/tenant";
import {
  conversationActivity,
  conversationLabels,
  conversations,
  labels,
  teams,
  type ConversationStatus,
} from "~/db/schema/tenant-inbox";
import type { TenantDb } from "~/db/tenants.server";
import type { Channel } from "~/lib/channels";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { afterResolved } from "./after-message.server";
import { markInboxDue } from "./inbox-due.server";
import { publishInboxEvent } from "./live.server";
import { assertCanReply, canSeeConversation, type InboxMember } from "./members.server";
import { STATUS_LABELS } from "./status-labels";
import { userNames } from "./user-names.server";

export { STATUS_LABELS };

export {
  listConversations,
  type ConversationFilter,
  type ConversationPage,
} from "./conversation-list.server";

/**
 * Conversations: one thread per contact, channel and channel account. Every message in or out
 * finds its conversation here, inside the transaction that stores it, so the partial unique
 * index (one not-resolved conversation per contact, channel and account) is never raced.
 */

const DAY_MS = 24 * 60 * 60_000;
export const DEFAULT_REOPEN_DAYS = 7;
/** How long a campaign message stays "the campaign they answer" for an inbound reply. */
const CAMPAIGN_REPLY_MS = 7 * DAY_MS;
const PREVIEW_CHARS = 140;

/** The conversation's account: the integration id, "" for the sandbox. */
export function accountKeyOf(integrationId: string | null): string {
  return integrationId ?? "";
}

export function previewOf(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

/**
 * The statements every inbound and outbound message runs (a webhook burst is thousands a
 * second): prepared once per connection instead of built and prepared by the query builder
 * each time.
 */
interface HotStatements {
  reopenDays: Statement;
  active: Statement;
  touchInbound: Statement;
  campaignReplied: Statement;
  linkInbound: Statement;
}
const hotCache = new WeakMap<object, HotStatements>();
function hot(db: TenantDb): HotStatements {
  const c = db.$client;
  let s = hotCache.get(c);
  if (!s) {
    s = {
      reopenDays: c.prepare("SELECT reopen_within_days FROM inbox_settings WHERE id = 1").pluck(),
      active: c.prepare(
        `SELECT id, status FROM conversations
         WHERE contact_id = ? AND channel = ? AND account_key = ? AND status <> 'resolved'`,
      ),
      touchInbound: c.prepare(
        `UPDATE conversations SET last_inbound_at = max(coalesce(last_inbound_at, 0), ?),
           last_message_at = max(last_message_at, ?), waiting_since = coalesce(waiting_since, ?),
           preview = ?, last_campaign_id = coalesce(?, last_campaign_id), updated_at = ?
         WHERE id = ?`,
      ),
      campaignReplied: c
        .prepare(
          `SELECT campaign_id FROM messages
           WHERE contact_id = ? AND created_at >= ? AND created_at <= ? AND channel = ?
             AND campaign_id IS NOT NULL
           ORDER BY created_at DESC LIMIT 1`,
        )
        .pluck(),
      linkInbound: c.prepare(
        "UPDATE inbound_messages SET conversation_id = ?, campaign_id = ? WHERE id = ?",
      ),
    };
    hotCache.set(c, s);
  }
  return s;
}

/** The workspace's reopen rule (inbox_settings row 1; 7 days when it was never saved). */
export function reopenWithinDays(db: TenantDb): number {
  const days = hot(db).reopenDays.get() as number | null | undefined;
  return days ?? DEFAULT_REOPEN_DAYS;
}

function activeConversation(
  db: TenantDb,
  contactId: number,
  channel: Channel,
  accountKey: string,
): { id: number; status: ConversationStatus } | undefined {
  return hot(db).active.get(contactId, channel, accountKey) as
    { id: number; status: ConversationStatus } | undefined;
}

function addActivity(
  db: TenantDb,
  conversationId: number,
  at: Date,
  kind: string,
  body = "",
  actorId: string | null = null,
  data: Record<string, unknown> | null = null,
): void {
  db.insert(conversationActivity)
    .values({ conversationId, at, kind, body, actorId, data: data ? JSON.stringify(data) : null })
    .run();
}

function createConversation(
  db: TenantDb,
  input: { contactId: number; channel: Channel; accountKey: string; at: Date },
): number {
  const row = db
    .insert(conversations)
    .values({
      contactId: input.contactId,
      channel: input.channel,
      accountKey: input.accountKey,
      status: "open",
      lastMessageAt: input.at,
      createdAt: input.at,
      updatedAt: input.at,
    })
    .returning({ id: conversations.id })
    .get();
  addActivity(db, row.id, input.at, "created");
  return row.id;
}

/**
 * The campaign a customer's message most likely answers: the contact's newest campaign message
 * on the channel in the last 7 days (an index range on messages_contact_idx).
 */
export function campaignRepliedTo(
  db: TenantDb,
  contactId: number,
  channel: Channel,
  at: Date,
): number | null {
  const t = at.getTime();
  const campaignId = hot(db).campaignReplied.get(contactId, t - CAMPAIGN_REPLY_MS, t, channel) as
    number | undefined;
  return campaignId ?? null;
}

export interface InboundInput {
  contactId: number;
  channel: Channel;
  integrationId: string | null;
  at: Date;
  preview: string;
  campaignId?: number | null;
  reopenWithinDays: number;
}

/**
 * A customer's message: joins the active conversation, else reopens the newest resolved one
 * when it was resolved within `reopenWithinDays`, else starts a new one. A snoozed conversation
 * wakes. Call inside the transaction that stores the message.
 */
export function conversationForInbound(
  db: TenantDb,
  input: InboundInput,
): { conversationId: number; created: boolean; reopened: boolean } {
  const accountKey = accountKeyOf(input.integrationId);
  const preview = previewOf(input.preview);
  const common = {
    lastInboundAt: sql`max(coalesce(${conversations.lastInboundAt}, 0), ${input.at.getTime()})`,
    lastMessageAt: sql`max(${conversations.lastMessageAt}, ${input.at.getTime()})`,
    waitingSince: sql`coalesce(${conversations.waitingSince}, ${input.at.getTime()})`,
    preview,
    lastCampaignId: sql`coalesce(${input.campaignId ?? null}, ${conversations.lastCampaignId})`,
    updatedAt: input.at,
  };
  const active = activeConversation(db, input.contactId, input.channel, accountKey);
  if (active && active.status !== "snoozed") {
    // The common case, the same update as `common` on a prepared statement.
    const at = input.at.getTime();
    hot(db).touchInbound.run(at, at, at, preview, input.campaignId ?? null, at, active.id);
    return { conversationId: active.id, created: false, reopened: false };
  }
  if (active) {
    const wakes = active.status === "snoozed";
    db.update(conversations)
      .set(wakes ? { ...common, status: "open", snoozedUntil: null } : common)
      .where(eq(conversations.id, active.id))
      .run();
    if (wakes)
      addActivity(db, active.id, input.at, "status", "Woke up: the customer wrote", null, {
        from: "snoozed",
        to: "open",
      });
    return { conversationId: active.id, created: false, reopened: false };
  }
  const last = db
    .select({ id: conversations.id, resolvedAt: conversations.resolvedAt })
    .from(conversations)
    .where(
      and(
        eq(conversations.contactId, input.contactId),
        eq(conversations.channel, input.channel),
        eq(conversations.accountKey, accountKey),
      ),
    )
    .orderBy(desc(conversations.lastMessageAt), desc(conversations.id))
    .limit(1)
    .get();
  const since = input.at.getTime() - input.reopenWithinDays * DAY_MS;
  if (last?.resolvedAt && last.resolvedAt.getTime() >= since) {
    db.update(conversations)
      .set({ ...common, status: "open", resolvedAt: null, snoozedUntil: null })
      .where(eq(conversations.id, last.id))
      .run();
    addActivity(db, last.id, input.at, "reopened", "Reopened: the customer wrote");
    return { conversationId: last.id, created: false, reopened: true };
  }
  const id = createConversation(db, { ...input, accountKey });
  db.update(conversations).set(common).where(eq(conversations.id, id)).run();
  return { conversationId: id, created: true, reopened: false };
}

export interface OutboundInput {
  contactId: number;
  channel: Channel;
  integrationId: string | null;
  at: Date;
  preview: string;
  kind: "marketing" | "service" | "confirmation";
  authorId?: string | null;
}

/**
 * A message we send: service and confirmation messages join the active conversation or start
 * one; marketing (campaign) messages only join an existing one, so a campaign to 100k people
 * opens no conversations. Returns the conversation id, or null.
 */
export function conversationForOutbound(db: TenantDb, input: OutboundInput): number | null {
  const accountKey = accountKeyOf(input.integrationId);
  const active = activeConversation(db, input.contactId, input.channel, accountKey);
  let id = active?.id ?? null;
  if (id === null) {
    if (input.kind === "marketing") return null;
    id = createConversation(db, { ...input, accountKey });
  }
  touchOutbound(db, id, input);
  return id;
}

/** A message went out in the conversation; a member's reply means nobody waits any more. */
export function touchOutbound(
  db: TenantDb,
  conversationId: number,
  input: { at: Date; preview: string; authorId?: string | null },
): void {
  const at = input.at.getTime();
  db.update(conversations)
    .set({
      lastMessageAt: sql`max(${conversations.lastMessageAt}, ${at})`,
      preview: previewOf(input.preview),
      updatedAt: input.at,
      ...(input.authorId
        ? {
            waitingSince: null,
            queuedAt: null,
            firstResponseAt: sql`coalesce(${conversations.firstResponseAt}, ${at})`,
          }
        : {}),
    })
    .where(eq(conversations.id, conversationId))
    .run();
}

// ---------------------------------------------------------------------------------------------
// One conversation.

export interface ConversationDetail {
  id: number;
  status: ConversationStatus;
  channel: Channel;
  accountKey: string;
  contactId: number;
  contact: {
    id: number;
    name: string;
    email: string | null;
    phone: string | null;
    telegramChatId: string | null;
  };
  assigneeId: string | null;
  assignee: { id: string; name: string } | null;
  teamId: number | null;
  team: { id: number; name: string } | null;
  labels: { id: number; name: string; color: string }[];
  snoozedUntil: Date | null;
  waitingSince: Date | null;
  lastMessageAt: Date;
  lastInboundAt: Date | null;
  lastCampaign: { id: number; name: string } | null;
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  createdAt: Date;
}

/** The conversation, or NotFoundError when it does not exist or the member may not see it. */
export function getConversation(
  ctx: WorkspaceContext,
  member: InboxMember,
  id: number,
): ConversationDetail {
  const row = ctx.db
    .select({
      c: conversations,
      contact: {
        id: contacts.id,
        name: contacts.name,
        email: contacts.email,
        phone: contacts.phone,
        telegramChatId: contacts.telegramChatId,
      },
      teamName: teams.name,
      campaignName: campaigns.name,
    })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .leftJoin(teams, eq(teams.id, conversations.teamId))
    .leftJoin(campaigns, eq(campaigns.id, conversations.lastCampaignId))
    .where(eq(conversations.id, id))
    .get();
  if (!row || !canSeeConversation(member, row.c)) throw new NotFoundError("Conversation", id);
  const c = row.c;
  const names = userNames(c.assigneeId ? [c.assigneeId] : []);
  return {
    id: c.id,
    status: c.status,
    channel: c.channel,
    accountKey: c.accountKey,
    contactId: c.contactId,
    contact: row.contact,
    assigneeId: c.assigneeId,
    assignee: c.assigneeId ? { id: c.assigneeId, name: names.get(c.assigneeId) ?? "" } : null,
    teamId: c.teamId,
    team: c.teamId !== null && row.teamName ? { id: c.teamId, name: row.teamName } : null,
    labels: labelsOf(ctx.db, [c.id]).get(c.id) ?? [],
    snoozedUntil: c.snoozedUntil,
    waitingSince: c.waitingSince,
    lastMessageAt: c.lastMessageAt,
    lastInboundAt: c.lastInboundAt,
    lastCampaign:
      c.lastCampaignId !== null && row.campaignName
        ? { id: c.lastCampaignId, name: row.campaignName }
        : null,
    firstResponseAt: c.firstResponseAt,
    resolvedAt: c.resolvedAt,
    createdAt: c.createdAt,
  };
}

export type LabelChip = { id: number; name: string; color: string };

/** The labels of some conversations (one query for a page). */
export function labelsOf(db: TenantDb, ids: readonly number[]): Map<number, LabelChip[]> {
  const out = new Map<number, LabelChip[]>();
  if (ids.length === 0) return out;
  const rows = db
    .select({
      conversationId: conversationLabels.conversationId,
      id: labels.id,
      name: labels.name,
      color: labels.color,
    })
    .from(conversationLabels)
    .innerJoin(labels, eq(labels.id, conversationLabels.labelId))
    .where(sql`${conversationLabels.conversationId} IN ${ids}`)
    .orderBy(labels.name)
    .all();
  for (const r of rows) {
    const list = out.get(r.conversationId) ?? [];
    list.push({ id: r.id, name: r.name, color: r.color });
    out.set(r.conversationId, list);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Status.

/**
 * Resolve, reopen, mark pending or snooze (until a time, or with null until the customer next
 * writes). Needs inbox:reply and a conversation the member can see.
 */
export function setConversationStatus(
  ctx: WorkspaceContext,
  member: InboxMember,
  id: number,
  status: ConversationStatus,
  options: { snoozeUntil?: Date | null } = {},
): void {
  const current = getConversation(ctx, member, id);
  assertCanReply(member);
  const now = ctx.now();
  const snoozeUntil = status === "snoozed" ? (options.snoozeUntil ?? null) : null;
  if (snoozeUntil && snoozeUntil.getTime() <= now.getTime()) {
    throw new ValidationError("Choose a time in the future to snooze until.", {
      snoozeUntil: ["Choose a time in the future."],
    });
  }
  if (current.status === status && status !== "snoozed") return;
  ctx.db.transaction(
    (tx) => {
      if (current.status === "resolved") {
        const other = activeConversation(
          ctx.db,
          current.contactId,
          current.channel,
          current.accountKey,
        );
        if (other) {
          throw new ConflictError(
            "This contact already has an open conversation on this channel: continue there.",
          );
        }
      }
      tx.update(conversations)
        .set({
          status,
          snoozedUntil: snoozeUntil,
          resolvedAt: status === "resolved" ? now : null,
          ...(status === "resolved" ? { queuedAt: null } : {}),
          updatedAt: now,
        })
        .where(eq(conversations.id, id))
        .run();
      const body =
        status === "snoozed"
          ? snoozeUntil
            ? `Snoozed until ${snoozeUntil.toISOString()}`
            : "Snoozed until the customer replies"
          : current.status === "resolved"
            ? "Reopened"
            : `Marked ${STATUS_LABELS[status].toLowerCase()}`;
      addActivity(ctx.db, id, now, "status", body, member.userId, {
        from: current.status,
        to: status,
        snoozeUntil: snoozeUntil?.getTime() ?? null,
      });
    },
    { behavior: "immediate" },
  );
  publishInboxEvent(ctx.workspaceId, {
    type: "conversation",
    conversationId: id,
    at: now.getTime(),
  });
  if (snoozeUntil) markInboxDue(ctx.workspaceId, snoozeUntil);
  // Only resolving frees an agent's capacity (their load counts every other status).
  if (status === "resolved") afterResolved(ctx, id, member.userId);
}

/** Snoozed conversations whose time has come are open again (cheap: a partial index). */
export function wakeSnoozed(ctx: WorkspaceContext): number {
  const now = ctx.now();
  const due = ctx.db
    .select({ id: conversations.id })
    .from(conversations)
    .where(
      and(
        eq(conversations.status, "snoozed"),
        sql`${conversations.snoozedUntil} IS NOT NULL`,
        sql`${conversations.snoozedUntil} <= ${now.getTime()}`,
      ),
    )
    .all();
  if (due.length === 0) return 0;
  ctx.db.transaction((tx) => {
    for (const { id } of due) {
      tx.update(conversations)
        .set({ status: "open", snoozedUntil: null, updatedAt: now })
        .where(eq(conversations.id, id))
        .run();
      addActivity(ctx.db, id, now, "status", "Woke up: the snooze ended", null, {
        from: "snoozed",
        to: "open",
      });
    }
  });
  for (const { id } of due) {
    publishInboxEvent(ctx.workspaceId, {
      type: "conversation",
      conversationId: id,
      at: now.getTime(),
    });
  }
  return due.length;
}

/** Inbound rows use this to link the message to its conversation and campaign. */
export function linkInbound(
  db: TenantDb,
  inboundId: number,
  conversationId: number,
  campaignId: number | null,
): void {
  hot(db).linkInbound.run(conversationId, campaignId, inboundId);
}
