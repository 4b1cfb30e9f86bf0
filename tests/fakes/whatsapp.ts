// Fake WhatsApp Cloud API (Meta Graph API), on the paths the app derives from
// WHATSAPP_API_BASE_URL: POST /{version}/{phone-number-id}/messages,
// GET /{version}/{phone-number-id}?fields=..., GET /{version}/{waba-id}/message_templates
// (fields, limit, after-cursor paging with paging.next) and POST to the same path (submit a
// template for review: it is stored PENDING until `setTemplateStatus` moves it),
// POST /{version}/{phone-number-id}/media (multipart upload; image/document messages name the
// returned id), GET /{version}/{media-id} (its download URL on the fake) for customer media.
// Errors use Graph's shape {error: {message, type, code, error_data: {details}, fbtrace_id}}.
// Webhook helpers build Meta's `messages` webhook payloads and sign them like Meta does
// (X-Hub-Signature-256: sha256=HMAC-SHA256(app secret, raw body)).
// Built to keep up with the 100,000-message dispatch benchmark: O(1) work per send, and
// `record: false` keeps only counters (base.ts still records every request: call
// `fake.clearRequests()` now and then in long benches).
import { createHash, createHmac, randomBytes } from "node:crypto";
import {
  createFakeServer,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  type Fault,
} from "./base";

export interface WhatsAppFakeNumberInput {
  phoneNumberId: string;
  accessToken: string;
  /** The WhatsApp Business Account the number belongs to (for message_templates). */
  wabaId?: string;
  /** As Meta shows it, e.g. "+91 98765 43210". Default "+1 555-000-0000". */
  displayPhoneNumber?: string;
  verifiedName?: string;
  /** messaging_limit_tier, default "TIER_1K". */
  tier?: string;
  /** quality_rating, default "GREEN". */
  qualityRating?: string;
  /** throughput.level, default "STANDARD". */
  throughput?: "STANDARD" | "HIGH";
}

export interface WhatsAppFakeTemplateInput {
  name: string;
  /** Default "en_US". */
  language?: string;
  /** Default "APPROVED"; only approved templates can be sent. */
  status?: string;
  /** Meta's rejected_reason (e.g. "INVALID_FORMAT") for a REJECTED template. */
  rejectedReason?: string;
  /** Default "MARKETING". */
  category?: string;
  /** Meta's components; the BODY text's {{n}} placeholders set the required parameter count. */
  components?: { type: string; text?: string; format?: string; [key: string]: unknown }[];
  /** Listed for this WABA only; default: every WABA. */
  wabaId?: string;
}

export interface WhatsAppSentMessage {
  phoneNumberId: string;
  /** Digits only, as Meta takes it. */
  to: string;
  type: "text" | "template" | "image" | "document";
  text?: string;
  template?: { name: string; language: string; params: string[] };
  /** An image or document message: the uploaded media it names. */
  media?: { id: string; caption?: string; filename?: string };
  wamid: string;
  /** Date.now() when accepted. */
  at: number;
}

export interface WhatsAppFakeOptions {
  port?: number;
  numbers?: WhatsAppFakeNumberInput[];
  templates?: WhatsAppFakeTemplateInput[];
  /**
   * Reject free-form text (131047) unless the recipient messaged in within 24 h (see
   * `markInbound`). Default false: every text is accepted.
   */
  enforceWindow?: boolean;
  /** Per-number limit of accepted sends in any 1,000 ms window; over it: 400 with 130429. */
  ratePerSecond?: number;
  /** Keep `fake.sent` (default true); false keeps only `sentCount` and the rate meter. */
  record?: boolean;
  /** Clock in ms for the rate meter, the window and `at` (tests); default Date.now. */
  now?: () => number;
}

export interface MetaWebhookError {
  code: number;
  title: string;
  message?: string;
  details?: string;
}

export interface StatusPayloadInput {
  phoneNumberId: string;
  wamid: string;
  status: "sent" | "delivered" | "read" | "failed";
  /** E.164 or digits. */
  recipient: string;
  errors?: MetaWebhookError[];
  /** Unix seconds; default now. */
  timestamp?: number | string;
  displayPhoneNumber?: string;
  wabaId?: string;
}

export interface InboundPayloadInput {
  phoneNumberId: string;
  /** E.164 or digits. */
  from: string;
  name: string;
  /** The message body, or the button / list row title for a reply. */
  text: string;
  id?: string;
  timestamp?: number | string;
  /** A tap on a template quick-reply button, a reply button, or a list row, instead of text. */
  reply?: { type: "button" | "button_reply" | "list_reply"; id?: string };
  displayPhoneNumber?: string;
  wabaId?: string;
}

/** Media held by the fake: uploaded by the business, or sent by a customer (`addMedia`). */
export interface WhatsAppFakeMedia {
  id: string;
  /** The number that uploaded it; absent for customer media (any known token may fetch it). */
  phoneNumberId?: string;
  mimeType: string;
  filename?: string;
  bytes: Buffer;
}

export interface InboundMediaPayloadInput {
  phoneNumberId: string;
  from: string;
  name: string;
  kind: "image" | "document";
  /** The media id (from `addMedia`), fetched through GET /{media-id}. */
  mediaId: string;
  mimeType: string;
  filename?: string;
  caption?: string;
  id?: string;
  timestamp?: number | string;
  displayPhoneNumber?: string;
  wabaId?: string;
}

/** A `messages` webhook payload as Meta posts it. */
export interface WhatsAppWebhookPayload {
  object: "whatsapp_business_account";
  entry: { id: string; changes: { value: Record<string, unknown>; field: string }[] }[];
}

export interface SignedWebhook {
  /** The exact bytes to post; the signature covers them. */
  body: Buffer;
  headers: { "content-type": string; "x-hub-signature-256": string };
}

export interface WhatsAppFake extends FakeServer {
  /** Accepted messages, oldest first (empty with `record: false`). */
  readonly sent: WhatsAppSentMessage[];
  /** Accepted messages, counted even with `record: false`. */
  readonly sentCount: number;
  /** Registers (or replaces, by id) a business number and the token allowed to use it. */
  addNumber(input: WhatsAppFakeNumberInput): void;
  /** Registers a template; once any exists, unknown names/languages get 132001. */
  addTemplate(input: WhatsAppFakeTemplateInput): void;
  /**
   * Meta's review outcome: moves every template with this name and language (in `wabaId` only,
   * when given) to `status` (APPROVED, REJECTED, PAUSED, DISABLED, ...). `reason` is the
   * rejected_reason of a REJECTED one (default "INVALID_FORMAT"). Throws if there is none.
   */
  setTemplateStatus(
    name: string,
    language: string,
    status: string,
    reason?: string,
    wabaId?: string,
  ): void;
  /** Deletes templates by name and language (in `wabaId` only, when given); how many went. */
  removeTemplate(name: string, language: string, wabaId?: string): number;
  /** The customer `to` wrote to `phoneNumberId` at `at` (default now): opens the 24 h window. */
  markInbound(phoneNumberId: string, to: string, at?: number): void;
  /** Largest number of accepted sends for the number in any sliding 1,000 ms window. */
  maxRatePerSecond(phoneNumberId: string): number;
  /** Forgets sent messages, the counter and the rate meters (not numbers, templates, windows). */
  clearSent(): void;
  signedWebhook(appSecret: string, payload: unknown): SignedWebhook;
  /** Media uploaded with POST /{phone-number-id}/media, oldest first. */
  readonly uploads: WhatsAppFakeMedia[];
  /** Media a customer sends: stored for GET /{media-id} and its download URL; returns the id. */
  addMedia(input: { mimeType: string; bytes: Buffer; filename?: string }): string;
  inboundMediaPayload(input: InboundMediaPayloadInput): WhatsAppWebhookPayload;
  /**
   * Posts a payload to our webhook URL signed with the app secret, as Meta does; the status.
   * Use with `inboundPayload` (text, button replies) and `inboundMediaPayload`.
   */
  postWebhook(url: string, appSecret: string, payload: unknown): Promise<number>;
  /** As the exported builders, filling display number and WABA from the registered number. */
  statusPayload(input: StatusPayloadInput): WhatsAppWebhookPayload;
  inboundPayload(input: InboundPayloadInput): WhatsAppWebhookPayload;
}

/** The number `npm run fakes` could start with. */
export const FAKE_WHATSAPP_DEMO_NUMBER: Readonly<Required<WhatsAppFakeNumberInput>> = Object.freeze(
  {
    phoneNumberId: "100000000000001",
    accessToken: "fake-whatsapp-access-token",
    wabaId: "200000000000001",
    displayPhoneNumber: "+91 98765 43210",
    verifiedName: "Pleisys Demo",
    tier: "TIER_1K",
    qualityRating: "GREEN",
    throughput: "STANDARD",
  },
);

const DAY_MS = 24 * 60 * 60 * 1000;

// --- errors ------------------------------------------------------------------------------------

/** Graph's error body, e.g. metaErrorBody(131047, "Re-engagement message"). */
export function metaErrorBody(
  code: number,
  message: string,
  details: string = message,
  subcode?: number,
): { error: Record<string, unknown> } {
  return {
    error: {
      message: code === 190 ? message : `(#${code}) ${message}`,
      type: "OAuthException",
      code,
      ...(subcode !== undefined ? { error_subcode: subcode } : {}),
      error_data: { messaging_product: "whatsapp", details },
      fbtrace_id: `A${randomBytes(12).toString("base64url")}`,
    },
  };
}

function metaReply(code: number, message: string, status = 400, details?: string): FakeReply {
  return { status, json: metaErrorBody(code, message, details) };
}

/**
 * A fault for `fake.injectFault` answering with a Meta error, e.g.
 * `metaError(131047, "Re-engagement message")`, `metaError(2, "Service unavailable", 503)`,
 * or with `{ headers: { "retry-after": "2" } }`.
 */
export function metaError(
  code: number,
  message: string,
  status = 400,
  extra: { details?: string; headers?: Record<string, string> } = {},
): Fault {
  return {
    kind: "status",
    status,
    json: metaErrorBody(code, message, extra.details),
    ...(extra.headers ? { headers: extra.headers } : {}),
  };
}

// --- webhooks ----------------------------------------------------------------------------------

function digits(phone: string): string {
  return phone.startsWith("+") ? phone.slice(1) : phone;
}

function nowSeconds(): string {
  return String(Math.floor(Date.now() / 1000));
}

function envelope(
  phoneNumberId: string,
  wabaId: string | undefined,
  displayPhoneNumber: string | undefined,
  value: Record<string, unknown>,
): WhatsAppWebhookPayload {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: wabaId ?? "0",
        changes: [
          {
            value: {
              messaging_product: "whatsapp",
              metadata: {
                display_phone_number: (displayPhoneNumber ?? "15550000000").replace(/\D/g, ""),
                phone_number_id: phoneNumberId,
              },
              ...value,
            },
            field: "messages",
          },
        ],
      },
    ],
  };
}

/** A status webhook (sent / delivered / read / failed with errors) for one message. */
export function statusPayload(input: StatusPayloadInput): WhatsAppWebhookPayload {
  const recipient = digits(input.recipient);
  const status: Record<string, unknown> = {
    id: input.wamid,
    status: input.status,
    timestamp: String(input.timestamp ?? nowSeconds()),
    recipient_id: recipient,
  };
  if (input.status === "failed") {
    status.errors = (input.errors ?? []).map((e) => ({
      code: e.code,
      title: e.title,
      message: e.message ?? e.title,
      error_data: { details: e.details ?? e.title },
      href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }));
  } else {
    status.pricing = {
      billable: true,
      pricing_model: "PMP",
      category: "marketing",
      type: "regular",
    };
  }
  return envelope(input.phoneNumberId, input.wabaId, input.displayPhoneNumber, {
    statuses: [status],
  });
}

/** An inbound customer message webhook (text, or a button / list reply). */
export function inboundPayload(input: InboundPayloadInput): WhatsAppWebhookPayload {
  const from = digits(input.from);
  const message: Record<string, unknown> = {
    from,
    id: input.id ?? `wamid.${randomBytes(24).toString("base64")}`,
    timestamp: String(input.timestamp ?? nowSeconds()),
  };
  const reply = input.reply;
  if (!reply) {
    message.type = "text";
    message.text = { body: input.text };
  } else if (reply.type === "button") {
    message.type = "button";
    message.button = { payload: reply.id ?? input.text, text: input.text };
  } else {
    message.type = "interactive";
    message.interactive = {
      type: reply.type,
      [reply.type]: { id: reply.id ?? "option-1", title: input.text },
    };
  }
  return envelope(input.phoneNumberId, input.wabaId, input.displayPhoneNumber, {
    contacts: [{ profile: { name: input.name }, wa_id: from }],
    messages: [message],
  });
}

/** An inbound image or document (the media is fetched by id, as from Meta). */
export function inboundMediaPayload(input: InboundMediaPayloadInput): WhatsAppWebhookPayload {
  const from = digits(input.from);
  const media: Record<string, unknown> = {
    id: input.mediaId,
    mime_type: input.mimeType,
    sha256: "",
  };
  if (input.caption) media.caption = input.caption;
  if (input.kind === "document" && input.filename) media.filename = input.filename;
  return envelope(input.phoneNumberId, input.wabaId, input.displayPhoneNumber, {
    contacts: [{ profile: { name: input.name }, wa_id: from }],
    messages: [
      {
        from,
        id: input.id ?? `wamid.${randomBytes(24).toString("base64")}`,
        timestamp: String(input.timestamp ?? nowSeconds()),
        type: input.kind,
        [input.kind]: media,
      },
    ],
  });
}

/** Splits a multipart/form-data body into its parts (enough for Meta's media upload). */
function multipartParts(
  body: Buffer,
  contentType: string,
): { name: string; filename?: string; type?: string; data: Buffer }[] | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (!mark) return null;
  const delimiter = Buffer.from(`--${mark}`);
  const parts: { name: string; filename?: string; type?: string; data: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) return null;
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) return null;
    const head = part.subarray(0, split).toString("utf8");
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined) return null;
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim();
    parts.push({
      name,
      ...(filename !== undefined ? { filename } : {}),
      ...(type ? { type } : {}),
      data: Buffer.from(part.subarray(split + 4)),
    });
    at = next;
  }
  return parts;
}

/** Signs a payload (object → JSON, or the exact string/bytes) with the app secret. */
export function signWebhook(appSecret: string, payload: unknown): SignedWebhook {
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload), "utf8");
  const signature = createHmac("sha256", appSecret).update(body).digest("hex");
  return {
    body,
    headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${signature}` },
  };
}

// --- rate meter --------------------------------------------------------------------------------

/** Timestamps of accepted sends in the last second (a deque) and the largest count seen. */
class RateMeter {
  private times: number[] = [];
  private head = 0;
  max = 0;

  /** Drops sends at or before now - 1000: the window is (now - 1000, now]. */
  count(now: number): number {
    const cutoff = now - 1000;
    const times = this.times;
    let head = this.head;
    while (head < times.length && (times[head] as number) <= cutoff) head++;
    if (head > 1024 && head * 2 > times.length) {
      this.times = times.slice(head);
      head = 0;
    }
    this.head = head;
    return this.times.length - head;
  }

  record(now: number): void {
    const n = this.count(now) + 1;
    this.times.push(now);
    if (n > this.max) this.max = n;
  }
}

// --- the fake ----------------------------------------------------------------------------------

interface NumberState {
  input: Required<Omit<WhatsAppFakeNumberInput, "wabaId">> & { wabaId?: string };
  meter: RateMeter;
}

interface TemplateState {
  id: string;
  name: string;
  language: string;
  status: string;
  /** Meta's rejected_reason: "NONE" unless rejected. */
  rejectedReason: string;
  category: string;
  components: NonNullable<WhatsAppFakeTemplateInput["components"]>;
  wabaId?: string;
  /** Highest {{n}} in the BODY text. */
  bodyParams: number;
}

interface SendBody {
  messaging_product?: unknown;
  to?: unknown;
  type?: unknown;
  text?: { body?: unknown };
  template?: {
    name?: unknown;
    language?: { code?: unknown };
    components?: unknown;
  };
}

const PHONE_DIGITS = /^\+?(\d{6,15})$/;
const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
const TEMPLATE_LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2,4})?$/;
const TEMPLATE_CATEGORIES = new Set(["MARKETING", "UTILITY", "AUTHENTICATION"]);
/** Fields a message template node has (Graph rejects others); `id` is always returned. */
const TEMPLATE_NODE_FIELDS = new Set([
  "id",
  "name",
  "language",
  "status",
  "category",
  "components",
  "rejected_reason",
  "quality_score",
  "parameter_format",
]);
/** Without `fields`, Graph answers with these. */
const DEFAULT_TEMPLATE_FIELDS = ["name", "language", "status", "category", "components", "id"];
const DEFAULT_TEMPLATE_PAGE = 25;
const MAX_TEMPLATE_PAGE = 1000;
const VERSION = String.raw`v\d+\.\d+`;

function bodyParamsOf(components: TemplateState["components"]): number {
  const body = components.find((c) => c.type.toUpperCase() === "BODY");
  let max = 0;
  for (const m of (body?.text ?? "").matchAll(/\{\{(\d+)\}\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}

/** Templates live per WABA; one added without a WABA is listed in every WABA ("*"). */
function templateKey(wabaId: string | undefined, name: string, language: string): string {
  return `${wabaId ?? "*"}\u0000${name}\u0000${language}`;
}

/**
 * A Business Management API error as Meta sends it for template calls: no error_data, the
 * explanation in error_user_title / error_user_msg, often with an error_subcode.
 */
function templateError(title: string, userMessage: string, subcode?: number): FakeReply {
  return {
    status: 400,
    json: {
      error: {
        message: "Invalid parameter",
        type: "OAuthException",
        code: 100,
        ...(subcode !== undefined ? { error_subcode: subcode } : {}),
        is_transient: false,
        error_user_title: title,
        error_user_msg: userMessage,
        fbtrace_id: `A${randomBytes(12).toString("base64url")}`,
      },
    },
  };
}

function noObject(id: string, method: string): FakeReply {
  return {
    status: 400,
    json: metaErrorBody(
      100,
      `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      undefined,
      33,
    ),
  };
}

export function createWhatsAppFake(options: WhatsAppFakeOptions = {}): WhatsAppFake {
  const now = options.now ?? Date.now;
  const record = options.record ?? true;
  const limit = options.ratePerSecond;
  const enforceWindow = options.enforceWindow ?? false;

  const numbers = new Map<string, NumberState>();
  const tokens = new Map<string, number>();
  const templates = new Map<string, TemplateState>();
  let templateSeq = 0;
  const lastInbound = new Map<string, number>();
  const sent: WhatsAppSentMessage[] = [];
  const media = new Map<string, WhatsAppFakeMedia>();
  const uploads: WhatsAppFakeMedia[] = [];
  let mediaSeq = 0;
  let sentCount = 0;
  let seq = 0;
  const salt = randomBytes(6).toString("hex");

  function addNumber(input: WhatsAppFakeNumberInput): void {
    const previous = numbers.get(input.phoneNumberId);
    if (previous) {
      const count = (tokens.get(previous.input.accessToken) ?? 1) - 1;
      if (count > 0) tokens.set(previous.input.accessToken, count);
      else tokens.delete(previous.input.accessToken);
    }
    numbers.set(input.phoneNumberId, {
      input: {
        phoneNumberId: input.phoneNumberId,
        accessToken: input.accessToken,
        wabaId: input.wabaId,
        displayPhoneNumber: input.displayPhoneNumber ?? "+1 555-000-0000",
        verifiedName: input.verifiedName ?? "Test Business",
        tier: input.tier ?? "TIER_1K",
        qualityRating: input.qualityRating ?? "GREEN",
        throughput: input.throughput ?? "STANDARD",
      },
      meter: previous?.meter ?? new RateMeter(),
    });
    tokens.set(input.accessToken, (tokens.get(input.accessToken) ?? 0) + 1);
  }

  function addTemplate(input: WhatsAppFakeTemplateInput): TemplateState {
    const language = input.language ?? "en_US";
    const components = input.components ?? [{ type: "BODY", text: input.name }];
    const key = templateKey(input.wabaId, input.name, language);
    templateSeq += 1;
    const status = input.status ?? "APPROVED";
    const state: TemplateState = {
      // Replacing keeps Meta's id, as editing a template does.
      id: templates.get(key)?.id ?? String(900000000000000 + templateSeq),
      name: input.name,
      language,
      status,
      rejectedReason: status === "REJECTED" ? (input.rejectedReason ?? "INVALID_FORMAT") : "NONE",
      category: input.category ?? "MARKETING",
      components,
      ...(input.wabaId !== undefined ? { wabaId: input.wabaId } : {}),
      bodyParams: bodyParamsOf(components),
    };
    templates.set(key, state);
    return state;
  }

  /** Templates with this name and language (in one WABA when given). */
  function templatesNamed(
    name: string,
    language: string,
    wabaId?: string,
  ): [string, TemplateState][] {
    return [...templates.entries()].filter(
      ([, t]) =>
        t.name === name && t.language === language && (wabaId === undefined || t.wabaId === wabaId),
    );
  }

  function setTemplateStatus(
    name: string,
    language: string,
    status: string,
    reason?: string,
    wabaId?: string,
  ): void {
    const found = templatesNamed(name, language, wabaId);
    if (found.length === 0) throw new Error(`whatsapp fake: no template ${name} (${language})`);
    for (const [, t] of found) {
      t.status = status;
      t.rejectedReason = status === "REJECTED" ? (reason ?? "INVALID_FORMAT") : "NONE";
    }
  }

  function removeTemplate(name: string, language: string, wabaId?: string): number {
    const found = templatesNamed(name, language, wabaId);
    for (const [key] of found) templates.delete(key);
    return found.length;
  }

  for (const n of options.numbers ?? []) addNumber(n);
  for (const t of options.templates ?? []) addTemplate(t);

  /** The number addressed by the path, if the bearer token may use it; else the Meta error. */
  function authorize(req: FakeRequest, id: string, method: string): NumberState | FakeReply {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!token || !tokens.has(token)) {
      return metaReply(
        190,
        "Invalid OAuth access token - Cannot parse access token",
        401,
        "Invalid OAuth access token",
      );
    }
    const number = numbers.get(id);
    if (!number || number.input.accessToken !== token) return noObject(id, method);
    return number;
  }

  function wamid(to: string): string {
    seq += 1;
    return `wamid.HBgM${Buffer.from(`${to}:${salt}:${seq}`).toString("base64")}`;
  }

  function send(req: FakeRequest, phoneNumberId: string): FakeReply {
    const number = authorize(req, phoneNumberId, "post");
    if (!("meter" in number)) return number;

    let body: SendBody;
    try {
      body = req.json<SendBody>();
    } catch {
      return metaReply(100, "Invalid parameter", 400, "The request body is not valid JSON");
    }
    if (typeof body !== "object" || body === null) {
      return metaReply(100, "Invalid parameter", 400, "The request body must be a JSON object");
    }
    if (body.messaging_product !== "whatsapp") {
      return metaReply(100, "The parameter messaging_product is required.");
    }
    const toMatch = typeof body.to === "string" ? PHONE_DIGITS.exec(body.to) : null;
    if (!toMatch?.[1]) {
      return metaReply(100, "Invalid parameter", 400, "Parameter 'to' must be a phone number");
    }
    const to = toMatch[1];
    const at = now();

    let entry: WhatsAppSentMessage;
    if (body.type === "text") {
      const text = body.text?.body;
      if (typeof text !== "string" || text === "") {
        return metaReply(131008, "Required parameter is missing", 400, "text.body is required");
      }
      if (text.length > 4096) {
        return metaReply(100, "Invalid parameter", 400, "text.body is longer than 4096 characters");
      }
      if (enforceWindow) {
        const last = lastInbound.get(`${phoneNumberId}\u0000${to}`);
        if (last === undefined || at - last > DAY_MS) {
          return metaReply(
            131047,
            "Re-engagement message",
            400,
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
          );
        }
      }
      entry = { phoneNumberId, to, type: "text", text, wamid: "", at };
    } else if (body.type === "template") {
      const template = body.template;
      const name = template?.name;
      const language = template?.language?.code;
      if (typeof name !== "string" || name === "" || typeof language !== "string") {
        return metaReply(
          131008,
          "Required parameter is missing",
          400,
          "template.name and template.language.code are required",
        );
      }
      const params: string[] = [];
      const components = template?.components;
      if (components !== undefined) {
        if (!Array.isArray(components)) {
          return metaReply(100, "Invalid parameter", 400, "template.components must be an array");
        }
        for (const c of components as { type?: unknown; parameters?: unknown }[]) {
          if (typeof c !== "object" || c === null || typeof c.type !== "string") {
            return metaReply(100, "Invalid parameter", 400, "component.type is required");
          }
          if (c.type.toLowerCase() !== "body") continue;
          for (const p of Array.isArray(c.parameters)
            ? (c.parameters as { type?: unknown; text?: unknown }[])
            : []) {
            if (p?.type !== "text" || typeof p.text !== "string") {
              return metaReply(
                131009,
                "Parameter value is not valid",
                400,
                "body parameters must be text",
              );
            }
            params.push(p.text);
          }
        }
      }
      if (templates.size > 0) {
        const waba = number.input.wabaId;
        const known =
          (waba !== undefined ? templates.get(templateKey(waba, name, language)) : undefined) ??
          templates.get(templateKey(undefined, name, language));
        if (!known || known.status !== "APPROVED") {
          return metaReply(
            132001,
            "Template name does not exist in the translation",
            404,
            `template name (${name}) does not exist in ${language}`,
          );
        }
        if (known.bodyParams !== params.length) {
          return metaReply(
            132000,
            "Number of parameters does not match the expected number of params",
            400,
            `body: number of localizable_params (${params.length}) does not match the expected number of params (${known.bodyParams})`,
          );
        }
      }
      entry = {
        phoneNumberId,
        to,
        type: "template",
        template: { name, language, params },
        wamid: "",
        at,
      };
    } else if (body.type === "image" || body.type === "document") {
      const kind = body.type;
      const node = (body as Record<string, unknown>)[kind] as
        { id?: unknown; caption?: unknown; filename?: unknown } | undefined;
      const id = typeof node?.id === "string" ? node.id : "";
      const held = media.get(id);
      if (!held || held.phoneNumberId !== phoneNumberId) {
        return metaReply(
          131053,
          "Media upload error",
          400,
          `${kind}.id must name media uploaded by this number (got "${id}")`,
        );
      }
      if (kind === "image" && !held.mimeType.startsWith("image/")) {
        return metaReply(131053, "Media upload error", 400, "The media is not an image");
      }
      entry = {
        phoneNumberId,
        to,
        type: kind,
        media: {
          id,
          ...(typeof node?.caption === "string" ? { caption: node.caption } : {}),
          ...(typeof node?.filename === "string" ? { filename: node.filename } : {}),
        },
        wamid: "",
        at,
      };
    } else {
      return metaReply(
        131051,
        "Unsupported message type",
        400,
        `The fake sends text, template, image and document messages, not ${String(body.type)}`,
      );
    }

    if (limit !== undefined && number.meter.count(at) >= limit) {
      return metaReply(
        130429,
        "Rate limit hit",
        400,
        "Message failed to send because there were too many messages sent from this phone number in a short period of time",
      );
    }

    number.meter.record(at);
    sentCount += 1;
    const id = wamid(to);
    if (record) {
      entry.wamid = id;
      sent.push(entry);
    }
    return {
      status: 200,
      json: {
        messaging_product: "whatsapp",
        contacts: [{ input: body.to, wa_id: to }],
        messages: [entry.type === "template" ? { id, message_status: "accepted" } : { id }],
      },
    };
  }

  /** The token is one the fake knows (any number's), else Meta's 190. */
  function knownToken(req: FakeRequest): FakeReply | null {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    return token && tokens.has(token)
      ? null
      : metaReply(190, "Invalid OAuth access token - Cannot parse access token", 401);
  }

  function uploadMedia(req: FakeRequest, phoneNumberId: string): FakeReply {
    const number = authorize(req, phoneNumberId, "post");
    if (!("meter" in number)) return number;
    const parts = multipartParts(req.rawBody, req.headers["content-type"] ?? "");
    if (!parts) return metaReply(100, "Invalid parameter", 400, "Expected multipart/form-data");
    const field = (name: string) => parts.find((p) => p.name === name);
    if (field("messaging_product")?.data.toString() !== "whatsapp") {
      return metaReply(100, "The parameter messaging_product is required.");
    }
    const file = field("file");
    const type = field("type")?.data.toString();
    if (!file || file.data.length === 0 || !type) {
      return metaReply(100, "Invalid parameter", 400, "file and type are required");
    }
    mediaSeq += 1;
    const held: WhatsAppFakeMedia = {
      id: String(3000000000000000 + mediaSeq),
      phoneNumberId,
      mimeType: type,
      ...(file.filename !== undefined ? { filename: file.filename } : {}),
      bytes: file.data,
    };
    media.set(held.id, held);
    uploads.push(held);
    return { status: 200, json: { id: held.id } };
  }

  function mediaNode(req: FakeRequest, baseUrl: string, held: WhatsAppFakeMedia): FakeReply {
    const denied = knownToken(req);
    if (denied) return denied;
    return {
      status: 200,
      json: {
        messaging_product: "whatsapp",
        url: `${baseUrl}/media-download/${held.id}`,
        mime_type: held.mimeType,
        sha256: createHash("sha256").update(held.bytes).digest("hex"),
        file_size: held.bytes.length,
        id: held.id,
      },
    };
  }

  function mediaDownload(req: FakeRequest, id: string): FakeReply {
    const denied = knownToken(req);
    if (denied) return denied;
    const held = media.get(id);
    if (!held) return { status: 404, body: "Not found" };
    return { status: 200, headers: { "content-type": held.mimeType }, body: held.bytes };
  }

  function numberInfo(req: FakeRequest, id: string): FakeReply {
    const number = authorize(req, id, "get");
    if (!("meter" in number)) return number;
    const n = number.input;
    const all: Record<string, unknown> = {
      verified_name: n.verifiedName,
      code_verification_status: "VERIFIED",
      display_phone_number: n.displayPhoneNumber,
      quality_rating: n.qualityRating,
      messaging_limit_tier: n.tier,
      platform_type: "CLOUD_API",
      throughput: { level: n.throughput },
    };
    const fields = req.query.get("fields");
    const out: Record<string, unknown> = {};
    if (fields) {
      for (const f of fields.split(",").map((s) => s.trim())) {
        if (f === "id" || f === "") continue;
        if (!(f in all)) {
          return metaReply(
            100,
            `Tried accessing nonexisting field (${f}) on node type (WhatsAppBusinessPhoneNumber)`,
          );
        }
        out[f] = all[f];
      }
    } else Object.assign(out, all);
    out.id = n.phoneNumberId;
    return { status: 200, json: out };
  }

  /** The bearer token may act on this WABA (it owns a number in it); else Meta's error. */
  function authorizeWaba(req: FakeRequest, wabaId: string, method: string): FakeReply | null {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!token || !tokens.has(token)) {
      return metaReply(190, "Invalid OAuth access token - Cannot parse access token", 401);
    }
    const owns = [...numbers.values()].some(
      (n) => n.input.wabaId === wabaId && n.input.accessToken === token,
    );
    return owns ? null : noObject(wabaId, method);
  }

  function cursorOf(t: TemplateState): string {
    return Buffer.from(t.id).toString("base64url");
  }

  function templateList(req: FakeRequest, baseUrl: string, wabaId: string): FakeReply {
    const denied = authorizeWaba(req, wabaId, "get");
    if (denied) return denied;

    const fieldsParam = req.query.get("fields");
    const fields = fieldsParam
      ? fieldsParam
          .split(",")
          .map((f) => f.trim())
          .filter((f) => f !== "")
      : DEFAULT_TEMPLATE_FIELDS;
    for (const f of fields) {
      if (!TEMPLATE_NODE_FIELDS.has(f)) {
        return metaReply(
          100,
          `Tried accessing nonexisting field (${f}) on node type (WhatsAppMessageTemplate)`,
        );
      }
    }
    const limitParam = Number(req.query.get("limit") ?? DEFAULT_TEMPLATE_PAGE);
    const limit =
      Number.isInteger(limitParam) && limitParam > 0
        ? Math.min(limitParam, MAX_TEMPLATE_PAGE)
        : DEFAULT_TEMPLATE_PAGE;

    const all = [...templates.values()].filter(
      (t) => t.wabaId === undefined || t.wabaId === wabaId,
    );
    let start = 0;
    const after = req.query.get("after");
    if (after !== null) {
      const index = all.findIndex((t) => cursorOf(t) === after);
      if (index < 0) return metaReply(100, "Invalid parameter", 400, "The after cursor is invalid");
      start = index + 1;
    }
    const page = all.slice(start, start + limit);
    const data = page.map((t) => {
      const full: Record<string, unknown> = {
        name: t.name,
        language: t.language,
        status: t.status,
        category: t.category,
        components: t.components,
        rejected_reason: t.rejectedReason,
        quality_score: { score: "UNKNOWN" },
        parameter_format: "POSITIONAL",
      };
      const out: Record<string, unknown> = {};
      for (const f of fields) if (f !== "id") out[f] = full[f];
      out.id = t.id;
      return out;
    });
    const first = page[0];
    const last = page.at(-1);
    if (!first || !last) return { status: 200, json: { data } };
    const paging: Record<string, unknown> = {
      cursors: { before: cursorOf(first), after: cursorOf(last) },
    };
    if (start + limit < all.length) {
      const query = new URLSearchParams(req.query);
      query.delete("before");
      query.set("limit", String(limit));
      query.set("after", cursorOf(last));
      paging.next = `${baseUrl}${req.path}?${query.toString()}`;
    }
    return { status: 200, json: { data, paging } };
  }

  function createTemplate(req: FakeRequest, wabaId: string): FakeReply {
    const denied = authorizeWaba(req, wabaId, "post");
    if (denied) return denied;
    let body: Record<string, unknown>;
    try {
      body = req.json<Record<string, unknown>>();
    } catch {
      return metaReply(100, "Invalid parameter", 400, "The request body is not valid JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return metaReply(100, "Invalid parameter", 400, "The request body must be a JSON object");
    }
    const { name, language, category, components } = body;
    if (typeof name !== "string" || !TEMPLATE_NAME.test(name)) {
      return templateError(
        "Invalid template name",
        "Template names may only contain lowercase letters, numbers and underscores.",
      );
    }
    if (typeof language !== "string" || !TEMPLATE_LANGUAGE.test(language)) {
      return templateError(
        "Invalid language",
        `The language "${String(language)}" is not supported.`,
      );
    }
    const cat = typeof category === "string" ? category.toUpperCase() : "";
    if (!TEMPLATE_CATEGORIES.has(cat)) {
      return templateError(
        "Invalid category",
        "The category must be one of MARKETING, UTILITY or AUTHENTICATION.",
      );
    }
    if (!Array.isArray(components) || components.length === 0) {
      return metaReply(100, "The parameter components is required.");
    }
    const list: TemplateState["components"] = [];
    for (const c of components as unknown[]) {
      const component = c as { type?: unknown } | null;
      if (
        typeof component !== "object" ||
        component === null ||
        typeof component.type !== "string"
      ) {
        return metaReply(100, "Invalid parameter", 400, "Each component needs a type");
      }
      list.push(component as TemplateState["components"][number]);
    }
    const bodies = list.filter((c) => c.type.toUpperCase() === "BODY");
    const bodyComponent = bodies[0];
    if (bodies.length !== 1 || !bodyComponent) {
      return templateError("Missing message body", "A template needs exactly one BODY component.");
    }
    const text = bodyComponent.text;
    if (typeof text !== "string" || text.trim() === "") {
      return templateError("Missing message body", "The BODY component needs text.");
    }
    if (text.length > 1024) {
      return templateError(
        "Message body too long",
        "The body text can be at most 1024 characters long.",
      );
    }
    const params = bodyParamsOf(list);
    if (params > 0) {
      const example = (bodyComponent.example as { body_text?: unknown } | undefined)?.body_text;
      const values = Array.isArray(example) ? (example[0] as unknown) : undefined;
      if (
        !Array.isArray(values) ||
        values.length !== params ||
        values.some((v) => typeof v !== "string" || v === "")
      ) {
        return templateError(
          "Missing sample values",
          `The body has ${params} variable(s); example.body_text needs one sample value for each.`,
        );
      }
    }
    if (
      templates.has(templateKey(wabaId, name, language)) ||
      templates.has(templateKey(undefined, name, language))
    ) {
      return templateError(
        "Content in this language already exists",
        `There is already ${language} content for this template (${name}). Create a new template and try again.`,
        2388024,
      );
    }
    const state = addTemplate({
      name,
      language,
      category: cat,
      status: "PENDING",
      components: list,
      wabaId,
    });
    return { status: 200, json: { id: state.id, status: state.status, category: state.category } };
  }

  function numberFor(phoneNumberId: string): NumberState["input"] | undefined {
    return numbers.get(phoneNumberId)?.input;
  }

  const fake = createFakeServer({
    name: "whatsapp",
    port: options.port,
    routes: [
      {
        method: "POST",
        path: new RegExp(`^/${VERSION}/(?<id>[^/]+)/messages$`),
        handler: (req) => send(req, req.params.id ?? ""),
      },
      {
        method: "GET",
        path: new RegExp(`^/${VERSION}/(?<id>[^/]+)/message_templates$`),
        handler: (req, res) => templateList(req, res.baseUrl, req.params.id ?? ""),
      },
      {
        method: "POST",
        path: new RegExp(`^/${VERSION}/(?<id>[^/]+)/message_templates$`),
        handler: (req) => createTemplate(req, req.params.id ?? ""),
      },
      {
        method: "POST",
        path: new RegExp(`^/${VERSION}/(?<id>[^/]+)/media$`),
        handler: (req) => uploadMedia(req, req.params.id ?? ""),
      },
      {
        method: "GET",
        path: new RegExp(`^/${VERSION}/(?<id>[^/]+)$`),
        handler: (req, res) => {
          const held = media.get(req.params.id ?? "");
          return held ? mediaNode(req, res.baseUrl, held) : numberInfo(req, req.params.id ?? "");
        },
      },
      {
        method: "GET",
        path: /^\/media-download\/(?<id>[^/]+)$/,
        handler: (req) => mediaDownload(req, req.params.id ?? ""),
      },
    ],
  });

  const extras = {
    get sent(): WhatsAppSentMessage[] {
      return sent;
    },
    get sentCount(): number {
      return sentCount;
    },
    addNumber,
    addTemplate(input: WhatsAppFakeTemplateInput): void {
      addTemplate(input);
    },
    setTemplateStatus,
    removeTemplate,
    markInbound(phoneNumberId: string, to: string, at: number = now()): void {
      lastInbound.set(`${phoneNumberId}\u0000${digits(to)}`, at);
    },
    maxRatePerSecond(phoneNumberId: string): number {
      return numbers.get(phoneNumberId)?.meter.max ?? 0;
    },
    clearSent(): void {
      sent.length = 0;
      sentCount = 0;
      for (const n of numbers.values()) n.meter = new RateMeter();
    },
    signedWebhook: signWebhook,
    get uploads(): WhatsAppFakeMedia[] {
      return uploads;
    },
    addMedia(input: { mimeType: string; bytes: Buffer; filename?: string }): string {
      mediaSeq += 1;
      const id = String(4000000000000000 + mediaSeq);
      media.set(id, { id, ...input });
      return id;
    },
    inboundMediaPayload(input: InboundMediaPayloadInput): WhatsAppWebhookPayload {
      const n = numberFor(input.phoneNumberId);
      return inboundMediaPayload({
        ...input,
        wabaId: input.wabaId ?? n?.wabaId,
        displayPhoneNumber: input.displayPhoneNumber ?? n?.displayPhoneNumber,
      });
    },
    async postWebhook(url: string, appSecret: string, payload: unknown): Promise<number> {
      const signed = signWebhook(appSecret, payload);
      const response = await fetch(url, {
        method: "POST",
        headers: signed.headers,
        body: new Uint8Array(signed.body),
      });
      await response.arrayBuffer();
      return response.status;
    },
    statusPayload(input: StatusPayloadInput): WhatsAppWebhookPayload {
      const n = numberFor(input.phoneNumberId);
      return statusPayload({
        ...input,
        wabaId: input.wabaId ?? n?.wabaId,
        displayPhoneNumber: input.displayPhoneNumber ?? n?.displayPhoneNumber,
      });
    },
    inboundPayload(input: InboundPayloadInput): WhatsAppWebhookPayload {
      const n = numberFor(input.phoneNumberId);
      return inboundPayload({
        ...input,
        wabaId: input.wabaId ?? n?.wabaId,
        displayPhoneNumber: input.displayPhoneNumber ?? n?.displayPhoneNumber,
      });
    },
  };
  // defineProperties (not Object.assign) keeps `sent`/`sentCount` live getters.
  return Object.defineProperties(fake, Object.getOwnPropertyDescriptors(extras)) as WhatsAppFake;
}
