import { afterEach, describe, expect, it } from "vitest";
import { createSmsAdapter } from "~/channels/sms-twilio/adapter.server";
import type { RawWebhook } from "~/channels/types";
import { createFakeServer } from "./base";
import { createSmsFake, FAKE_SMS_DEMO_ACCOUNT, RateMeter, type SmsFake } from "./sms";

const SID = "AC22222222222222222222222222222222";
const TOKEN = "tok";
const running: SmsFake[] = [];

async function start(options?: Parameters<typeof createSmsFake>[0]): Promise<SmsFake> {
  const fake = createSmsFake(options);
  fake.addAccount({ sid: SID, token: TOKEN });
  running.push(fake);
  await fake.start();
  return fake;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

function post(fake: SmsFake, params: Record<string, string>, token = TOKEN) {
  return fetch(`${fake.url}/2010-04-01/Accounts/${SID}/Messages.json`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${SID}:${token}`).toString("base64")}` },
    body: new URLSearchParams(params),
  });
}

describe("RateMeter", () => {
  it("tracks the busiest sliding window, not calendar seconds", () => {
    const meter = new RateMeter(1000);
    // 3 events late in one second and 3 early in the next: 6 within 1,000 ms.
    for (const t of [900, 950, 990, 1010, 1050, 1100]) meter.record(t);
    expect(meter.max).toBe(6);
    expect(meter.current(1100)).toBe(6);
    expect(meter.current(1950)).toBe(4); // 900 and 950 left the window (t <= now - 1000)
    expect(meter.msUntilFree(1950)).toBe(40);
    meter.record(3000);
    expect(meter.current(3000)).toBe(1);
    expect(meter.max).toBe(6);
  });

  it("stays O(1) amortised over many events", () => {
    const meter = new RateMeter(1000);
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) meter.record(i); // one per ms
    expect(meter.max).toBe(1000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("sms fake", () => {
  it("answers Twilio's validation errors with their codes", async () => {
    const fake = await start();
    const cases: [Record<string, string>, number, number][] = [
      [{ From: "+15005550006", Body: "hi" }, 400, 21604],
      [{ To: "+15551234567", Body: "hi" }, 400, 21603],
      [{ To: "+15551234567", From: "+15005550006" }, 400, 21602],
      [{ To: "5551234567", From: "+15005550006", Body: "hi" }, 400, 21211],
      [{ To: "+15551234567", From: "+15005550006", Body: "x".repeat(1601) }, 400, 21617],
    ];
    for (const [params, status, code] of cases) {
      const res = await post(fake, params);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({
        code,
        status,
        more_info: `https://www.twilio.com/docs/errors/${code}`,
      });
    }
    const unauthorized = await post(fake, { To: "+15551234567", From: "+1500", Body: "hi" }, "x");
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ code: 20003, message: "Authenticate" });
    expect(fake.sentCount).toBe(0);
  });

  it("answers 201 with a Message resource and records the send", async () => {
    const fake = await start();
    const res = await post(fake, { To: "+15551234567", MessagingServiceSid: "MG1", Body: "hi" });
    expect(res.status).toBe(201);
    const message = (await res.json()) as Record<string, unknown>;
    expect(message).toMatchObject({
      account_sid: SID,
      to: "+15551234567",
      from: null,
      messaging_service_sid: "MG1",
      body: "hi",
      status: "accepted",
      direction: "outbound-api",
      error_code: null,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.date_created).toMatch(/\+0000$/);
    expect(fake.sent[0]).toMatchObject({ sid: message.sid, to: "+15551234567", body: "hi" });
    expect(fake.sentCount).toBe(1);
  });

  it("limits each account to ratePerSecond with 429 / 20429 and meters accepted sends", async () => {
    const fake = await start({ ratePerSecond: 3 });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(fake, { To: "+15551234567", From: "+15005550006", Body: `m${i}` });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toBe("1");
        expect(await res.json()).toMatchObject({ code: 20429 });
      }
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(fake.maxRatePerSecond(SID)).toBe(3);
    expect(fake.maxRatePerSecond("ACother")).toBe(0);
  });

  it("with record: false counts but keeps no logs", async () => {
    const fake = await start({ record: false });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(fake, { To: "+15551234567", From: "+15005550006", Body: `m${i}` }).then((r) =>
          r.arrayBuffer(),
        ),
      ),
    );
    expect(fake.sentCount).toBe(20);
    expect(fake.sent).toHaveLength(0);
    expect(fake.requests.length).toBeLessThanOrEqual(1);
    expect(fake.maxRatePerSecond(SID)).toBe(20);
  });

  it("plays status callbacks by itself with autoCallbacks (sent, then delivered / undelivered)", async () => {
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
      const fake = createSmsFake({
        accounts: [FAKE_SMS_DEMO_ACCOUNT],
        autoCallbacks: { delayMs: 5 },
      });
      running.push(fake);
      await fake.start();
      fake.undeliverable("+15550000002", "30006");
      const adapter = createSmsAdapter(
        {
          accountSid: FAKE_SMS_DEMO_ACCOUNT.sid,
          authToken: FAKE_SMS_DEMO_ACCOUNT.token,
          from: "+1500",
        },
        { baseUrl: fake.url, statusCallbackUrl: `${url}/hooks/sms` },
      );
      const ok = await adapter.send({
        id: "1",
        workspaceId: "w",
        to: "+15550000001",
        content: { channel: "sms", text: "hi" },
      });
      const bad = await adapter.send({
        id: "2",
        workspaceId: "w",
        to: "+15550000002",
        content: { channel: "sms", text: "hi" },
      });
      await expect.poll(() => received.length).toBe(4);
      const events = [];
      for (const request of received) {
        const outcome = await adapter.receiveWebhook(request);
        if (outcome.kind !== "events") throw new Error(JSON.stringify(outcome));
        events.push(
          ...outcome.events.map((e) =>
            e.type === "status" ? [e.providerMessageId, e.status, e.reason] : [],
          ),
        );
      }
      expect(events).toEqual(
        expect.arrayContaining([
          [ok.providerMessageId, "sent", undefined],
          [ok.providerMessageId, "delivered", undefined],
          [bad.providerMessageId, "sent", undefined],
          [bad.providerMessageId, "failed", "SMS 30006: a landline or unreachable carrier"],
        ]),
      );
    } finally {
      await app.stop();
    }
  });
});
