import { afterEach, describe, expect, it } from "vitest";
import { createTelegramFake, FAKE_TELEGRAM_DEMO_BOT, type TelegramFake } from "./telegram";

const TOKEN = "4242:AAbbccddeeffgghhiijjkkll";
const running: TelegramFake[] = [];

async function start(options?: Parameters<typeof createTelegramFake>[0]): Promise<TelegramFake> {
  const fake = createTelegramFake(options);
  fake.addBot({ token: TOKEN, username: "demo_bot" });
  running.push(fake);
  await fake.start();
  return fake;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

async function call(fake: TelegramFake, method: string, body?: Record<string, unknown>) {
  const res = await fetch(`${fake.url}/bot${TOKEN}/${method}`, {
    method: body ? "POST" : "GET",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("telegram fake", () => {
  it("answers getMe with the bot, 401 for unknown tokens and 404 for unknown methods", async () => {
    const fake = await start();
    expect(await call(fake, "getMe")).toEqual({
      status: 200,
      json: {
        ok: true,
        result: {
          id: 4242,
          is_bot: true,
          first_name: "demo_bot",
          username: "demo_bot",
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        },
      },
    });
    const unknown = await fetch(`${fake.url}/bot1:x/getMe`);
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({
      ok: false,
      error_code: 401,
      description: "Unauthorized",
    });
    expect((await call(fake, "sendPigeon", {})).json).toMatchObject({ error_code: 404 });
  });

  it("takes form parameters as well as JSON, and validates sendMessage", async () => {
    const fake = await start();
    const form = await fetch(`${fake.url}/bot${TOKEN}/sendMessage`, {
      method: "POST",
      body: new URLSearchParams({ chat_id: "-100500", text: "to a group" }),
    });
    expect(await form.json()).toMatchObject({
      ok: true,
      result: { message_id: 1, chat: { id: -100500, type: "group" }, text: "to a group" },
    });
    expect((await call(fake, "sendMessage", { text: "x" })).json.description).toBe(
      "Bad Request: chat_id is empty",
    );
    expect((await call(fake, "sendMessage", { chat_id: 1, text: " " })).json.description).toBe(
      "Bad Request: message text is empty",
    );
    expect((await call(fake, "sendMessage", { chat_id: "@chan", text: "x" })).status).toBe(400);
    expect(fake.sentCount).toBe(1);
  });

  it("meters per bot and per chat, and limits the bot with 429 + retry_after", async () => {
    const fake = await start({ ratePerSecond: 4 });
    const statuses = [];
    for (const chat of [1, 1, 2, 3, 4]) {
      const res = await call(fake, "sendMessage", { chat_id: chat, text: "x" });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.json).toEqual({
          ok: false,
          error_code: 429,
          description: "Too Many Requests: retry after 1",
          parameters: { retry_after: 1 },
        });
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(fake.maxRatePerSecond(TOKEN)).toBe(4);
    expect(fake.maxRatePerSecondPerChat(TOKEN, 1)).toBe(2);
    expect(fake.maxRatePerSecondPerChat(TOKEN, "2")).toBe(1);
    expect(fake.maxRatePerSecondPerChat(TOKEN, 4)).toBe(0);
  });

  it("sets, reports and deletes webhooks, refusing bad secrets and plain http", async () => {
    const fake = await start();
    expect((await call(fake, "setWebhook", { url: "http://x.example/h" })).json.description).toBe(
      "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    );
    expect(
      (await call(fake, "setWebhook", { url: "https://x.example/h", secret_token: "a b" })).json
        .description,
    ).toBe("Bad Request: secret token contains unallowed characters");
    expect(
      (await call(fake, "setWebhook", { url: "https://x.example/h", secret_token: "ok_1" })).json,
    ).toEqual({ ok: true, result: true, description: "Webhook was set" });
    expect((await call(fake, "getWebhookInfo")).json.result).toMatchObject({
      url: "https://x.example/h",
      pending_update_count: 0,
    });
    expect(fake.webhook(TOKEN)).toMatchObject({ url: "https://x.example/h", secretToken: "ok_1" });
    await call(fake, "deleteWebhook", {});
    expect(fake.webhook(TOKEN)).toBeUndefined();
    expect((await call(fake, "getWebhookInfo")).json.result).toMatchObject({ url: "" });
  });

  it("with record: false counts but keeps no logs", async () => {
    const fake = await start({ record: false });
    for (let i = 0; i < 5; i++) await call(fake, "sendMessage", { chat_id: i + 1, text: "x" });
    expect(fake.sentCount).toBe(5);
    expect(fake.sent).toHaveLength(0);
    expect(fake.requests.length).toBeLessThanOrEqual(1);
  });

  it("serves bots given up front, with a token the integration form accepts", async () => {
    const fake = createTelegramFake({ bots: [FAKE_TELEGRAM_DEMO_BOT] });
    running.push(fake);
    await fake.start();
    expect(FAKE_TELEGRAM_DEMO_BOT.token).toMatch(/^\d+:[A-Za-z0-9_-]{20,}$/);
    const res = await fetch(`${fake.url}/bot${FAKE_TELEGRAM_DEMO_BOT.token}/getMe`);
    expect(await res.json()).toMatchObject({
      ok: true,
      result: { id: 7000000001, username: "engage_demo_bot" },
    });
  });
});
