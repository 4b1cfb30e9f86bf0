import type { Channel } from "~/lib/channels";

/**
 * The one interface every provider implements (DESIGN §3, §5). A fresh adapter is built per
 * (workspace, integration) from its decrypted credentials; adapters know nothing of the
 * database or the domain, only their SDK or HTTP API.
 */

export interface OutgoingMessage {
  /** Our message id: the idempotency key providers that support one receive. */
  id: string;
  channel: Channel;
  /** E.164 phone, email address or Telegram chat id. */
  to: string;
  /** Rendered content for the channel (subject/html/text, WhatsApp template or text, ...). */
  content: Record<string, unknown>;
  /** Extra headers or tags (e.g. List-Unsubscribe, SES message tags). */
  meta?: Record<string, string>;
}

export interface SendResult {
  /** The provider's id for the message, used to match status webhooks. */
  providerMessageId: string;
}

/** How the dispatcher treats a failure: retry later, slow down, or give up with a reason. */
export type ErrorClass =
  | { kind: "transient"; retryAfterMs?: number; reason: string }
  | { kind: "rate-limited"; retryAfterMs?: number; reason: string }
  | { kind: "permanent"; reason: string; suppress?: "bounce" | "complaint" | "blocked" };

export interface RawWebhook {
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The exact bytes received: signatures are over these. */
  body: Buffer;
  query: URLSearchParams;
}

export type ChannelEvent =
  | {
      type: "status";
      providerMessageId: string;
      status: "sent" | "delivered" | "read" | "failed" | "bounced" | "complained";
      at: Date;
      reason?: string;
      eventId: string;
    }
  | {
      type: "inbound";
      from: string;
      text: string;
      at: Date;
      providerMessageId: string;
      eventId: string;
    };

export interface ChannelAdapter {
  readonly channel: Channel;
  send(message: OutgoingMessage): Promise<SendResult>;
  classify(error: unknown): ErrorClass;
  verifyWebhook(request: RawWebhook): boolean;
  parseWebhook(request: RawWebhook): ChannelEvent[];
}
