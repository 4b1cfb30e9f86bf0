import { createHash } from "node:crypto";
import type { ChannelEvent } from "~/channels/types";
import type { TenantDb } from "~/db/tenants.server";
import type { WorkspaceContext } from "../context";
import { SANDBOX_EVENTS, storeEvents } from "./webhooks.server";

/**
 * The WhatsApp sandbox's receipts and replies. A sandbox send reaches nobody, so what Meta's
 * webhooks would report is simulated: when the send is recorded, its events are stored as
 * webhook events that "arrive" later (received_at in the future) and are applied by the same
 * code as a real webhook's (status only moves forward, an inbound reply opens the 24-hour window).
 * Deterministic: the times follow from the send's time, and who replies from the message id.
 */

/** After the send: delivered, then read; a reply to a share of the messages after that (ms). */
export const SANDBOX_DELIVERED_AFTER_MS = 2_000;
export const SANDBOX_READ_AFTER_MS = 6_000;
export const SANDBOX_REPLY_AFTER_MS = 10_000;

/** What the simulated customers write back. */
export const SANDBOX_REPLIES = [
  "Thanks! Is this still on this weekend?",
  "Yes please, tell me more",
  "Can I book a table for 4 tomorrow?",
] as const;

function hashOf(id: string): number {
  return createHash("sha256").update(id).digest().readUInt32BE(0);
}

/**
 * Whether the customer writes back to this template message: one in three, and always the first
 * time in a workspace, so a new sandbox shows a reply and the window it opens.
 */
function replies(db: TenantDb, messageId: string): boolean {
  if (hashOf(messageId) % 3 === 0) return true;
  const any = db.$client
    .prepare(
      `SELECT 1 FROM webhook_events WHERE integration_id = ? AND event_id LIKE '%:reply' LIMIT 1`,
    )
    .get(SANDBOX_EVENTS);
  return !any;
}

type Scheduled = { at: number; event: ChannelEvent };

/**
 * Stores the simulated receipts (and maybe a reply) of one sandbox WhatsApp send. Called in the
 * transaction that records the send.
 */
export function scheduleSandboxWhatsApp(
  db: TenantDb,
  message: { id: string; recipient: string; template: boolean },
  providerMessageId: string,
  sentAt: number,
): void {
  const status = (status: "delivered" | "read", after: number): Scheduled => ({
    at: sentAt + after,
    event: {
      type: "status",
      eventId: `${providerMessageId}:${status}`,
      providerMessageId,
      status,
      at: new Date(sentAt + after),
    },
  });
  const events: Scheduled[] = [
    status("delivered", SANDBOX_DELIVERED_AFTER_MS),
    status("read", SANDBOX_READ_AFTER_MS),
  ];
  // Only a template starts a conversation; a reply inside the window is not answered again.
  if (message.template && replies(db, message.id)) {
    const at = sentAt + SANDBOX_REPLY_AFTER_MS;
    events.push({
      at,
      event: {
        type: "inbound",
        eventId: `${providerMessageId}:reply`,
        from: message.recipient,
        text: SANDBOX_REPLIES[hashOf(message.id) % SANDBOX_REPLIES.length]!,
        at: new Date(at),
        providerMessageId: `${providerMessageId}_reply`,
      },
    });
  }
  for (const { at, event } of events) storeEvents(db, SANDBOX_EVENTS, "whatsapp", [event], at);
}

/** Whether simulated receipts or a reply for this sandbox message are still to come. */
export function simulationAhead(ctx: WorkspaceContext, messageId: string): boolean {
  const row = ctx.db.$client
    .prepare(
      "SELECT provider_message_id AS id FROM messages WHERE id = ? AND integration_id IS NULL",
    )
    .get(messageId) as { id: string | null } | undefined;
  if (!row?.id) return false;
  const ids = ["delivered", "read", "reply"].map((s) => `${row.id}:${s}`);
  return Boolean(
    ctx.db.$client
      .prepare(
        `SELECT 1 FROM webhook_events WHERE integration_id = ? AND processed_at IS NULL
           AND event_id IN (?, ?, ?) LIMIT 1`,
      )
      .get(SANDBOX_EVENTS, ...ids),
  );
}
