import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { messagingTierLabel, qualityRatingLabel } from "~/lib/whatsapp-limits";
import { httpCall, retryAfterMs, type HttpReply } from "../http.server";
import {
  ProviderError,
  type ChannelAdapter,
  type ChannelEvent,
  type ConnectionCheck,
  type ErrorClass,
  type NewProviderTemplate,
  type OutgoingMessage,
  type ProviderTemplate,
  type RawWebhook,
  type SendResult,
  type TemplateApi,
  type TemplateComponent,
  type WebhookOutcome,
} from "../types";

/**
 * WhatsApp Cloud API (Meta Graph API) adapter: raw HTTPS through the pooled undici client, no
 * SDK. Sends go to POST /{version}/{phone-number-id}/messages; statuses and inbound messages
 * arrive on the `messages` webhook field, signed with the app secret (X-Hub-Signature-256).
 * Templates (Business Management API) live on the WABA: GET and POST
 * /{version}/{waba-id}/message_templates. Media goes up first (POST /{phone-number-id}/media)
 * and the message names the returned id; media customers send is fetched by its id.
 */

export interface WhatsAppConfig {
  /** The business phone number's Graph id (not the phone number itself). */
  phoneNumberId: string;
  /** WhatsApp Business Account id. */
  wabaId: string;
  /** System-user (permanent) or temporary access token, sent as a Bearer token. */
  accessToken: string;
  /** Meta app secret: webhooks are signed with HMAC-SHA256 under it. */
  appSecret: string;
  /** The token we chose when subscribing the webhook (echoed by Meta's GET handshake). */
  verifyToken: string;
}

export interface WhatsAppAdapterOptions {
  /** WHATSAPP_API_BASE_URL, e.g. https://graph.facebook.com (no trailing version). */
  baseUrl: string;
  /** Graph API version, default "v21.0". */
  apiVersion?: string;
  /** Whole-request timeout for every call, default 15 s. */
  timeoutMs?: number;
}

export const DEFAULT_WHATSAPP_API_VERSION = "v21.0";
const DEFAULT_TIMEOUT_MS = 15_000;

/** Cloud API default throughput per business number (messages/s); "HIGH" numbers get 1,000. */
const THROUGHPUT: Record<string, number> = { STANDARD: 80, HIGH: 1000 };

/** What we read of each template; `id` is always returned by Graph, listed for clarity. */
const TEMPLATE_FIELDS = "name,language,status,category,components,rejected_reason,id";
/** Templates per page (Graph's maximum for this edge is well above; 100 keeps replies small). */
const TEMPLATE_PAGE_SIZE = 100;
/** A WABA holds at most a few thousand templates: more pages than this means a paging loop. */
const MAX_TEMPLATE_PAGES = 200;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Our own code for content this adapter cannot send (e.g. an SMS body): permanent. */
const UNSUPPORTED_CONTENT = "unsupported_content";

type Rule =
  | { kind: "transient"; text: string; retryAfterMs?: number }
  | { kind: "rate-limited"; text: string; retryAfterMs: number }
  | { kind: "permanent"; text: string; withDetail?: boolean };

const permanent = (text: string, withDetail = false): Rule => ({
  kind: "permanent",
  text,
  withDetail,
});
const transient = (text: string, retryAfterMs?: number): Rule => ({
  kind: "transient",
  text,
  retryAfterMs,
});
const rateLimited = (text: string, retryAfterMs: number): Rule => ({
  kind: "rate-limited",
  text,
  retryAfterMs,
});

/**
 * Meta's documented error codes (Cloud API error-codes reference), by what the engine should do.
 * Codes we do not list fall back to the HTTP status. `true` = append Meta's details to the reason
 * (they name the parameter or template at fault).
 */
const RULES = new Map<number, Rule>([
  // Authorization: nothing helps until someone reconnects the integration.
  [0, permanent("could not authenticate: the access token expired or was revoked; reconnect")],
  [190, permanent("the access token is invalid or has expired; reconnect WhatsApp")],
  [3, permanent("the app lacks the capability or permission for this call")],
  [10, permanent("permission denied: the token lacks whatsapp_business_messaging")],
  // Throttling of the number/app/account: pause the whole integration, then resume.
  [4, rateLimited("the app reached its Graph API call-rate limit", MINUTE)],
  [613, rateLimited("the call-rate limit was reached", MINUTE)],
  [80007, rateLimited("the WhatsApp Business Account reached its rate limit", MINUTE)],
  [130429, rateLimited("the number's message throughput was reached", SECOND)],
  [
    131048,
    rateLimited(
      "spam rate limit: too many recent messages from this number were blocked or reported",
      15 * MINUTE,
    ),
  ],
  // Per recipient: retry this message later; the number keeps sending to everyone else.
  [131056, transient("too many messages to this recipient in a short time", 6 * SECOND)],
  [
    131049,
    transient(
      "Meta did not deliver this message to keep the ecosystem healthy (per-user marketing limit); retry much later",
      24 * HOUR,
    ),
  ],
  // Meta's side.
  [1, transient("unknown Graph API error")],
  [2, transient("the Graph API is temporarily unavailable")],
  [131000, transient("something went wrong at Meta")],
  [131016, transient("the WhatsApp service is temporarily unavailable")],
  [131057, transient("the business account is in maintenance mode", 5 * MINUTE)],
  [133004, transient("the WhatsApp server is temporarily unavailable")],
  // This message, this recipient or this account: retrying will not help.
  [33, permanent("the business phone number was deleted or is not accessible")],
  [100, permanent("invalid parameter", true)],
  [368, permanent("the account is temporarily blocked for policy violations")],
  [130472, permanent("the recipient is in a Meta marketing-message experiment; not sent")],
  [131005, permanent("access denied")],
  [131008, permanent("a required parameter is missing", true)],
  [131009, permanent("a parameter value is not valid", true)],
  [131021, permanent("the recipient cannot be the sender's own number")],
  [
    131026,
    permanent(
      "message undeliverable: the number may not be on WhatsApp, may not have accepted the latest terms, or uses an old app version",
    ),
  ],
  [131031, permanent("the business account is locked or restricted; see WhatsApp Manager")],
  [131037, permanent("the number's display name needs approval before sending")],
  [131042, permanent("business eligibility payment issue: check the account's billing setup")],
  [131045, permanent("the phone number is not registered (certificate error)")],
  [
    131047,
    permanent(
      "more than 24 hours have passed since the customer last replied; send an approved template instead",
    ),
  ],
  [131050, permanent("the customer has stopped marketing messages from this business")],
  [131051, permanent("unsupported message type", true)],
  [131052, permanent("media download error", true)],
  [131053, permanent("media upload error", true)],
  [132000, permanent("the number of template parameters does not match the template", true)],
  [132001, permanent("the template does not exist in this language or is not approved", true)],
  [132005, permanent("the template text is too long once filled in", true)],
  [132007, permanent("the template content violates a WhatsApp policy", true)],
  [132012, permanent("a template parameter has the wrong format", true)],
  [132015, permanent("the template is paused because of low quality")],
  [132016, permanent("the template is disabled because of low quality")],
  [133010, permanent("the business phone number is not registered with the Cloud API")],
]);

/** Meta prefixes messages with "(#131047) "; the code is shown separately. */
function stripCodePrefix(message: string): string {
  return message.replace(/^\(#\d+\)\s*/, "").trim();
}

function numericCode(code: string | number | undefined): number | undefined {
  if (typeof code === "number") return Number.isInteger(code) ? code : undefined;
  if (code === undefined || !/^\d+$/.test(code)) return undefined;
  return Number(code);
}

/**
 * What the engine does with a WhatsApp error, from Meta's error `code`, its message/details and
 * the HTTP status (undefined: no answer at all, e.g. network failure or timeout). Also usable for
 * the codes in a `failed` status webhook. Pure; never throws.
 */
export function whatsAppErrorClass(
  code: string | number | undefined,
  message: string,
  status: number | undefined,
  retryAfter?: number,
): ErrorClass {
  const n = numericCode(code);
  const detail = stripCodePrefix(message);
  const rule =
    n === undefined
      ? undefined
      : (RULES.get(n) ??
        (n >= 132000 && n <= 132999
          ? ({ kind: "permanent", text: "template error", withDetail: true } as const)
          : n >= 200 && n <= 299
            ? ({ kind: "permanent", text: "permission denied by Meta" } as const)
            : undefined));
  if (rule && n !== undefined) {
    const head = `WhatsApp ${n}: ${rule.text}`;
    switch (rule.kind) {
      case "rate-limited":
        return {
          kind: "rate-limited",
          retryAfterMs: retryAfter ?? rule.retryAfterMs,
          reason: head,
        };
      case "transient": {
        const wait = retryAfter ?? rule.retryAfterMs;
        return {
          kind: "transient",
          ...(wait !== undefined ? { retryAfterMs: wait } : {}),
          reason: head,
        };
      }
      case "permanent":
        return {
          kind: "permanent",
          reason: rule.withDetail && detail ? `${head} (${detail})` : head,
        };
    }
  }
  const label =
    n !== undefined
      ? `WhatsApp ${n}`
      : status !== undefined
        ? `WhatsApp HTTP ${status}`
        : "WhatsApp";
  const reason = detail ? `${label}: ${detail}` : label;
  const wait = retryAfter !== undefined ? { retryAfterMs: retryAfter } : {};
  if (status === undefined) return { kind: "transient", ...wait, reason };
  if (status === 429) return { kind: "rate-limited", retryAfterMs: retryAfter ?? SECOND, reason };
  if (status >= 500) return { kind: "transient", ...wait, reason };
  if (status >= 400) return { kind: "permanent", reason };
  return { kind: "transient", ...wait, reason };
}

// --- small readers for untrusted JSON -------------------------------------------------------

type Obj = Record<string, unknown>;
type InboundMedia = NonNullable<Extract<ChannelEvent, { type: "inbound" }>["media"]>;

function asObj(value: unknown): Obj | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Obj)
    : undefined;
}

function asArr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asStr(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Meta's unix-seconds timestamp string as a Date; now when absent or unreadable. */
function unixDate(value: unknown): Date {
  const seconds = Number(asStr(value));
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
}

/** Turns a Graph error reply into a ProviderError (code = Meta's numeric code as a string). */
function replyError(reply: HttpReply): ProviderError {
  const error = asObj(asObj(reply.json)?.error);
  const retry = retryAfterMs(reply.headers["retry-after"]);
  if (!error) {
    const snippet = reply.text.slice(0, 200).trim();
    return new ProviderError(snippet || `HTTP ${reply.status}`, {
      status: reply.status,
      retryAfterMs: retry,
    });
  }
  const code = asStr(error.code);
  const message = asStr(error.message) ?? `HTTP ${reply.status}`;
  // Messaging errors explain themselves in error_data.details; Business Management errors
  // (template create) in error_user_title / error_user_msg.
  const extra: string[] = [];
  for (const part of [
    asStr(asObj(error.error_data)?.details),
    asStr(error.error_user_title),
    asStr(error.error_user_msg),
  ]) {
    const text = part?.trim();
    if (text && text !== stripCodePrefix(message) && !extra.includes(text)) extra.push(text);
  }
  const text = [message, ...extra].join(" — ");
  return new ProviderError(text, { status: reply.status, code, retryAfterMs: retry });
}

/** One template of a message_templates page; undefined when it lacks what we need. */
function readTemplate(raw: unknown): ProviderTemplate | undefined {
  const t = asObj(raw);
  const id = asStr(t?.id);
  const name = asStr(t?.name);
  const language = asStr(t?.language);
  const status = asStr(t?.status);
  if (!t || !id || !name || !language || !status) return undefined;
  const components = asArr(t.components).filter(
    (c): c is TemplateComponent => typeof asObj(c)?.type === "string",
  );
  const reason = asStr(t.rejected_reason);
  return {
    id,
    name,
    language,
    category: asStr(t.category) ?? "",
    status,
    ...(reason && reason !== "NONE" ? { rejectedReason: reason } : {}),
    components,
  };
}

/**
 * The cursor of the next page: Graph gives `paging.next` (a full URL) only when there is one,
 * and the same cursor as `paging.cursors.after`. We keep requesting our own URL with that
 * cursor rather than following `next` anywhere, so the token only ever goes to the API base.
 */
function nextCursor(root: Obj): string | undefined {
  const paging = asObj(root.paging);
  const next = asStr(paging?.next);
  if (!next) return undefined;
  const after = asStr(asObj(paging?.cursors)?.after);
  if (after) return after;
  try {
    return new URL(next).searchParams.get("after") ?? undefined;
  } catch {
    return undefined;
  }
}

function sameSecret(given: string, expected: string): boolean {
  // Hash first so lengths match and nothing about the expected value leaks through timing.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/** Inbound text for the message types a customer can send; undefined = not a customer message. */
function inboundText(message: Obj): string | undefined {
  const type = asStr(message.type);
  switch (type) {
    case "text":
      return asStr(asObj(message.text)?.body);
    case "button": {
      // A quick-reply button on a template.
      const button = asObj(message.button);
      return asStr(button?.text) ?? asStr(button?.payload);
    }
    case "interactive": {
      const interactive = asObj(message.interactive);
      const reply = asObj(interactive?.button_reply) ?? asObj(interactive?.list_reply);
      return asStr(reply?.title) ?? asStr(reply?.id);
    }
    case "image":
    case "document": {
      const media = asObj(message[type]);
      const caption = asStr(media?.caption);
      if (caption) return caption;
      const filename = asStr(media?.filename);
      return type === "document" && filename ? `[document: ${filename}]` : `[${type}]`;
    }
    case "video":
    case "audio":
    case "sticker":
    case "location":
    case "contacts": {
      const caption = asStr(asObj(message[type])?.caption);
      return caption ? caption : `[${type}]`;
    }
    default:
      // reaction, system (number changed), unsupported, request_welcome, ...
      return undefined;
  }
}

/** The image or document a customer sent, to fetch with downloadMedia; undefined for others. */
function inboundMedia(message: Obj): InboundMedia | undefined {
  const type = asStr(message.type);
  if (type !== "image" && type !== "document") return undefined;
  const media = asObj(message[type]);
  const id = asStr(media?.id);
  if (!media || !id) return undefined;
  const filename = asStr(media.filename);
  return {
    id,
    kind: type,
    mimeType: asStr(media.mime_type) ?? "application/octet-stream",
    ...(filename ? { filename } : {}),
  };
}

const STATUSES = new Set(["sent", "delivered", "read", "failed"]);

function failureReason(errors: unknown[]): string | undefined {
  const parts: string[] = [];
  for (const raw of errors) {
    const error = asObj(raw);
    if (!error) continue;
    const code = asStr(error.code) ?? "?";
    const title = asStr(error.title) ?? asStr(error.message) ?? "failed";
    const details = asStr(asObj(error.error_data)?.details);
    parts.push(
      details && details !== title ? `${code}: ${title} (${details})` : `${code}: ${title}`,
    );
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

function parseValue(value: Obj, events: ChannelEvent[]): void {
  for (const raw of asArr(value.statuses)) {
    const status = asObj(raw);
    const id = asStr(status?.id);
    const kind = asStr(status?.status);
    if (!status || !id || !kind || !STATUSES.has(kind)) continue;
    const event: ChannelEvent = {
      type: "status",
      eventId: `${id}:${kind}`,
      providerMessageId: id,
      status: kind as "sent" | "delivered" | "read" | "failed",
      at: unixDate(status.timestamp),
    };
    if (kind === "failed") event.reason = failureReason(asArr(status.errors)) ?? "failed";
    events.push(event);
  }

  const messages = asArr(value.messages);
  if (messages.length === 0) return;
  const contacts = asArr(value.contacts).map(asObj);
  for (const raw of messages) {
    const message = asObj(raw);
    const id = asStr(message?.id);
    const from = asStr(message?.from);
    if (!message || !id || !from) continue;
    const text = inboundText(message);
    if (text === undefined) continue;
    const contact = contacts.find((c) => asStr(c?.wa_id) === from) ?? contacts[0];
    const name = asStr(asObj(contact?.profile)?.name);
    const media = inboundMedia(message);
    events.push({
      type: "inbound",
      eventId: id,
      from: from.startsWith("+") ? from : `+${from}`,
      ...(name ? { name } : {}),
      text,
      at: unixDate(message.timestamp),
      providerMessageId: id,
      ...(media ? { media } : {}),
    });
  }
}

export function createWhatsAppAdapter(
  config: WhatsAppConfig,
  options: WhatsAppAdapterOptions,
): ChannelAdapter {
  const base = options.baseUrl.replace(/\/+$/, "");
  const version = options.apiVersion ?? DEFAULT_WHATSAPP_API_VERSION;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const numberUrl = `${base}/${version}/${encodeURIComponent(config.phoneNumberId)}`;
  const messagesUrl = `${numberUrl}/messages`;
  const checkUrl = `${numberUrl}?fields=display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput`;
  const templatesUrl = `${base}/${version}/${encodeURIComponent(config.wabaId)}/message_templates`;
  const mediaUrl = `${numberUrl}/media`;
  const baseOrigin = new URL(base).origin;
  /** The token goes only to the API itself and to Meta's media hosts (where Meta sends us). */
  const mayReceiveToken = (url: string): boolean => {
    try {
      const parsed = new URL(url);
      if (parsed.origin === baseOrigin) return true;
      return (
        parsed.protocol === "https:" &&
        /(^|\.)(fbsbx\.com|facebook\.com|whatsapp\.net|fbcdn\.net)$/.test(parsed.hostname)
      );
    } catch {
      return false;
    }
  };
  // Built once: httpCall copies it per request anyway.
  const headers = { authorization: `Bearer ${config.accessToken}` };

  const templates: TemplateApi = {
    async list(): Promise<ProviderTemplate[]> {
      const out: ProviderTemplate[] = [];
      const seen = new Set<string>();
      let after: string | undefined;
      for (let page = 0; ; page++) {
        if (page >= MAX_TEMPLATE_PAGES) {
          throw new ProviderError(
            `WhatsApp listed more than ${MAX_TEMPLATE_PAGES} template pages`,
            {
              code: "paging_loop",
            },
          );
        }
        let url = `${templatesUrl}?fields=${TEMPLATE_FIELDS}&limit=${TEMPLATE_PAGE_SIZE}`;
        if (after !== undefined) url += `&after=${encodeURIComponent(after)}`;
        const reply = await httpCall({ method: "GET", url, headers, timeoutMs });
        if (reply.status < 200 || reply.status >= 300) throw replyError(reply);
        const root = asObj(reply.json);
        if (!root || !Array.isArray(root.data)) {
          throw new ProviderError(
            `WhatsApp answered ${reply.status} without a template list: ${reply.text.slice(0, 200)}`,
            { status: reply.status, code: "bad_reply" },
          );
        }
        for (const raw of root.data) {
          const template = readTemplate(raw);
          if (template) out.push(template);
        }
        const cursor = nextCursor(root);
        if (cursor === undefined || root.data.length === 0) return out;
        if (seen.has(cursor)) {
          throw new ProviderError("WhatsApp repeated a template page cursor", {
            code: "paging_loop",
          });
        }
        seen.add(cursor);
        after = cursor;
      }
    },

    async create(template: NewProviderTemplate) {
      const reply = await httpCall({
        method: "POST",
        url: templatesUrl,
        headers,
        body: {
          name: template.name,
          language: template.language,
          category: template.category,
          components: template.components,
        },
        timeoutMs,
      });
      if (reply.status < 200 || reply.status >= 300) throw replyError(reply);
      const root = asObj(reply.json);
      const id = asStr(root?.id);
      if (!root || !id) {
        throw new ProviderError(
          `WhatsApp answered ${reply.status} without a template id: ${reply.text.slice(0, 200)}`,
          { status: reply.status, code: "no_template_id" },
        );
      }
      const category = asStr(root.category);
      return { id, status: asStr(root.status) ?? "PENDING", ...(category ? { category } : {}) };
    },
  };

  /**
   * Uploads a file for a media message (POST /{phone-number-id}/media, multipart, as Meta
   * documents it) and returns the media id the message then names.
   */
  async function uploadMedia(media: NonNullable<OutgoingMessage["media"]>): Promise<string> {
    const boundary = `----pleisys${randomBytes(12).toString("hex")}`;
    const field = (name: string, value: string) =>
      `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const filename = media.filename.replace(/["\r\n\\]/g, "_");
    const multipart = Buffer.concat([
      Buffer.from(
        field("messaging_product", "whatsapp") +
          field("type", media.mimeType) +
          `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\n` +
          `content-type: ${media.mimeType}\r\n\r\n`,
      ),
      media.bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const reply = await httpCall({
      method: "POST",
      url: mediaUrl,
      headers: { ...headers, "content-type": `multipart/form-data; boundary=${boundary}` },
      body: multipart,
      timeoutMs,
    });
    if (reply.status < 200 || reply.status >= 300) throw replyError(reply);
    const id = asStr(asObj(reply.json)?.id);
    if (!id) {
      throw new ProviderError(
        `WhatsApp answered ${reply.status} to the media upload without an id: ${reply.text.slice(0, 200)}`,
        { status: reply.status, code: "no_media_id" },
      );
    }
    return id;
  }

  function body(message: OutgoingMessage, mediaId?: string): Record<string, unknown> {
    const content = message.content;
    if (content.channel !== "whatsapp") {
      throw new ProviderError(`The WhatsApp channel cannot send ${content.channel} content`, {
        code: UNSUPPORTED_CONTENT,
      });
    }
    // Meta wants the international number as digits only.
    const to = message.to.charCodeAt(0) === 43 /* + */ ? message.to.slice(1) : message.to;
    if (content.type === "text") {
      return {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        type: "text",
        text: { body: content.text, preview_url: false },
      };
    }
    if (content.type === "media") {
      const { kind, filename } = content.media;
      return {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        type: kind,
        [kind]: {
          id: mediaId,
          ...(content.caption ? { caption: content.caption } : {}),
          ...(kind === "document" ? { filename } : {}),
        },
      };
    }
    const template: Record<string, unknown> = {
      name: content.name,
      language: { code: content.language },
    };
    const components: Record<string, unknown>[] = [];
    if (content.header) {
      const { format, link } = content.header;
      components.push({ type: "header", parameters: [{ type: format, [format]: { link } }] });
    }
    if (content.bodyParams.length > 0) {
      components.push({
        type: "body",
        parameters: content.bodyParams.map((text) => ({ type: "text", text })),
      });
    }
    if (components.length > 0) template.components = components;
    return {
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to,
      type: "template",
      template,
    };
  }

  return {
    channel: "whatsapp",
    templates,

    async send(message: OutgoingMessage): Promise<SendResult> {
      let mediaId: string | undefined;
      if (message.content.channel === "whatsapp" && message.content.type === "media") {
        if (!message.media) {
          throw new ProviderError("The attachment's file was not handed to the WhatsApp adapter", {
            code: UNSUPPORTED_CONTENT,
          });
        }
        mediaId = await uploadMedia(message.media);
      }
      const reply = await httpCall({
        method: "POST",
        url: messagesUrl,
        headers,
        body: body(message, mediaId),
        timeoutMs,
      });
      if (reply.status < 200 || reply.status >= 300) throw replyError(reply);
      const id = asStr(asObj(asArr(asObj(reply.json)?.messages)[0])?.id);
      if (!id) {
        throw new ProviderError(
          `WhatsApp answered ${reply.status} without a message id: ${reply.text.slice(0, 200)}`,
          { status: reply.status, code: "no_message_id" },
        );
      }
      return { providerMessageId: id };
    },

    async downloadMedia(mediaId: string) {
      // Two steps, as Meta documents: the media node gives a short-lived URL, fetched with the token.
      const info = await httpCall({
        method: "GET",
        url: `${base}/${version}/${encodeURIComponent(mediaId)}`,
        headers,
        timeoutMs,
      });
      if (info.status < 200 || info.status >= 300) throw replyError(info);
      const node = asObj(info.json);
      const url = asStr(node?.url);
      if (!node || !url || !mayReceiveToken(url)) {
        throw new ProviderError(`WhatsApp gave no usable download URL for media ${mediaId}`, {
          status: info.status,
          code: "no_media_url",
        });
      }
      const file = await httpCall({ method: "GET", url, headers, timeoutMs, raw: true });
      if (file.status < 200 || file.status >= 300 || !file.bytes) throw replyError(file);
      return { bytes: file.bytes, mimeType: asStr(node.mime_type) ?? "application/octet-stream" };
    },

    classify(error: unknown): ErrorClass {
      try {
        if (error instanceof ProviderError) {
          if (error.code === UNSUPPORTED_CONTENT) {
            return { kind: "permanent", reason: error.message };
          }
          return whatsAppErrorClass(error.code, error.message, error.status, error.retryAfterMs);
        }
        const text = error instanceof Error ? error.message : String(error);
        return { kind: "transient", reason: `WhatsApp: ${text}` };
      } catch {
        return { kind: "transient", reason: "WhatsApp: unexpected error" };
      }
    },

    async receiveWebhook(request: RawWebhook): Promise<WebhookOutcome> {
      try {
        const method = request.method.toUpperCase();
        if (method === "GET") {
          const query = new URL(request.url, "http://localhost").searchParams;
          const token = query.get("hub.verify_token") ?? "";
          if (
            query.get("hub.mode") !== "subscribe" ||
            config.verifyToken === "" ||
            !sameSecret(token, config.verifyToken)
          ) {
            return { kind: "rejected", status: 403, reason: "verify token mismatch" };
          }
          const challenge = query.get("hub.challenge");
          if (challenge === null) {
            return { kind: "rejected", status: 400, reason: "hub.challenge missing" };
          }
          return { kind: "handshake", status: 200, body: challenge, contentType: "text/plain" };
        }
        if (method !== "POST") {
          return { kind: "rejected", status: 400, reason: `unexpected method ${method}` };
        }

        const header = request.headers["x-hub-signature-256"];
        if (!header) return { kind: "rejected", status: 401, reason: "signature missing" };
        const match = SIGNATURE.exec(header.trim());
        if (!match?.[1] || config.appSecret === "") {
          return { kind: "rejected", status: 401, reason: "signature malformed" };
        }
        const expected = createHmac("sha256", config.appSecret).update(request.body).digest();
        if (!timingSafeEqual(Buffer.from(match[1], "hex"), expected)) {
          return { kind: "rejected", status: 401, reason: "signature mismatch" };
        }

        let payload: unknown;
        try {
          payload = JSON.parse(request.body.toString("utf8"));
        } catch {
          return { kind: "rejected", status: 400, reason: "body is not JSON" };
        }
        const root = asObj(payload);
        if (!root) return { kind: "rejected", status: 400, reason: "body is not a JSON object" };

        const events: ChannelEvent[] = [];
        if (root.object !== "whatsapp_business_account") return { kind: "events", events };
        for (const entry of asArr(root.entry)) {
          for (const rawChange of asArr(asObj(entry)?.changes)) {
            const change = asObj(rawChange);
            if (change?.field !== "messages") continue;
            const value = asObj(change.value);
            if (!value) continue;
            // One app may serve several numbers: only ours.
            if (asStr(asObj(value.metadata)?.phone_number_id) !== config.phoneNumberId) continue;
            parseValue(value, events);
          }
        }
        return { kind: "events", events };
      } catch (error) {
        return {
          kind: "rejected",
          status: 400,
          reason: `could not read webhook: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    },

    async testConnection(): Promise<ConnectionCheck> {
      // Two reads: the number (proves the token and the phone number ID), then one template of
      // the business account (proves the account ID and that the token may manage templates).
      let check = "Access token and phone number ID";
      try {
        const reply = await httpCall({ method: "GET", url: checkUrl, headers, timeoutMs });
        if (reply.status < 200 || reply.status >= 300) {
          const error = replyError(reply);
          return {
            ok: false,
            check,
            reason: whatsAppErrorClass(error.code, error.message, error.status).reason,
          };
        }
        const info = asObj(reply.json);
        const display = asStr(info?.display_phone_number);
        if (!info || !display) {
          return {
            ok: false,
            check,
            reason: "WhatsApp answered without the phone number's details",
          };
        }
        check = "WhatsApp Business Account ID";
        const waba = await httpCall({
          method: "GET",
          url: `${templatesUrl}?fields=name&limit=1`,
          headers,
          timeoutMs,
        });
        if (waba.status < 200 || waba.status >= 300) {
          const error = replyError(waba);
          return {
            ok: false,
            check,
            reason: whatsAppErrorClass(error.code, error.message, error.status).reason,
          };
        }
        const name = asStr(info.verified_name);
        const tier = asStr(info.messaging_limit_tier);
        const quality = asStr(info.quality_rating);
        let detail = name ? `${display} (${name})` : display;
        if (tier) detail += `, messaging limit ${messagingTierLabel(tier)}`;
        if (quality) detail += `, quality ${qualityRatingLabel(quality).toLowerCase()}`;
        const level = asStr(asObj(info.throughput)?.level);
        const rate = level ? THROUGHPUT[level] : undefined;
        return { ok: true, detail, ...(rate ? { ratePerSecond: rate } : {}) };
      } catch (error) {
        const reason =
          error instanceof ProviderError
            ? whatsAppErrorClass(error.code, error.message, error.status).reason
            : `WhatsApp: ${error instanceof Error ? error.message : String(error)}`;
        return { ok: false, check, reason };
      }
    },
  };
}
