import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSnsFake, snsSigningKey, type SnsFake } from "../../../tests/fakes/sns";
import {
  clearSnsCertificateCache,
  isAllowedSnsUrl,
  parseSnsMessage,
  snsStringToSign,
  verifySnsMessage,
  verifySnsSignature,
  type SnsMessage,
} from "./sns.server";

describe("snsStringToSign", () => {
  const base = {
    MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    TopicArn: "arn:aws:sns:us-west-2:123456789012:MyTopic",
    Message: "line one\nline two",
    Timestamp: "2012-05-02T00:54:06.655Z",
    SignatureVersion: "1" as const,
    Signature: "x",
    SigningCertURL:
      "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
  };

  it("Notification: Message, MessageId, Subject, Timestamp, TopicArn, Type", () => {
    const message: SnsMessage = { ...base, Type: "Notification", Subject: "My First Message" };
    expect(snsStringToSign(message)).toBe(
      "Message\nline one\nline two\n" +
        "MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n" +
        "Subject\nMy First Message\n" +
        "Timestamp\n2012-05-02T00:54:06.655Z\n" +
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n" +
        "Type\nNotification\n",
    );
    const { Subject: _s, ...noSubject } = message;
    expect(snsStringToSign(noSubject)).not.toContain("Subject");
  });

  it("SubscriptionConfirmation: adds SubscribeURL and Token, never Subject", () => {
    const message: SnsMessage = {
      ...base,
      Type: "SubscriptionConfirmation",
      SubscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=t",
      Token: "t",
      Subject: "ignored",
    };
    expect(snsStringToSign(message)).toBe(
      "Message\nline one\nline two\n" +
        "MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n" +
        "SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=t\n" +
        "Timestamp\n2012-05-02T00:54:06.655Z\n" +
        "Token\nt\n" +
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n" +
        "Type\nSubscriptionConfirmation\n",
    );
  });
});

describe("isAllowedSnsUrl", () => {
  it.each([
    ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", true],
    ["https://sns.ap-south-1.amazonaws.com/?Action=ConfirmSubscription&Token=x", true],
    ["https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem", true],
    ["http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", false],
    ["https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-a.pem", false],
    ["https://sns.us-east-1.amazonaws.com.evil.example/a.pem", false],
    ["https://evil.example/sns.us-east-1.amazonaws.com/a.pem", false],
    ["https://sns.us-east-1.amazonaws.com@evil.example/a.pem", false],
    ["https://user@sns.us-east-1.amazonaws.com/a.pem", false],
    ["https://s3.us-east-1.amazonaws.com/a.pem", false],
    ["https://snsXus-east-1.amazonaws.com/a.pem", false],
    ["not a url", false],
  ])("%s → %s", (url, allowed) => {
    expect(isAllowedSnsUrl(url)).toBe(allowed);
  });

  it("allows exactly the listed origins, nothing near them", () => {
    const origins = ["http://127.0.0.1:4105"];
    expect(isAllowedSnsUrl("http://127.0.0.1:4105/SimpleNotificationService-a.pem", origins)).toBe(
      true,
    );
    expect(isAllowedSnsUrl("http://127.0.0.1:4106/SimpleNotificationService-a.pem", origins)).toBe(
      false,
    );
    expect(isAllowedSnsUrl("https://127.0.0.1:4105/a.pem", origins)).toBe(false);
    expect(isAllowedSnsUrl("http://localhost:4105/a.pem", origins)).toBe(false);
    expect(isAllowedSnsUrl("http://127.0.0.1:4105/a.pem", ["garbage"])).toBe(false);
  });
});

describe("parseSnsMessage", () => {
  it("400s what is not an SNS message", () => {
    expect(parseSnsMessage("{")).toMatchObject({ ok: false, status: 400 });
    expect(parseSnsMessage("null")).toMatchObject({ ok: false, status: 400 });
    expect(parseSnsMessage(JSON.stringify({ Type: "Other" }))).toMatchObject({ status: 400 });
    expect(
      parseSnsMessage(JSON.stringify({ Type: "Notification", Message: "m", MessageId: 1 })),
    ).toMatchObject({ ok: false, status: 400, reason: expect.stringContaining("MessageId") });
  });

  it("treats Subject: null as no subject", () => {
    const parsed = parseSnsMessage(
      JSON.stringify({
        Type: "Notification",
        MessageId: "m",
        TopicArn: "t",
        Subject: null,
        Message: "x",
        Timestamp: "2026-01-01T00:00:00.000Z",
        SignatureVersion: "1",
        Signature: "s",
        SigningCertURL: "https://sns.us-east-1.amazonaws.com/a.pem",
      }),
    );
    expect(parsed.ok && "Subject" in parsed.message).toBe(false);
  });
});

describe("verifySnsMessage against the SNS fake", () => {
  let sns: SnsFake;

  beforeAll(async () => {
    sns = createSnsFake();
    await sns.start();
  });
  afterAll(async () => {
    await sns.stop();
  });
  beforeEach(() => {
    clearSnsCertificateCache();
    sns.clearRequests();
    sns.clearFaults();
  });

  const options = () => ({ allowedOrigins: [sns.url] });

  it("verifies v1 and v2, with the pure check agreeing", async () => {
    for (const signatureVersion of ["1", "2"] as const) {
      const signed = sns.notification({ message: { a: 1 }, signatureVersion });
      const result = await verifySnsMessage(signed.body, options());
      expect(result.ok).toBe(true);
      const message = JSON.parse(signed.body) as SnsMessage;
      expect(verifySnsSignature(message, snsSigningKey().certificatePem)).toBe(true);
      // The algorithm matters: a v1 signature is not a v2 signature.
      const swapped = {
        ...message,
        SignatureVersion: signatureVersion === "1" ? "2" : "1",
      } as const;
      expect(verifySnsSignature(swapped, snsSigningKey().certificatePem)).toBe(false);
    }
  });

  it("caches the certificate by URL and retries after a failed fetch", async () => {
    sns.injectFault({ kind: "status", status: 503 });
    const first = await verifySnsMessage(sns.notification({ message: {} }).body, options());
    expect(first).toMatchObject({ ok: false, status: 401 });
    for (let i = 0; i < 3; i++) {
      expect((await verifySnsMessage(sns.notification({ message: {} }).body, options())).ok).toBe(
        true,
      );
    }
    expect(sns.requests.filter((r) => r.path.endsWith(".pem"))).toHaveLength(2);
  });

  it("401s unsupported SignatureVersion, future timestamps and non-.pem cert URLs", async () => {
    const signed = sns.notification({ message: {} });
    const fields = JSON.parse(signed.body) as Record<string, string>;
    const v3 = JSON.stringify({ ...fields, SignatureVersion: "3" });
    expect(await verifySnsMessage(v3, options())).toMatchObject({ ok: false, status: 401 });
    const future = sns.notification({
      message: {},
      timestamp: new Date(Date.now() + 60 * 60_000).toISOString(),
    });
    expect(await verifySnsMessage(future.body, options())).toMatchObject({ status: 401 });
    const notPem = sns.notification({ message: {}, certUrl: `${sns.url}/cert.txt` });
    expect(await verifySnsMessage(notPem.body, options())).toMatchObject({ status: 401 });
    expect(sns.requests).toHaveLength(0);
  });

  it("without the allow-list the loopback fake is not trusted", async () => {
    const result = await verifySnsMessage(sns.notification({ message: {} }).body);
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(sns.requests).toHaveLength(0);
  });
});
