// Fake Telegram Bot API: {base}/bot<token>/<method> with JSON, form or query parameters,
// answering {ok: true, result} or {ok: false, error_code, description, parameters?} with the
// HTTP status equal to error_code. getMe, sendMessage, setWebhook, deleteWebhook and
// getWebhookInfo; it also plays Telegram's side of the webhook (Update POSTs carrying
// X-Telegram-Bot-Api-Secret-Token). Point the app at it with TELEGRAM_API_BASE_URL.
import { performance } from "node:perf_hooks";
import {
  createFakeServer,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  type Fault,
} from "./base";
import { RateMeter } from "./sms";

export interface TelegramFakeOptions {
  /** Per-bot limit of accepted messages in any 1,000 ms window; over it → 429 + retry_after. */
  ratePerSecond?: number;
  /** Per-chat limit likewise (Telegram's is about 1 per second). */
  perChatRatePerSecond?: number;
  /** Keep `sent` and the base request log (default true); false keeps memory flat for benchmarks. */
  record?: boolean;
  /** Any numeric chat id exists (default true); false: only chats added with addChat. */
  anyChat?: boolean;
  /** Accept http:// webhook URLs (real Telegram wants https); default false. */
  allowHttpWebhook?: boolean;
  /** Bots known from the start (e.g. FAKE_TELEGRAM_DEMO_BOT for `npm run fakes`). */
  bots?: TelegramFakeBot[];
}

export interface TelegramFakeBot {
  token: string;
  username: string;
  firstName?: string;
}

export interface TelegramSent {
  token: string;
  chatId: string;
  messageId: number;
  text: string;
  /** Every parameter as received. */
  params: Record<string, unknown>;
  at: number;
}

export interface TelegramWebhook {
  url: string;
  secretToken?: string;
  allowedUpdates?: string[];
  dropPendingUpdates?: boolean;
}

export interface TelegramFake extends FakeServer {
  addBot(bot: TelegramFakeBot): void;
  /** Known chats (only needed with anyChat: false). */
  addChat(chatId: string | number): void;
  /** The person blocked the bot: sendMessage → 403 "Forbidden: bot was blocked by the user". */
  blockBy(chatId: string | number): void;
  /** The account was deleted: sendMessage → 403 "Forbidden: user is deactivated". */
  deactivate(chatId: string | number): void;
  readonly sent: TelegramSent[];
  readonly sentCount: number;
  /** What the bot's last setWebhook set (undefined when none / deleted). */
  webhook(token: string): TelegramWebhook | undefined;
  maxRatePerSecond(token: string): number;
  maxRatePerSecondPerChat(token: string, chatId: string | number): number;
  /** Plays Telegram: POSTs the update to the bot's webhook with its secret; the HTTP status. */
  deliverUpdate(token: string, update: TelegramUpdate): Promise<number>;
}

/** The bot `npm run fakes` serves: configure the Telegram integration with this token. */
export const FAKE_TELEGRAM_DEMO_BOT: TelegramFakeBot = {
  token: "7000000001:FAKE-demo-bot-token_0123456789",
  username: "engage_demo_bot",
  firstName: "Engage demo",
};

/** Telegram's error body. */
export function telegramErrorBody(
  errorCode: number,
  description: string,
  retryAfter?: number,
): Record<string, unknown> {
  return {
    ok: false,
    error_code: errorCode,
    description,
    ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
  };
}

/** A fault for `fake.injectFault`, e.g. `telegramError(429, "Too Many Requests: retry after 3", 3)`. */
export function telegramError(errorCode: number, description: string, retryAfter?: number): Fault {
  return {
    kind: "status",
    status: errorCode,
    json: telegramErrorBody(errorCode, description, retryAfter),
  };
}

function fail(errorCode: number, description: string, retryAfter?: number): FakeReply {
  return { status: errorCode, json: telegramErrorBody(errorCode, description, retryAfter) };
}

export interface TelegramUpdate {
  update_id: number;
  message?: Record<string, unknown>;
  edited_message?: Record<string, unknown>;
  my_chat_member?: Record<string, unknown>;
  [other: string]: unknown;
}

/** A private-chat text message Update as Telegram sends it. */
export function update(input: {
  updateId: number;
  chatId: number | string;
  text: string;
  firstName?: string;
  lastName?: string;
  messageId?: number;
  /** Unix seconds. */
  date?: number;
  /** As an edited_message (with edit_date = date + 60). */
  edited?: boolean;
}): TelegramUpdate {
  const id = Number(input.chatId);
  const user = {
    id,
    is_bot: false,
    first_name: input.firstName ?? "Asha",
    ...(input.lastName ? { last_name: input.lastName } : {}),
    language_code: "en",
  };
  const date = input.date ?? Math.floor(Date.now() / 1000);
  const message = {
    message_id: input.messageId ?? input.updateId,
    from: user,
    chat: {
      id,
      first_name: user.first_name,
      ...(input.lastName ? { last_name: input.lastName } : {}),
      type: "private",
    },
    date,
    ...(input.edited ? { edit_date: date + 60 } : {}),
    text: input.text,
  };
  return input.edited
    ? { update_id: input.updateId, edited_message: message }
    : { update_id: input.updateId, message };
}

/** my_chat_member: the person blocked ("kicked") or restarted ("member") the bot. */
export function chatMemberUpdate(input: {
  updateId: number;
  chatId: number | string;
  status: "kicked" | "member";
  botUsername?: string;
}): TelegramUpdate {
  const id = Number(input.chatId);
  const bot = { id: 1, is_bot: true, first_name: "Bot", username: input.botUsername ?? "fake_bot" };
  return {
    update_id: input.updateId,
    my_chat_member: {
      chat: { id, first_name: "Asha", type: "private" },
      from: { id, is_bot: false, first_name: "Asha" },
      date: Math.floor(Date.now() / 1000),
      old_chat_member: { user: bot, status: input.status === "kicked" ? "member" : "kicked" },
      new_chat_member: {
        user: bot,
        status: input.status,
        ...(input.status === "kicked" ? { until_date: 0 } : {}),
      },
    },
  };
}

/** A webhook request as Telegram sends it: the JSON Update and the secret token header. */
export function signedUpdate(
  secret: string,
  body: TelegramUpdate,
): { body: string; headers: Record<string, string> } {
  return {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
  };
}

interface BotState {
  token: string;
  id: number;
  username: string;
  firstName: string;
  webhook?: TelegramWebhook;
  meter: RateMeter;
  /** Per chat: last message id and rate meter. */
  chats: Map<string, { lastMessageId: number; meter: RateMeter }>;
}

/** Parameters from the query string, a form or a JSON body, as the Bot API accepts them. */
function paramsOf(req: FakeRequest): Record<string, unknown> | null {
  const params: Record<string, unknown> = Object.fromEntries(req.query);
  const type = req.headers["content-type"] ?? "";
  if (req.text === "") return params;
  if (/json/i.test(type)) {
    try {
      const body = JSON.parse(req.text) as unknown;
      if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
      return { ...params, ...(body as Record<string, unknown>) };
    } catch {
      return null;
    }
  }
  if (/x-www-form-urlencoded/i.test(type)) return { ...params, ...Object.fromEntries(req.form()) };
  return params;
}

function stringList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string" && value.startsWith("[")) {
    try {
      return (JSON.parse(value) as unknown[]).map(String);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function createTelegramFake(options: TelegramFakeOptions = {}): TelegramFake {
  const record = options.record ?? true;
  const anyChat = options.anyChat ?? true;
  const bots = new Map<string, BotState>();
  const knownChats = new Set<string>();
  const blocked = new Set<string>();
  const deactivated = new Set<string>();
  const sent: TelegramSent[] = [];
  let sentCount = 0;
  let nextBotId = 7_000_000_001;

  function sendMessage(bot: BotState, params: Record<string, unknown>): FakeReply {
    const rawChat = params.chat_id;
    if (rawChat === undefined || rawChat === "") return fail(400, "Bad Request: chat_id is empty");
    const chatId = String(rawChat);
    const text = typeof params.text === "string" ? params.text : "";
    if (text.trim() === "") return fail(400, "Bad Request: message text is empty");
    if (text.length > 4096) return fail(400, "Bad Request: message is too long");
    if (!/^-?\d{1,20}$/.test(chatId) || (!anyChat && !knownChats.has(chatId))) {
      return fail(400, "Bad Request: chat not found");
    }
    const parseMode = params.parse_mode;
    if (parseMode !== undefined && parseMode !== "HTML" && parseMode !== "MarkdownV2") {
      return fail(400, "Bad Request: unsupported parse_mode");
    }
    if (parseMode === "HTML") {
      const problem = htmlEntityProblem(text);
      if (problem) return fail(400, `Bad Request: can't parse entities: ${problem}`);
    }
    if (params.reply_markup !== undefined) {
      const problem = inlineKeyboardProblem(params.reply_markup);
      if (problem) return fail(400, `Bad Request: ${problem}`);
    }

    let chat = bot.chats.get(chatId);
    if (!chat) bot.chats.set(chatId, (chat = { lastMessageId: 0, meter: new RateMeter() }));
    const now = performance.now();
    const overBot =
      options.ratePerSecond !== undefined && bot.meter.current(now) >= options.ratePerSecond;
    const overChat =
      options.perChatRatePerSecond !== undefined &&
      chat.meter.current(now) >= options.perChatRatePerSecond;
    if (overBot || overChat) {
      const waitMs = Math.max(
        overBot ? bot.meter.msUntilFree(now) : 0,
        overChat ? chat.meter.msUntilFree(now) : 0,
      );
      const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
      return fail(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter);
    }
    if (blocked.has(chatId)) return fail(403, "Forbidden: bot was blocked by the user");
    if (deactivated.has(chatId)) return fail(403, "Forbidden: user is deactivated");

    bot.meter.record(now);
    chat.meter.record(now);
    sentCount++;
    const messageId = ++chat.lastMessageId;
    if (record) sent.push({ token: bot.token, chatId, messageId, text, params, at: Date.now() });
    const id = Number(chatId);
    return {
      status: 200,
      json: {
        ok: true,
        result: {
          message_id: messageId,
          from: { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username },
          chat:
            id > 0
              ? { id, first_name: "Asha", type: "private" }
              : { id, title: "Group", type: "group" },
          date: Math.floor(Date.now() / 1000),
          text,
        },
      },
    };
  }

  function setWebhook(bot: BotState, params: Record<string, unknown>): FakeReply {
    const url = typeof params.url === "string" ? params.url : "";
    if (url === "") {
      bot.webhook = undefined;
      return { status: 200, json: { ok: true, result: true, description: "Webhook was deleted" } };
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return fail(400, "Bad Request: bad webhook: Failed to resolve host: invalid URL");
    }
    const httpOk = options.allowHttpWebhook && parsed.protocol === "http:";
    if (parsed.protocol !== "https:" && !httpOk) {
      return fail(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    }
    const secret = params.secret_token;
    if (
      secret !== undefined &&
      (typeof secret !== "string" || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))
    ) {
      return fail(400, "Bad Request: secret token contains unallowed characters");
    }
    const dropPending = params.drop_pending_updates;
    bot.webhook = {
      url,
      secretToken: secret,
      allowedUpdates: stringList(params.allowed_updates),
      dropPendingUpdates: dropPending === true || dropPending === "true",
    };
    return { status: 200, json: { ok: true, result: true, description: "Webhook was set" } };
  }

  const fake = createFakeServer({
    name: "telegram",
    routes: [
      {
        method: "*",
        path: /^\/bot(?<token>[^/]*)\/(?<method>[A-Za-z]*)$/,
        handler(req, res) {
          if (!record) fake.requests.length = 0;
          const bot = bots.get(req.params.token ?? "");
          if (!bot) return fail(401, "Unauthorized");
          const params = paramsOf(req);
          if (!params) return fail(400, "Bad Request: can't parse JSON object");
          switch ((req.params.method ?? "").toLowerCase()) {
            case "getme":
              return res.json({
                ok: true,
                result: {
                  id: bot.id,
                  is_bot: true,
                  first_name: bot.firstName,
                  username: bot.username,
                  can_join_groups: true,
                  can_read_all_group_messages: false,
                  supports_inline_queries: false,
                },
              });
            case "sendmessage":
              return sendMessage(bot, params);
            case "setwebhook":
              return setWebhook(bot, params);
            case "deletewebhook":
              bot.webhook = undefined;
              return res.json({ ok: true, result: true, description: "Webhook was deleted" });
            case "getwebhookinfo":
              return res.json({
                ok: true,
                result: {
                  url: bot.webhook?.url ?? "",
                  has_custom_certificate: false,
                  pending_update_count: 0,
                  ...(bot.webhook
                    ? {
                        max_connections: 40,
                        ...(bot.webhook.allowedUpdates
                          ? { allowed_updates: bot.webhook.allowedUpdates }
                          : {}),
                      }
                    : {}),
                },
              });
            default:
              return fail(404, "Not Found");
          }
        },
      },
    ],
  });

  function addBot(bot: TelegramFakeBot): void {
    const prefix = Number(/^(\d+):/.exec(bot.token)?.[1]);
    bots.set(bot.token, {
      token: bot.token,
      id: Number.isSafeInteger(prefix) && prefix > 0 ? prefix : nextBotId++,
      username: bot.username,
      firstName: bot.firstName ?? bot.username,
      meter: new RateMeter(),
      chats: new Map(),
    });
  }
  for (const bot of options.bots ?? []) addBot(bot);

  const telegramFake = Object.assign(fake, {
    sent,
    addBot,
    addChat(chatId: string | number): void {
      knownChats.add(String(chatId));
    },
    blockBy(chatId: string | number): void {
      blocked.add(String(chatId));
    },
    deactivate(chatId: string | number): void {
      deactivated.add(String(chatId));
    },
    webhook(token: string): TelegramWebhook | undefined {
      return bots.get(token)?.webhook;
    },
    maxRatePerSecond(token: string): number {
      return bots.get(token)?.meter.max ?? 0;
    },
    maxRatePerSecondPerChat(token: string, chatId: string | number): number {
      return bots.get(token)?.chats.get(String(chatId))?.meter.max ?? 0;
    },
    async deliverUpdate(token: string, body: TelegramUpdate): Promise<number> {
      const hook = bots.get(token)?.webhook;
      if (!hook) throw new Error(`telegram fake: no webhook set for this bot`);
      const request = signedUpdate(hook.secretToken ?? "", body);
      const headers = hook.secretToken ? request.headers : { "content-type": "application/json" };
      const response = await fetch(hook.url, { method: "POST", headers, body: request.body });
      await response.arrayBuffer();
      return response.status;
    },
  });
  // A live count, not a copy taken now.
  Object.defineProperty(telegramFake, "sentCount", { get: () => sentCount, enumerable: true });
  return telegramFake as TelegramFake;
}

/** Telegram's HTML parse mode: only its tags, balanced; `&` `<` `>` escaped in text. */
const TELEGRAM_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "a",
  "code",
  "pre",
  "tg-spoiler",
  "span",
  "blockquote",
]);
function htmlEntityProblem(text: string): string | null {
  const open: string[] = [];
  const tag = /<(\/?)([a-z-]+)([^>]*)>|<|&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-f]+);)/gi;
  for (const m of text.matchAll(tag)) {
    if (m[0] === "<") return `unexpected "<" at byte offset ${m.index}`;
    if (m[0].startsWith("&")) return `unsupported entity at byte offset ${m.index}`;
    const name = m[2]!.toLowerCase();
    if (!TELEGRAM_TAGS.has(name))
      return `unsupported start tag "${name}" at byte offset ${m.index}`;
    if (m[1]) {
      if (open.pop() !== name) return `can't find end tag corresponding to start tag "${name}"`;
    } else open.push(name);
  }
  return open.length ? `can't find end tag corresponding to start tag "${open.at(-1)}"` : null;
}

function inlineKeyboardProblem(markup: unknown): string | null {
  const rows = (markup as { inline_keyboard?: unknown })?.inline_keyboard;
  if (!Array.isArray(rows)) return "object expected as reply markup";
  for (const row of rows) {
    if (!Array.isArray(row))
      return 'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays';
    for (const button of row as { text?: unknown; url?: unknown }[]) {
      if (typeof button?.text !== "string" || button.text === "")
        return "text buttons are unallowed in the inline keyboard";
      if (typeof button.url !== "string" || !/^(https?|tg):\/\//.test(button.url)) {
        return "BUTTON_URL_INVALID";
      }
    }
  }
  return null;
}
