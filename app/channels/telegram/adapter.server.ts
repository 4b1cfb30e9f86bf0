import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { httpCall, retryAfterMs, type HttpReply } from "../http.server";
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
 * Telegram Bot API: JSON POSTs to {base}/bot<token>/<method>, answers {ok, result} or
 * {ok: false, error_code, description, parameters}. Webhook calls carry no signature, only
 * the secret token we chose at setWebhook in X-Telegram-Bot-Api-Secret-Token.
 *
 * Telegram has no delivery receipts: an accepted sendMessage is as delivered as it gets.
 */

export interface TelegramConfig {
  botToken: string;
  /** Chosen by us (see generateTelegramWebhookSecret); 1-256 chars of A-Z a-z 0-9 _ -. */
  webhookSecret: string;
}

export interface TelegramAdapterOptions {
  /** TELEGRAM_API_BASE_URL, e.g. https://api.telegram.org. */
  baseUrl: string;
  timeoutMs?: number;
}

export interface TelegramAdapter extends ChannelAdapter {
  /** setWebhook to `url` with our secret token and the updates we read. */
  registerWebhook(url: string): Promise<void>;
  /** The bot's @username without the "@" (getMe), for t.me/<bot>?start=<token> links. */
  botUsername(): Promise<string>;
}

/** The update types we ask Telegram for (setWebhook allowed_updates). */
export const TELEGRAM_ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member"] as const;

const SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** A fresh webhook secret in Telegram's alphabet (43 chars of base64url). */
export function generateTelegramWebhookSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** "Forbidden: bot was blocked by the user" → "bot was blocked by the user". */
function plain(description: string): string {
  return description.replace(/^(Forbidden|Bad Request|Unauthorized|Not Found|Conflict): /, "");
}

/** Chat-level refusals after which the chat will never take our messages again. */
const GONE = /blocked|deactivated|kicked|not a member/i;

export function classifyTelegramError(error: unknown): ErrorClass {
  if (!(error instanceof ProviderError)) {
    return {
      kind: "transient",
      reason: `Telegram: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const { status, retryAfterMs: retryAfter } = error;
  if (error.code === "bad_content" || error.code === "bad_response") {
    return { kind: "permanent", reason: `Telegram: ${error.message}` };
  }
  if (status === undefined) return { kind: "transient", reason: `Telegram: ${error.message}` };
  const reason = `Telegram ${status}: ${plain(error.message)}`;
  if (status === 429) return { kind: "rate-limited", retryAfterMs: retryAfter, reason };
  if (status === 401 || status === 404) {
    return {
      kind: "permanent",
      reason: `Telegram ${status}: the bot token was rejected: check the bot token`,
    };
  }
  if (status === 403) {
    return GONE.test(error.message) || error.message === ""
      ? { kind: "permanent", reason, suppress: "blocked" }
      : { kind: "permanent", reason };
  }
  if (status === 400 && /chat not found/i.test(error.message)) {
    return {
      kind: "permanent",
      reason: `Telegram 400: chat not found (the person may never have started the bot)`,
    };
  }
  if (status >= 500) return { kind: "transient", retryAfterMs: retryAfter, reason };
  if (status >= 400) return { kind: "permanent", reason };
  return { kind: "transient", retryAfterMs: retryAfter, reason };
}

interface TelegramAnswer {
  ok?: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** The `result` of an ok answer; a ProviderError for anything else. */
function resultOf(reply: HttpReply): unknown {
  const answer = reply.json as TelegramAnswer | undefined;
  if (reply.status < 300 && answer?.ok === true) return answer.result;
  const status = answer?.error_code ?? (reply.status < 300 ? undefined : reply.status);
  if (status === undefined) {
    throw new ProviderError(`Answer ${reply.status} not understood`, {
      status: reply.status,
      code: "bad_response",
    });
  }
  const retryAfter = answer?.parameters?.retry_after;
  throw new ProviderError(answer?.description ?? `HTTP ${reply.status}`, {
    status,
    code: String(status),
    retryAfterMs:
      typeof retryAfter === "number"
        ? retryAfter * 1000
        : retryAfterMs(reply.headers["retry-after"]),
  });
}

interface TelegramUser {
  first_name?: string;
  last_name?: string;
  username?: string;
}

interface TelegramMessage {
  message_id?: number;
  date?: number;
  edit_date?: number;
  chat?: { id?: number | string };
  from?: TelegramUser;
  text?: string;
}

interface TelegramUpdate {
  update_id?: unknown;
  message?: TelegramMessage;
  edited_message?: TelegramMessage;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  // Hashing first makes the comparison constant-time in the length as well.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function parseUpdate(body: Buffer): WebhookOutcome {
  let update: TelegramUpdate;
  try {
    update = JSON.parse(body.toString("utf8")) as TelegramUpdate;
  } catch {
    return { kind: "rejected", status: 400, reason: "Body is not JSON" };
  }
  if (
    typeof update !== "object" ||
    update === null ||
    Array.isArray(update) ||
    typeof update.update_id !== "number"
  ) {
    return { kind: "rejected", status: 400, reason: "Not a Telegram Update" };
  }
  // my_chat_member (the person blocked / unblocked the bot) has no ChannelEvent shape: it is
  // acknowledged and ignored; the next sendMessage answers 403 and classify suppresses.
  const message = update.message ?? update.edited_message;
  if (!message || typeof message.text !== "string" || message.chat?.id === undefined) {
    return { kind: "events", events: [] };
  }
  const chatId = String(message.chat.id);
  const name = [message.from?.first_name, message.from?.last_name]
    .filter((part): part is string => typeof part === "string" && part !== "")
    .join(" ");
  const seconds = update.edited_message ? (message.edit_date ?? message.date) : message.date;
  const event: ChannelEvent = {
    type: "inbound",
    eventId: `update:${update.update_id}`,
    from: chatId,
    ...(name ? { name } : {}),
    text: message.text,
    at: typeof seconds === "number" ? new Date(seconds * 1000) : new Date(),
    providerMessageId: `${chatId}:${message.message_id}`,
  };
  return { kind: "events", events: [event] };
}

export function createTelegramAdapter(
  config: TelegramConfig,
  options: TelegramAdapterOptions,
): TelegramAdapter {
  const { botToken, webhookSecret } = config;
  if (!botToken) throw new Error("Telegram: a bot token is required");
  if (!SECRET_PATTERN.test(webhookSecret ?? "")) {
    throw new Error("Telegram: the webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -");
  }
  const api = `${options.baseUrl.replace(/\/+$/, "")}/bot${botToken}/`;
  const sendUrl = `${api}sendMessage`;
  const timeoutMs = options.timeoutMs;
  const jsonHeaders = { "content-type": "application/json", accept: "application/json" };
  let username: string | undefined;

  async function call(method: string, body?: Record<string, unknown>): Promise<unknown> {
    const reply = await httpCall({
      method: body ? "POST" : "GET",
      url: `${api}${method}`,
      headers: body ? jsonHeaders : { accept: "application/json" },
      body,
      timeoutMs,
    });
    return resultOf(reply);
  }

  async function getMe(): Promise<string> {
    const me = (await call("getMe")) as { username?: unknown } | undefined;
    if (typeof me?.username !== "string" || me.username === "") {
      throw new ProviderError("getMe answered without a username", { code: "bad_response" });
    }
    username = me.username;
    return username;
  }

  return {
    channel: "telegram",

    async send(message: OutgoingMessage): Promise<SendResult> {
      const content = message.content;
      if (content.channel !== "telegram") {
        throw new ProviderError(`Telegram adapter cannot send ${content.channel} content`, {
          code: "bad_content",
        });
      }
      const reply = await httpCall({
        method: "POST",
        url: sendUrl,
        headers: jsonHeaders,
        // Chat ids stay strings: they can exceed 2^53 in principle, and Telegram takes both.
        body: JSON.stringify({
          chat_id: message.to,
          text: content.text,
          ...(content.parseMode ? { parse_mode: content.parseMode } : {}),
          ...(content.buttons?.length
            ? {
                reply_markup: {
                  inline_keyboard: content.buttons.map((b) => [{ text: b.text, url: b.url }]),
                },
              }
            : {}),
        }),
        timeoutMs,
      });
      const sent = resultOf(reply) as { message_id?: unknown; chat?: { id?: unknown } } | undefined;
      if (typeof sent?.message_id !== "number") {
        // Accepted or not, we cannot tell: failing beats sending the message twice.
        throw new ProviderError("sendMessage answered without a message_id", {
          status: reply.status,
          code: "bad_response",
        });
      }
      const chatId = sent.chat?.id ?? message.to;
      return { providerMessageId: `${String(chatId)}:${sent.message_id}` };
    },

    classify: classifyTelegramError,

    async receiveWebhook(request: RawWebhook): Promise<WebhookOutcome> {
      if (!sameSecret(request.headers["x-telegram-bot-api-secret-token"], webhookSecret)) {
        return { kind: "rejected", status: 401, reason: "Missing or wrong secret token" };
      }
      return parseUpdate(request.body);
    },

    async testConnection(): Promise<ConnectionCheck> {
      try {
        return { ok: true, detail: `@${await getMe()}` };
      } catch (error) {
        return { ok: false, check: "Bot token", reason: classifyTelegramError(error).reason };
      }
    },

    async registerWebhook(url: string): Promise<void> {
      await call("setWebhook", {
        url,
        secret_token: webhookSecret,
        allowed_updates: TELEGRAM_ALLOWED_UPDATES,
        drop_pending_updates: false,
      });
    },

    async botUsername(): Promise<string> {
      return username ?? (await getMe());
    },
  };
}

/**
 * The bot's username (without "@") through the generic interface: testConnection's detail is
 * always "@<username>" on success. Throws with the reason otherwise.
 */
export async function getBotUsername(adapter: ChannelAdapter): Promise<string> {
  const check = await adapter.testConnection();
  const username = check.ok ? /^@([A-Za-z0-9_]+)/.exec(check.detail)?.[1] : undefined;
  if (!username) throw new Error(check.ok ? `No bot username in "${check.detail}"` : check.reason);
  return username;
}
