import { createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createWhatsAppFake,
  inboundPayload,
  metaError,
  signWebhook,
  statusPayload,
  type WhatsAppFake,
  type WhatsAppFakeOptions,
} from "../../../tests/fakes/whatsapp";
import {
  ProviderError,
  type ChannelAdapter,
  type OutgoingMessage,
  type RawWebhook,
} from "../types";
import { createWhatsAppAdapter, whatsAppErrorClass, type WhatsAppConfig } from "./adapter.server";

const CONFIG: WhatsAppConfig = {
  phoneNumberId: "106540352242922",
  wabaId: "102290129340398",
  accessToken: "EAAG-test-token",
  appSecret: "app-secret-123",
  verifyToken: "verify-me-please",
};

const NUMBER = {
  phoneNumberId: CONFIG.phoneNumberId,
  accessToken: CONFIG.accessToken,
  wabaId: CONFIG.wabaId,
  displayPhoneNumber: "+91 98765 43210",
  verifiedName: "Shop Name",
  tier: "TIER_1K",
};

let fake: WhatsAppFake;
let adapter: ChannelAdapter;

async function startFake(options: WhatsAppFakeOptions = {}): Promise<void> {
  await fake?.stop();
  fake = createWhatsAppFake({ numbers: [NUMBER], ...options });
  await fake.start();
  adapter = createWhatsAppAdapter(CONFIG, { baseUrl: fake.url, timeoutMs: 3000 });
}

beforeEach(async () => {
  await startFake();
});

afterEach(async () => {
  await fake.stop();
});

function textMessage(to = "+919812345678", text = "Hello there"): OutgoingMessage {
  return {
    id: "msg-1",
    workspaceId: "ws-1",
    to,
    content: { channel: "whatsapp", type: "text", text },
  };
}

function templateMessage(name = "order_update", bodyParams = ["Ada", "#42"]): OutgoingMessage {
  return {
    id: "msg-2",
    workspaceId: "ws-1",
    to: "+919812345678",
    content: { channel: "whatsapp", type: "template", name, language: "en_US", bodyParams },
  };
}

/** The error `send` rejected with (fails the test if it resolved). */
async function sendError(message: OutgoingMessage, using = adapter): Promise<ProviderError> {
  const error = await using.send(message).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("send", () => {
  it("sends a text message with exactly Meta's payload and returns the wamid", async () => {
    const result = await adapter.send(textMessage());
    expect(result.providerMessageId).toMatch(/^wamid\./);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({
      phoneNumberId: CONFIG.phoneNumberId,
      to: "919812345678",
      type: "text",
      text: "Hello there",
      wamid: result.providerMessageId,
    });

    const request = fake.lastRequest("POST");
    expect(request?.path).toBe(`/v21.0/${CONFIG.phoneNumberId}/messages`);
    expect(request?.headers.authorization).toBe(`Bearer ${CONFIG.accessToken}`);
    expect(request?.headers["content-type"]).toContain("application/json");
    expect(request?.json).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "919812345678",
      type: "text",
      text: { body: "Hello there", preview_url: false },
    });
  });

  it("honours apiVersion and a trailing slash in baseUrl", async () => {
    const custom = createWhatsAppAdapter(CONFIG, { baseUrl: `${fake.url}/`, apiVersion: "v19.0" });
    await custom.send(textMessage());
    expect(fake.lastRequest("POST")?.path).toBe(`/v19.0/${CONFIG.phoneNumberId}/messages`);
  });

  it("sends a template with body parameters, and omits components without parameters", async () => {
    const result = await adapter.send(templateMessage());
    expect(fake.lastRequest("POST")?.json).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "919812345678",
      type: "template",
      template: {
        name: "order_update",
        language: { code: "en_US" },
        components: [
          {
            type: "body",
            parameters: [
              { type: "text", text: "Ada" },
              { type: "text", text: "#42" },
            ],
          },
        ],
      },
    });
    expect(fake.sent[0]).toMatchObject({
      type: "template",
      template: { name: "order_update", language: "en_US", params: ["Ada", "#42"] },
      wamid: result.providerMessageId,
    });

    await adapter.send(templateMessage("hello_world", []));
    expect(fake.lastRequest("POST")?.json).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "919812345678",
      type: "template",
      template: { name: "hello_world", language: { code: "en_US" } },
    });
    expect(fake.sentCount).toBe(2);
  });

  it("refuses content of another channel without calling Meta, as a permanent failure", async () => {
    const error = await sendError({
      id: "m",
      workspaceId: "w",
      to: "+919812345678",
      content: { channel: "sms", text: "hi" },
    });
    expect(adapter.classify(error)).toEqual({
      kind: "permanent",
      reason: "The WhatsApp channel cannot send sms content",
    });
    expect(fake.requests).toHaveLength(0);
  });
});

describe("send errors and classify", () => {
  it.each([
    {
      label: "131047 re-engagement (outside the 24 h window)",
      fault: metaError(131047, "Re-engagement message"),
      status: 400,
      code: "131047",
      expected: {
        kind: "permanent",
        reason:
          "WhatsApp 131047: more than 24 hours have passed since the customer last replied; send an approved template instead",
      },
    },
    {
      label: "130429 throughput reached",
      fault: metaError(130429, "Rate limit hit"),
      status: 400,
      code: "130429",
      expected: {
        kind: "rate-limited",
        retryAfterMs: 1000,
        reason: "WhatsApp 130429: the number's message throughput was reached",
      },
    },
    {
      label: "130429 with a Retry-After header",
      fault: metaError(130429, "Rate limit hit", 429, { headers: { "retry-after": "7" } }),
      status: 429,
      code: "130429",
      expected: {
        kind: "rate-limited",
        retryAfterMs: 7000,
        reason: "WhatsApp 130429: the number's message throughput was reached",
      },
    },
    {
      label: "80007 account rate limit",
      fault: metaError(80007, "Rate limit issues"),
      status: 400,
      code: "80007",
      expected: {
        kind: "rate-limited",
        retryAfterMs: 60_000,
        reason: "WhatsApp 80007: the WhatsApp Business Account reached its rate limit",
      },
    },
    {
      label: "131049 healthy ecosystem",
      fault: metaError(131049, "This message was not delivered to maintain healthy ecosystem"),
      status: 400,
      code: "131049",
      expected: {
        kind: "transient",
        retryAfterMs: 24 * 60 * 60 * 1000,
        reason:
          "WhatsApp 131049: Meta did not deliver this message to keep the ecosystem healthy (per-user marketing limit); retry much later",
      },
    },
    {
      label: "132001 template does not exist (with Meta's details)",
      fault: metaError(132001, "Template name does not exist in the translation", 404, {
        details: "template name (promo) does not exist in en_US",
      }),
      status: 404,
      code: "132001",
      expected: {
        kind: "permanent",
        reason:
          "WhatsApp 132001: the template does not exist in this language or is not approved (Template name does not exist in the translation — template name (promo) does not exist in en_US)",
      },
    },
    {
      label: "131026 undeliverable",
      fault: metaError(131026, "Message Undeliverable"),
      status: 400,
      code: "131026",
      expected: { kind: "permanent", reason: expect.stringMatching(/^WhatsApp 131026: /) },
    },
    {
      label: "190 bad token",
      fault: metaError(190, "Invalid OAuth access token - Cannot parse access token", 401),
      status: 401,
      code: "190",
      expected: {
        kind: "permanent",
        reason: "WhatsApp 190: the access token is invalid or has expired; reconnect WhatsApp",
      },
    },
    {
      label: "a plain 500",
      fault: { kind: "status" as const, status: 500, json: { oops: true } },
      status: 500,
      code: undefined,
      expected: { kind: "transient", reason: 'WhatsApp HTTP 500: {"oops":true}' },
    },
    {
      label: "a 429 without a Meta code",
      fault: { kind: "status" as const, status: 429, json: {} },
      status: 429,
      code: undefined,
      expected: { kind: "rate-limited", retryAfterMs: 1000, reason: "WhatsApp HTTP 429: {}" },
    },
    {
      label: "an unknown Meta code on a 4xx",
      fault: metaError(999001, "Something new"),
      status: 400,
      code: "999001",
      expected: { kind: "permanent", reason: "WhatsApp 999001: Something new" },
    },
    {
      label: "an unknown Meta code on a 5xx",
      fault: metaError(999002, "Something new", 503),
      status: 503,
      code: "999002",
      expected: { kind: "transient", reason: "WhatsApp 999002: Something new" },
    },
  ])("$label", async ({ fault, status, code, expected }) => {
    fake.injectFault(fault, { match: { method: "POST" } });
    const error = await sendError(textMessage());
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
    expect(adapter.classify(error)).toEqual(expected);
    expect(fake.sentCount).toBe(0);
  });

  it("treats a hang past timeoutMs as transient (no status)", async () => {
    const quick = createWhatsAppAdapter(CONFIG, { baseUrl: fake.url, timeoutMs: 150 });
    fake.injectFault({ kind: "hang" });
    const started = Date.now();
    const error = await sendError(textMessage(), quick);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.status).toBeUndefined();
    expect(error.code).toBe("timeout");
    const verdict = quick.classify(error);
    expect(verdict.kind).toBe("transient");
    expect(verdict.reason).toMatch(/^WhatsApp: No answer from 127\.0\.0\.1:\d+ within 150 ms$/);
  });

  it("treats a connection reset as transient", async () => {
    fake.injectFault({ kind: "reset" });
    const error = await sendError(textMessage());
    expect(error.status).toBeUndefined();
    expect(error.code).toBe("network");
    expect(adapter.classify(error).kind).toBe("transient");
  });

  it("gets 190 from the fake itself for a wrong token", async () => {
    const wrong = createWhatsAppAdapter(
      { ...CONFIG, accessToken: "not-the-token" },
      { baseUrl: fake.url },
    );
    const error = await sendError(textMessage(), wrong);
    expect(error.status).toBe(401);
    expect(error.code).toBe("190");
    expect(wrong.classify(error)).toMatchObject({ kind: "permanent" });
  });

  it("gets 131047 from the fake outside the window, and succeeds once the customer wrote", async () => {
    await startFake({ enforceWindow: true });
    const error = await sendError(textMessage());
    expect(error.code).toBe("131047");
    expect(adapter.classify(error).reason).toContain("more than 24 hours");
    // Templates are what re-opens a conversation.
    await expect(adapter.send(templateMessage())).resolves.toBeTruthy();
    fake.markInbound(CONFIG.phoneNumberId, "+919812345678");
    await expect(adapter.send(textMessage())).resolves.toBeTruthy();
    expect(fake.sent.map((s) => s.type)).toEqual(["template", "text"]);
  });

  it("gets 132001 / 132000 from the fake for an unknown template or a wrong parameter count", async () => {
    fake.addTemplate({
      name: "order_update",
      language: "en_US",
      components: [{ type: "BODY", text: "Hi {{1}}, order {{2}} shipped." }],
    });
    const unknown = await sendError(templateMessage("no_such_template"));
    expect([unknown.status, unknown.code]).toEqual([404, "132001"]);
    expect(adapter.classify(unknown).kind).toBe("permanent");

    const mismatch = await sendError(templateMessage("order_update", ["Ada"]));
    expect(mismatch.code).toBe("132000");
    expect(adapter.classify(mismatch).reason).toMatch(/^WhatsApp 132000: the number of template/);

    await expect(adapter.send(templateMessage("order_update", ["Ada", "#7"]))).resolves.toEqual({
      providerMessageId: expect.stringMatching(/^wamid\./),
    });
  });

  it("gets 130429 from the fake's own rate limit, as rate-limited", async () => {
    await startFake({ ratePerSecond: 3, now: () => 1_000_000 });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => adapter.send(textMessage())),
    );
    const rejected = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(rejected).toHaveLength(2);
    for (const r of rejected) {
      const error = (r as PromiseRejectedResult).reason as ProviderError;
      expect(error.code).toBe("130429");
      expect(adapter.classify(error)).toMatchObject({ kind: "rate-limited", retryAfterMs: 1000 });
    }
    expect(fake.maxRatePerSecond(CONFIG.phoneNumberId)).toBe(3);
  });

  it("meters concurrent sends per number", async () => {
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        adapter.send(textMessage(`+9198100${String(i).padStart(5, "0")}`)),
      ),
    );
    expect(fake.sentCount).toBe(25);
    expect(fake.maxRatePerSecond(CONFIG.phoneNumberId)).toBe(25);
    expect(new Set(fake.sent.map((s) => s.wamid)).size).toBe(25);
  });

  it("never throws from classify", () => {
    const odd: unknown[] = [
      undefined,
      null,
      "boom",
      42,
      { code: 131047 },
      new Error("plain"),
      Object.create(null),
      new ProviderError("weird", { status: 200 }),
    ];
    for (const value of odd) {
      const verdict = adapter.classify(value);
      expect(["transient", "rate-limited", "permanent"]).toContain(verdict.kind);
      expect(typeof verdict.reason).toBe("string");
    }
    expect(adapter.classify(new Error("plain"))).toEqual({
      kind: "transient",
      reason: "WhatsApp: plain",
    });
  });
});

describe("whatsAppErrorClass", () => {
  it("classifies codes without an HTTP status (e.g. from a failed-status webhook)", () => {
    expect(whatsAppErrorClass(131047, "", undefined).kind).toBe("permanent");
    expect(whatsAppErrorClass("131056", "", undefined)).toEqual({
      kind: "transient",
      retryAfterMs: 6000,
      reason: "WhatsApp 131056: too many messages to this recipient in a short time",
    });
    expect(whatsAppErrorClass(4, "", 400)).toMatchObject({ kind: "rate-limited" });
    expect(whatsAppErrorClass(613, "", 400)).toMatchObject({ kind: "rate-limited" });
    expect(whatsAppErrorClass(0, "", 401).kind).toBe("permanent");
    expect(whatsAppErrorClass(131031, "", 400).reason).toMatch(/^WhatsApp 131031: /);
    expect(whatsAppErrorClass(131051, "(#131051) Unsupported message type", 400)).toEqual({
      kind: "permanent",
      reason: "WhatsApp 131051: unsupported message type (Unsupported message type)",
    });
    expect(whatsAppErrorClass(131008, "x", 400).reason).toBe(
      "WhatsApp 131008: a required parameter is missing (x)",
    );
    expect(whatsAppErrorClass(131009, "y", 400).kind).toBe("permanent");
    expect(whatsAppErrorClass(100, "(#100) Invalid parameter", 400).reason).toBe(
      "WhatsApp 100: invalid parameter (Invalid parameter)",
    );
    // The whole 132xxx template range and Graph's 2xx permission codes.
    expect(whatsAppErrorClass(132999, "z", 500)).toEqual({
      kind: "permanent",
      reason: "WhatsApp 132999: template error (z)",
    });
    expect(whatsAppErrorClass(210, "", 403).kind).toBe("permanent");
    expect(whatsAppErrorClass(131000, "", 500).kind).toBe("transient");
  });
});

// --- webhooks --------------------------------------------------------------------------------

function getHook(query: Record<string, string>): RawWebhook {
  const url = new URL("https://engage.example/webhooks/whatsapp/int-1");
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return { method: "GET", url: url.toString(), headers: {}, body: Buffer.alloc(0) };
}

function postHook(body: Buffer, headers: Record<string, string>): RawWebhook {
  return {
    method: "POST",
    url: "https://engage.example/webhooks/whatsapp/int-1",
    headers,
    body,
  };
}

function signed(payload: unknown, secret = CONFIG.appSecret): RawWebhook {
  const { body, headers } = fake.signedWebhook(secret, payload);
  return postHook(body, { ...headers });
}

describe("receiveWebhook", () => {
  it("answers Meta's verification handshake with the challenge", async () => {
    const ok = await adapter.receiveWebhook(
      getHook({
        "hub.mode": "subscribe",
        "hub.verify_token": CONFIG.verifyToken,
        "hub.challenge": "1158201444",
      }),
    );
    expect(ok).toEqual({
      kind: "handshake",
      status: 200,
      body: "1158201444",
      contentType: "text/plain",
    });
  });

  it.each([
    ["a wrong token", { "hub.mode": "subscribe", "hub.verify_token": "guess" }],
    ["a token prefix", { "hub.mode": "subscribe", "hub.verify_token": "verify-me" }],
    ["no token", { "hub.mode": "subscribe" }],
    ["another mode", { "hub.mode": "unsubscribe", "hub.verify_token": CONFIG.verifyToken }],
  ])("rejects the handshake with %s (403)", async (_label, query) => {
    const out = await adapter.receiveWebhook(getHook({ ...query, "hub.challenge": "123" }));
    expect(out).toMatchObject({ kind: "rejected", status: 403 });
  });

  it("accepts a correctly signed POST (signature computed independently)", async () => {
    const body = Buffer.from(JSON.stringify({ object: "whatsapp_business_account", entry: [] }));
    const signature = createHmac("sha256", CONFIG.appSecret).update(body).digest("hex");
    const out = await adapter.receiveWebhook(
      postHook(body, { "x-hub-signature-256": `sha256=${signature}` }),
    );
    expect(out).toEqual({ kind: "events", events: [] });
  });

  it("rejects forged, missing, garbled signatures and a tampered body (401)", async () => {
    const payload = statusPayload({
      phoneNumberId: CONFIG.phoneNumberId,
      wamid: "wamid.A",
      status: "delivered",
      recipient: "919812345678",
    });
    const good = signed(payload);
    const forged = signed(payload, "someone-elses-secret");
    const tampered = postHook(
      Buffer.from(good.body.toString("utf8").replace("delivered", "read")),
      good.headers,
    );
    const cases: [string, RawWebhook][] = [
      ["forged", forged],
      ["missing", postHook(good.body, { "content-type": "application/json" })],
      ["tampered", tampered],
      ["garbled", postHook(good.body, { "x-hub-signature-256": "sha256=not-hex" })],
      ["sha1", postHook(good.body, { "x-hub-signature-256": "sha1=abc" })],
      [
        "uppercase-hex of another body",
        postHook(good.body, {
          "x-hub-signature-256": `sha256=${"A".repeat(64)}`,
        }),
      ],
    ];
    for (const [label, raw] of cases) {
      const out = await adapter.receiveWebhook(raw);
      expect(out, label).toMatchObject({ kind: "rejected", status: 401 });
    }
    // The untouched request still passes: the rejections above are about the signature.
    expect(await adapter.receiveWebhook(good)).toMatchObject({ kind: "events" });
  });

  it("rejects a correctly signed body that is not JSON (400)", async () => {
    const out = await adapter.receiveWebhook(signed("{not json"));
    expect(out).toMatchObject({ kind: "rejected", status: 400 });
    expect(await adapter.receiveWebhook(signed("[1,2]"))).toMatchObject({
      kind: "rejected",
      status: 400,
    });
  });

  it("parses statuses into status events", async () => {
    const at = 1_749_416_383;
    const events = [];
    for (const status of ["sent", "delivered", "read"] as const) {
      const out = await adapter.receiveWebhook(
        signed(
          fake.statusPayload({
            phoneNumberId: CONFIG.phoneNumberId,
            wamid: "wamid.HBgLOTE5ODEyMzQ1Njc4",
            status,
            recipient: "+919812345678",
            timestamp: at,
          }),
        ),
      );
      expect(out.kind).toBe("events");
      if (out.kind === "events") events.push(...out.events);
    }
    const failed = await adapter.receiveWebhook(
      signed(
        statusPayload({
          phoneNumberId: CONFIG.phoneNumberId,
          wamid: "wamid.F",
          status: "failed",
          recipient: "919812345678",
          timestamp: String(at + 5),
          errors: [
            {
              code: 131047,
              title: "Re-engagement message",
              details: "Message failed to send because more than 24 hours have passed",
            },
          ],
        }),
      ),
    );
    expect(failed.kind).toBe("events");
    if (failed.kind === "events") events.push(...failed.events);

    expect(events).toEqual([
      {
        type: "status",
        eventId: "wamid.HBgLOTE5ODEyMzQ1Njc4:sent",
        providerMessageId: "wamid.HBgLOTE5ODEyMzQ1Njc4",
        status: "sent",
        at: new Date(at * 1000),
      },
      {
        type: "status",
        eventId: "wamid.HBgLOTE5ODEyMzQ1Njc4:delivered",
        providerMessageId: "wamid.HBgLOTE5ODEyMzQ1Njc4",
        status: "delivered",
        at: new Date(at * 1000),
      },
      {
        type: "status",
        eventId: "wamid.HBgLOTE5ODEyMzQ1Njc4:read",
        providerMessageId: "wamid.HBgLOTE5ODEyMzQ1Njc4",
        status: "read",
        at: new Date(at * 1000),
      },
      {
        type: "status",
        eventId: "wamid.F:failed",
        providerMessageId: "wamid.F",
        status: "failed",
        at: new Date((at + 5) * 1000),
        reason:
          "131047: Re-engagement message (Message failed to send because more than 24 hours have passed)",
      },
    ]);
  });

  it("parses inbound text, button and interactive replies into inbound events", async () => {
    const at = 1_749_416_400;
    const payloads = [
      inboundPayload({
        phoneNumberId: CONFIG.phoneNumberId,
        from: "16505551234",
        name: "Sheena Nelson",
        text: "Does it come in another color?",
        id: "wamid.IN1",
        timestamp: at,
      }),
      inboundPayload({
        phoneNumberId: CONFIG.phoneNumberId,
        from: "+919812345678",
        name: "Ravi",
        text: "Stop promotions",
        id: "wamid.IN2",
        timestamp: at,
        reply: { type: "button", id: "STOP" },
      }),
      inboundPayload({
        phoneNumberId: CONFIG.phoneNumberId,
        from: "919812345678",
        name: "Ravi",
        text: "Yes, confirm",
        id: "wamid.IN3",
        timestamp: at,
        reply: { type: "button_reply", id: "confirm" },
      }),
      inboundPayload({
        phoneNumberId: CONFIG.phoneNumberId,
        from: "919812345678",
        name: "Ravi",
        text: "Blue, size M",
        id: "wamid.IN4",
        timestamp: at,
        reply: { type: "list_reply" },
      }),
    ];
    const events = [];
    for (const payload of payloads) {
      const out = await adapter.receiveWebhook(signed(payload));
      if (out.kind !== "events") throw new Error(`unexpected ${out.kind}`);
      events.push(...out.events);
    }
    const inbound = (id: string, from: string, name: string, text: string) => ({
      type: "inbound",
      eventId: id,
      from,
      name,
      text,
      at: new Date(at * 1000),
      providerMessageId: id,
    });
    expect(events).toEqual([
      inbound("wamid.IN1", "+16505551234", "Sheena Nelson", "Does it come in another color?"),
      inbound("wamid.IN2", "+919812345678", "Ravi", "Stop promotions"),
      inbound("wamid.IN3", "+919812345678", "Ravi", "Yes, confirm"),
      inbound("wamid.IN4", "+919812345678", "Ravi", "Blue, size M"),
    ]);
  });

  it("ignores entries for another phone_number_id, other fields and other objects", async () => {
    const ours = statusPayload({
      phoneNumberId: CONFIG.phoneNumberId,
      wamid: "wamid.OURS",
      status: "delivered",
      recipient: "919812345678",
      timestamp: 1_749_416_383,
    });
    const theirs = inboundPayload({
      phoneNumberId: "999999999999999",
      from: "16505551234",
      name: "Someone",
      text: "not for you",
    });
    const theirStatus = statusPayload({
      phoneNumberId: "999999999999999",
      wamid: "wamid.THEIRS",
      status: "read",
      recipient: "16505551234",
    });
    const otherField = {
      id: CONFIG.wabaId,
      changes: [
        {
          field: "message_template_status_update",
          value: { event: "APPROVED", message_template_name: "x" },
        },
      ],
    };
    // A status kind we do not model (Meta also sends e.g. "deleted", "warning", "played").
    const unknownKind = statusPayload({
      phoneNumberId: CONFIG.phoneNumberId,
      wamid: "wamid.ODD",
      status: "sent",
      recipient: "919812345678",
    });
    const oddStatus = unknownKind.entry[0]?.changes[0]?.value.statuses as { status: string }[];
    oddStatus[0]!.status = "warning";
    const mixed = {
      object: "whatsapp_business_account",
      entry: [
        ...theirs.entry,
        ...ours.entry,
        ...theirStatus.entry,
        otherField,
        ...unknownKind.entry,
      ],
    };
    const out = await adapter.receiveWebhook(signed(mixed));
    expect(out).toEqual({
      kind: "events",
      events: [
        {
          type: "status",
          eventId: "wamid.OURS:delivered",
          providerMessageId: "wamid.OURS",
          status: "delivered",
          at: new Date(1_749_416_383_000),
        },
      ],
    });
    expect(await adapter.receiveWebhook(signed(theirs))).toEqual({ kind: "events", events: [] });
    expect(await adapter.receiveWebhook(signed({ ...ours, object: "page" }))).toEqual({
      kind: "events",
      events: [],
    });
  });

  it("works with the exported signWebhook too and rejects other methods", async () => {
    const { body, headers } = signWebhook(CONFIG.appSecret, {
      object: "whatsapp_business_account",
    });
    expect(await adapter.receiveWebhook(postHook(body, headers))).toEqual({
      kind: "events",
      events: [],
    });
    expect(
      await adapter.receiveWebhook({ ...postHook(body, headers), method: "PUT" }),
    ).toMatchObject({ kind: "rejected", status: 400 });
  });
});

describe("testConnection", () => {
  it("reads the number's name, tier and quality", async () => {
    expect(await adapter.testConnection()).toEqual({
      ok: true,
      detail:
        "+91 98765 43210 (Shop Name), messaging limit 1,000 customers / 24\u00a0h, quality high",
      ratePerSecond: 80,
    });
    const [request, waba] = fake.requests.filter((r) => r.method === "GET").slice(-2);
    expect(waba?.path).toBe(`/v21.0/${CONFIG.wabaId}/message_templates`);
    expect(request?.path).toBe(`/v21.0/${CONFIG.phoneNumberId}`);
    expect(request?.query.fields?.split(",")).toEqual(
      expect.arrayContaining([
        "display_phone_number",
        "verified_name",
        "quality_rating",
        "messaging_limit_tier",
      ]),
    );
    expect(request?.headers.authorization).toBe(`Bearer ${CONFIG.accessToken}`);
  });

  it("reports a bad token, an unknown number and an unreachable API", async () => {
    const badToken = createWhatsAppAdapter(
      { ...CONFIG, accessToken: "expired" },
      { baseUrl: fake.url },
    );
    expect(await badToken.testConnection()).toEqual({
      ok: false,
      check: "Access token and phone number ID",
      reason: "WhatsApp 190: the access token is invalid or has expired; reconnect WhatsApp",
    });

    // The number is right but the business account ID is not the number's.
    const otherWaba = createWhatsAppAdapter(
      { ...CONFIG, wabaId: "999999999999999" },
      { baseUrl: fake.url },
    );
    expect(await otherWaba.testConnection()).toMatchObject({
      ok: false,
      check: "WhatsApp Business Account ID",
      reason: expect.stringMatching(/^WhatsApp 100: /),
    });

    const otherNumber = createWhatsAppAdapter(
      { ...CONFIG, phoneNumberId: "123" },
      { baseUrl: fake.url },
    );
    const other = await otherNumber.testConnection();
    expect(other).toMatchObject({ ok: false, reason: expect.stringMatching(/^WhatsApp 100: /) });

    const url = fake.url;
    await fake.stop();
    const down = createWhatsAppAdapter(CONFIG, { baseUrl: url, timeoutMs: 1000 });
    const result = await down.testConnection();
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^WhatsApp: /) });
  });
});

describe("templates", () => {
  const templatesPath = `/v21.0/${CONFIG.wabaId}/message_templates`;

  it("lists every template across pages, with Meta's fields, following the after cursor", async () => {
    for (let i = 0; i < 230; i++) {
      fake.addTemplate({
        name: `t_${String(i).padStart(3, "0")}`,
        language: i % 2 ? "hi" : "en_US",
        category: "UTILITY",
        components: [{ type: "BODY", text: `Hi {{1}}, #${i}` }],
      });
    }
    fake.setTemplateStatus("t_001", "hi", "REJECTED", "PROMOTIONAL");
    fake.setTemplateStatus("t_002", "en_US", "PENDING");
    const list = await adapter.templates!.list();
    expect(list).toHaveLength(230);
    expect(new Set(list.map((t) => t.name)).size).toBe(230);
    expect(list[0]).toEqual({
      id: expect.stringMatching(/^\d+$/),
      name: "t_000",
      language: "en_US",
      category: "UTILITY",
      status: "APPROVED",
      components: [{ type: "BODY", text: "Hi {{1}}, #0" }],
    });
    expect(list[1]).toMatchObject({ status: "REJECTED", rejectedReason: "PROMOTIONAL" });
    expect(list[2]).toMatchObject({ status: "PENDING" });
    expect(list[2]).not.toHaveProperty("rejectedReason");

    const pages = fake.requests.filter((r) => r.path === templatesPath);
    expect(pages).toHaveLength(3);
    expect(pages[0]!.query).toEqual({
      fields: "name,language,status,category,components,rejected_reason,id",
      limit: "100",
    });
    expect(pages[1]!.query.after).toEqual(expect.any(String));
    expect(pages[2]!.query.after).not.toBe(pages[1]!.query.after);
    expect(pages[0]!.headers.authorization).toBe(`Bearer ${CONFIG.accessToken}`);
  });

  it("lists an empty account in one call", async () => {
    await expect(adapter.templates!.list()).resolves.toEqual([]);
    expect(fake.requests.filter((r) => r.path === templatesPath)).toHaveLength(1);
  });

  it("submits a template with Meta's payload and returns its id and PENDING status", async () => {
    const components = [
      {
        type: "BODY",
        text: "Hi {{1}}, your order {{2}} shipped.",
        example: { body_text: [["Ada", "#42"]] },
      },
      { type: "FOOTER", text: "Reply STOP to opt out" },
    ];
    const created = await adapter.templates!.create({
      name: "order_shipped",
      language: "en_US",
      category: "UTILITY",
      components,
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^\d+$/),
      status: "PENDING",
      category: "UTILITY",
    });
    const request = fake.lastRequest("POST", templatesPath);
    expect(request?.json).toEqual({
      name: "order_shipped",
      language: "en_US",
      category: "UTILITY",
      components,
    });
    const [listed] = await adapter.templates!.list();
    expect(listed).toMatchObject({ id: created.id, name: "order_shipped", status: "PENDING" });
  });

  it("turns Meta's refusals and failures into ProviderErrors like send does", async () => {
    const input = {
      name: "promo",
      language: "en",
      category: "MARKETING",
      components: [{ type: "BODY", text: "Sale today" }],
    };
    await adapter.templates!.create(input);
    const duplicate = await adapter.templates!.create(input).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(ProviderError);
    const d = duplicate as ProviderError;
    expect([d.status, d.code]).toEqual([400, "100"]);
    expect(d.message).toContain("Content in this language already exists");
    expect(adapter.classify(d)).toMatchObject({ kind: "permanent" });
    expect(adapter.classify(d).reason).toContain("already en content");

    fake.injectFault(metaError(2, "Service temporarily unavailable", 503), {
      match: { path: templatesPath },
    });
    const outage = await adapter.templates!.list().catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(ProviderError);
    expect(adapter.classify(outage).kind).toBe("transient");

    const bad = createWhatsAppAdapter(
      { ...CONFIG, accessToken: "wrong" },
      { baseUrl: fake.url, timeoutMs: 3000 },
    );
    const unauthorised = (await bad.templates!.list().catch((e: unknown) => e)) as ProviderError;
    expect([unauthorised.status, unauthorised.code]).toEqual([401, "190"]);
    expect(bad.classify(unauthorised).reason).toMatch(/^WhatsApp 190/);
  });

  it("stops on a repeated cursor instead of looping", async () => {
    fake.addTemplate({ name: "a" });
    fake.injectFault(
      {
        kind: "status",
        status: 200,
        json: {
          data: [{ id: "1", name: "a", language: "en", status: "APPROVED", category: "UTILITY" }],
          paging: { cursors: { after: "same" }, next: "https://graph.facebook.com/x?after=same" },
        },
      },
      { times: 2, match: { path: templatesPath } },
    );
    const error = (await adapter.templates!.list().catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.code).toBe("paging_loop");
  });
});
