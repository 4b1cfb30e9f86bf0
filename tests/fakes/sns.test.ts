import { createHash, verify, X509Certificate } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSnsFake,
  sesEvent,
  snsSigningKey,
  snsStringToSignForTests,
  type SnsFake,
} from "./sns";

describe("SNS fake", () => {
  let sns: SnsFake;

  beforeAll(async () => {
    sns = createSnsFake();
    await sns.start();
  });
  afterAll(async () => {
    await sns.stop();
  });

  it("serves a valid self-signed X.509 certificate for its signing key", async () => {
    expect(sns.certUrl).toMatch(/\/SimpleNotificationService-[0-9a-f]{32}\.pem$/);
    const response = await fetch(sns.certUrl);
    expect(response.status).toBe(200);
    const certificate = new X509Certificate(await response.text());
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(Date.parse(certificate.validFrom)).toBeLessThan(Date.now());
    expect(Date.parse(certificate.validTo)).toBeGreaterThan(Date.now());
    const fingerprint = (der: Buffer) => createHash("sha256").update(der).digest("hex");
    expect(fingerprint(certificate.publicKey.export({ type: "spki", format: "der" }))).toBe(
      fingerprint(snsSigningKey().publicKey.export({ type: "spki", format: "der" })),
    );
  });

  it("signs notifications with SHA1 (v1) and SHA256 (v2) over AWS's string to sign", () => {
    for (const [version, algorithm] of [
      ["1", "sha1"],
      ["2", "sha256"],
    ] as const) {
      const signed = sns.notification({
        message: { a: 1 },
        signatureVersion: version,
        subject: "S",
      });
      const fields = JSON.parse(signed.body) as Record<string, string>;
      expect(fields).toMatchObject({
        Type: "Notification",
        SignatureVersion: version,
        Subject: "S",
      });
      expect(fields.SigningCertURL).toBe(sns.certUrl);
      const stringToSign = snsStringToSignForTests(fields);
      expect(stringToSign).toBe(
        `Message\n{"a":1}\nMessageId\n${fields.MessageId}\nSubject\nS\nTimestamp\n${fields.Timestamp}\n` +
          `TopicArn\n${fields.TopicArn}\nType\nNotification\n`,
      );
      const signature = Buffer.from(fields.Signature!, "base64");
      expect(
        verify(algorithm, Buffer.from(stringToSign), snsSigningKey().publicKey, signature),
      ).toBe(true);
      expect(signed.headers).toMatchObject({
        "content-type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": fields.MessageId,
      });
    }
  });

  it("answers the SubscribeURL GET and records the confirmation", async () => {
    const signed = sns.subscriptionConfirmation({ token: "abc" });
    const fields = JSON.parse(signed.body) as Record<string, string>;
    expect(snsStringToSignForTests(fields)).toContain("SubscribeURL\n");
    const response = await fetch(fields.SubscribeURL!);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<SubscriptionArn>");
    expect(sns.confirmations.at(-1)).toMatchObject({ token: "abc", topicArn: fields.TopicArn });
    expect((await fetch(`${sns.url}/?Action=ConfirmSubscription`)).status).toBe(400);
  });

  it("deliver() POSTs the body and headers like SNS", async () => {
    const received: { headers: IncomingMessage["headers"]; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const signed = sns.notification({ message: "hello" });
    expect(await sns.deliver(url, signed)).toEqual({ status: 200, body: "ok" });
    await new Promise<void>((r) => server.close(() => r()));
    expect(received[0]!.body).toBe(signed.body);
    expect(received[0]!.headers["x-amz-sns-message-type"]).toBe("Notification");
  });
});

describe("sesEvent", () => {
  it("builds event-publishing records with eventType, or notificationType", () => {
    const bounce = sesEvent({ eventType: "Bounce", messageId: "m", recipient: "r@example.com" });
    expect(bounce).toMatchObject({
      eventType: "Bounce",
      mail: { messageId: "m", destination: ["r@example.com"] },
      bounce: {
        bounceType: "Permanent",
        bouncedRecipients: [
          { emailAddress: "r@example.com", diagnosticCode: expect.stringContaining("550") },
        ],
      },
    });
    const old = sesEvent({ eventType: "Complaint", messageId: "m", field: "notificationType" });
    expect(old).toHaveProperty("notificationType", "Complaint");
    expect(old).not.toHaveProperty("eventType");
    expect(sesEvent({ eventType: "Click", messageId: "m", link: "https://x" })).toMatchObject({
      click: { link: "https://x" },
    });
    expect(
      sesEvent({ eventType: "Bounce", messageId: "m", bounceType: "Transient" }),
    ).toMatchObject({
      bounce: { bounceType: "Transient", bounceSubType: "MailboxFull" },
    });
  });
});
