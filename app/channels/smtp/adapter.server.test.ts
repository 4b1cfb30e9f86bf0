import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSmtpFake, type SmtpFake } from "../../../tests/fakes/smtp";
import { ProviderError, type OutgoingMessage } from "../types";
import {
  classifySmtpError,
  createSmtpAdapter,
  type SmtpAdapter,
  type SmtpConfig,
} from "./adapter.server";

const UNSUBSCRIBE =
  "<https://engage.test/u/abc123>, <mailto:unsubscribe@engage.test?subject=abc123>";

function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: "msg_1",
    workspaceId: "ws_1",
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

async function sendError(adapter: SmtpAdapter, msg = message()): Promise<unknown> {
  try {
    await adapter.send(msg);
  } catch (error) {
    return error;
  }
  throw new Error("send did not fail");
}

describe("SMTP adapter with STARTTLS and AUTH", () => {
  let smtp: SmtpFake;
  let adapter: SmtpAdapter;
  let config: SmtpConfig;

  beforeAll(async () => {
    smtp = createSmtpFake({ users: { mailer: "s3cret" } });
    const { host, port } = await smtp.start();
    config = {
      host,
      port,
      tlsMode: "starttls",
      user: "mailer",
      password: "s3cret",
      fromIdentity: "Shop <news@shop.example>",
    };
    adapter = createSmtpAdapter(config, { timeoutMs: 5_000, allowSelfSigned: true });
  });
  afterAll(async () => {
    adapter.close();
    await smtp.stop();
  });
  afterEach(() => smtp.clearFaults());

  it("sends over TLS, authenticated, with the unsubscribe headers; id = Message-ID", async () => {
    const before = smtp.messages.length;
    const { providerMessageId } = await adapter.send(message());
    const received = smtp.messages.slice(before);
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe("mailer");
    expect(mail.mailFrom).toBe("news@shop.example");
    expect(mail.rcptTo).toEqual(["asha@example.com"]);
    expect(mail.headers.from).toBe("Shop <news@shop.example>");
    expect(mail.headers.to).toBe("asha@example.com");
    expect(mail.headers.subject).toBe("Diwali sale");
    expect(mail.headers["list-unsubscribe"]).toBe(UNSUBSCRIBE);
    expect(mail.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(mail.headers["content-type"]).toMatch(/^multipart\/alternative/);
    expect(mail.headers["message-id"]).toBe(`<${providerMessageId}>`);
    expect(providerMessageId).toMatch(/@shop\.example$/);
  });

  it("uses content.from as header and envelope sender", async () => {
    await adapter.send(
      message({
        content: {
          channel: "email",
          from: "Promo <promo@shop.example>",
          replyTo: "help@shop.example",
          subject: "s",
          text: "t",
          html: "<p>h</p>",
        },
      }),
    );
    const mail = smtp.messages.at(-1)!;
    expect(mail.mailFrom).toBe("promo@shop.example");
    expect(mail.headers.from).toBe("Promo <promo@shop.example>");
    expect(mail.headers["reply-to"]).toBe("help@shop.example");
  });

  it("550 on RCPT TO is permanent and suppresses as a bounce", async () => {
    smtp.failNextRecipient(
      550,
      "5.1.1 <asha@example.com>: Recipient address rejected: User unknown",
    );
    const error = await sendError(adapter);
    expect(error).toBeInstanceOf(ProviderError);
    expect(adapter.classify(error)).toEqual({
      kind: "permanent",
      reason: "SMTP 550: 5.1.1 <asha@example.com>: Recipient address rejected: User unknown",
      suppress: "bounce",
    });
    // The pooled connection recovers for the next message.
    await adapter.send(message());
  });

  it("552 on RCPT TO is permanent without suppression; 554 after DATA too", async () => {
    smtp.failNextRecipient(552, "5.2.2 Mailbox full");
    expect(adapter.classify(await sendError(adapter))).toEqual({
      kind: "permanent",
      reason: "SMTP 552: 5.2.2 Mailbox full",
    });
    smtp.failNextData(554, "5.7.1 Message rejected as spam");
    expect(adapter.classify(await sendError(adapter))).toEqual({
      kind: "permanent",
      reason: "SMTP 554: 5.7.1 Message rejected as spam",
    });
  });

  it("451 is transient; 451 'too many' and 421 are rate-limited", async () => {
    smtp.failNextRecipient(451, "4.3.0 Temporary lookup failure");
    expect(adapter.classify(await sendError(adapter))).toEqual({
      kind: "transient",
      reason: "SMTP 451: 4.3.0 Temporary lookup failure",
    });
    smtp.failNextRecipient(451, "4.7.1 Too many messages, slow down");
    expect(adapter.classify(await sendError(adapter))).toMatchObject({ kind: "rate-limited" });
    // 421 closes the channel; on a reused pooled connection nodemailer retries once on a fresh
    // one (maxRequeues: 1), so two of them make sure the failure reaches us either way.
    smtp.failNextRecipient(421, "4.7.0 Try again later", 2);
    expect(adapter.classify(await sendError(adapter))).toEqual({
      kind: "rate-limited",
      reason: "SMTP 421: 4.7.0 Try again later",
    });
  });

  it("a wrong password is permanent and tells what to check", async () => {
    const bad = createSmtpAdapter({ ...config, password: "wrong" }, { allowSelfSigned: true });
    const verdict = bad.classify(await sendError(bad));
    bad.close();
    expect(verdict.kind).toBe("permanent");
    expect(verdict.reason).toMatch(/535.*check the SMTP user and password/);
  });

  it("an injected AUTH failure is permanent too", async () => {
    smtp.failNextAuth();
    const fresh = createSmtpAdapter(config, { allowSelfSigned: true });
    const verdict = fresh.classify(await sendError(fresh));
    fresh.close();
    expect(verdict).toMatchObject({ kind: "permanent" });
    expect(verdict.reason).toContain("check the SMTP user and password");
  });

  it("a self-signed certificate is refused unless allowed (TLS mode error)", async () => {
    const strict = createSmtpAdapter(config, { timeoutMs: 5_000 });
    const verdict = strict.classify(await sendError(strict));
    strict.close();
    expect(verdict.kind).toBe("permanent");
    expect(verdict.reason).toMatch(/TLS/);
  });

  it("testConnection verifies login", async () => {
    expect(await adapter.testConnection()).toEqual({
      ok: true,
      detail: `Connected to 127.0.0.1:${smtp.port} (STARTTLS), logged in as mailer`,
    });
    const bad = createSmtpAdapter({ ...config, password: "wrong" }, { allowSelfSigned: true });
    const check = await bad.testConnection();
    bad.close();
    expect(check).toMatchObject({ ok: false, reason: expect.stringContaining("password") });
  });

  it("refuses header injection before talking to the server", async () => {
    const before = smtp.messages.length;
    const error = await sendError(
      adapter,
      message({ headers: { "List-Unsubscribe": "<https://x>\r\nBcc: victim@example.com" } }),
    );
    expect(adapter.classify(error)).toMatchObject({ kind: "permanent" });
    expect(smtp.messages.length).toBe(before);
  });

  it("receives no webhooks", async () => {
    expect(
      await adapter.receiveWebhook({
        method: "POST",
        url: "https://x",
        headers: {},
        body: Buffer.alloc(0),
      }),
    ).toEqual({ kind: "rejected", status: 400, reason: "SMTP integrations receive no webhooks" });
  });
});

describe("SMTP adapter: implicit TLS, plain, unreachable", () => {
  it("tlsMode tls speaks TLS from the first byte", async () => {
    const smtp = createSmtpFake({ secure: true });
    const { host, port } = await smtp.start();
    const adapter = createSmtpAdapter(
      { host, port, tlsMode: "tls", fromIdentity: "news@shop.example" },
      { allowSelfSigned: true },
    );
    try {
      await adapter.send(message());
      expect(smtp.messages[0]).toMatchObject({ secure: true, mailFrom: "news@shop.example" });
      expect((await adapter.testConnection()).ok).toBe(true);
    } finally {
      adapter.close();
      await smtp.stop();
    }
  });

  it("tlsMode none sends in the clear even when STARTTLS is offered", async () => {
    const smtp = createSmtpFake();
    const { host, port } = await smtp.start();
    const adapter = createSmtpAdapter({
      host,
      port,
      tlsMode: "none",
      fromIdentity: "news@shop.example",
    });
    try {
      await adapter.send(message());
      expect(smtp.messages[0]!.secure).toBe(false);
    } finally {
      adapter.close();
      await smtp.stop();
    }
  });

  it("starttls against a server without STARTTLS is a permanent TLS error", async () => {
    const smtp = createSmtpFake({ disableStartTls: true });
    const { host, port } = await smtp.start();
    const adapter = createSmtpAdapter(
      { host, port, tlsMode: "starttls", fromIdentity: "news@shop.example" },
      { allowSelfSigned: true },
    );
    try {
      const verdict = adapter.classify(await sendError(adapter));
      expect(verdict).toMatchObject({ kind: "permanent", reason: expect.stringMatching(/TLS/) });
      expect(smtp.messages).toHaveLength(0);
    } finally {
      adapter.close();
      await smtp.stop();
    }
  });

  it("a refused connection is transient", async () => {
    const listener = createServer();
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const port = (listener.address() as { port: number }).port;
    await new Promise<void>((r) => listener.close(() => r()));
    const adapter = createSmtpAdapter({
      host: "127.0.0.1",
      port,
      tlsMode: "none",
      fromIdentity: "news@shop.example",
    });
    const verdict = adapter.classify(await sendError(adapter));
    const check = await adapter.testConnection();
    adapter.close();
    expect(verdict.kind).toBe("transient");
    expect(check.ok).toBe(false);
  });
});

describe("classifySmtpError on nodemailer-shaped errors", () => {
  const err = (fields: Record<string, unknown>) => Object.assign(new Error("boom"), fields);

  it.each([
    [{ code: "ETIMEDOUT" }, "transient"],
    [{ code: "ESOCKET" }, "transient"],
    [{ code: "ECONNECTION" }, "transient"],
    [{ code: "EAUTH", responseCode: 535, response: "535 5.7.8 bad" }, "permanent"],
    [
      { code: "EENVELOPE", responseCode: 450, response: "450 4.2.1 busy", command: "RCPT TO" },
      "transient",
    ],
    [
      { code: "EENVELOPE", responseCode: 553, response: "553 5.1.3 bad", command: "MAIL FROM" },
      "permanent",
    ],
  ])("%o → %s", (fields, kind) => {
    expect(classifySmtpError(err(fields)).kind).toBe(kind);
  });

  it("only recipient errors 550/551/553 suppress", () => {
    const rcpt = (code: number) =>
      classifySmtpError(
        err({ code: "EENVELOPE", responseCode: code, response: `${code} x`, command: "RCPT TO" }),
      );
    expect(rcpt(550)).toMatchObject({ suppress: "bounce" });
    expect(rcpt(551)).toMatchObject({ suppress: "bounce" });
    expect(rcpt(553)).toMatchObject({ suppress: "bounce" });
    expect(rcpt(554)).not.toHaveProperty("suppress");
    const from = classifySmtpError(
      err({ code: "EENVELOPE", responseCode: 550, response: "550 sender", command: "MAIL FROM" }),
    );
    expect(from).not.toHaveProperty("suppress");
  });
});
