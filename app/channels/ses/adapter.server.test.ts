import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSesFake, sesFault, sesSentEmails, type SesFake } from "../../../tests/fakes/ses";
import {
  createSnsFake,
  sesEvent,
  type SignedSnsMessage,
  type SnsFake,
} from "../../../tests/fakes/sns";
import type { ChannelEvent, OutgoingMessage, RawWebhook, WebhookOutcome } from "../types";
import { createSesAdapter, sesTagValue, type SesAdapter, type SesConfig } from "./adapter.server";
import { clearSnsCertificateCache } from "./sns.server";

const CONFIG: SesConfig = {
  region: "ap-south-1",
  accessKeyId: "AKIDMARKETING",
  secretAccessKey: "marketing-secret",
  configurationSet: "engage-events",
  fromIdentity: "Shop <news@shop.example>",
};

const UNSUBSCRIBE =
  "<https://engage.test/u/abc123>, <mailto:unsubscribe@engage.test?subject=abc123>";

function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: "msg_01J0ABCDEF",
    workspaceId: "ws_42",
    to: "asha@example.com",
    content: {
      channel: "email",
      subject: "Diwali sale",
      text: "Everything 20% off.",
      html: "<p>Everything <b>20%</b> off.</p>",
    },
    headers: {
      "List-Unsubscribe": UNSUBSCRIBE,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    ...overrides,
  };
}

/** Header value from raw MIME, unfolded (CRLF + whitespace removed per RFC 5322). */
function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r\n\r\n/, 1)[0]!.replace(/\r\n(?=[ \t])/g, "");
  const line = head.split("\r\n").find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

async function sendError(adapter: SesAdapter): Promise<unknown> {
  try {
    await adapter.send(message());
  } catch (error) {
    return error;
  }
  throw new Error("send did not fail");
}

describe("SES adapter: send through the real SDK", () => {
  let ses: SesFake;
  let adapter: SesAdapter;

  beforeAll(async () => {
    ses = createSesFake();
    const { url } = await ses.start();
    adapter = createSesAdapter(CONFIG, { endpoint: url });
  });
  afterAll(async () => {
    adapter.close();
    await ses.stop();
  });
  beforeEach(() => {
    ses.clearFaults();
    ses.clearRequests();
  });

  it("sends raw MIME with the unsubscribe headers unchanged, tags and configuration set", async () => {
    const before = sesSentEmails(ses).length;
    const { providerMessageId } = await adapter.send(message());

    const sent = sesSentEmails(ses).slice(before);
    expect(sent).toHaveLength(1);
    const email = sent[0]!;
    expect(providerMessageId).toBe(email.messageId);
    expect(email.accessKeyId).toBe("AKIDMARKETING");
    expect(email.region).toBe("ap-south-1");
    expect(email.destination.to).toEqual(["asha@example.com"]);
    expect(email.configurationSetName).toBe("engage-events");
    expect(email.emailTags).toEqual([
      { name: "workspace", value: "ws_42" },
      { name: "message", value: "msg_01J0ABCDEF" },
    ]);
    const raw = email.raw!;
    expect(header(raw, "From")).toBe("Shop <news@shop.example>");
    expect(header(raw, "To")).toBe("asha@example.com");
    expect(header(raw, "Subject")).toBe("Diwali sale");
    expect(header(raw, "List-Unsubscribe")).toBe(UNSUBSCRIBE);
    expect(header(raw, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    expect(header(raw, "Content-Type")).toMatch(/^multipart\/alternative/);
    expect(raw).toContain("Everything 20% off.");
    expect(raw).toMatch(/Content-Type: text\/html/);
    // One request: the engine, not the SDK, retries.
    expect(ses.requests).toHaveLength(1);
  });

  it("uses content.from and replyTo when given; sanitises ids into SES tag values", async () => {
    const before = sesSentEmails(ses).length;
    await adapter.send(
      message({
        id: "msg:01/ü",
        workspaceId: "ws 42",
        content: {
          channel: "email",
          from: "Promo <promo@shop.example>",
          replyTo: "help@shop.example",
          subject: "Hi",
          text: "t",
          html: "<p>h</p>",
        },
      }),
    );
    const email = sesSentEmails(ses)[before]!;
    expect(header(email.raw!, "From")).toBe("Promo <promo@shop.example>");
    expect(header(email.raw!, "Reply-To")).toBe("help@shop.example");
    expect(email.emailTags).toEqual([
      { name: "workspace", value: "ws_42" },
      { name: "message", value: "msg_01__" },
    ]);
    expect(sesTagValue("a.b@c-d_e")).toBe("a.b@c-d_e");
    expect(sesTagValue("x".repeat(300))).toHaveLength(256);
  });

  it("omits ConfigurationSetName when none is configured", async () => {
    const plain = createSesAdapter(
      { ...CONFIG, configurationSet: undefined },
      { endpoint: ses.url },
    );
    await plain.send(message());
    plain.close();
    const body = ses.lastRequest("POST", "/v2/email/outbound-emails")!.json as Record<
      string,
      unknown
    >;
    expect(body).not.toHaveProperty("ConfigurationSetName");
    expect(sesSentEmails(ses).at(-1)!.configurationSetName).toBeUndefined();
  });

  it("refuses header injection and bad recipients before calling SES (permanent)", async () => {
    for (const bad of [
      message({ headers: { "List-Unsubscribe": "<https://x>\r\nBcc: victim@example.com" } }),
      message({ headers: { Bcc: "victim@example.com" } }),
      message({ to: "a@example.com, b@example.com" }),
    ]) {
      const error = await adapter.send(bad).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).not.toBeNull();
      expect(adapter.classify(error)).toMatchObject({ kind: "permanent" });
    }
    expect(ses.requests).toHaveLength(0);
  });

  it("429 TooManyRequestsException is rate-limited, after exactly one request", async () => {
    ses.injectFault(sesFault(429, "TooManyRequestsException", "Maximum sending rate exceeded."));
    const verdict = adapter.classify(await sendError(adapter));
    expect(verdict.kind).toBe("rate-limited");
    expect(verdict.reason).toContain("TooManyRequestsException");
    expect(ses.requests).toHaveLength(1);
  });

  it("MessageRejected (400) is permanent and does not suppress", async () => {
    ses.injectFault(sesFault(400, "MessageRejected", "Email address is not verified."));
    const verdict = adapter.classify(await sendError(adapter));
    expect(verdict).toEqual({
      kind: "permanent",
      reason: "SES MessageRejected: Email address is not verified.",
    });
  });

  it("AccountSuspendedException is permanent with what the operator must do", async () => {
    ses.injectFault(sesFault(400, "AccountSuspendedException", "Account suspended"));
    const verdict = adapter.classify(await sendError(adapter));
    expect(verdict.kind).toBe("permanent");
    expect(verdict.reason).toMatch(/AccountSuspendedException.*suspended.*AWS Support/);
  });

  it("SendingPaused, NotFound (configuration set) and bad credentials name the fix", async () => {
    ses.injectFault(sesFault(400, "SendingPausedException", "Sending paused"));
    expect(adapter.classify(await sendError(adapter)).reason).toMatch(/resume/);
    ses.injectFault(sesFault(404, "NotFoundException", "Configuration set does not exist"));
    expect(adapter.classify(await sendError(adapter)).reason).toContain(
      'configuration set "engage-events" does not exist in ap-south-1',
    );
    ses.injectFault(sesFault(403, "UnrecognizedClientException", "The security token is invalid"));
    const creds = adapter.classify(await sendError(adapter));
    expect(creds.kind).toBe("permanent");
    expect(creds.reason).toMatch(/access key id and secret/);
  });

  it("500 is transient", async () => {
    ses.injectFault(sesFault(500, "InternalFailure", "Internal error"));
    const verdict = adapter.classify(await sendError(adapter));
    expect(verdict.kind).toBe("transient");
    expect(ses.requests).toHaveLength(1);
  });

  it("a connection reset is transient", async () => {
    ses.injectFault({ kind: "reset" });
    const error = await sendError(adapter);
    expect(adapter.classify(error)).toMatchObject({ kind: "transient" });
  });

  it("an unreachable endpoint is transient", async () => {
    const listener: Server = createServer();
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const port = (listener.address() as { port: number }).port;
    await new Promise<void>((r) => listener.close(() => r()));
    const down = createSesAdapter(CONFIG, { endpoint: `http://127.0.0.1:${port}` });
    const verdict = down.classify(await sendError(down));
    down.close();
    expect(verdict.kind).toBe("transient");
  });

  it("testConnection reads the account: enabled, production, MaxSendRate", async () => {
    ses.account.maxSendRate = 37;
    ses.account.productionAccessEnabled = true;
    const check = await adapter.testConnection();
    expect(check).toMatchObject({ ok: true, ratePerSecond: 37 });
    expect(check.ok && check.detail).toMatch(/sending enabled, production access.*50000.*37\/s/);
    expect(ses.lastRequest("GET", "/v2/email/account")).toBeDefined();
  });

  it("testConnection reports the sandbox, a disabled account and refused keys", async () => {
    ses.account.productionAccessEnabled = false;
    const sandbox = await adapter.testConnection();
    expect(sandbox.ok && sandbox.detail).toMatch(/sandbox/);
    ses.account.productionAccessEnabled = true;

    ses.account.sendingEnabled = false;
    const disabled = await adapter.testConnection();
    expect(disabled).toMatchObject({ ok: false, check: "Sending enabled" });
    ses.account.sendingEnabled = true;

    ses.injectFault(sesFault(403, "InvalidSignatureException", "Signature mismatch"));
    const refused = await adapter.testConnection();
    expect(refused).toMatchObject({ ok: false, check: "Access key, secret and region" });
    expect(!refused.ok && refused.reason).toMatch(/access key/);
  });
});

describe("SES adapter: the fake's own sending rate", () => {
  it("over maxSendRate is rate-limited with 'Maximum sending rate exceeded'", async () => {
    const ses = createSesFake({ maxSendRate: 2 });
    const { url } = await ses.start();
    const adapter = createSesAdapter(CONFIG, { endpoint: url });
    try {
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => adapter.send(message())));
      const failed = results.filter((r) => r.status === "rejected");
      expect(failed.length).toBeGreaterThanOrEqual(2);
      const verdict = adapter.classify((failed[0] as PromiseRejectedResult).reason);
      expect(verdict.kind).toBe("rate-limited");
      expect(verdict.reason).toContain("Maximum sending rate exceeded");
      expect(ses.maxRatePerSecond("AKIDMARKETING")).toBe(2);
    } finally {
      adapter.close();
      await ses.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Webhooks: SNS.

function webhook(signed: { body: string; headers: Record<string, string> }): RawWebhook {
  return {
    method: "POST",
    url: "https://engage.test/webhooks/email/int_1",
    headers: signed.headers,
    body: Buffer.from(signed.body),
  };
}

function events(outcome: WebhookOutcome): ChannelEvent[] {
  if (outcome.kind !== "events") throw new Error(`expected events, got ${JSON.stringify(outcome)}`);
  return outcome.events;
}

function resigned(signed: SignedSnsMessage, change: Record<string, string>): SignedSnsMessage {
  const fields = { ...signed.fields, ...change };
  return { ...signed, fields, body: JSON.stringify(fields) };
}

describe("SES adapter: SNS webhooks", () => {
  let sns: SnsFake;
  let adapter: SesAdapter;
  const AT = "2026-11-20T10:00:00.000Z";

  beforeAll(async () => {
    sns = createSnsFake();
    const { url } = await sns.start();
    adapter = createSesAdapter(CONFIG, { endpoint: "http://127.0.0.1:9", snsCertOrigins: [url] });
  });
  afterAll(async () => {
    adapter.close();
    await sns.stop();
  });
  beforeEach(() => {
    clearSnsCertificateCache();
    sns.clearRequests();
  });
  afterEach(() => sns.clearFaults());

  const delivery = () => sesEvent({ eventType: "Delivery", messageId: "ses-msg-1", timestamp: AT });

  it("accepts SignatureVersion 1 and 2, fetching the certificate once", async () => {
    const v1 = await adapter.receiveWebhook(
      webhook(sns.notification({ message: delivery(), signatureVersion: "1", messageId: "sns-1" })),
    );
    const v2 = await adapter.receiveWebhook(
      webhook(sns.notification({ message: delivery(), signatureVersion: "2", messageId: "sns-2" })),
    );
    expect(events(v1)).toEqual([
      {
        type: "status",
        eventId: "sns-1",
        providerMessageId: "ses-msg-1",
        status: "delivered",
        at: new Date(AT),
      },
    ]);
    expect(events(v2)[0]).toMatchObject({ eventId: "sns-2", status: "delivered" });
    expect(sns.requests.filter((r) => r.path.endsWith(".pem"))).toHaveLength(1);
  });

  it("accepts a notification with a Subject (it is part of the signed string)", async () => {
    const signed = sns.notification({ message: delivery(), subject: "Amazon SES Email Event" });
    expect(events(await adapter.receiveWebhook(webhook(signed)))).toHaveLength(1);
    const tampered = resigned(signed, { Subject: "Other" });
    expect(await adapter.receiveWebhook(webhook(tampered))).toMatchObject({ status: 401 });
  });

  async function expectRejected(signed: { body: string; headers: Record<string, string> }) {
    const outcome = await adapter.receiveWebhook(webhook(signed));
    expect(outcome).toMatchObject({ kind: "rejected", status: 401 });
    return outcome;
  }

  it("rejects a forged signature (another key) with 401", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await expectRejected(sns.notification({ message: delivery(), privateKey }));
  });

  it("rejects a tampered Message with 401", async () => {
    const signed = sns.notification({ message: delivery() });
    const bounce = sesEvent({ eventType: "Complaint", messageId: "ses-msg-1" });
    await expectRejected(resigned(signed, { Message: JSON.stringify(bounce) }));
  });

  it("rejects a certificate URL on a host that is not SNS, without fetching it", async () => {
    await expectRejected(
      sns.notification({
        message: delivery(),
        certUrl: "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem",
      }),
    );
    await expectRejected(
      sns.notification({
        message: delivery(),
        certUrl: "https://evil.example/SimpleNotificationService-x.pem",
      }),
    );
    // Same loopback host, another port: only the exact allowed origin is trusted.
    const other = new URL(sns.certUrl);
    other.port = String(Number(other.port) + 1);
    await expectRejected(sns.notification({ message: delivery(), certUrl: other.toString() }));
    expect(sns.requests).toHaveLength(0);
  });

  it("never fetches a certificate or SubscribeURL from a reachable origin that is not allowed", async () => {
    const rogue = createSnsFake(); // Same key and valid certificate, but not on the allow-list.
    await rogue.start();
    try {
      await expectRejected(rogue.notification({ message: delivery() }));
      const confirm = sns.subscriptionConfirmation({
        subscribeUrl: `${rogue.url}/?Action=ConfirmSubscription&TopicArn=t&Token=x`,
      });
      expect(await adapter.receiveWebhook(webhook(confirm))).toMatchObject({ status: 401 });
      expect(rogue.requests).toHaveLength(0);
      expect(rogue.confirmations).toHaveLength(0);
    } finally {
      await rogue.stop();
    }
  });

  it("rejects an http (not https) certificate URL on a real SNS host", async () => {
    const outcome = await expectRejected(
      sns.notification({
        message: delivery(),
        certUrl: "http://sns.ap-south-1.amazonaws.com/SimpleNotificationService-abc.pem",
      }),
    );
    expect(outcome).toMatchObject({ reason: expect.stringContaining("https") });
  });

  it("rejects a stale Timestamp (over an hour old) as a replay", async () => {
    const old = new Date(Date.now() - 61 * 60_000).toISOString();
    const outcome = await expectRejected(sns.notification({ message: delivery(), timestamp: old }));
    expect(outcome).toMatchObject({ reason: expect.stringMatching(/too old/) });
  });

  it("rejects when the certificate cannot be fetched", async () => {
    sns.injectFault({ kind: "status", status: 404 });
    await expectRejected(sns.notification({ message: delivery() }));
  });

  it("answers 400 to bodies that are not SNS messages", async () => {
    for (const body of ["not json", "[]", JSON.stringify({ Type: "Notification" })]) {
      const outcome = await adapter.receiveWebhook({
        method: "POST",
        url: "https://engage.test/webhooks/email/int_1",
        headers: { "content-type": "text/plain" },
        body: Buffer.from(body),
      });
      expect(outcome).toMatchObject({ kind: "rejected", status: 400 });
    }
  });

  it("answers 400 when the message-type header contradicts the signed Type", async () => {
    const signed = sns.notification({ message: delivery() });
    const headers = { ...signed.headers, "x-amz-sns-message-type": "SubscriptionConfirmation" };
    expect(await adapter.receiveWebhook(webhook({ ...signed, headers }))).toMatchObject({
      kind: "rejected",
      status: 400,
    });
  });

  it("SubscriptionConfirmation: verifies, visits the SubscribeURL, answers 200", async () => {
    const signed = sns.subscriptionConfirmation({ token: "tok-123" });
    const outcome = await adapter.receiveWebhook(webhook(signed));
    expect(outcome).toEqual({
      kind: "handshake",
      status: 200,
      body: "subscribed",
      contentType: "text/plain",
    });
    expect(sns.confirmations.map((c) => c.token)).toContain("tok-123");
  });

  it("SubscriptionConfirmation with a forged signature or a foreign SubscribeURL is refused", async () => {
    const before = sns.confirmations.length;
    const forged = resigned(sns.subscriptionConfirmation({ token: "tok-forged" }), {
      Token: "tok-other",
    });
    await expectRejected(forged);
    const foreign = sns.subscriptionConfirmation({
      subscribeUrl: "https://evil.example/?Action=ConfirmSubscription&Token=x",
    });
    expect(await adapter.receiveWebhook(webhook(foreign))).toMatchObject({ status: 401 });
    expect(sns.confirmations.length).toBe(before);
  });

  it("UnsubscribeConfirmation is a 200 handshake and nothing else", async () => {
    const before = sns.confirmations.length;
    const outcome = await adapter.receiveWebhook(webhook(sns.unsubscribeConfirmation()));
    expect(outcome).toMatchObject({ kind: "handshake", status: 200 });
    expect(sns.confirmations.length).toBe(before);
  });

  it("only listed topics are accepted when snsTopicArns is set", async () => {
    const strict = createSesAdapter(CONFIG, {
      snsCertOrigins: [sns.url],
      snsTopicArns: ["arn:aws:sns:ap-south-1:123456789012:mine"],
    });
    const outcome = await strict.receiveWebhook(webhook(sns.notification({ message: delivery() })));
    strict.close();
    expect(outcome).toMatchObject({ kind: "rejected", status: 403 });
  });

  describe("event mapping", () => {
    async function map(event: Record<string, unknown>, messageId = "sns-m") {
      return events(
        await adapter.receiveWebhook(webhook(sns.notification({ message: event, messageId }))),
      );
    }

    it("Send → sent, Delivery → delivered, Open → opened, Click → clicked", async () => {
      const send = sesEvent({ eventType: "Send", messageId: "m1", timestamp: AT });
      expect(await map(send)).toEqual([
        {
          type: "status",
          eventId: "sns-m",
          providerMessageId: "m1",
          status: "sent",
          at: new Date(Date.parse(AT) - 60_000), // mail.timestamp
        },
      ]);
      for (const [eventType, status] of [
        ["Delivery", "delivered"],
        ["Open", "opened"],
        ["Click", "clicked"],
      ] as const) {
        expect(await map(sesEvent({ eventType, messageId: "m1", timestamp: AT }))).toEqual([
          { type: "status", eventId: "sns-m", providerMessageId: "m1", status, at: new Date(AT) },
        ]);
      }
    });

    it("permanent Bounce → bounced, permanent, with recipient and diagnostic", async () => {
      const event = sesEvent({
        eventType: "Bounce",
        messageId: "m2",
        recipient: "gone@example.com",
        timestamp: AT,
      });
      expect(await map(event)).toEqual([
        {
          type: "status",
          eventId: "sns-m",
          providerMessageId: "m2",
          status: "bounced",
          at: new Date(AT),
          permanent: true,
          reason: "Permanent/General: smtp; 550 5.1.1 user unknown",
          recipient: "gone@example.com",
        },
      ]);
    });

    it("transient Bounce is not permanent; several recipients give one event each", async () => {
      const event = sesEvent({
        eventType: "Bounce",
        messageId: "m3",
        bounceType: "Transient",
        bounceSubType: "MailboxFull",
        bouncedRecipients: [
          { emailAddress: "a@example.com", diagnosticCode: "smtp; 452 4.2.2 full" },
          { emailAddress: "b@example.com" },
        ],
        timestamp: AT,
      });
      expect(await map(event, "sns-b")).toEqual([
        {
          type: "status",
          eventId: "sns-b:0",
          providerMessageId: "m3",
          status: "bounced",
          at: new Date(AT),
          permanent: false,
          reason: "Transient/MailboxFull: smtp; 452 4.2.2 full",
          recipient: "a@example.com",
        },
        {
          type: "status",
          eventId: "sns-b:1",
          providerMessageId: "m3",
          status: "bounced",
          at: new Date(AT),
          permanent: false,
          reason: "Transient/MailboxFull",
          recipient: "b@example.com",
        },
      ]);
    });

    it("Complaint → complained per recipient", async () => {
      const event = sesEvent({
        eventType: "Complaint",
        messageId: "m4",
        complainedRecipients: [
          { emailAddress: "a@example.com" },
          { emailAddress: "b@example.com" },
        ],
        timestamp: AT,
      });
      expect(await map(event, "sns-c")).toEqual([
        {
          type: "status",
          eventId: "sns-c:0",
          providerMessageId: "m4",
          status: "complained",
          at: new Date(AT),
          reason: "Complaint: abuse",
          recipient: "a@example.com",
        },
        {
          type: "status",
          eventId: "sns-c:1",
          providerMessageId: "m4",
          status: "complained",
          at: new Date(AT),
          reason: "Complaint: abuse",
          recipient: "b@example.com",
        },
      ]);
    });

    it("Reject and Rendering Failure → failed; DeliveryDelay → nothing", async () => {
      const reject = await map(sesEvent({ eventType: "Reject", messageId: "m5", timestamp: AT }));
      expect(reject).toEqual([
        {
          type: "status",
          eventId: "sns-m",
          providerMessageId: "m5",
          status: "failed",
          at: new Date(Date.parse(AT) - 60_000),
          reason: "SES rejected the message: Bad content",
        },
      ]);
      const rendering = await map(sesEvent({ eventType: "Rendering Failure", messageId: "m6" }));
      expect(rendering).toMatchObject([{ status: "failed", providerMessageId: "m6" }]);
      expect(rendering[0]!.type === "status" && rendering[0]!.reason).toContain("Attribute 'name'");
      expect(await map(sesEvent({ eventType: "DeliveryDelay", messageId: "m7" }))).toEqual([]);
    });

    it("reads identity notifications (notificationType) the same way", async () => {
      const event = sesEvent({
        eventType: "Bounce",
        field: "notificationType",
        messageId: "m8",
        recipient: "old@example.com",
        timestamp: AT,
      });
      expect(event).not.toHaveProperty("eventType");
      expect(await map(event)).toMatchObject([
        {
          status: "bounced",
          permanent: true,
          recipient: "old@example.com",
          providerMessageId: "m8",
        },
      ]);
    });

    it("a verified notification that is not an SES event gives no events", async () => {
      expect(await map({ hello: "world" })).toEqual([]);
      const text = sns.notification({ message: "Successfully validated SNS topic" });
      expect(events(await adapter.receiveWebhook(webhook(text)))).toEqual([]);
    });
  });
});
