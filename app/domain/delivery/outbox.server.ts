import type { Statement } from "better-sqlite3";
import { and, desc, eq, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import type { MessageContent } from "~/channels/types";
import { getControlDb } from "~/db/control.server";
import { markDueIn, setDueIn } from "~/db/due-lists.server";
import { deliveryQueue, workspaces } from "~/db/schema/control";
import { contacts, messageContents, messages, type MessageStatus } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import type { Channel } from "~/lib/channels";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { idSource } from "~/lib/tokens";
import { suppressionHash, suppressionKey } from "../contacts/suppression-hash.server";
import type { WorkspaceContext } from "../context";
import { conversationForOutbound, touchOutbound } from "../inbox/conversations.server";
import { messageText } from "../inbox/thread.server";
import { composeMarketingEmail } from "./email-compose.server";
import { integrationForChannel } from "./integrations.server";

/**
 * The outbox: queueing messages for contacts, and the one place that decides
 * whether a message may go to a person at all (suppression, consent, an address on the
 * channel). A message that may not go is still written, as `skipped` with the reason, so every
 * message a campaign or a person asked for ends somewhere visible.
 */

/** Message ids sort by creation time: rows are appended to the primary-key index. */
const nextMessageId = idSource("msg");

export interface QueueInput {
  contactId: number;
  channel: Channel;
  /** "marketing" needs granted consent and carries unsubscribe; "service" answers a person. */
  kind: MessageKind;
  content: MessageContent;
  /** Queueing the same key twice queues once (e.g. `campaign:12:contact:34`). */
  idempotencyKey?: string;
  campaignId?: number;
  /** Not before this time (scheduled sends). */
  notBefore?: Date;
  /** False: links in a marketing email are not rewritten for click tracking (the template's). */
  trackLinks?: boolean;
  /** The inbox conversation it answers; absent: the contact's active one (or a new one). */
  conversationId?: number;
  /** The member who wrote it (an inbox reply). */
  authorId?: string;
}

export interface QueueSummary {
  queued: number;
  skipped: number;
  /** Already queued under the same idempotency key. */
  duplicates: number;
  skippedReasons: Record<string, number>;
  ids: string[];
}

export type MessageKind = "marketing" | "service" | "confirmation";

type ContactRow = Pick<typeof contacts.$inferSelect, "id" | "email" | "phone" | "telegramChatId">;

/** Where a contact is reached on a channel, or null when they have no address there. */
export function recipientFor(contact: ContactRow, channel: Channel): string | null {
  switch (channel) {
    case "email":
      return contact.email;
    case "whatsapp":
    case "sms":
      return contact.phone;
    case "telegram":
      return contact.telegramChatId;
  }
}

const NO_ADDRESS: Record<Channel, string> = {
  email: "No email address",
  whatsapp: "No phone number",
  sms: "No phone number",
  telegram: "Not linked to the Telegram bot",
};

/**
 * Why a message may not go to this contact now, or null. Checked when queueing and again just
 * before sending (consent can be withdrawn in between).
 */
export function blockedReason(
  db: TenantDb,
  key: Buffer,
  contact: ContactRow,
  channel: Channel,
  kind: MessageKind,
): string | null {
  if (!recipientFor(contact, channel)) return NO_ADDRESS[channel];
  if (kind === "confirmation") return null;
  const s = checks(db);
  const email = contact.email ? suppressionHash(key, "email", contact.email) : null;
  const phone = contact.phone ? suppressionHash(key, "phone", contact.phone) : null;
  if ((email || phone) && s.suppressed.get(email, phone, channel)) return "On the suppression list";
  if (kind === "marketing") {
    const consent = s.consent.get(contact.id, channel) as { status: string } | undefined;
    if (consent?.status !== "granted") {
      return consent ? "Consent withdrawn" : "No consent on this channel";
    }
  }
  return null;
}

// Called per message by the dispatcher: prepared once per connection, not built per call.
const checkStatements = new WeakMap<object, { suppressed: Statement; consent: Statement }>();
function checks(db: TenantDb) {
  let s = checkStatements.get(db.$client);
  if (!s) {
    s = {
      // Same rule as isSuppressed: the channel itself or "all", by email or by phone.
      suppressed: db.$client.prepare(
        "SELECT 1 FROM suppressions WHERE hash IN (?, ?) AND channel IN (?, 'all') LIMIT 1",
      ),
      consent: db.$client.prepare(
        "SELECT status FROM consents WHERE contact_id = ? AND channel = ?",
      ),
    };
    checkStatements.set(db.$client, s);
  }
  return s;
}

function assertContent(channel: Channel, content: MessageContent): void {
  if (content.channel !== channel) {
    throw new ValidationError(`The content is for ${content.channel}, not ${channel}.`);
  }
  const text =
    content.channel === "email"
      ? content.subject.trim() && (content.text.trim() || content.html.trim())
      : content.channel === "whatsapp" && content.type === "template"
        ? content.name.trim()
        : content.channel === "whatsapp" && content.type === "media"
          ? content.media.attachmentId
          : content.text.trim();
  if (!text) throw new ValidationError("The message is empty.");
  if (content.channel === "whatsapp" && content.type === "media") {
    // The only way to describe an attachment is WhatsApp media; say so if one shows up elsewhere.
    if (channel !== "whatsapp") {
      throw new ValidationError("Attachments can only be sent on WhatsApp.");
    }
    if ((content.caption ?? "").length > 1024) {
      throw new ValidationError("A WhatsApp caption can be at most 1,024 characters.");
    }
  }
}

/** Queues messages in one transaction and wakes the dispatcher. */
export function queueMessages(ctx: WorkspaceContext, inputs: QueueInput[]): QueueSummary {
  const summary: QueueSummary = {
    queued: 0,
    skipped: 0,
    duplicates: 0,
    skippedReasons: {},
    ids: [],
  };
  if (inputs.length === 0) return summary;
  for (const input of inputs) assertContent(input.channel, input.content);
  const workspace = getControlDb()
    .select({ trackOpens: workspaces.trackOpens, trackClicks: workspaces.trackClicks })
    .from(workspaces)
    .where(eq(workspaces.id, ctx.workspaceId))
    .get();
  if (!workspace) throw new NotFoundError("Workspace", ctx.workspaceId);
  const integrationIds = new Map<Channel, string | null>();
  const integrationOf = (channel: Channel) => {
    if (!integrationIds.has(channel)) {
      integrationIds.set(channel, integrationForChannel(ctx.workspaceId, channel)?.id ?? null);
    }
    return integrationIds.get(channel)!;
  };
  const key = suppressionKey(ctx.db);
  const now = ctx.now();
  let earliest = Number.POSITIVE_INFINITY;
  ctx.db.transaction(
    (tx) => {
      for (const input of inputs) {
        const contact = tx
          .select({
            id: contacts.id,
            email: contacts.email,
            phone: contacts.phone,
            telegramChatId: contacts.telegramChatId,
          })
          .from(contacts)
          .where(eq(contacts.id, input.contactId))
          .get();
        if (!contact) throw new NotFoundError("Contact", input.contactId);
        const id = nextMessageId();
        // ctx.db is the connection of this transaction: its reads see the transaction.
        const reason = blockedReason(ctx.db, key, contact, input.channel, input.kind);
        const due = input.notBefore?.getTime() ?? now.getTime();
        let content = input.content;
        if (content.channel === "email" && input.kind === "marketing") {
          content = composeMarketingEmail(content, {
            target: {
              workspaceId: ctx.workspaceId,
              contactId: contact.id,
              channel: "email",
              messageId: id,
            },
            trackOpens: workspace.trackOpens,
            trackClicks: workspace.trackClicks && input.trackLinks !== false,
          });
        }
        // Queued before under this key: nothing to do (and no conversation to touch).
        if (
          input.idempotencyKey &&
          tx
            .select({ id: messages.id })
            .from(messages)
            .where(eq(messages.idempotencyKey, input.idempotencyKey))
            .get()
        ) {
          summary.duplicates += 1;
          continue;
        }
        // A message that will not go joins no conversation unless it was written in one.
        const conversationId =
          input.conversationId ??
          (reason
            ? null
            : conversationForOutbound(ctx.db, {
                contactId: contact.id,
                channel: input.channel,
                integrationId: integrationOf(input.channel),
                at: now,
                preview: messageText(content).text,
                kind: input.kind,
                authorId: input.authorId ?? null,
              }));
        if (input.conversationId !== undefined) {
          touchOutbound(ctx.db, input.conversationId, {
            at: now,
            preview: messageText(content).text,
            authorId: input.authorId ?? null,
          });
        }
        const inserted = tx
          .insert(messages)
          .values({
            id,
            contactId: contact.id,
            channel: input.channel,
            integrationId: integrationOf(input.channel),
            kind: input.kind,
            recipient: recipientFor(contact, input.channel) ?? "",
            status: reason ? "skipped" : "queued",
            error: reason,
            nextAttemptAt: new Date(due),
            idempotencyKey: input.idempotencyKey ?? null,
            campaignId: input.campaignId ?? null,
            conversationId,
            authorId: input.authorId ?? null,
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing({ target: messages.idempotencyKey })
          .run();
        if (inserted.changes === 0) {
          summary.duplicates += 1;
          continue;
        }
        tx.insert(messageContents)
          .values({ messageId: id, content: JSON.stringify(content) })
          .run();
        summary.ids.push(id);
        if (reason) {
          summary.skipped += 1;
          summary.skippedReasons[reason] = (summary.skippedReasons[reason] ?? 0) + 1;
        } else {
          summary.queued += 1;
          earliest = Math.min(earliest, due);
        }
      }
    },
    { behavior: "immediate" },
  );
  if (summary.queued > 0) markDue(ctx.workspaceId, earliest);
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Which workspaces have work: the control db's delivery_queue, and a wake-up for the dispatcher.

type Waker = (workspaceId: string, dueAt: number) => void;
let waker: Waker | null = null;

/** The dispatcher registers here to hear about newly queued work at once. */
export function onMessagesQueued(fn: Waker | null): void {
  waker = fn;
}

/** Records that the workspace has a message due at `dueAt` (keeps the earlier of two). */
export function markDue(workspaceId: string, dueAt: number): void {
  markDueIn(deliveryQueue, workspaceId, dueAt);
  waker?.(workspaceId, dueAt);
}

/** After a dispatch pass: the next due time of the workspace, or no row when nothing waits. */
export function settleDue(db: TenantDb, workspaceId: string): number | null {
  const next = db
    .select({ at: sql<number | null>`min(${messages.nextAttemptAt})` })
    .from(messages)
    .where(inArray(messages.status, ["queued", "sending"]))
    .get();
  const at = next?.at ?? null;
  setDueIn(deliveryQueue, workspaceId, at);
  return at;
}

/** A deleted workspace sends nothing: its outbox is no longer anyone's due. */
export function forgetDue(workspaceId: string): void {
  setDueIn(deliveryQueue, workspaceId, null);
}

/** Workspaces with messages due by `now` (never deleted ones), and the earliest later due time. */
export function dueWorkspaces(now: number): { due: string[]; nextAt: number | null } {
  const rows = getControlDb()
    .select({ workspaceId: deliveryQueue.workspaceId, nextDueAt: deliveryQueue.nextDueAt })
    .from(deliveryQueue)
    .innerJoin(workspaces, eq(workspaces.id, deliveryQueue.workspaceId))
    .where(ne(workspaces.status, "deleted"))
    .all();
  const due: string[] = [];
  let nextAt: number | null = null;
  for (const row of rows) {
    const at = row.nextDueAt.getTime();
    if (at <= now) due.push(row.workspaceId);
    else nextAt = nextAt === null ? at : Math.min(nextAt, at);
  }
  return { due, nextAt };
}

// ---------------------------------------------------------------------------------------------
// Reading messages.

export interface MessageRow {
  id: string;
  contactId: number | null;
  channel: Channel;
  integrationId: string | null;
  kind: MessageKind;
  campaignId: number | null;
  recipient: string;
  /** Null until a campaign message is sent: it is written from its template then. */
  content: MessageContent | null;
  status: MessageStatus;
  attempts: number;
  error: string | null;
  createdAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  readAt: Date | null;
  openedAt: Date | null;
  clickedAt: Date | null;
  failedAt: Date | null;
}

function toRow(row: typeof messages.$inferSelect, content: string | null): MessageRow {
  return {
    id: row.id,
    contactId: row.contactId,
    channel: row.channel,
    integrationId: row.integrationId,
    kind: row.kind,
    campaignId: row.campaignId,
    recipient: row.recipient,
    content: content ? (JSON.parse(content) as MessageContent) : null,
    status: row.status,
    attempts: row.attempts,
    error: row.error,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    deliveredAt: row.deliveredAt,
    readAt: row.readAt,
    openedAt: row.openedAt,
    clickedAt: row.clickedAt,
    failedAt: row.failedAt,
  };
}

export function getMessage(ctx: WorkspaceContext, id: string): MessageRow {
  const row = ctx.db
    .select({ message: messages, content: messageContents.content })
    .from(messages)
    .leftJoin(messageContents, eq(messageContents.messageId, messages.id))
    .where(eq(messages.id, id))
    .get();
  if (!row) throw new NotFoundError("Message", id);
  return toRow(row.message, row.content);
}

export interface MessagePage {
  rows: MessageRow[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Newest first, keyset-paged by (created_at, id). */
export function listMessages(
  ctx: WorkspaceContext,
  options: {
    contactId?: number;
    sandbox?: boolean;
    channel?: Channel;
    status?: MessageStatus;
    campaignId?: number;
    before?: string | null;
    limit?: number;
  } = {},
): MessagePage {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  let cursor: { at: number; id: string } | null = null;
  if (options.before) {
    const [at, id] = options.before.split("~");
    if (at && id && /^\d+$/.test(at)) cursor = { at: Number(at), id };
  }
  const rows = ctx.db
    .select({ message: messages, content: messageContents.content })
    .from(messages)
    .leftJoin(messageContents, eq(messageContents.messageId, messages.id))
    .where(
      and(
        options.contactId !== undefined ? eq(messages.contactId, options.contactId) : undefined,
        options.sandbox ? isNull(messages.integrationId) : undefined,
        options.channel ? eq(messages.channel, options.channel) : undefined,
        options.status ? eq(messages.status, options.status) : undefined,
        options.campaignId !== undefined ? eq(messages.campaignId, options.campaignId) : undefined,
        cursor
          ? sql`(${messages.createdAt}, ${messages.id}) < (${cursor.at}, ${cursor.id})`
          : undefined,
      ),
    )
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(limit + 1)
    .all();
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map((r) => toRow(r.message, r.content));
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: more && last ? `${last.createdAt.getTime()}~${last.id}` : null,
  };
}

export type StatusCounts = Partial<Record<MessageStatus, number>>;

export function countMessagesByStatus(
  db: TenantDb,
  where: { campaignId?: number; since?: Date } = {},
): StatusCounts {
  const rows = db
    .select({ status: messages.status, n: sql<number>`count(*)` })
    .from(messages)
    .where(
      and(
        where.campaignId !== undefined ? eq(messages.campaignId, where.campaignId) : undefined,
        where.since ? lt(sql`${where.since.getTime()}`, messages.createdAt) : undefined,
      ),
    )
    .groupBy(messages.status)
    .all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
