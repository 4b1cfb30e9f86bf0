import { createHmac, timingSafeEqual } from "node:crypto";
import { httpCall, retryAfterMs } from "../http.server";
import {
  ProviderError,
  type ChannelAdapter,
  type ChannelEvent,
  type ConnectionCheck,
  type ErrorClass,
  type OutgoingMessage,
  type RawWebhook,
  type SendResult,
  type WebhookOutcome,
} from "../types";

/**
 * SMS through a Twilio-compatible Messages API (Twilio itself, or a gateway speaking its
 * 2010-04-01 REST dialect): form-encoded POSTs with HTTP Basic auth, JSON answers, and
 * form-encoded status / inbound webhooks signed with X-Twilio-Signature.
 */

export interface SmsConfig {
  accountSid: string;
  authToken: string;
  /** E.164 number, short code or alphanumeric sender ID. */
  from?: string;
  /** Twilio Messaging Service (MG...): picks the sender from its pool. */
  messagingServiceSid?: string;
  /** India DLT: the principal entity id registered on the DLT portal. */
  dltEntityId?: string;
  /** India DLT: the registered sender header (e.g. "SHOPIN"), used as From when `from` is empty. */
  dltSenderHeader?: string;
}

export interface SmsAdapterOptions {
  /** SMS_API_BASE_URL, e.g. https://api.twilio.com (no trailing path). */
  baseUrl: string;
  /**
   * Our webhook URL for this integration: sent as StatusCallback with every message, and the
   * URL signatures are checked against (Twilio signs the URL it called, which behind a proxy is
   * not the URL the server sees). Point the number's inbound webhook at the same URL.
   */
  statusCallbackUrl?: string;
  timeoutMs?: number;
}

/** What Twilio's codes mean, worded for the person reading a failed message. */
const SMS_ERRORS: Record<string, string> = {
  "14107": "SMS send rate limit exceeded",
  "20003": "authentication failed: check the account SID and auth token",
  "20404": "account or resource not found: check the account SID",
  "20429": "too many requests",
  "21211": "invalid 'To' phone number",
  "21212": "invalid 'From' number or sender ID",
  "21408": "sending to this country or region is not enabled on the account (geo permissions)",
  "21602": "the message body is empty",
  "21603": "a From number or messaging service is required",
  "21604": "a 'To' phone number is required",
  "21606": "the From number cannot send SMS to this destination",
  "21608": "trial accounts can only send to verified numbers",
  "21610": "the recipient has opted out (replied STOP)",
  "21611": "too many messages queued for this sender",
  "21612": "the 'To' number cannot be reached from this sender",
  "21614": "the 'To' number is not a mobile number",
  "21617": "the message is longer than 1,600 characters",
  "30001": "too many messages queued (queue overflow)",
  "30002": "the account is suspended",
  "30003": "the phone is unreachable (switched off or out of coverage)",
  "30004": "the message was blocked (the recipient may block messages from this sender)",
  "30005": "unknown destination: the number may not exist",
  "30006": "a landline or unreachable carrier",
  "30007": "filtered by the carrier as spam",
  "30008": "unknown delivery error",
  "30032": "the toll-free sender is not verified",
  "30034": "the sender is not registered for A2P 10DLC",
};

/** Codes meaning "slow down", whatever HTTP status carries them. */
const RATE_CODES = new Set(["20429", "14107", "21611", "30001"]);

/** "SMS <code>: <meaning>" for a Twilio error code, with the provider's words as a fallback. */
export function smsErrorReason(code: string | undefined, fallback?: string): string {
  const meaning = (code && SMS_ERRORS[code]) || fallback || "failed";
  return code ? `SMS ${code}: ${meaning}` : `SMS: ${meaning}`;
}

export function classifySmsError(error: unknown): ErrorClass {
  if (!(error instanceof ProviderError)) {
    return {
      kind: "transient",
      reason: `SMS: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const { status, code, retryAfterMs: retryAfter } = error;
  if (code === "bad_content" || code === "bad_response") {
    return { kind: "permanent", reason: `SMS: ${error.message}` };
  }
  // Network failure or timeout: nothing was (knowingly) accepted.
  if (status === undefined) return { kind: "transient", reason: `SMS: ${error.message}` };
  if (status === 429 || (code !== undefined && RATE_CODES.has(code))) {
    return {
      kind: "rate-limited",
      retryAfterMs: retryAfter,
      reason: smsErrorReason(code ?? "20429", error.message),
    };
  }
  if (code === "21610") {
    return { kind: "permanent", reason: smsErrorReason(code), suppress: "blocked" };
  }
  if (status === 401 || code === "20003") {
    return { kind: "permanent", reason: smsErrorReason("20003") };
  }
  if (status >= 500) {
    return {
      kind: "transient",
      retryAfterMs: retryAfter,
      reason: smsErrorReason(code, error.message),
    };
  }
  if (status >= 400) return { kind: "permanent", reason: smsErrorReason(code, error.message) };
  return {
    kind: "transient",
    retryAfterMs: retryAfter,
    reason: smsErrorReason(code, error.message),
  };
}

interface TwilioErrorBody {
  code?: number | string;
  message?: string;
}

function errorFromReply(reply: {
  status: number;
  headers: Record<string, string>;
  json: unknown;
}): ProviderError {
  const body = (reply.json ?? {}) as TwilioErrorBody;
  const code = body.code === undefined || body.code === null ? undefined : String(body.code);
  return new ProviderError(body.message || `HTTP ${reply.status}`, {
    status: reply.status,
    code,
    retryAfterMs: retryAfterMs(reply.headers["retry-after"]),
  });
}

/**
 * Twilio's request signature: base64 HMAC-SHA1, keyed with the auth token, over the URL
 * followed by every POST parameter's name and value, sorted by name (then value).
 */
export function twilioSignature(
  authToken: string,
  url: string,
  params: readonly (readonly [string, string])[],
): string {
  const sorted = [...params].sort(([ka, va], [kb, vb]) =>
    ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0,
  );
  const hmac = createHmac("sha1", authToken).update(url);
  for (const [k, v] of sorted) hmac.update(k).update(v);
  return hmac.digest("base64");
}

/** Constant-time check of an X-Twilio-Signature header. */
export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: readonly (readonly [string, string])[],
): boolean {
  if (!signature) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Strict application/x-www-form-urlencoded parsing: every pair needs a name and "=", and
 * escapes must decode. Null when the body is not a form (JSON, empty, garbage).
 */
function parseForm(body: Buffer): [string, string][] | null {
  const text = body.toString("utf8");
  if (text === "") return null;
  const pairs: [string, string][] = [];
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    try {
      pairs.push([
        decodeURIComponent(part.slice(0, eq).replace(/\+/g, " ")),
        decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " ")),
      ]);
    } catch {
      return null;
    }
  }
  return pairs.length > 0 ? pairs : null;
}

const STATUS_EVENTS: Record<string, "sent" | "delivered" | "read" | "failed"> = {
  sent: "sent",
  delivered: "delivered",
  read: "read",
  undelivered: "failed",
  failed: "failed",
  canceled: "failed",
};

function parseWebhook(pairs: [string, string][]): WebhookOutcome {
  const p = new Map(pairs);
  const sid = p.get("MessageSid") ?? p.get("SmsSid");
  if (!sid) {
    return { kind: "rejected", status: 400, reason: "Neither a status callback nor a message" };
  }
  const at = new Date();
  const status = p.get("MessageStatus") ?? p.get("SmsStatus");
  if (status === undefined || status === "received") {
    const from = p.get("From");
    if (!from) return { kind: "rejected", status: 400, reason: "Inbound message without From" };
    const event: ChannelEvent = {
      type: "inbound",
      eventId: sid,
      from,
      text: p.get("Body") ?? "",
      at,
      providerMessageId: sid,
    };
    return { kind: "events", events: [event] };
  }
  const mapped = STATUS_EVENTS[status];
  // queued, sending, accepted, scheduled, receiving, ...: nothing the engine records.
  if (!mapped) return { kind: "events", events: [] };
  const event: ChannelEvent = {
    type: "status",
    eventId: `${sid}:${status}`,
    providerMessageId: sid,
    status: mapped,
    at,
  };
  if (mapped === "failed") {
    const code = p.get("ErrorCode") || undefined;
    event.reason = code ? smsErrorReason(code, "delivery failed") : `SMS ${status}`;
  }
  return { kind: "events", events: [event] };
}

export function createSmsAdapter(config: SmsConfig, options: SmsAdapterOptions): ChannelAdapter {
  const { accountSid, authToken } = config;
  if (!accountSid || !authToken) throw new Error("SMS: account SID and auth token are required");
  const sender = config.from || config.dltSenderHeader || undefined;
  if (!sender && !config.messagingServiceSid) {
    throw new Error("SMS: a From number, messaging service SID or DLT sender header is required");
  }
  const base = options.baseUrl.replace(/\/+$/, "");
  const accountUrl = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}`;
  const messagesUrl = `${accountUrl}/Messages.json`;
  const timeoutMs = options.timeoutMs;
  const authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
  const sendHeaders = {
    authorization,
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };

  // Everything but To / Body / the template is the same for every message: encode it once.
  // India DLT: Twilio itself matches registered templates on its side and ignores these, but
  // the Twilio-compatible Indian gateways (e.g. Exotel) take them as `DltEntityId` and
  // `DltTemplateId` form parameters, with the registered sender header as `From`; we send
  // that naming, and only when configured, so plain Twilio accounts are unaffected.
  const fixed = new URLSearchParams();
  if (sender) fixed.set("From", sender);
  if (config.messagingServiceSid) fixed.set("MessagingServiceSid", config.messagingServiceSid);
  if (options.statusCallbackUrl) fixed.set("StatusCallback", options.statusCallbackUrl);
  if (config.dltEntityId) fixed.set("DltEntityId", config.dltEntityId);
  const fixedForm = fixed.toString();
  const signedUrl = options.statusCallbackUrl;

  return {
    channel: "sms",

    async send(message: OutgoingMessage): Promise<SendResult> {
      const content = message.content;
      if (content.channel !== "sms") {
        throw new ProviderError(`SMS adapter cannot send ${content.channel} content`, {
          code: "bad_content",
        });
      }
      const perMessage = new URLSearchParams({ To: message.to, Body: content.text });
      if (content.dltTemplateId) perMessage.set("DltTemplateId", content.dltTemplateId);
      const reply = await httpCall({
        method: "POST",
        url: messagesUrl,
        headers: sendHeaders,
        body: `${fixedForm}&${perMessage.toString()}`,
        timeoutMs,
      });
      if (reply.status >= 300) throw errorFromReply(reply);
      const sid = (reply.json as { sid?: unknown } | undefined)?.sid;
      if (typeof sid !== "string" || sid === "") {
        // Accepted or not, we cannot tell: failing beats sending the message twice.
        throw new ProviderError(`Answer ${reply.status} without a message sid`, {
          status: reply.status,
          code: "bad_response",
        });
      }
      return { providerMessageId: sid };
    },

    classify: classifySmsError,

    async receiveWebhook(request: RawWebhook): Promise<WebhookOutcome> {
      const signature = request.headers["x-twilio-signature"];
      if (!signature) {
        return { kind: "rejected", status: 401, reason: "Missing X-Twilio-Signature" };
      }
      const contentType = request.headers["content-type"];
      if (contentType !== undefined && !/application\/x-www-form-urlencoded/i.test(contentType)) {
        return { kind: "rejected", status: 400, reason: `Unexpected content type ${contentType}` };
      }
      const pairs = parseForm(request.body);
      if (!pairs) return { kind: "rejected", status: 400, reason: "Body is not a form" };
      if (!isValidTwilioSignature(authToken, signature, signedUrl ?? request.url, pairs)) {
        return { kind: "rejected", status: 401, reason: "Invalid X-Twilio-Signature" };
      }
      return parseWebhook(pairs);
    },

    async testConnection(): Promise<ConnectionCheck> {
      try {
        const reply = await httpCall({
          method: "GET",
          url: `${accountUrl}.json`,
          headers: { authorization, accept: "application/json" },
          timeoutMs,
        });
        if (reply.status >= 300) {
          const error = errorFromReply(reply);
          return {
            ok: false,
            check: "Account SID and auth token",
            reason: classifySmsError(error).reason,
          };
        }
        const account = (reply.json ?? {}) as { friendly_name?: string; status?: string };
        const name = account.friendly_name || accountSid;
        if (account.status && account.status !== "active") {
          return {
            ok: false,
            check: "Account status",
            reason: `SMS account "${name}" is ${account.status}`,
          };
        }
        return { ok: true, detail: `${name} (${account.status ?? "active"})` };
      } catch (error) {
        return {
          ok: false,
          check: "Account SID and auth token",
          reason: classifySmsError(error).reason,
        };
      }
    },
  };
}
