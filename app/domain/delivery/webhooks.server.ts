import { workspaceContextFor } from "../workspaces/access.server";
import type { Statement } from "better-sqlite3";
import { and, eq, isNull } from "drizzle-orm";
import type { ChannelEvent, RawWebhook } from "~/channels/types";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { contacts, telegramLinks } from "~/db/schema/tenant";
import { withTenantDb, type TenantDb } from "~/db/tenants.server";
import type { Channel } from "~/lib/channels";
import { logger } from "~/lib/logger.server";
import { nameKeyOf } from "../contacts/contact-values.server";
import { suppressionKey } from "../contacts/suppression-hash.server";
import {
  suppressContactInTransaction,
  type SuppressionChannel,
} from "../contacts/suppressions.server";
import { systemContext } from "../context";
import { indexSubjects, subjectHashes } from "../privacy/subject-index.server";
import {
  campaignRepliedTo,
  conversationForInbound,
  linkInbound,
  reopenWithinDays,
} from "../inbox/conversations.server";
import { publishInboxEvent } from "../inbox/live.server";
import { afterInboundMessages, type InboundFollowUp } from "./inbound-follow-ups.server";
import { applyEmailUnsubscribe, emailSender, repliedMessage } from "./inbound-email-apply.server";
import { integrationForWebhook, type LoadedIntegration } from "./integrations.server";
import { markDue, queueMessages } from "./outbox.server";

/**
 * Provider webhooks. The route hands over the raw request; the integration's
 * adapter verifies it (signature, secret token) and parses it; verified events are stored in
 * the workspace's file before the provider gets its 200, then applied asynchronously and
 * idempotently: a replay is stored once (unique per integration and provider event id), and
 * statuses only move a message forward.
 */

export interface WebhookAnswer {
  status: number;
  body: string;
  contentType: string;
}

const text = (status: number, body: string): WebhookAnswer => ({
  status,
  body,
  contentType: "text/plain; charset=utf-8",
});

/**
 * The integration id under which the sandbox's simulated events are stored; their messages and
 * replies have no integration (null), as every sandbox row.
 */
export const SANDBOX_EVENTS = "sandbox";

const pending = new Set<string>();
let drainTimer: NodeJS.Timeout | null = null;

export async function receiveWebhook(
  segment: string,
  integrationId: string,
  raw: RawWebhook,
): Promise<WebhookAnswer> {
  const integration = integrationForWebhook(segment, integrationId);
  if (!integration) return text(404, "Unknown webhook");
  // A 200 without effect: the provider stops retrying, and nothing reaches the deleted data.
  if (integration === "workspace_deleted") return text(200, "ok");
  const outcome = await integration.adapter.receiveWebhook(raw);
  if (outcome.kind === "rejected") return text(outcome.status, outcome.reason);
  if (outcome.kind === "handshake") {
    return {
      status: outcome.status,
      body: outcome.body,
      contentType: outcome.contentType ?? "text/plain; charset=utf-8",
    };
  }
  if (outcome.events.length > 0) {
    await storeSoon(integration, outcome.events);
    pending.add(integration.workspaceId);
    scheduleDrain(0);
  }
  return text(200, "ok");
}

/**
 * Events verified by a platform endpoint rather than an integration's adapter (inbound email:
 * the workspace comes from a signed address or the workspace's own webhook secret): stored in
 * that workspace under `integrationId` (its email integration, or SANDBOX_EVENTS), then applied
 * like every other webhook event.
 */
export async function storeVerifiedEvents(
  workspaceId: string,
  integrationId: string,
  channel: Channel,
  events: ChannelEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await withTenantDb(workspaceId, async (db) => {
    const at = Date.now();
    db.$client.transaction(() => storeEvents(db, integrationId, channel, events, at))();
  });
  markDue(workspaceId, Date.now() + PENDING_RECHECK_MS);
  pending.add(workspaceId);
  scheduleDrain(0);
}

/**
 * Group commit: the webhooks that arrive while one turn of the event loop runs are stored in
 * one transaction, and each gets its 200 only once that transaction has committed. One commit
 * per request would cost more than the rest of the request.
 */
interface Batch {
  items: { integration: LoadedIntegration; events: ChannelEvent[] }[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}
const batches = new Map<string, Batch>();

function storeSoon(integration: LoadedIntegration, events: ChannelEvent[]): Promise<void> {
  let batch = batches.get(integration.workspaceId);
  if (!batch) {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    batch = { items: [], done, resolve, reject };
    batches.set(integration.workspaceId, batch);
    setImmediate(() => void flushBatch(integration.workspaceId));
  }
  batch.items.push({ integration, events });
  return batch.done;
}

async function flushBatch(workspaceId: string): Promise<void> {
  const batch = batches.get(workspaceId);
  if (!batch) return;
  batches.delete(workspaceId);
  try {
    await withTenantDb(workspaceId, async (db) => {
      const at = Date.now();
      db.$client.transaction(() => {
        for (const item of batch.items) {
          storeEvents(db, item.integration.id, item.integration.channel, item.events, at);
        }
      })();
    });
    // The dispatcher applies what the drain below does not get to (e.g. after a crash).
    markDue(workspaceId, Date.now() + PENDING_RECHECK_MS);
    batch.resolve();
  } catch (error) {
    batch.reject(error);
  }
}

/** A stored event: what the adapter parsed, plus the channel of the integration it came to. */
// Called inside a transaction (flushBatch).
type StoredEvent = ChannelEvent & { channel: Channel };

/**
 * Stores verified events of one integration (inside the caller's transaction). `at` is when they
 * were received; the sandbox stores its simulated events with the later time they "arrive" at,
 * and they are applied from then on.
 */
export function storeEvents(
  db: TenantDb,
  integrationId: string,
  channel: Channel,
  events: ChannelEvent[],
  at: number,
) {
  const insert = insertStatement(db);
  for (const event of events) {
    const stored: StoredEvent = { ...event, channel };
    insert.run(integrationId, event.eventId, JSON.stringify(stored), at);
  }
}

const inserts = new WeakMap<object, Statement>();
function insertStatement(db: TenantDb): Statement {
  let s = inserts.get(db.$client);
  if (!s) {
    s = db.$client.prepare(
      `INSERT INTO webhook_events (integration_id, event_id, event, received_at)
       VALUES (?, ?, ?, ?) ON CONFLICT (integration_id, event_id) DO NOTHING`,
    );
    inserts.set(db.$client, s);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Applying stored events, in batches, off the request path.

function scheduleDrain(ms: number): void {
  if (drainTimer) return;
  drainTimer = setTimeout(() => {
    drainTimer = null;
    void drainPending();
  }, ms);
}

let draining = false;
async function drainPending(): Promise<void> {
  if (draining) return scheduleDrain(5);
  draining = true;
  try {
    for (const workspaceId of [...pending]) {
      pending.delete(workspaceId);
      const left = await processWebhookEvents(workspaceId);
      if (left > 0) {
        pending.add(workspaceId);
      }
    }
  } catch (error) {
    logger.error({ err: error }, "could not apply webhook events");
  } finally {
    draining = false;
  }
  // Events for messages whose send result is not written yet wait a little and try again.
  if (pending.size > 0) scheduleDrain(500);
}

/** A status a provider reports, and how far along it puts a message. */
const RANK: Record<string, number> = { queued: 0, sending: 1, sent: 2, delivered: 3, read: 4 };
/** Give up on an event whose message never turns up (not ours, or long gone). */
const UNMATCHED_GIVE_UP_MS = 10 * 60_000;

interface PendingRow {
  id: number;
  integration_id: string;
  event: string;
  received_at: number;
  attempts: number;
}

interface MessageMatch {
  id: string;
  contact_id: number | null;
  channel: Channel;
  status: string;
  recipient: string;
}

interface Statements {
  pending: Statement;
  done: Statement;
  retry: Statement;
  byProviderId: Statement;
  setStatus: Statement;
  setOpened: Statement;
  setClicked: Statement;
  event: Statement;
  contactByPhone: Statement;
  contactByChat: Statement;
  contactByEmail: Statement;
  inbound: Statement;
}

const statementCache = new WeakMap<object, Statements>();
function prepared(db: TenantDb): Statements {
  const c = db.$client;
  let s = statementCache.get(c);
  if (!s) {
    s = {
      pending: c.prepare(
        `SELECT id, integration_id, event, received_at, attempts FROM webhook_events
         WHERE processed_at IS NULL AND received_at <= ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      done: c.prepare("UPDATE webhook_events SET processed_at = ?, outcome = ? WHERE id = ?"),
      retry: c.prepare("UPDATE webhook_events SET attempts = attempts + 1 WHERE id = ?"),
      byProviderId: c.prepare(
        `SELECT id, contact_id, channel, status, recipient FROM messages
         WHERE provider_message_id = ? AND integration_id IS ?`,
      ),
      setStatus: c.prepare(
        `UPDATE messages SET status = ?, error = coalesce(?, error), updated_at = ?,
           sent_at = coalesce(sent_at, ?), delivered_at = coalesce(delivered_at, ?),
           read_at = coalesce(read_at, ?), failed_at = coalesce(failed_at, ?)
         WHERE id = ?`,
      ),
      setOpened: c.prepare(
        "UPDATE messages SET opened_at = coalesce(opened_at, ?), updated_at = ? WHERE id = ?",
      ),
      setClicked: c.prepare(
        `UPDATE messages SET clicked_at = coalesce(clicked_at, ?),
           opened_at = coalesce(opened_at, ?), updated_at = ? WHERE id = ?`,
      ),
      event: c.prepare(
        "INSERT INTO contact_events (contact_id, at, type, channel, data) VALUES (?, ?, ?, ?, ?)",
      ),
      contactByPhone: c.prepare("SELECT id, email, phone FROM contacts WHERE phone = ?"),
      contactByChat: c.prepare("SELECT id, email, phone FROM contacts WHERE telegram_chat_id = ?"),
      contactByEmail: c.prepare("SELECT id, email, phone FROM contacts WHERE email = ?"),
      inbound: c.prepare(
        `INSERT INTO inbound_messages (contact_id, channel, integration_id, sender, text,
           provider_message_id, at, email_message_id, email_subject, email_references, automated)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel, provider_message_id) DO NOTHING`,
      ),
    };
    statementCache.set(c, s);
  }
  return s;
}

/** Applies stored events of one workspace; returns how many still wait for their message. */
export async function processWebhookEvents(workspaceId: string, now = Date.now): Promise<number> {
  return withTenantDb(workspaceId, async (db) => applyPending(db, workspaceId, now));
}

/** How soon the dispatcher looks again at a workspace with events not applied yet. */
export const PENDING_RECHECK_MS = 5_000;

/** Whether stored events wait to be applied (the dispatcher keeps the workspace due). */
export function hasPendingEvents(db: TenantDb, now = Date.now()): boolean {
  return Boolean(
    db.$client
      .prepare(
        "SELECT 1 FROM webhook_events WHERE processed_at IS NULL AND received_at <= ? LIMIT 1",
      )
      .get(now),
  );
}

/** When the next event stored to arrive later (the sandbox's) is due, or null. */
export function nextLaterEventAt(db: TenantDb, now: number): number | null {
  const row = db.$client
    .prepare(
      `SELECT min(received_at) AS at FROM webhook_events
       WHERE processed_at IS NULL AND received_at > ?`,
    )
    .get(now) as { at: number | null };
  return row.at;
}

/** What a batch does once it committed: customer-message rules, then confirmations to send. */
interface FollowUps {
  inbound: InboundFollowUp[];
  other: Array<() => void>;
}

export function applyPending(db: TenantDb, workspaceId: string, now: () => number): number {
  const s = prepared(db);
  const key = suppressionKey(db);
  const followUps: FollowUps = { inbound: [], other: [] };
  // Read once per call, not per event: a burst applies hundreds of messages here.
  let facts: InboundFacts | undefined;
  const factsOf = (): InboundFacts =>
    (facts ??= { ...workspaceFacts(workspaceId), reopenWithinDays: reopenWithinDays(db) });
  let waiting = 0;
  let after = 0;
  for (;;) {
    const rows = s.pending.all(now(), after, 500) as PendingRow[];
    if (rows.length === 0) break;
    after = rows.at(-1)!.id;
    db.$client
      .transaction(() => {
        for (const row of rows) {
          const at = now();
          const event = JSON.parse(row.event) as StoredEvent;
          const integrationId = row.integration_id === SANDBOX_EVENTS ? null : row.integration_id;
          const result =
            event.type === "status"
              ? applyStatus(s, db, key, integrationId, event, at)
              : event.email?.purpose === "unsubscribe"
                ? applyEmailUnsubscribe(db, key, event, at)
                : applyInbound(
                    s,
                    db,
                    key,
                    workspaceId,
                    integrationId,
                    event,
                    at,
                    followUps,
                    factsOf,
                  );
          if (result === null) {
            if (at - row.received_at > UNMATCHED_GIVE_UP_MS) {
              s.done.run(at, "No message of this workspace has this provider id", row.id);
            } else {
              s.retry.run(row.id);
              waiting += 1;
            }
          } else {
            s.done.run(at, result, row.id);
          }
        }
      })
      .immediate();
  }
  // The batch is committed: open inbox pages hear of every message first, then the rules run.
  for (const f of followUps.inbound) {
    publishInboxEvent(workspaceId, {
      type: "message",
      conversationId: f.conversationId,
      direction: "in",
      at: f.at.getTime(),
    });
  }
  afterInboundMessages(workspaceId, db, followUps.inbound);
  for (const followUp of followUps.other) followUp();
  return waiting;
}

function applyStatus(
  s: Statements,
  db: TenantDb,
  key: Buffer,
  integrationId: string | null,
  event: Extract<ChannelEvent, { type: "status" }>,
  at: number,
): string | null {
  const message = s.byProviderId.get(event.providerMessageId, integrationId) as
    MessageMatch | undefined;
  if (!message) return null;
  const when = new Date(event.at).getTime() || at;
  const contactEvent = (type: string, data: Record<string, unknown> = {}) => {
    if (message.contact_id !== null) {
      s.event.run(
        message.contact_id,
        when,
        type,
        message.channel,
        JSON.stringify({ messageId: message.id, ...data }),
      );
    }
  };
  switch (event.status) {
    case "opened":
      s.setOpened.run(when, at, message.id);
      contactEvent("message.opened");
      return "opened";
    case "clicked":
      s.setClicked.run(when, when, at, message.id);
      contactEvent("message.clicked");
      return "clicked";
    case "complained":
      suppressRecipient(db, key, message, event.recipient, "complaint", at);
      contactEvent("message.complained");
      return "complaint: suppressed";
    case "failed":
    case "bounced": {
      if (event.status === "bounced" && event.permanent === false) {
        contactEvent("message.soft_bounced", { reason: event.reason });
        return "soft bounce: kept";
      }
      // A late failure does not undo a read; anything earlier gives way to it.
      if (
        message.status === "read" ||
        message.status === "failed" ||
        message.status === "bounced"
      ) {
        return `ignored: already ${message.status}`;
      }
      s.setStatus.run(event.status, event.reason ?? null, at, null, null, null, when, message.id);
      contactEvent(`message.${event.status}`, { reason: event.reason });
      if (event.status === "bounced") {
        suppressRecipient(db, key, message, event.recipient, "bounce", at);
      }
      return event.status;
    }
    default: {
      const current = RANK[message.status];
      const next = RANK[event.status]!;
      if (current === undefined || current >= next) {
        return `ignored: already ${message.status}`;
      }
      s.setStatus.run(
        event.status,
        null,
        at,
        when,
        next >= RANK.delivered! ? when : null,
        event.status === "read" ? when : null,
        null,
        message.id,
      );
      contactEvent(`message.${event.status}`);
      return event.status;
    }
  }
}

function suppressRecipient(
  db: TenantDb,
  key: Buffer,
  message: MessageMatch,
  recipient: string | undefined,
  reason: "bounce" | "complaint",
  at: number,
): void {
  const address = (recipient ?? message.recipient).trim().toLowerCase();
  const contact =
    message.contact_id !== null
      ? (db.$client.prepare("SELECT id FROM contacts WHERE id = ?").get(message.contact_id) as
          { id: number } | undefined)
      : undefined;
  suppressContactInTransaction(
    db,
    key,
    message.channel === "email"
      ? { id: contact?.id ?? null, email: address, phone: null }
      : { id: contact?.id ?? null, email: null, phone: message.recipient },
    reason,
    message.channel,
    new Date(at),
  );
}

// ---------------------------------------------------------------------------------------------
// Inbound messages: the conversation, the WhatsApp 24-hour window, STOP words, Telegram links.

/** The opt-out words every workspace honours; workspaces add their own (settings). */
export const STOP_WORDS = ["STOP", "UNSUBSCRIBE", "STOP ALL", "रोकें"] as const;

export function stopScope(text: string, extraWords: readonly string[]): "channel" | "all" | null {
  const said = text.trim().replace(/\s+/g, " ").toUpperCase();
  if (said === "STOP ALL") return "all";
  const words = [...STOP_WORDS, ...extraWords].map((w) => w.trim().toUpperCase()).filter(Boolean);
  return words.includes(said) ? "channel" : null;
}

interface InboundFacts {
  name: string;
  stopWords: string[];
  reopenWithinDays: number;
}

function workspaceFacts(workspaceId: string): { name: string; stopWords: string[] } {
  const row = getControlDb()
    .select({ name: workspaces.name, stopKeywords: workspaces.stopKeywords })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  return {
    name: row?.name ?? "us",
    stopWords: (row?.stopKeywords ?? "").split(",").filter((w) => w.trim() !== ""),
  };
}

function applyInbound(
  s: Statements,
  db: TenantDb,
  key: Buffer,
  workspaceId: string,
  integrationId: string | null,
  event: Extract<StoredEvent, { type: "inbound" }>,
  at: number,
  followUps: FollowUps,
  factsOf: () => InboundFacts,
): string {
  const channel = event.channel;
  const when = new Date(event.at).getTime() || at;
  type Found = { id: number; email: string | null; phone: string | null };
  let contact: Found | undefined;
  let linked = false;
  if (channel === "telegram") {
    contact = s.contactByChat.get(event.from) as Found | undefined;
    const start = /^\/start\s+([A-Za-z0-9_-]{8,64})$/.exec(event.text.trim());
    if (start) {
      const result = linkTelegramChat(db, start[1]!, event.from, event.name, when);
      if (result) {
        contact = result;
        linked = true;
      }
    }
  } else if (channel !== "email") {
    contact = s.contactByPhone.get(event.from) as Found | undefined;
    if (!contact) {
      // Someone wrote to the business number: they become a contact (no consent implied).
      const name = event.name ?? "";
      const inserted = db
        .insert(contacts)
        .values({
          phone: event.from,
          name,
          nameKey: nameKeyOf(name),
          createdAt: new Date(when),
          updatedAt: new Date(when),
        })
        .returning({ id: contacts.id })
        .get();
      // In the privacy index before this batch commits, so it never misses them.
      indexSubjects(workspaceId, subjectHashes({ phone: event.from }));
      contact = { id: inserted.id, email: null, phone: event.from };
    }
  } else if (channel === "email") {
    contact = emailSender(db, workspaceId, event, when);
  }
  const stored = s.inbound.run(
    contact?.id ?? null,
    channel,
    integrationId,
    event.from,
    event.text.slice(0, 4096),
    event.providerMessageId,
    when,
    // Email: what an answer needs to thread (In-Reply-To, References, "Re: <subject>").
    event.email?.headerMessageId ?? null,
    event.email ? event.email.subject : null,
    event.email?.references?.length ? event.email.references.join(" ") : null,
    event.automated === true ? 1 : 0,
  );
  if (stored.changes === 0) return "duplicate inbound message";
  if (contact) {
    // The inbox: the reply joins (or reopens, or starts) the contact's conversation.
    // An email names the message it answers; other channels: the contact's latest campaign.
    const answered = channel === "email" ? repliedMessage(db, event) : null;
    const campaignId =
      answered?.campaignId ?? campaignRepliedTo(db, contact.id, channel, new Date(when));
    const { conversationId } = conversationForInbound(db, {
      contactId: contact.id,
      channel,
      integrationId,
      at: new Date(when),
      preview: event.text,
      campaignId,
      reopenWithinDays: factsOf().reopenWithinDays,
    });
    const inboundId = Number(stored.lastInsertRowid);
    linkInbound(db, inboundId, conversationId, campaignId);
    followUps.inbound.push({
      conversationId,
      inboundId,
      integrationId,
      text: event.text,
      at: new Date(when),
      automated: event.automated === true,
      ...(event.media ? { media: event.media } : {}),
    });
    s.event.run(
      contact.id,
      when,
      "message.replied",
      channel,
      JSON.stringify({ text: event.text.slice(0, 200) }),
    );
  }
  if (linked) return "telegram chat linked";
  // Email opts out through its List-Unsubscribe addresses, not by a word in a reply.
  if (channel === "email") return event.automated ? "automated email stored" : "email stored";
  const facts = factsOf();
  const scope = stopScope(event.text, facts.stopWords);
  if (!scope || !contact) return "inbound stored";
  const target: SuppressionChannel = scope === "all" ? "all" : channel;
  suppressContactInTransaction(
    db,
    key,
    { id: contact.id, email: scope === "all" ? contact.email : null, phone: contact.phone },
    "unsubscribe",
    target,
    new Date(at),
  );
  const contactId = contact.id;
  const confirmation =
    scope === "all"
      ? `You will not get any more messages from ${facts.name}.`
      : `You will not get any more messages from ${facts.name} here.`;
  followUps.other.push(() => {
    queueMessages(workspaceContextFor(systemContext("stop-keyword"), workspaceId, db), [
      {
        contactId,
        channel,
        kind: "confirmation",
        content:
          channel === "whatsapp"
            ? { channel, type: "text", text: confirmation }
            : channel === "telegram"
              ? { channel, text: confirmation }
              : { channel: "sms", text: confirmation },
        idempotencyKey: `stop:${channel}:${event.providerMessageId}`,
      },
    ]);
  });
  return scope === "all"
    ? "STOP ALL: suppressed on every channel"
    : `STOP: suppressed on ${channel}`;
}

/**
 * /start <token>: a contact's own link (single use: once it has linked a chat, it never moves
 * that contact's chat again, so a forwarded or leaked link cannot take the conversation over),
 * or the workspace link that creates a contact per new chat and never re-points an existing one.
 */
function linkTelegramChat(
  db: TenantDb,
  token: string,
  chatId: string,
  name: string | undefined,
  at: number,
): { id: number; email: string | null; phone: string | null } | null {
  const link = db.select().from(telegramLinks).where(eq(telegramLinks.token, token)).get();
  if (!link) return null;
  const existing = db
    .select({ id: contacts.id, email: contacts.email, phone: contacts.phone })
    .from(contacts)
    .where(eq(contacts.telegramChatId, chatId))
    .get();
  if (link.contactId !== null) {
    const claimed = db
      .update(telegramLinks)
      .set({ usedAt: new Date(at) })
      .where(and(eq(telegramLinks.token, token), isNull(telegramLinks.usedAt)))
      .run();
    if (claimed.changes === 0) return null;
    if (existing && existing.id !== link.contactId) {
      db.update(contacts).set({ telegramChatId: null }).where(eq(contacts.id, existing.id)).run();
    }
    db.update(contacts)
      .set({ telegramChatId: chatId, updatedAt: new Date(at) })
      .where(eq(contacts.id, link.contactId))
      .run();
    return db
      .select({ id: contacts.id, email: contacts.email, phone: contacts.phone })
      .from(contacts)
      .where(eq(contacts.id, link.contactId))
      .get()!;
  }
  if (existing) return existing;
  const display = name ?? "";
  const inserted = db
    .insert(contacts)
    .values({
      name: display,
      nameKey: nameKeyOf(display),
      telegramChatId: chatId,
      createdAt: new Date(at),
      updatedAt: new Date(at),
    })
    .returning({ id: contacts.id, email: contacts.email, phone: contacts.phone })
    .get();
  return inserted;
}
