import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFakeServer } from "../../../tests/fakes/base";
import {
  chatMemberUpdate,
  createTelegramFake,
  signedUpdate,
  telegramError,
  update,
  type TelegramFake,
} from "../../../tests/fakes/telegram";
import { ProviderError, type OutgoingMessage, type RawWebhook } from "../types";
import {
  classifyTelegramError,
  createTelegramAdapter,
  generateTelegramWebhookSecret,
  getBotUsername,
  type TelegramAdapter,
} from "./adapter.server";

const TOKEN = "123456789:AAH-fake_token_for_tests_only_0123";
const SECRET = "s3cret_webhook-token";

let fake: TelegramFake;

beforeAll(async () => {
  fake = createTelegramFake({ allowHttpWebhook: true });
  fake.addBot({ token: TOKEN, username: "shop_bot", firstName: "Shop" });
  fake.blockBy(555);
  fake.deactivate(666);
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.clearRequests();
  fake.clearFaults();
  fake.sent.length = 0;
});

function adapter(token = TOKEN, timeoutMs = 2_000): TelegramAdapter {
  return createTelegramAdapter(
    { botToken: token, webhookSecret: SECRET },
    { baseUrl: fake.url, timeoutMs },
  );
}

function tg(to: string, text = "Hello from Shop"): OutgoingMessage {
  return { id: "msg_1", workspaceId: "ws_1", to, content: { channel: "telegram", text } };
}

async function sendError(message: OutgoingMessage, a = adapter()): Promise<ProviderError> {
  const error: unknown = await a.send(message).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("Telegram adapter: send", () => {
  it("posts sendMessage JSON and returns chat:message ids", async () => {
    const a = adapter();
    const first = await a.send(tg("987654321", 'Sale "today" ✓\nline 2'));
    const second = await a.send(tg("987654321"));
    expect(first).toEqual({ providerMessageId: "987654321:1" });
    expect(second).toEqual({ providerMessageId: "987654321:2" });
    const request = fake.lastRequest("POST", `/bot${TOKEN}/sendMessage`)!;
    expect(request.headers["content-type"]).toBe("application/json");
    expect(fake.requests[0]?.json).toEqual({
      chat_id: "987654321",
      text: 'Sale "today" ✓\nline 2',
    });
    expect(fake.sent.map((s) => [s.chatId, s.messageId, s.text])).toEqual([
      ["987654321", 1, 'Sale "today" ✓\nline 2'],
      ["987654321", 2, "Hello from Shop"],
    ]);
    expect(fake.sentCount).toBeGreaterThanOrEqual(2);
  });

  it("sends HTML parse mode and inline URL buttons the way Telegram parses them", async () => {
    const a = adapter();
    const html = {
      ...tg("987654321"),
      content: {
        channel: "telegram" as const,
        text: "<b>Sale</b> for Tom &amp; Jerry &lt;3",
        parseMode: "HTML" as const,
        buttons: [
          { text: "Shop", url: "https://shop.example/sale" },
          { text: "Help", url: "https://shop.example/help" },
        ],
      },
    };
    await a.send(html);
    expect(fake.requests.at(-1)?.json).toEqual({
      chat_id: "987654321",
      text: "<b>Sale</b> for Tom &amp; Jerry &lt;3",
      parse_mode: "HTML",
      reply_markup: {
        inline_keyboard: [
          [{ text: "Shop", url: "https://shop.example/sale" }],
          [{ text: "Help", url: "https://shop.example/help" }],
        ],
      },
    });
    // Telegram refuses unescaped text in HTML mode and buttons without a usable URL.
    const unescaped = await sendError({
      ...html,
      content: { ...html.content, text: "Tom & Jerry <3" },
    });
    expect(unescaped.message).toMatch(/can't parse entities/);
    const badButton = await sendError({
      ...html,
      content: { ...html.content, buttons: [{ text: "Shop", url: "javascript:alert(1)" }] },
    });
    expect(badButton.message).toMatch(/BUTTON_URL_INVALID/);
  });

  it("refuses an invalid webhook secret and non-Telegram content", async () => {
    expect(() =>
      createTelegramAdapter({ botToken: TOKEN, webhookSecret: "has space" }, { baseUrl: fake.url }),
    ).toThrow(/webhook secret/);
    expect(generateTelegramWebhookSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const error = await sendError({
      id: "m",
      workspaceId: "w",
      to: "1",
      content: { channel: "sms", text: "hi" },
    });
    expect(classifyTelegramError(error).kind).toBe("permanent");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("Telegram adapter: errors and classify", () => {
  it("403 blocked / deactivated: permanent and suppress", async () => {
    const blocked = await sendError(tg("555"));
    expect(blocked).toMatchObject({ status: 403, code: "403" });
    expect(adapter().classify(blocked)).toEqual({
      kind: "permanent",
      reason: "Telegram 403: bot was blocked by the user",
      suppress: "blocked",
    });
    expect(adapter().classify(await sendError(tg("666")))).toEqual({
      kind: "permanent",
      reason: "Telegram 403: user is deactivated",
      suppress: "blocked",
    });
  });

  it("400 chat not found: permanent without suppression", async () => {
    const strict = createTelegramFake({ anyChat: false });
    strict.addBot({ token: TOKEN, username: "shop_bot" });
    strict.addChat(42);
    await strict.start();
    try {
      const a = createTelegramAdapter(
        { botToken: TOKEN, webhookSecret: SECRET },
        { baseUrl: strict.url },
      );
      expect(await a.send(tg("42"))).toEqual({ providerMessageId: "42:1" });
      const error = await sendError(tg("43"), a);
      expect(error).toMatchObject({ status: 400, message: "Bad Request: chat not found" });
      expect(a.classify(error)).toEqual({
        kind: "permanent",
        reason: "Telegram 400: chat not found (the person may never have started the bot)",
      });
    } finally {
      await strict.stop();
    }
  });

  it("other 400s are permanent with Telegram's words", async () => {
    const error = await sendError(tg("1", "x".repeat(4097)));
    expect(adapter().classify(error)).toEqual({
      kind: "permanent",
      reason: "Telegram 400: message is too long",
    });
  });

  it("429 is rate-limited with retry_after in ms", async () => {
    fake.injectFault(telegramError(429, "Too Many Requests: retry after 7", 7));
    const error = await sendError(tg("1"));
    expect(error).toMatchObject({ status: 429, code: "429", retryAfterMs: 7000 });
    expect(adapter().classify(error)).toEqual({
      kind: "rate-limited",
      retryAfterMs: 7000,
      reason: "Telegram 429: Too Many Requests: retry after 7",
    });
  });

  it("the fake's own per-chat limit answers 429 with retry_after", async () => {
    const limited = createTelegramFake({ perChatRatePerSecond: 1, ratePerSecond: 30 });
    limited.addBot({ token: TOKEN, username: "shop_bot" });
    await limited.start();
    try {
      const a = createTelegramAdapter(
        { botToken: TOKEN, webhookSecret: SECRET },
        { baseUrl: limited.url },
      );
      await a.send(tg("100"));
      await a.send(tg("200")); // another chat is fine
      const error = await sendError(tg("100"), a);
      expect(error.retryAfterMs).toBe(1000);
      expect(a.classify(error).kind).toBe("rate-limited");
      expect(limited.maxRatePerSecondPerChat(TOKEN, 100)).toBe(1);
      expect(limited.maxRatePerSecond(TOKEN)).toBe(2);
    } finally {
      await limited.stop();
    }
  });

  it("a bad token (401 from the fake, 404 injected) is permanent: check the bot token", async () => {
    const wrong = adapter("999:nope");
    const unauthorized = await sendError(tg("1"), wrong);
    expect(unauthorized).toMatchObject({ status: 401, message: "Unauthorized" });
    expect(wrong.classify(unauthorized)).toEqual({
      kind: "permanent",
      reason: "Telegram 401: the bot token was rejected: check the bot token",
    });
    fake.injectFault(telegramError(404, "Not Found"));
    expect(adapter().classify(await sendError(tg("1"))).reason).toContain("check the bot token");
  });

  it("5xx, a connection reset and a timeout are transient", async () => {
    fake.injectFault(telegramError(502, "Bad Gateway"));
    expect(adapter().classify(await sendError(tg("1")))).toEqual({
      kind: "transient",
      reason: "Telegram 502: Bad Gateway",
    });
    fake.injectFault({ kind: "reset" });
    const reset = await sendError(tg("1"));
    expect(reset.status).toBeUndefined();
    expect(adapter().classify(reset).kind).toBe("transient");
    fake.injectFault({ kind: "hang" });
    const timeout = await sendError(tg("1"), adapter(TOKEN, 200));
    expect(timeout.code).toBe("timeout");
    expect(adapter().classify(timeout).kind).toBe("transient");
    // A non-JSON gateway error page.
    fake.injectFault({ kind: "status", status: 503, json: "<html>down</html>" });
    expect(adapter().classify(await sendError(tg("1"))).kind).toBe("transient");
    expect(fake.sent).toHaveLength(0);
  });

  it("an ok answer without message_id is permanent (never resend a maybe-sent message)", async () => {
    fake.injectFault({ kind: "status", status: 200, json: { ok: true, result: {} } });
    expect(adapter().classify(await sendError(tg("1"))).kind).toBe("permanent");
  });
});

describe("Telegram adapter: webhooks", () => {
  function raw(body: string, headers: Record<string, string>): RawWebhook {
    return {
      method: "POST",
      url: "https://engage.example/webhooks/telegram/int_1",
      headers,
      body: Buffer.from(body),
    };
  }

  it("turns a message into an inbound event", async () => {
    const { body, headers } = signedUpdate(
      SECRET,
      update({
        updateId: 9001,
        chatId: 987654321,
        text: "/start tok_abc",
        firstName: "Asha",
        lastName: "Rao",
        messageId: 17,
        date: 1_790_000_000,
      }),
    );
    expect(await adapter().receiveWebhook(raw(body, headers))).toEqual({
      kind: "events",
      events: [
        {
          type: "inbound",
          eventId: "update:9001",
          from: "987654321",
          name: "Asha Rao",
          text: "/start tok_abc",
          at: new Date(1_790_000_000_000),
          providerMessageId: "987654321:17",
        },
      ],
    });
  });

  it("reads edited messages, and ignores non-text and my_chat_member updates", async () => {
    const a = adapter();
    const edited = signedUpdate(
      SECRET,
      update({
        updateId: 2,
        chatId: 5,
        text: "fixed",
        firstName: "Ravi",
        date: 1_790_000_000,
        edited: true,
      }),
    );
    expect(await a.receiveWebhook(raw(edited.body, edited.headers))).toEqual({
      kind: "events",
      events: [
        {
          type: "inbound",
          eventId: "update:2",
          from: "5",
          name: "Ravi",
          text: "fixed",
          at: new Date(1_790_000_060_000),
          providerMessageId: "5:2",
        },
      ],
    });
    const photo = update({ updateId: 3, chatId: 5, text: "x" });
    delete photo.message!.text;
    for (const u of [photo, chatMemberUpdate({ updateId: 4, chatId: 5, status: "kicked" })]) {
      const { body, headers } = signedUpdate(SECRET, u);
      expect(await a.receiveWebhook(raw(body, headers))).toEqual({ kind: "events", events: [] });
    }
  });

  it("rejects a missing or wrong secret (401) and malformed bodies (400)", async () => {
    const a = adapter();
    const good = signedUpdate(SECRET, update({ updateId: 1, chatId: 5, text: "hi" }));
    const attempts: Record<string, string>[] = [
      { "content-type": "application/json" },
      { ...good.headers, "x-telegram-bot-api-secret-token": "wrong" },
      { ...good.headers, "x-telegram-bot-api-secret-token": `${SECRET}x` },
      { ...good.headers, "x-telegram-bot-api-secret-token": "" },
    ];
    for (const headers of attempts) {
      expect(await a.receiveWebhook(raw(good.body, headers))).toMatchObject({
        kind: "rejected",
        status: 401,
      });
    }
    for (const body of ["", "{not json", "[1,2]", "null", '{"message":{"text":"no id"}}']) {
      expect(await a.receiveWebhook(raw(body, good.headers))).toMatchObject({
        kind: "rejected",
        status: 400,
      });
    }
  });
});

describe("Telegram adapter: testConnection and registerWebhook", () => {
  it("getMe gives @username; getBotUsername and botUsername read it", async () => {
    const a = adapter();
    expect(await a.testConnection()).toEqual({ ok: true, detail: "@shop_bot" });
    expect(await getBotUsername(a)).toBe("shop_bot");
    expect(await a.botUsername()).toBe("shop_bot");
    expect(fake.lastRequest("GET")?.path).toBe(`/bot${TOKEN}/getMe`);
  });

  it("reports a bad token and an unreachable API", async () => {
    expect(await adapter("999:nope").testConnection()).toEqual({
      ok: false,
      check: "Bot token",
      reason: "Telegram 401: the bot token was rejected: check the bot token",
    });
    await expect(getBotUsername(adapter("999:nope"))).rejects.toThrow(/check the bot token/);
    fake.injectFault({ kind: "reset" });
    const down = await adapter().testConnection();
    expect(!down.ok && down.reason).toMatch(/^Telegram: Could not reach 127\.0\.0\.1/);
  });

  it("registerWebhook sets url, secret and allowed updates; Telegram then calls us", async () => {
    const received: RawWebhook[] = [];
    const app = createFakeServer({
      name: "app",
      routes: [
        {
          method: "POST",
          path: "/hooks/telegram",
          handler(req, res) {
            received.push({
              method: req.method,
              url: `${res.baseUrl}${req.path}`,
              headers: req.headers,
              body: req.rawBody,
            });
            return res.empty(200);
          },
        },
      ],
    });
    const { url } = await app.start();
    try {
      const a = adapter();
      await a.registerWebhook(`${url}/hooks/telegram`);
      expect(fake.webhook(TOKEN)).toEqual({
        url: `${url}/hooks/telegram`,
        secretToken: SECRET,
        allowedUpdates: ["message", "edited_message", "my_chat_member"],
        dropPendingUpdates: false,
      });
      expect(fake.lastRequest("POST", `/bot${TOKEN}/setWebhook`)?.json).toEqual({
        url: `${url}/hooks/telegram`,
        secret_token: SECRET,
        allowed_updates: ["message", "edited_message", "my_chat_member"],
        drop_pending_updates: false,
      });
      expect(
        await fake.deliverUpdate(TOKEN, update({ updateId: 77, chatId: 31, text: "hello" })),
      ).toBe(200);
      expect(await a.receiveWebhook(received[0]!)).toMatchObject({
        kind: "events",
        events: [{ type: "inbound", eventId: "update:77", from: "31", text: "hello" }],
      });
    } finally {
      await app.stop();
    }
  });

  it("registerWebhook throws the ProviderError when Telegram refuses", async () => {
    const strict = createTelegramFake();
    strict.addBot({ token: TOKEN, username: "shop_bot" });
    await strict.start();
    try {
      const a = createTelegramAdapter(
        { botToken: TOKEN, webhookSecret: SECRET },
        { baseUrl: strict.url },
      );
      const error: unknown = await a
        .registerWebhook("http://plain.example/hook")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({
        status: 400,
        message: "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
      });
      expect(strict.webhook(TOKEN)).toBeUndefined();
    } finally {
      await strict.stop();
    }
  });
});
