import type { Channel } from "~/lib/channels";

/**
 * The one interface every provider implements. A fresh adapter is built per
 * integration from its decrypted credentials; adapters know nothing of the database or the
 * domain, only their SDK or HTTP API. The delivery engine (app/domain/delivery) claims
 * messages, paces them, calls `send`, and hands any error to `classify`; the webhook route
 * hands the raw request to `receiveWebhook` and stores the events it returns.
 */

/** Rendered content, one shape per channel. */
export type MessageContent =
  | {
      channel: "email";
      /** RFC 5322 From, e.g. `Shop <news@shop.example>`; the integration's identity if absent. */
      from?: string;
      replyTo?: string;
      subject: string;
      html: string;
      text: string;
      /** The Message-ID this answers (RFC 5322 msg-id without angle brackets). */
      inReplyTo?: string;
      /** The thread's Message-IDs, oldest first, without angle brackets. */
      references?: string[];
    }
  | {
      channel: "whatsapp";
      /** Free-form text: only inside the 24-hour customer service window. */
      type: "text";
      text: string;
    }
  | {
      channel: "whatsapp";
      /** An approved template: the only thing allowed outside the 24-hour window. */
      type: "template";
      name: string;
      language: string;
      /** Body parameters in order ({{1}}, {{2}}, ...). */
      bodyParams: string[];
      /** A media header's file, sent with each message (the template fixes its kind). */
      header?: { format: "image" | "video" | "document"; link: string };
    }
  | {
      channel: "whatsapp";
      /**
       * An image or document we keep (free-form: only inside the 24-hour window). The adapter
       * gets the bytes in `OutgoingMessage.media`, uploads them, then sends the media id.
       */
      type: "media";
      media: {
        kind: "image" | "document";
        attachmentId: string;
        mimeType: string;
        filename: string;
      };
      caption?: string;
    }
  | {
      channel: "sms";
      text: string;
      /** India DLT: the registered template id for this text (sent as a provider parameter). */
      dltTemplateId?: string;
    }
  | {
      channel: "telegram";
      text: string;
      /** "HTML": the text uses Telegram's HTML subset (templates escape personal values). */
      parseMode?: "HTML";
      /** Inline URL buttons under the message, one per row. */
      buttons?: { text: string; url: string }[];
    };

export interface OutgoingMessage {
  /** Our message id (unique per workspace), carried as a tag / reference where supported. */
  id: string;
  workspaceId: string;
  /** E.164 phone, email address or Telegram chat id. */
  to: string;
  content: MessageContent;
  /** Email only: extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post. */
  headers?: Record<string, string>;
  /** The attachment's bytes for media content, read by the dispatcher from our store. */
  media?: { bytes: Buffer; mimeType: string; filename: string };
}

export interface SendResult {
  /** The provider's id for the message, used to match status webhooks. */
  providerMessageId: string;
}

/**
 * What an adapter throws from `send` when the provider said no or could not be reached.
 * `classify` turns it (or any other error) into what the engine does next.
 */
export class ProviderError extends Error {
  /** HTTP status, when there was a response. */
  readonly status?: number;
  /** The provider's own error code, e.g. WhatsApp 131026, SES "TooManyRequestsException". */
  readonly code?: string;
  /** Retry-After / retry_after from the provider, ms. */
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    options: { status?: number; code?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProviderError";
    this.status = options.status;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * How the engine treats a failure:
 * - transient: retry with exponential backoff + jitter (not before retryAfterMs);
 * - rate-limited: the account is over its rate: pause the whole account for retryAfterMs (or a
 *   default), put the message back without counting an attempt;
 * - permanent: fail now with `reason` shown to the user; `suppress` adds the recipient to the
 *   suppression list for this channel.
 * `reason` is human-readable and includes the provider's code, e.g.
 * "WhatsApp 131047: more than 24 hours since the customer last replied".
 */
export type ErrorClass =
  | { kind: "transient"; retryAfterMs?: number; reason: string }
  | { kind: "rate-limited"; retryAfterMs?: number; reason: string }
  | { kind: "permanent"; reason: string; suppress?: "bounce" | "complaint" | "blocked" };

export interface RawWebhook {
  method: string;
  /** Full URL as received (some signatures, e.g. Twilio's, cover it). */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The exact bytes received: signatures are over these. */
  body: Buffer;
}

export type ChannelEvent =
  | {
      type: "status";
      /** The provider's id for this event, or one derived from (message id, status): dedup key. */
      eventId: string;
      providerMessageId: string;
      status:
        "sent" | "delivered" | "read" | "opened" | "clicked" | "failed" | "bounced" | "complained";
      at: Date;
      /** Provider reason for failed/bounced/complained, e.g. "131026: Message undeliverable". */
      reason?: string;
      /** For bounces/complaints: which recipient (email address), when the event names one. */
      recipient?: string;
      /** Permanent bounce (vs. transient/soft): only permanent ones suppress. */
      permanent?: boolean;
    }
  | {
      type: "inbound";
      eventId: string;
      /** E.164 phone (WhatsApp, SMS) or Telegram chat id. */
      from: string;
      /** Sender's display name if the provider gives one (WhatsApp profile, Telegram name). */
      name?: string;
      text: string;
      at: Date;
      providerMessageId: string;
      /**
       * A machine wrote it (email: Auto-Submitted other than "no", Precedence bulk/list/junk):
       * stored, but nothing may answer it automatically (auto-replies, CSAT), or mail loops.
       */
      automated?: boolean;
      /** Inbound email only (channel "email"; `from` is the sender's address). */
      email?: InboundEmailFacts;
      /**
       * An image or document the customer sent (the caption, or a placeholder, is `text`):
       * fetched later with the adapter's `downloadMedia`.
       */
      media?: { id: string; kind: "image" | "document"; mimeType: string; filename?: string };
    };

/** What threading and unsubscribing need to know about one inbound email. */
export interface InboundEmailFacts {
  subject: string;
  /** "unsubscribe": it came to a List-Unsubscribe mailto address; it suppresses the sender. */
  purpose: "reply" | "unsubscribe";
  /** Our message its verified reply/unsubscribe address names. */
  messageId?: string;
  /** In-Reply-To and References ids (angle brackets removed), nearest first. */
  replyingTo: string[];
  /** The mail's own Message-ID (angle brackets removed): an answer's In-Reply-To. */
  headerMessageId?: string;
  /** Its References chain, oldest first (an answer cites it, then `headerMessageId`). */
  references?: string[];
}

/** What the webhook route answers, decided by the adapter. */
export type WebhookOutcome =
  /** Signature missing/wrong (401) or body not understood (400): nothing is stored. */
  | { kind: "rejected"; status: 400 | 401 | 403; reason: string }
  /** A handshake answered directly (WhatsApp GET hub.challenge, SNS SubscriptionConfirmation). */
  | { kind: "handshake"; status: number; body: string; contentType?: string }
  /** Verified: store these events (possibly none, e.g. an SNS notification we ignore), then 200. */
  | { kind: "events"; events: ChannelEvent[] };

export type ConnectionCheck =
  | { ok: true; detail: string; ratePerSecond?: number }
  | {
      ok: false;
      reason: string;
      /** Which part of the setup failed, in plain words (e.g. "Access token"), when known. */
      check?: string;
    };

/**
 * A message template as the provider keeps it (WhatsApp: Meta's review copy). Names, categories
 * and statuses are the provider's own spellings (MARKETING, APPROVED, ...); the domain maps them.
 */
export interface ProviderTemplate {
  /** The provider's id for this template. */
  id: string;
  name: string;
  /** e.g. "en_US", "hi". */
  language: string;
  category: string;
  status: string;
  /** Why the provider rejected it (absent unless rejected). */
  rejectedReason?: string;
  components: TemplateComponent[];
}

/** One HEADER / BODY / FOOTER / BUTTONS component, in the provider's JSON shape. */
export interface TemplateComponent {
  type: string;
  [key: string]: unknown;
}

export interface NewProviderTemplate {
  name: string;
  language: string;
  category: string;
  components: TemplateComponent[];
}

/** Channels whose provider reviews templates before they may be sent (WhatsApp). */
export interface TemplateApi {
  /** Every template of the account, across all pages. Throws ProviderError. */
  list(): Promise<ProviderTemplate[]>;
  /** Submits a template for review. Throws ProviderError (e.g. a duplicate or invalid one). */
  create(template: NewProviderTemplate): Promise<{ id: string; status: string; category?: string }>;
}

export interface ChannelAdapter {
  readonly channel: Channel;
  send(message: OutgoingMessage): Promise<SendResult>;
  classify(error: unknown): ErrorClass;
  /** Verifies authenticity (signature / secret token) and parses; never throws. */
  receiveWebhook(request: RawWebhook): Promise<WebhookOutcome>;
  /** "Test connection": a harmless authenticated call (e.g. read the phone number / account). */
  testConnection(): Promise<ConnectionCheck>;
  /** Telegram only: point the bot's webhook at us (with a secret token). */
  registerWebhook?(url: string): Promise<void>;
  /** WhatsApp only: the account's message templates (list, submit for review). */
  templates?: TemplateApi;
  /** WhatsApp only: the bytes of media a customer sent, by the provider's media id. */
  downloadMedia?(mediaId: string): Promise<{ bytes: Buffer; mimeType: string }>;
}
