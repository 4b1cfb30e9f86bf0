import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFakeServer } from "../../../tests/fakes/base";
import {
  createSmsFake,
  inboundParams,
  signedCallback,
  signTwilio,
  statusCallbackParams,
  twilioError,
  type SmsFake,
} from "../../../tests/fakes/sms";
import {
  ProviderError,
  type ChannelAdapter,
  type OutgoingMessage,
  type RawWebhook,
} from "../types";
import {
  classifySmsError,
  createSmsAdapter,
  isValidTwilioSignature,
  twilioSignature,
  type SmsConfig,
} from "./adapter.server";

const SID = "AC11111111111111111111111111111111";
const TOKEN = "auth-token-1";
const HOOK = "https://engage.example/webhooks/sms/int_1";

let fake: SmsFake;

beforeAll(async () => {
  fake = createSmsFake();
  fake.addAccount({ sid: SID, token: TOKEN, friendlyName: "Shop SMS" });
  fake.addAccount({ sid: "ACsuspended", token: "t", friendlyName: "Old", status: "suspended" });
  fake.optOut("+919800000099");
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

/** `statusCallbackUrl` null: none configured. */
function adapter(config: Partial<SmsConfig> = {}, statusCallbackUrl: string | null = HOOK) {
  return createSmsAdapter(
    { accountSid: SID, authToken: TOKEN, from: "+15005550006", ...config },
    { baseUrl: fake.url, statusCallbackUrl: statusCallbackUrl ?? undefined, timeoutMs: 2_000 },
  );
}

function sms(to: string, text = "Hello from Shop", dltTemplateId?: string): OutgoingMessage {
  return {
    id: "msg_1",
    workspaceId: "ws_1",
    to,
    content: { channel: "sms", text, ...(dltTemplateId ? { dltTemplateId } : {}) },
  };
}

async function sendError(a: ChannelAdapter, message: OutgoingMessage): Promise<ProviderError> {
  const error: unknown = await a.send(message).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("SMS adapter: send", () => {
  it("posts the form with Basic auth, StatusCallback and DLT parameters", async () => {
    const a = adapter({ dltEntityId: "1101000000000012345", dltSenderHeader: "SHOPIN" });
    const result = await a.send(
      sms("+919812345678", "Your order ₹1,299 & more", "1107000000000067890"),
    );

    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(fake.sent).toHaveLength(1);
    const sent = fake.sent[0]!;
    expect(sent.sid).toBe(result.providerMessageId);
    expect(sent.accountSid).toBe(SID);
    // `from` wins over the DLT sender header.
    expect(sent.params).toEqual({
      To: "+919812345678",
      From: "+15005550006",
      Body: "Your order ₹1,299 & more",
      StatusCallback: HOOK,
      DltEntityId: "1101000000000012345",
      DltTemplateId: "1107000000000067890",
    });
    const request = fake.lastRequest("POST", `/2010-04-01/Accounts/${SID}/Messages.json`)!;
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`,
    );
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
  });

  it("uses the DLT sender header as From when there is no from, and a messaging service", async () => {
    await adapter({ from: undefined, dltSenderHeader: "SHOPIN" }, null).send(sms("+919812345678"));
    await adapter({ from: undefined, messagingServiceSid: "MG123" }, null).send(
      sms("+15551234567"),
    );
    expect(fake.sent.map((s) => s.params)).toEqual([
      { From: "SHOPIN", To: "+919812345678", Body: "Hello from Shop" },
      { MessagingServiceSid: "MG123", To: "+15551234567", Body: "Hello from Shop" },
    ]);
  });

  it("refuses a config without any sender, and non-SMS content (permanent)", async () => {
    expect(() => adapter({ from: undefined })).toThrow(/From number/);
    const error = await sendError(adapter(), {
      id: "m",
      workspaceId: "w",
      to: "+15551234567",
      content: { channel: "telegram", text: "hi" },
    });
    expect(classifySmsError(error).kind).toBe("permanent");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("SMS adapter: errors and classify", () => {
  it("21610 (replied STOP) is permanent and suppresses", async () => {
    const error = await sendError(adapter(), sms("+919800000099"));
    expect(error).toMatchObject({ status: 400, code: "21610" });
    expect(adapter().classify(error)).toEqual({
      kind: "permanent",
      reason: "SMS 21610: the recipient has opted out (replied STOP)",
      suppress: "blocked",
    });
  });

  it("21211 (invalid To) from the fake is permanent with the code", async () => {
    const error = await sendError(adapter(), sms("9812345678"));
    expect(error).toMatchObject({ status: 400, code: "21211" });
    expect(adapter().classify(error)).toEqual({
      kind: "permanent",
      reason: "SMS 21211: invalid 'To' phone number",
    });
  });

  it("a wrong auth token is 20003: permanent, check the account SID and auth token", async () => {
    const a = createSmsAdapter(
      { accountSid: SID, authToken: "wrong", from: "+15005550006" },
      { baseUrl: fake.url },
    );
    const error = await sendError(a, sms("+15551234567"));
    expect(error).toMatchObject({ status: 401, code: "20003" });
    const verdict = a.classify(error);
    expect(verdict.kind).toBe("permanent");
    expect(verdict.reason).toContain("check the account SID and auth token");
    expect(verdict.reason).toContain("20003");
  });

  it("429 / 20429 with Retry-After is rate-limited with the delay", async () => {
    fake.injectFault(twilioError(429, 20429, "Too Many Requests", { "Retry-After": "3" }));
    const error = await sendError(adapter(), sms("+15551234567"));
    expect(error).toMatchObject({ status: 429, code: "20429", retryAfterMs: 3000 });
    expect(adapter().classify(error)).toEqual({
      kind: "rate-limited",
      retryAfterMs: 3000,
      reason: "SMS 20429: too many requests",
    });
  });

  it("14107 is rate-limited even on a 400", async () => {
    fake.injectFault(twilioError(400, 14107, "SMS send rate limit exceeded"));
    const verdict = adapter().classify(await sendError(adapter(), sms("+15551234567")));
    expect(verdict).toMatchObject({
      kind: "rate-limited",
      reason: "SMS 14107: SMS send rate limit exceeded",
    });
  });

  it.each([
    [21614, "SMS 21614: the 'To' number is not a mobile number"],
    [
      21408,
      "SMS 21408: sending to this country or region is not enabled on the account (geo permissions)",
    ],
    [21612, "SMS 21612: the 'To' number cannot be reached from this sender"],
    [
      30004,
      "SMS 30004: the message was blocked (the recipient may block messages from this sender)",
    ],
    [30005, "SMS 30005: unknown destination: the number may not exist"],
    [30006, "SMS 30006: a landline or unreachable carrier"],
    [99999, "SMS 99999: Something new"],
  ])("%i on a 400 is permanent with a readable reason", async (code, reason) => {
    fake.injectFault(twilioError(400, code, "Something new"));
    const error = await sendError(adapter(), sms("+15551234567"));
    expect(error).toMatchObject({ status: 400, code: String(code) });
    expect(adapter().classify(error)).toEqual({ kind: "permanent", reason });
  });

  it("5xx, a connection reset and a timeout are transient", async () => {
    fake.injectFault(twilioError(503, 20500, "Service unavailable", { "Retry-After": "2" }));
    const unavailable = await sendError(adapter(), sms("+15551234567"));
    expect(adapter().classify(unavailable)).toMatchObject({
      kind: "transient",
      retryAfterMs: 2000,
    });

    fake.injectFault({ kind: "reset" });
    const reset = await sendError(adapter(), sms("+15551234567"));
    expect(reset.status).toBeUndefined();
    expect(adapter().classify(reset).kind).toBe("transient");

    fake.injectFault({ kind: "hang" });
    const slow = createSmsAdapter(
      { accountSid: SID, authToken: TOKEN, from: "+15005550006" },
      { baseUrl: fake.url, timeoutMs: 200 },
    );
    const timeout = await sendError(slow, sms("+15551234567"));
    expect(timeout.code).toBe("timeout");
    expect(slow.classify(timeout).kind).toBe("transient");
    expect(fake.sent).toHaveLength(0);
  });

  it("a 2xx without a sid is permanent (never resend a maybe-sent message)", async () => {
    fake.injectFault({ kind: "status", status: 201, json: { status: "queued" } });
    const error = await sendError(adapter(), sms("+15551234567"));
    expect(adapter().classify(error).kind).toBe("permanent");
  });

  it("anything that is not a ProviderError is transient", () => {
    expect(classifySmsError(new TypeError("boom"))).toEqual({
      kind: "transient",
      reason: "SMS: boom",
    });
  });
});

describe("SMS adapter: webhooks", () => {
  function raw(body: string, headers: Record<string, string>, url = HOOK): RawWebhook {
    return { method: "POST", url, headers, body: Buffer.from(body) };
  }

  it("implements Twilio's documented signature example", () => {
    const params: [string, string][] = [
      ["CallSid", "CA1234567890ABCDE"],
      ["Caller", "+12349013030"],
      ["Digits", "1234"],
      ["From", "+12349013030"],
      ["To", "+18005551212"],
    ];
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(twilioSignature("12345", url, params.slice().reverse())).toBe(
      "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    );
    expect(isValidTwilioSignature("12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", url, params)).toBe(true);
    expect(isValidTwilioSignature("12345", "0/KCTR6DLpKmkAf8muzZqo1nDgQ", url, params)).toBe(false);
    // The fake signs the same way.
    expect(signTwilio("12345", url, Object.fromEntries(params))).toBe(
      "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    );
  });

  it("turns signed status callbacks into status events", async () => {
    const a = adapter();
    const outcomes = [];
    for (const [status, errorCode] of [
      ["queued", undefined],
      ["sending", undefined],
      ["sent", undefined],
      ["delivered", undefined],
      ["undelivered", "30005"],
      ["failed", "30007"],
      ["failed", undefined],
    ] as const) {
      const { body, headers } = signedCallback(
        TOKEN,
        HOOK,
        statusCallbackParams({ messageSid: "SMabc", status, errorCode, accountSid: SID }),
      );
      // The server sees another URL (behind a proxy): the configured one is what counts.
      outcomes.push(await a.receiveWebhook(raw(body, headers, "http://10.0.0.5:3000/x")));
    }
    const events = outcomes.map((o) => {
      expect(o.kind).toBe("events");
      return o.kind === "events"
        ? o.events.map((e) => {
            expect(e.at).toBeInstanceOf(Date);
            return { ...e, at: undefined };
          })
        : [];
    });
    const status = (s: string, extra: Record<string, string> = {}) => ({
      type: "status",
      eventId: `SMabc:${s}`,
      providerMessageId: "SMabc",
      at: undefined,
      ...extra,
    });
    expect(events).toEqual([
      [],
      [],
      [status("sent", { status: "sent" })],
      [status("delivered", { status: "delivered" })],
      [
        status("undelivered", {
          status: "failed",
          reason: "SMS 30005: unknown destination: the number may not exist",
        }),
      ],
      [
        status("failed", {
          status: "failed",
          reason: "SMS 30007: filtered by the carrier as spam",
        }),
      ],
      [status("failed", { status: "failed", reason: "SMS failed" })],
    ]);
  });

  it("turns a signed inbound message into an inbound event", async () => {
    const params = inboundParams({
      from: "+919812345678",
      to: "+15005550006",
      body: "STOP please",
      messageSid: "SMin1",
      accountSid: SID,
    });
    const { body, headers } = signedCallback(TOKEN, HOOK, params);
    const outcome = await adapter().receiveWebhook(raw(body, headers));
    expect(outcome).toEqual({
      kind: "events",
      events: [
        {
          type: "inbound",
          eventId: "SMin1",
          from: "+919812345678",
          text: "STOP please",
          at: expect.any(Date) as Date,
          providerMessageId: "SMin1",
        },
      ],
    });
  });

  it("verifies against the received URL when no statusCallbackUrl is configured", async () => {
    const url = "https://engage.example/webhooks/sms/int_2?x=1";
    const { body, headers } = signedCallback(
      TOKEN,
      url,
      statusCallbackParams({ messageSid: "SM1", status: "delivered" }),
    );
    const a = adapter({}, null);
    expect((await a.receiveWebhook(raw(body, headers, url))).kind).toBe("events");
    expect(await a.receiveWebhook(raw(body, headers, `${url}&y=2`))).toMatchObject({
      kind: "rejected",
      status: 401,
    });
  });

  it("rejects missing, forged and tampered signatures (401) and malformed bodies (400)", async () => {
    const a = adapter();
    const params = statusCallbackParams({ messageSid: "SM1", status: "delivered" });
    const good = signedCallback(TOKEN, HOOK, params);

    const noSignature = { "content-type": "application/x-www-form-urlencoded" };
    expect(await a.receiveWebhook(raw(good.body, noSignature))).toMatchObject({
      kind: "rejected",
      status: 401,
    });

    const forged = signedCallback("someone-elses-token", HOOK, params);
    expect(await a.receiveWebhook(raw(forged.body, forged.headers))).toMatchObject({
      kind: "rejected",
      status: 401,
    });

    const otherUrl = signedCallback(TOKEN, "https://evil.example/hook", params);
    expect(await a.receiveWebhook(raw(otherUrl.body, otherUrl.headers))).toMatchObject({
      kind: "rejected",
      status: 401,
    });

    const tampered = good.body.replace("MessageStatus=delivered", "MessageStatus=failed");
    expect(tampered).not.toBe(good.body);
    expect(await a.receiveWebhook(raw(tampered, good.headers))).toMatchObject({
      kind: "rejected",
      status: 401,
    });
    const extra = `${good.body}&ErrorCode=30005`;
    expect(await a.receiveWebhook(raw(extra, good.headers))).toMatchObject({
      kind: "rejected",
      status: 401,
    });

    for (const body of ["", '{"MessageSid":"SM1"}', "MessageSid=%E0%A4%A", "=x&y"]) {
      expect(await a.receiveWebhook(raw(body, good.headers))).toMatchObject({
        kind: "rejected",
        status: 400,
      });
    }
    const json = { ...good.headers, "content-type": "application/json" };
    expect(await a.receiveWebhook(raw(good.body, json))).toMatchObject({
      kind: "rejected",
      status: 400,
    });

    // Signed but neither a status callback nor a message.
    const odd = signedCallback(TOKEN, HOOK, { CallSid: "CA1", CallStatus: "ringing" });
    expect(await a.receiveWebhook(raw(odd.body, odd.headers))).toMatchObject({
      kind: "rejected",
      status: 400,
    });
  });

  it("accepts the fake's own status callback end to end", async () => {
    const received: RawWebhook[] = [];
    const app = createFakeServer({
      name: "app",
      routes: [
        {
          method: "POST",
          path: "/hooks/sms",
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
      const a = adapter({}, `${url}/hooks/sms`);
      const { providerMessageId } = await a.send(sms("+15551234567"));
      expect(await fake.sendStatusCallback(providerMessageId, "undelivered", "30003")).toBe(200);
      const outcome = await a.receiveWebhook(received[0]!);
      expect(outcome).toMatchObject({
        kind: "events",
        events: [
          {
            type: "status",
            eventId: `${providerMessageId}:undelivered`,
            providerMessageId,
            status: "failed",
            reason: "SMS 30003: the phone is unreachable (switched off or out of coverage)",
          },
        ],
      });
    } finally {
      await app.stop();
    }
  });
});

describe("SMS adapter: testConnection", () => {
  it("reads the account", async () => {
    expect(await adapter().testConnection()).toEqual({ ok: true, detail: "Shop SMS (active)" });
    expect(fake.lastRequest("GET")?.path).toBe(`/2010-04-01/Accounts/${SID}.json`);
  });

  it("reports bad credentials, a suspended account and an unreachable provider", async () => {
    const wrong = createSmsAdapter(
      { accountSid: SID, authToken: "nope", from: "+1500" },
      { baseUrl: fake.url },
    );
    const bad = await wrong.testConnection();
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toBe(
      "SMS 20003: authentication failed: check the account SID and auth token",
    );

    const suspended = createSmsAdapter(
      { accountSid: "ACsuspended", authToken: "t", from: "+1500" },
      { baseUrl: fake.url },
    );
    expect(await suspended.testConnection()).toEqual({
      ok: false,
      check: "Account status",
      reason: 'SMS account "Old" is suspended',
    });

    fake.injectFault({ kind: "reset" });
    const down = await adapter().testConnection();
    expect(down.ok).toBe(false);
    expect(!down.ok && down.reason).toMatch(/^SMS: Could not reach 127\.0\.0\.1/);
  });
});
