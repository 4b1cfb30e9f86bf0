import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSmtpFake, type SmtpFake } from "../../../tests/fakes/smtp";
import { ProviderError, type OutgoingMessage } from "../types";
import {
  classifySmtpError,
  createSmtpAdapter,
  type SmtpAdapter,
  type SmtpAdapterOptions,
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

/**
 * The fake listens on 127.0.0.1, which the outbound-address guard refuses unless the operator
 * allows it (OUTBOUND_ALLOWED_PRIVATE_HOSTS), and its certificate is self-signed: each test
 * says so explicitly, as an operator of a private relay would.
 */
function trusting(smtp: SmtpFake, extra: Partial<SmtpAdapterOptions> = {}): SmtpAdapterOptions {
  return {
    timeoutMs: 5_000,
    ca: smtp.certificatePem,
    outbound: { allowedPrivateHosts: ["127.0.0.1"] },
    ...extra,
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
    smtp = createSmtpFake({ users: { mailer: "s3cret" }, hostnames: ["mail.shop.example"] });
    const { host, port } = await smtp.start();
    config = {
      host,
      port,
      tlsMode: "starttls",
      user: "mailer",
      password: "s3cret",
      fromIdentity: "Shop <news@shop.example>",
    };
    adapter = createSmtpAdapter(config, trusting(smtp));
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
      reason: `SMTP 421: the mail server at 127.0.0.1:${smtp.port} is busy; trying again later`,
    });
  });

  it("a wrong password is permanent, in our words (not the server's)", async () => {
    const bad = createSmtpAdapter({ ...config, password: "wrong" }, trusting(smtp));
    const verdict = bad.classify(await sendError(bad));
    bad.close();
    expect(verdict).toEqual({
      kind: "permanent",
      reason: `Could not connect to the mail server at 127.0.0.1:${smtp.port}: authentication failed (check the user name and password)`,
    });
  });

  it("an injected AUTH failure is permanent too", async () => {
    smtp.failNextAuth();
    const fresh = createSmtpAdapter(config, trusting(smtp));
    const verdict = fresh.classify(await sendError(fresh));
    fresh.close();
    expect(verdict).toMatchObject({ kind: "permanent" });
    expect(verdict.reason).toContain("authentication failed");
    expect(verdict.reason).not.toContain("credentials invalid");
  });

  it("an untrusted (self-signed) certificate is refused: TLS failed, nothing sent", async () => {
    const before = smtp.messages.length;
    const strict = createSmtpAdapter(config, trusting(smtp, { ca: undefined }));
    const verdict = strict.classify(await sendError(strict));
    strict.close();
    expect(verdict.kind).toBe("permanent");
    expect(verdict.reason).toMatch(
      new RegExp(
        `^Could not connect to the mail server at 127\\.0\\.0\\.1:${smtp.port}: TLS failed`,
      ),
    );
    expect(smtp.messages.length).toBe(before);
  });

  it("testConnection verifies login", async () => {
    expect(await adapter.testConnection()).toEqual({
      ok: true,
      detail: `Connected to 127.0.0.1:${smtp.port} over STARTTLS, logged in as mailer`,
    });
    const bad = createSmtpAdapter({ ...config, password: "wrong" }, trusting(smtp));
    const check = await bad.testConnection();
    bad.close();
    expect(check).toEqual({
      ok: false,
      check: "Mail server connection and sign-in",
      reason: `Could not connect to the mail server at 127.0.0.1:${smtp.port}: authentication failed (check the user name and password)`,
    });
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

describe("SMTP adapter: implicit TLS, no clear text, unreachable", () => {
  it("tlsMode tls speaks TLS from the first byte", async () => {
    const smtp = createSmtpFake({ secure: true });
    const { host, port } = await smtp.start();
    const adapter = createSmtpAdapter(
      { host, port, tlsMode: "tls", fromIdentity: "news@shop.example" },
      trusting(smtp),
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

  it('a config stored with the old tlsMode "none" still sends only over STARTTLS', async () => {
    const smtp = createSmtpFake();
    const { host, port } = await smtp.start();
    const adapter = createSmtpAdapter(
      { host, port, tlsMode: "none" as SmtpConfig["tlsMode"], fromIdentity: "news@shop.example" },
      trusting(smtp),
    );
    try {
      await adapter.send(message());
      expect(smtp.messages[0]!.secure).toBe(true);
    } finally {
      adapter.close();
      await smtp.stop();
    }
  });

  it("a server without STARTTLS gets our plain TLS error and nothing in clear", async () => {
    const smtp = createSmtpFake({ disableStartTls: true, users: { mailer: "s3cret" } });
    const { host, port } = await smtp.start();
    const adapter = createSmtpAdapter(
      {
        host,
        port,
        tlsMode: "starttls",
        user: "mailer",
        password: "s3cret",
        fromIdentity: "news@shop.example",
      },
      trusting(smtp),
    );
    try {
      const verdict = adapter.classify(await sendError(adapter));
      expect(verdict).toEqual({
        kind: "permanent",
        reason: expect.stringMatching(
          new RegExp(
            `^Could not connect to the mail server at 127\\.0\\.0\\.1:${port}: TLS failed`,
          ),
        ),
      });
      const check = await adapter.testConnection();
      expect(check).toMatchObject({ ok: false, reason: expect.stringContaining("TLS failed") });
      expect(smtp.messages).toHaveLength(0);
      // The password never went over the plain connection.
      expect(smtp.auth).toEqual({ ok: 0, failed: 0 });
    } finally {
      adapter.close();
      await smtp.stop();
    }
  });

  it("a refused connection is transient, in our words", async () => {
    const listener = createServer();
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    const port = (listener.address() as { port: number }).port;
    await new Promise<void>((r) => listener.close(() => r()));
    const adapter = createSmtpAdapter(
      { host: "127.0.0.1", port, tlsMode: "starttls", fromIdentity: "news@shop.example" },
      { outbound: { allowedPrivateHosts: ["127.0.0.1"] } },
    );
    const verdict = adapter.classify(await sendError(adapter));
    const check = await adapter.testConnection();
    adapter.close();
    expect(verdict).toEqual({
      kind: "transient",
      reason: `Could not connect to the mail server at 127.0.0.1:${port}: connection refused`,
    });
    expect(check.ok).toBe(false);
  });
});

describe("SMTP adapter: the outbound-address guard", () => {
  const base = { port: 587, tlsMode: "starttls" as const, fromIdentity: "news@shop.example" };

  /** A resolver that answers `evil.example` (and anything else) with fixed addresses. */
  function resolvingTo(...addresses: string[]) {
    const calls: string[] = [];
    const lookup = async (hostname: string) => {
      calls.push(hostname);
      return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    };
    return { lookup, calls };
  }

  it("refuses localhost, resolved by the system, before connecting", async () => {
    const adapter = createSmtpAdapter({ ...base, host: "localhost" }, { outbound: {} });
    const check = await adapter.testConnection();
    const verdict = adapter.classify(await sendError(adapter));
    adapter.close();
    expect(check).toEqual({
      ok: false,
      check: "Mail server connection and sign-in",
      reason: expect.stringMatching(
        /^Could not connect to the mail server at localhost:587: localhost resolves to a private or reserved address \(loopback\); only public servers can be used$/,
      ),
    });
    expect(verdict.kind).toBe("permanent");
  });

  it.each([
    ["169.254.169.254", "linkLocal"],
    ["10.0.0.1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["fd00::1", "uniqueLocal"],
    ["100.64.0.1", "carrierGradeNat"],
  ])("refuses a name that resolves to %s", async (address, range) => {
    const { lookup, calls } = resolvingTo(address);
    const adapter = createSmtpAdapter(
      { ...base, host: "evil.example", user: "u", password: "p" },
      { outbound: { lookup, allowedPrivateHosts: [] } },
    );
    const check = await adapter.testConnection();
    adapter.close();
    expect(calls).toEqual(["evil.example"]);
    expect(check).toEqual({
      ok: false,
      check: "Mail server connection and sign-in",
      reason: `Could not connect to the mail server at evil.example:587: evil.example resolves to a private or reserved address (${range}); only public servers can be used`,
    });
  });

  it("refuses a name with one public and one private address", async () => {
    const { lookup } = resolvingTo("93.184.216.34", "10.0.0.1");
    const adapter = createSmtpAdapter(
      { ...base, host: "evil.example" },
      { outbound: { lookup, allowedPrivateHosts: [] } },
    );
    const verdict = adapter.classify(await sendError(adapter));
    adapter.close();
    expect(verdict).toMatchObject({
      kind: "permanent",
      reason: expect.stringContaining("private"),
    });
  });

  it("refuses ports other than 25, 465, 587 and 2525 on public hosts", async () => {
    const { lookup } = resolvingTo("93.184.216.34");
    const adapter = createSmtpAdapter(
      { ...base, host: "mail.example", port: 22 },
      { outbound: { lookup, allowedPrivateHosts: [] } },
    );
    const check = await adapter.testConnection();
    adapter.close();
    expect(check).toEqual({
      ok: false,
      check: "Mail server connection and sign-in",
      reason:
        "Could not connect to the mail server at mail.example:22: port 22 is not allowed (use 25, 465, 587, 2525)",
    });
  });

  it("never repeats what the remote end said (a banner is not a mail server's greeting)", async () => {
    const banner = createServer((socket) => {
      socket.end("SSH-2.0-OpenSSH_9.6p1 internal-build-host-7\r\n");
    });
    await new Promise<void>((r) => banner.listen(0, "127.0.0.1", r));
    const port = (banner.address() as { port: number }).port;
    const adapter = createSmtpAdapter(
      { ...base, host: "127.0.0.1", port },
      { timeoutMs: 2_000, outbound: { allowedPrivateHosts: ["127.0.0.1"] } },
    );
    try {
      const check = await adapter.testConnection();
      const verdict = adapter.classify(await sendError(adapter));
      for (const reason of [check.ok ? "" : check.reason, verdict.reason]) {
        expect(reason).toMatch(/^Could not connect to the mail server at 127\.0\.0\.1:\d+: /);
        expect(reason).not.toMatch(/SSH|OpenSSH|internal-build-host/);
      }
    } finally {
      adapter.close();
      await new Promise<void>((r) => banner.close(() => r()));
    }
  });

  it("connects to the address it checked, not to a later answer (DNS rebinding)", async () => {
    const smtp = createSmtpFake({ hostnames: ["mail.shop.example"] });
    const { port } = await smtp.start();
    // First answer: the fake (allowed by address). Any later lookup would say 10.0.0.1.
    const calls: string[] = [];
    const lookup = async (hostname: string) => {
      calls.push(hostname);
      return [{ address: calls.length === 1 ? "127.0.0.1" : "10.0.0.1", family: 4 }];
    };
    const adapter = createSmtpAdapter(
      { ...base, host: "mail.shop.example", port },
      { ca: smtp.certificatePem, outbound: { lookup, allowedPrivateHosts: ["127.0.0.1"] } },
    );
    try {
      await adapter.send(message());
      await adapter.send(message({ to: "ravi@example.com" }));
      expect(await adapter.testConnection()).toEqual({
        ok: true,
        detail: `Connected to mail.shop.example:${port} (127.0.0.1) over STARTTLS`,
      });
      expect(calls).toEqual(["mail.shop.example"]);
      expect(smtp.messages.map((m) => [m.rcptTo[0], m.secure])).toEqual([
        ["asha@example.com", true],
        ["ravi@example.com", true],
      ]);
    } finally {
      adapter.close();
      await smtp.stop();
    }
  });

  it("checks the certificate against the name, not the pinned address", async () => {
    const smtp = createSmtpFake({ hostnames: ["mail.shop.example"] });
    const { port } = await smtp.start();
    const lookup = async () => [{ address: "127.0.0.1", family: 4 }];
    const adapter = createSmtpAdapter(
      { ...base, host: "impostor.example", port },
      { ca: smtp.certificatePem, outbound: { lookup, allowedPrivateHosts: ["127.0.0.1"] } },
    );
    try {
      const verdict = adapter.classify(await sendError(adapter));
      expect(verdict).toMatchObject({
        kind: "permanent",
        reason: expect.stringContaining("TLS failed"),
      });
      expect(smtp.messages).toHaveLength(0);
    } finally {
      adapter.close();
      await smtp.stop();
    }
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
