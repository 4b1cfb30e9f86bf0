import type { Statement } from "better-sqlite3";
import { sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { usageDaily } from "~/db/schema/control";
import { createSandboxAdapter } from "~/channels/sandbox/adapter.server";
import type { ChannelAdapter, ErrorClass, MessageContent } from "~/channels/types";
import { withTenantDb, type TenantDb } from "~/db/tenants.server";
import type { Channel } from "~/lib/channels";
import { getEnv } from "~/lib/env.server";
import { logger } from "~/lib/logger.server";
import { NotFoundError } from "~/lib/errors";
import { newId } from "~/lib/tokens";
import { suppressionKey } from "../contacts/suppression-hash.server";
import { attachmentForSend } from "../inbox/attachments.server";
import { suppressContactInTransaction } from "../contacts/suppressions.server";
import { unsubscribeHeaders, withReplyAddress } from "./email-compose.server";
import { integrationById, type LoadedIntegration } from "./integrations.server";
import {
  blockedReason,
  dueWorkspaces,
  markDue,
  onMessagesQueued,
  settleDue,
  type MessageKind,
} from "./outbox.server";
import { Pacer } from "./pacing.server";
import {
  applyPending,
  hasPendingEvents,
  nextLaterEventAt,
  PENDING_RECHECK_MS,
} from "./webhooks.server";
import { WHATSAPP_WINDOW_MS } from "./customer-replies.server";
import { scheduleSandboxWhatsApp } from "./whatsapp-sandbox.server";

/**
 * The dispatcher. One per process. For each workspace with due messages it claims
 * a batch (status `sending`, a lease owned by this process run), paces each send per channel
 * account, sends concurrently through the integration's adapter (or the sandbox), and records
 * results in batched transactions. Errors are classified by the adapter: transient ones are
 * retried with exponential backoff and jitter up to a maximum age, rate limits pause the
 * account, permanent ones fail at once with the provider's reason.
 *
 * Crash safety: a row is `sending` from its claim until its result is written. At start, a
 * workspace's `sending` rows that belong to an earlier process run are put back in the queue
 * (one process owns DATA_DIR, so nobody else can be sending them). Only messages handed to a
 * provider whose answer was not yet written can go twice: at most DELIVERY_MAX_IN_FLIGHT.
 */

/**
 * Timed work of other areas that runs when a workspace is due (e.g. the campaign scheduler):
 * gets the workspace and its db, returns when it next wants to run (ms) or null. It must not
 * wait on long work (start it and return).
 */
export type DueHook = (workspaceId: string, db: TenantDb, now: number) => number | null;

/** Who a message is personalised for when its content is written at send time. */
export interface RecipientForContent {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  attributes: string;
}

/**
 * Messages queued with empty content (campaign messages, ADR 0011) are rendered just before
 * they are sent by the campaigns area's content source: given the workspace, its db and the
 * campaign, it returns a renderer for a variant, recipient and message id (built once per
 * campaign per dispatcher visit). What was rendered is stored with the send's result.
 */
export type DeferredContentRenderer = (
  variant: string,
  recipient: RecipientForContent,
  messageId: string,
) => MessageContent;
export type DeferredContentSource = (
  workspaceId: string,
  db: TenantDb,
  campaignId: number,
) => DeferredContentRenderer;

/**
 * What other areas plug into the dispatcher. Whoever builds a dispatcher hands these in (the
 * host the whole set, a test exactly what it exercises); nothing registers itself at import,
 * so what runs is what the builder wrote down.
 */
export interface DispatcherWiring {
  /** Run, in this order, on every visit to a due workspace. */
  dueHooks: readonly DueHook[];
  /** Writes messages queued with empty content; null: such a message fails with the reason. */
  content: DeferredContentSource | null;
}

/** This process run: leases carry it, so the next run knows which `sending` rows are orphans. */
export const RUN_ID = newId("run", 12);

const LEASE_MS = 5 * 60_000;
const MAX_ATTEMPTS = 12;
const MAX_AGE_MS = 48 * 60 * 60_000;
const RATE_LIMIT_PAUSE_MS = 2_000;
const SANDBOX_RATE = 1_000;
const TELEGRAM_PER_CHAT_RATE = 1;
const FLUSH_EVERY_MS = 20;
const FLUSH_AT = 256;

interface Claimed {
  id: string;
  contact_id: number | null;
  channel: Channel;
  integration_id: string | null;
  kind: MessageKind;
  recipient: string;
  /** JSON from message_contents, or "" when it is rendered at send time from the campaign. */
  content: string;
  campaign_id: number | null;
  variant: string | null;
  attempts: number;
  created_at: number;
}

type ContactRow = RecipientForContent & { telegramChatId: string | null };

type Outcome =
  | {
      kind: "sent";
      providerMessageId: string;
      delivered: boolean;
      /** A WhatsApp sandbox send (its receipts are simulated); whether it was a template. */
      sandboxWhatsApp?: { template: boolean };
    }
  | { kind: "retry"; at: number; reason: string; countAttempt: boolean }
  | { kind: "failed"; reason: string; suppress?: "bounce" | "complaint" | "blocked" }
  | { kind: "skipped"; reason: string };

interface Result {
  message: Claimed;
  outcome: Outcome;
  at: number;
  /** Went to a provider (or the sandbox), so a crash before writing could repeat it. */
  handed: boolean;
  /** Content rendered at send time, stored with the result (JSON). */
  rendered?: string;
}

/** Exponential backoff with full jitter: base · 2^(attempt-1), capped at an hour. */
export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  const ceiling = Math.min(60 * 60_000, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** What the engine does with a failed send, given the adapter's classification. */
export function outcomeOf(
  error: ErrorClass,
  message: Pick<Claimed, "attempts" | "created_at">,
  now: number,
  baseMs: number,
): Outcome {
  if (error.kind === "permanent") {
    return { kind: "failed", reason: error.reason, suppress: error.suppress };
  }
  if (error.kind === "rate-limited") {
    return {
      kind: "retry",
      at: now + (error.retryAfterMs ?? RATE_LIMIT_PAUSE_MS),
      reason: error.reason,
      countAttempt: false,
    };
  }
  const wait = Math.max(backoffMs(message.attempts, baseMs), error.retryAfterMs ?? 0);
  if (message.attempts >= MAX_ATTEMPTS || now + wait - message.created_at > MAX_AGE_MS) {
    return {
      kind: "failed",
      reason: `Gave up after ${message.attempts} attempts over ${Math.round((now - message.created_at) / 60_000)} min: ${error.reason}`,
    };
  }
  return { kind: "retry", at: now + wait, reason: error.reason, countAttempt: true };
}

// ---------------------------------------------------------------------------------------------
// Statements, prepared once per connection.

interface Statements {
  recover: Statement;
  claim: Statement;
  contact: Statement;
  lastInbound: Statement;
  sent: Statement;
  retry: Statement;
  finished: Statement;
  event: Statement;
  unlinkChat: Statement;
  content: Statement;
  contents: Statement;
}

const statements = new WeakMap<object, Statements>();

function prepared(db: TenantDb): Statements {
  const client = db.$client;
  let s = statements.get(client);
  if (!s) {
    s = {
      recover: client.prepare(
        `UPDATE messages SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL,
           next_attempt_at = min(next_attempt_at, ?)
         WHERE status = 'sending' AND (lease_owner IS NOT ? OR lease_expires_at < ?)`,
      ),
      claim: client.prepare(
        `UPDATE messages SET status = 'sending', lease_owner = ?, lease_expires_at = ?,
           attempts = attempts + 1, updated_at = ?
         WHERE id IN (SELECT id FROM messages WHERE status = 'queued' AND next_attempt_at <= ?
                      ORDER BY next_attempt_at LIMIT ?)
         RETURNING id, contact_id, channel, integration_id, kind, recipient, campaign_id,
           variant, attempts, created_at`,
      ),
      contact: client.prepare(
        `SELECT id, name, email, phone, country, attributes, telegram_chat_id AS telegramChatId
         FROM contacts WHERE id = ?`,
      ),
      lastInbound: client.prepare(
        `SELECT max(at) AS at FROM inbound_messages
         WHERE contact_id = ? AND channel = 'whatsapp'`,
      ),
      sent: client.prepare(
        `UPDATE messages SET status = ?, provider_message_id = ?, sent_at = ?, delivered_at = ?,
           error = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE id = ? AND status = 'sending'`,
      ),
      retry: client.prepare(
        `UPDATE messages SET status = 'queued', next_attempt_at = ?, error = ?,
           attempts = attempts - ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE id = ? AND status = 'sending'`,
      ),
      finished: client.prepare(
        `UPDATE messages SET status = ?, error = ?, failed_at = ?, lease_owner = NULL,
           lease_expires_at = NULL, updated_at = ?
         WHERE id = ? AND status = 'sending'`,
      ),
      event: client.prepare(
        "INSERT INTO contact_events (contact_id, at, type, channel, data) VALUES (?, ?, ?, ?, ?)",
      ),
      unlinkChat: client.prepare("UPDATE contacts SET telegram_chat_id = NULL WHERE id = ?"),
      content: client.prepare(
        "INSERT OR REPLACE INTO message_contents (message_id, content) VALUES (?, ?)",
      ),
      contents: client.prepare(
        `SELECT message_id AS id, content FROM message_contents
         WHERE message_id IN (SELECT value FROM json_each(?))`,
      ),
    };
    statements.set(client, s);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

interface DispatcherOptions extends DispatcherWiring {
  maxInFlight: number;
  retryBaseMs: number;
  now: () => number;
  /** Called with each provider call's duration, ms (benchmarks). */
  onSendTime?: (ms: number) => void;
}

const sandboxAdapters = new Map<Channel, ChannelAdapter>();
function sandboxFor(channel: Channel): ChannelAdapter {
  let adapter = sandboxAdapters.get(channel);
  if (!adapter) sandboxAdapters.set(channel, (adapter = createSandboxAdapter(channel)));
  return adapter;
}

class WorkspaceRun {
  private readonly results: Result[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Claimed messages not yet finished, and who waits for one to finish. */
  private active = 0;
  private onFinish: (() => void) | null = null;
  private readonly integrations = new Map<string, LoadedIntegration | null>();
  private readonly renderers = new Map<number, DeferredContentRenderer | string>();
  private key: Buffer | null = null;
  private s!: Statements;
  private db!: TenantDb;
  /** Sends answered by providers whose result is not yet written (what a crash may repeat). */
  unrecorded = 0;
  maxUnrecorded = 0;

  constructor(
    readonly workspaceId: string,
    private readonly engine: Dispatcher,
  ) {}

  async run(): Promise<number | null> {
    return withTenantDb(this.workspaceId, async (db) => {
      this.db = db;
      this.s = prepared(db);
      this.key = suppressionKey(db);
      const now = this.engine.options.now();
      this.s.recover.run(now, RUN_ID, now);
      // Receipts and replies stored but not applied (the process stopped before it got to them).
      applyPending(db, this.workspaceId, this.engine.options.now);
      // Other areas' timed work for this workspace (campaigns to start, A/B tests to decide).
      let hooksNext: number | null = null;
      for (const hook of this.engine.options.dueHooks) {
        try {
          const at = hook(this.workspaceId, db, this.engine.options.now());
          if (at !== null) hooksNext = Math.min(hooksNext ?? at, at);
        } catch (error) {
          logger.error({ err: error, workspaceId: this.workspaceId }, "a due hook failed");
        }
      }
      const { maxInFlight } = this.engine.options;
      const low = Math.max(1, Math.floor(maxInFlight / 4));
      for (;;) {
        if (this.engine.stopping) break;
        const room = maxInFlight - this.active;
        if (room < low) {
          await this.finished();
          continue;
        }
        const t = this.engine.options.now();
        const claimed = this.s.claim.all(RUN_ID, t + LEASE_MS, t, t, room) as Claimed[];
        if (claimed.length > 0) {
          const stored = new Map(
            (
              this.s.contents.all(JSON.stringify(claimed.map((m) => m.id))) as {
                id: string;
                content: string;
              }[]
            ).map((row) => [row.id, row.content]),
          );
          for (const message of claimed) message.content = stored.get(message.id) ?? "";
        }
        if (claimed.length === 0) {
          if (this.active === 0) break;
          await this.finished();
          this.flush();
          continue;
        }
        this.active += claimed.length;
        for (const message of claimed) {
          void this.deliver(message)
            .catch((error: unknown) => this.unexpected(message, error))
            .finally(() => {
              this.active -= 1;
              const wake = this.onFinish;
              this.onFinish = null;
              wake?.();
            });
        }
        // Let answers arrive between claims.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      while (this.active > 0) await this.finished();
      this.flush();
      let next = settleDue(db, this.workspaceId);
      const end = this.engine.options.now();
      if (hasPendingEvents(db, end)) {
        const at = end + PENDING_RECHECK_MS;
        next = Math.min(next ?? at, at);
      }
      const later = nextLaterEventAt(db, end);
      if (later !== null) next = Math.min(next ?? later, later);
      if (hooksNext !== null) next = Math.min(next ?? hooksNext, hooksNext);
      if (next !== null) markDue(this.workspaceId, next);
      return next;
    });
  }

  /** Resolves when one more claimed message has finished. */
  private finished(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.onFinish;
      this.onFinish = () => {
        previous?.();
        resolve();
      };
    });
  }

  private integration(id: string): LoadedIntegration | null {
    if (!this.integrations.has(id)) {
      this.integrations.set(id, integrationById(this.workspaceId, id));
    }
    return this.integrations.get(id)!;
  }

  /** The campaign's renderer for this visit (null when it cannot be built: the reason). */
  private campaignRenderer(campaignId: number): DeferredContentRenderer | string {
    let renderer = this.renderers.get(campaignId);
    if (renderer === undefined) {
      try {
        const content = this.engine.options.content;
        if (!content) throw new Error("This dispatcher was built without a campaign renderer.");
        renderer = content(this.workspaceId, this.db, campaignId);
      } catch (error) {
        renderer = `Could not write the message: ${error instanceof Error ? error.message : String(error)}`;
      }
      this.renderers.set(campaignId, renderer);
    }
    return renderer;
  }

  /** The content to send: stored, or rendered now for a campaign message. */
  private contentOf(
    message: Claimed,
    contact: ContactRow,
  ): { content: MessageContent; rendered?: string } | Outcome {
    if (message.content !== "") return { content: JSON.parse(message.content) as MessageContent };
    const renderer =
      message.campaign_id === null
        ? "The message has no content"
        : this.campaignRenderer(message.campaign_id);
    if (typeof renderer === "string") return { kind: "failed", reason: renderer };
    try {
      const content = renderer(message.variant ?? "A", contact, message.id);
      return { content, rendered: JSON.stringify(content) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { kind: "failed", reason: `Could not write the message: ${reason}` };
    }
  }

  /** What to send, or why not: integration still there, contact reachable, content written. */
  private prepare(
    message: Claimed,
    integration: LoadedIntegration | null,
  ): Outcome | { content: MessageContent; rendered?: string } {
    if (message.integration_id && !integration) {
      return {
        kind: "failed",
        reason: `The ${message.channel} integration was removed before this message was sent`,
      };
    }
    const contact = this.precheck(message);
    if ("kind" in contact) return contact;
    const written = this.contentOf(message, contact);
    if ("kind" in written) return written;
    return this.windowCheck(contact, written.content) ?? written;
  }

  private async deliver(message: Claimed): Promise<void> {
    const integration = message.integration_id ? this.integration(message.integration_id) : null;
    const prepared = this.prepare(message, integration);
    let outcome: Outcome;
    let handed = false;
    const rendered = "kind" in prepared ? undefined : prepared.rendered;
    if ("kind" in prepared) outcome = prepared;
    else {
      const content = withReplyAddress(prepared.content, this.workspaceId, message.id);
      const adapter = integration?.adapter ?? sandboxFor(message.channel);
      const paceKey = integration?.id ?? `sandbox:${message.channel}`;
      const rate = integration?.ratePerSecond ?? SANDBOX_RATE;
      const pacer = this.engine.pacer;
      const wait = pacer.acquire(paceKey, rate);
      if (wait) await wait;
      const chatKey = message.channel === "telegram" ? `${paceKey}:${message.recipient}` : null;
      if (chatKey) {
        const chatWait = pacer.acquire(chatKey, TELEGRAM_PER_CHAT_RATE);
        if (chatWait) await chatWait;
      }
      handed = true;
      this.unrecorded += 1;
      this.maxUnrecorded = Math.max(this.maxUnrecorded, this.unrecorded);
      this.engine.noteInFlight(1);
      try {
        const headers =
          content.channel === "email" && message.kind === "marketing" && message.contact_id
            ? unsubscribeHeaders({
                workspaceId: this.workspaceId,
                contactId: message.contact_id,
                channel: "email",
                messageId: message.id,
              })
            : undefined;
        const started = this.engine.options.onSendTime ? performance.now() : 0;
        const media =
          content.channel === "whatsapp" && content.type === "media"
            ? await attachmentForSend({ db: this.db }, this.workspaceId, content.media.attachmentId)
            : undefined;
        const sent = await adapter.send({
          id: message.id,
          workspaceId: this.workspaceId,
          to: message.recipient,
          content,
          headers,
          ...(media ? { media } : {}),
        });
        this.engine.options.onSendTime?.(performance.now() - started);
        outcome = {
          kind: "sent",
          providerMessageId: sent.providerMessageId,
          // No receipts from Telegram or the sandbox (its WhatsApp simulates them): accepted is
          // delivered.
          delivered:
            (!integration && message.channel !== "whatsapp") || message.channel === "telegram",
          sandboxWhatsApp:
            !integration && content.channel === "whatsapp"
              ? { template: content.type === "template" }
              : undefined,
        };
      } catch (error) {
        const classified =
          error instanceof NotFoundError
            ? ({
                kind: "permanent",
                reason: "The attachment was deleted before this message was sent",
              } as const)
            : adapter.classify(error);
        outcome = outcomeOf(
          classified,
          message,
          this.engine.options.now(),
          this.engine.options.retryBaseMs,
        );
        if (classified.kind === "rate-limited") {
          pacer.pause(paceKey, rate, classified.retryAfterMs ?? RATE_LIMIT_PAUSE_MS);
        }
      } finally {
        pacer.release(paceKey);
        if (chatKey) pacer.release(chatKey);
        this.engine.noteInFlight(-1);
      }
    }
    this.results.push({ message, outcome, at: this.engine.options.now(), handed, rendered });
    if (this.results.length >= FLUSH_AT) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  /** A bug or a broken file, not the provider: try again in a minute, and say so in the log. */
  private unexpected(message: Claimed, error: unknown): void {
    logger.error({ err: error, messageId: message.id }, "could not deliver a message");
    const at = this.engine.options.now();
    this.results.push({
      message,
      outcome: {
        kind: "retry",
        at: at + 60_000,
        reason: "Internal error; retrying",
        countAttempt: true,
      },
      at,
      handed: false,
    });
  }

  /** Reasons not to send at all, checked just before sending; else the contact. */
  private precheck(message: Claimed): Outcome | ContactRow {
    if (message.contact_id === null) {
      return { kind: "skipped", reason: "The contact was deleted" };
    }
    const contact = this.s.contact.get(message.contact_id) as ContactRow | undefined;
    if (!contact) return { kind: "skipped", reason: "The contact was deleted" };
    const blocked = blockedReason(this.db, this.key!, contact, message.channel, message.kind);
    if (blocked) return { kind: "skipped", reason: blocked };
    return contact;
  }

  /** Free-form WhatsApp text only inside the 24-hour window the person opened. */
  private windowCheck(contact: ContactRow, content: MessageContent): Outcome | null {
    if (content.channel === "whatsapp" && (content.type === "text" || content.type === "media")) {
      const last = (this.s.lastInbound.get(contact.id) as { at: number | null }).at;
      if (last === null || this.engine.options.now() - last > WHATSAPP_WINDOW_MS) {
        return {
          kind: "failed",
          reason:
            "Not sent: free-form WhatsApp messages are allowed only within 24 hours of the person's last message. Send an approved template instead.",
        };
      }
    }
    return null;
  }

  private flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.results.length === 0) return;
    const batch = this.results.splice(0);
    const s = this.s;
    const db = this.db;
    const key = this.key!;
    const write = db.$client.transaction(() => {
      for (const { message, outcome, at, rendered } of batch) {
        if (rendered !== undefined) s.content.run(message.id, rendered);
        switch (outcome.kind) {
          case "sent": {
            const status = outcome.delivered ? "delivered" : "sent";
            s.sent.run(
              status,
              outcome.providerMessageId,
              at,
              outcome.delivered ? at : null,
              at,
              message.id,
            );
            if (message.contact_id !== null) {
              s.event.run(
                message.contact_id,
                at,
                `message.${status}`,
                message.channel,
                JSON.stringify({ messageId: message.id }),
              );
            }
            if (outcome.sandboxWhatsApp) {
              scheduleSandboxWhatsApp(
                db,
                {
                  id: message.id,
                  recipient: message.recipient,
                  template: outcome.sandboxWhatsApp.template,
                },
                outcome.providerMessageId,
                at,
              );
            }
            break;
          }
          case "retry":
            s.retry.run(outcome.at, outcome.reason, outcome.countAttempt ? 0 : 1, at, message.id);
            break;
          case "failed":
          case "skipped": {
            s.finished.run(
              outcome.kind,
              outcome.reason,
              outcome.kind === "failed" ? at : null,
              at,
              message.id,
            );
            if (outcome.kind === "failed" && outcome.suppress && message.contact_id !== null) {
              const contact = s.contact.get(message.contact_id) as
                { id: number; email: string | null; phone: string | null } | undefined;
              if (contact) {
                suppressContactInTransaction(
                  db,
                  key,
                  {
                    id: contact.id,
                    email: message.channel === "email" ? contact.email : null,
                    phone: message.channel === "email" ? null : contact.phone,
                  },
                  outcome.suppress === "complaint"
                    ? "complaint"
                    : outcome.suppress === "bounce"
                      ? "bounce"
                      : "unsubscribe",
                  message.channel,
                  new Date(at),
                );
                // A blocked bot cannot reach the chat again; a contact known only by the chat
                // has no email or phone to suppress, so the link itself goes.
                if (message.channel === "telegram" && outcome.suppress === "blocked") {
                  s.unlinkChat.run(contact.id);
                }
              }
            }
            break;
          }
        }
      }
    });
    try {
      write.immediate();
    } catch (error) {
      // Leave the rows `sending`: the next run re-queues them (never lose a result silently).
      logger.error({ err: error, workspaceId: this.workspaceId }, "could not record send results");
    }
    const answered = batch.filter((r) => r.handed).length;
    this.unrecorded = Math.max(0, this.unrecorded - answered);
    this.engine.noteResults(batch);
    recordUsage(this.workspaceId, batch);
  }
}

/** Usage metering for billing: messages handed to providers, per workspace, channel and day. */
function recordUsage(workspaceId: string, batch: readonly Result[]): void {
  const counts = new Map<string, number>();
  for (const { message, outcome, at } of batch) {
    if (outcome.kind !== "sent" || message.integration_id === null) continue; // sandbox is free
    const key = `${new Date(at).toISOString().slice(0, 10)}|${message.channel}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (counts.size === 0) return;
  const control = getControlDb();
  for (const [key, n] of counts) {
    const [day, channel] = key.split("|") as [string, string];
    control
      .insert(usageDaily)
      .values({ workspaceId, day, channel, messages: n })
      .onConflictDoUpdate({
        target: [usageDaily.workspaceId, usageDaily.day, usageDaily.channel],
        set: { messages: sql`${usageDaily.messages} + ${n}` },
      })
      .run();
  }
}

export interface DispatcherStats {
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
  /** Most sends handed to providers and not yet answered, at once. */
  maxInFlight: number;
}

/** The wiring is required; the tuning defaults to the environment's. */
export type DispatcherSetup = DispatcherWiring &
  Partial<Omit<DispatcherOptions, keyof DispatcherWiring>>;

export class Dispatcher {
  readonly pacer = new Pacer();
  readonly options: DispatcherOptions;
  stopping = false;
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private pruneTimer: NodeJS.Timeout | null = null;
  private inFlightNow = 0;
  readonly stats: DispatcherStats = { sent: 0, retried: 0, failed: 0, skipped: 0, maxInFlight: 0 };

  constructor(options: DispatcherSetup) {
    const env = getEnv();
    this.options = {
      dueHooks: options.dueHooks,
      content: options.content,
      maxInFlight: options.maxInFlight ?? env.DELIVERY_MAX_IN_FLIGHT,
      retryBaseMs: options.retryBaseMs ?? env.DELIVERY_RETRY_BASE_MS,
      now: options.now ?? Date.now,
      onSendTime: options.onSendTime,
    };
  }

  start(): void {
    onMessagesQueued((workspaceId, dueAt) => {
      if (dueAt <= this.options.now()) this.wake(workspaceId);
      else this.scheduleScan(dueAt - this.options.now());
    });
    this.pruneTimer = setInterval(() => this.pacer.prune(), 60_000);
    this.pruneTimer.unref();
    this.scan();
  }

  /** Looks for due workspaces now (also the periodic safety net). */
  scan(): void {
    if (this.stopping) return;
    let found: ReturnType<typeof dueWorkspaces>;
    try {
      found = dueWorkspaces(this.options.now());
    } catch (error) {
      logger.error({ err: error }, "dispatcher could not read the delivery queue");
      this.scheduleScan(5_000);
      return;
    }
    for (const workspaceId of found.due) this.wake(workspaceId);
    this.scheduleScan(found.nextAt === null ? 30_000 : found.nextAt - this.options.now());
  }

  wake(workspaceId: string): void {
    if (this.stopping) return;
    if (this.running.has(workspaceId)) {
      this.again.add(workspaceId);
      return;
    }
    const run = new WorkspaceRun(workspaceId, this);
    const task = run
      .run()
      .then((nextAt) => {
        if (nextAt !== null) this.scheduleScan(nextAt - this.options.now());
      })
      .catch((error: unknown) => {
        logger.error({ err: error, workspaceId }, "dispatch failed; retrying shortly");
        this.scheduleScan(5_000);
      })
      .finally(() => {
        this.running.delete(workspaceId);
        if (this.again.delete(workspaceId)) this.wake(workspaceId);
      });
    this.running.set(workspaceId, task);
  }

  private scheduleScan(inMs: number): void {
    if (this.stopping) return;
    const delay = Math.min(Math.max(inMs, 0), 30_000);
    const at = Date.now() + delay;
    // Keep an earlier scan that is already planned.
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.scan();
    }, delay);
    this.timer.unref();
  }

  noteInFlight(delta: number): void {
    this.inFlightNow += delta;
    if (this.inFlightNow > this.stats.maxInFlight) this.stats.maxInFlight = this.inFlightNow;
  }

  noteResults(batch: readonly Result[]): void {
    for (const { outcome } of batch) {
      if (outcome.kind === "sent") this.stats.sent += 1;
      else if (outcome.kind === "retry") this.stats.retried += 1;
      else if (outcome.kind === "failed") this.stats.failed += 1;
      else this.stats.skipped += 1;
    }
  }

  /** Resolves when no workspace is being dispatched (tests, benches). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /** Stops claiming; sends under way finish and their results are written. */
  async stop(): Promise<void> {
    this.stopping = true;
    onMessagesQueued(null);
    if (this.timer) clearTimeout(this.timer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all(this.running.values());
  }
}

let dispatcher: Dispatcher | null = null;

/** The process's dispatcher (started by the host after listen). */
export function startDispatcher(options: DispatcherSetup): Dispatcher {
  dispatcher ??= new Dispatcher(options);
  dispatcher.start();
  return dispatcher;
}

export async function stopDispatcher(): Promise<void> {
  const current = dispatcher;
  dispatcher = null;
  await current?.stop();
}

export function currentDispatcher(): Dispatcher | null {
  return dispatcher;
}
