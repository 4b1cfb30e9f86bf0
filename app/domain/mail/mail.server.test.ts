import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { FakeServer } from "../../../tests/fakes/base";
import { createSesFake, sesFault, sesSentEmails } from "../../../tests/fakes/ses";
import type * as AuditModule from "../audit/audit.server";
import type { SystemContext } from "../context";
import type * as MailModule from "./mail.server";
import type * as TransportModule from "~/emails/transport.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
process.env.BASE_URL = "https://engage.test";
process.env.SESSION_SECRET = "test-session-secret-0123456789-abcdefghijklmnop";
const SES_VARS = ["SES_REGION", "SES_ACCESS_KEY_ID", "SES_SECRET_ACCESS_KEY", "SES_ENDPOINT"];
for (const name of SES_VARS) delete process.env[name];

const T0 = new Date("2030-01-02T03:04:05.000Z");
const mode = (path: string) => statSync(path).mode & 0o777;
const mailDir = () => join(process.env.DATA_DIR!, "mail");
const mailFiles = () => {
  try {
    return readdirSync(mailDir()).filter((n) => n.endsWith(".eml"));
  } catch {
    return [];
  }
};

/**
 * A fresh copy of the mail modules (and of the env they read once), as a process started with
 * the current environment would have. The control db handle is process-wide and survives.
 */
async function loadMail(): Promise<{
  mail: typeof MailModule;
  transport: typeof TransportModule;
  audit: typeof AuditModule;
  ctx: SystemContext;
}> {
  vi.resetModules();
  const mail = await import("./mail.server");
  const transport = await import("~/emails/transport.server");
  const audit = await import("../audit/audit.server");
  const { systemContext } = await import("../context");
  return { mail, transport, audit, ctx: systemContext("test", () => T0) };
}

const signIn = {
  name: "Asha <script>alert(1)</script>",
  at: T0,
  ip: "203.0.113.7",
  userAgent: "Firefox",
  url: "https://engage.test/account/security",
};
const verify = { name: "Asha", url: "https://engage.test/verify-email?token=abc" };

/** The unsubscribe link in a text body. */
function unsubscribeLink(text: string): string {
  const match = /https:\/\/engage\.test\/unsubscribe\?token=[A-Za-z0-9_.-]+/.exec(text);
  if (!match) throw new Error("no unsubscribe link in the mail");
  return match[0];
}

describe("file mailbox (no SES configured)", () => {
  let m: Awaited<ReturnType<typeof loadMail>>;
  beforeAll(async () => {
    m = await loadMail();
  });

  it("writes the mail as a 0600 .eml file that the mailbox lists", async () => {
    const outcome = await m.mail.sendTransactional(
      m.ctx,
      "verify-email",
      "Asha@Example.COM",
      verify,
    );
    expect(outcome).toMatchObject({ status: "sent", transport: "file" });
    const id = (outcome as { id: string }).id;

    expect(m.transport.isFileMailbox()).toBe(true);
    const file = join(mailDir(), `${id}.eml`);
    expect(mode(file)).toBe(0o600);
    const listed = await m.transport.listFileMailbox({ limit: 50, offset: 0 });
    expect(listed.items[0]).toMatchObject({
      id,
      to: "asha@example.com",
      subject: "Confirm your email address for Pleisys Engage",
    });
    const read = await m.transport.readFileMailboxMessage(id);
    expect(read!.text).toContain(verify.url);
    expect(read!.html).toContain(verify.url);
  });

  it("optional mail carries a body link and List-Unsubscribe headers; required mail only the body link", async () => {
    const optional = await m.mail.sendTransactional(
      m.ctx,
      "new-device-sign-in",
      "ravi@example.com",
      signIn,
    );
    const required = await m.mail.sendTransactional(m.ctx, "mfa-changed", "ravi@example.com", {
      name: "Ravi",
      change: "enabled",
      at: T0,
      url: "https://engage.test/account/security",
    });
    const a = await m.transport.readFileMailboxMessage((optional as { id: string }).id);
    const b = await m.transport.readFileMailboxMessage((required as { id: string }).id);

    const link = unsubscribeLink(a!.text!);
    expect(a!.html).toContain(`href="${link}"`);
    const header = (name: string) => a!.headers.find((h) => h.name === name)?.value;
    expect(header("List-Unsubscribe")).toBe(`<${link}>`);
    expect(header("List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    expect(m.mail.verifyUnsubscribeToken(new URL(link).searchParams.get("token")!)).toEqual({
      email: "ravi@example.com",
      scope: "security_notices",
    });
    // The user's name is escaped in the HTML.
    expect(a!.html).not.toContain("<script>");

    expect(b!.headers.some((h) => h.name === "List-Unsubscribe")).toBe(false);
    const footer = unsubscribeLink(b!.text!);
    expect(m.mail.verifyUnsubscribeToken(new URL(footer).searchParams.get("token")!).scope).toBe(
      "all",
    );
  });

  it("skips optional mail to an address that opted out, but still sends required mail", async () => {
    const to = "opted.out@example.com";
    const first = await m.mail.sendTransactional(m.ctx, "new-device-sign-in", to, signIn);
    const read = await m.transport.readFileMailboxMessage((first as { id: string }).id);
    const token = new URL(unsubscribeLink(read!.text!)).searchParams.get("token")!;

    const result = m.mail.optOut(m.ctx, token);
    expect(result).toMatchObject({
      changed: true,
      scope: "security_notices",
      maskedEmail: "o***@example.com",
    });
    expect(m.mail.isOptedOut("OPTED.OUT@example.com", "security_notices")).toBe(true);

    const before = mailFiles().length;
    const skipped = await m.mail.sendTransactional(
      m.ctx,
      "new-device-sign-in",
      "Opted.Out@example.com",
      signIn,
    );
    expect(skipped).toEqual({ status: "skipped", reason: "opted_out" });
    expect(mailFiles()).toHaveLength(before);

    const essential = await m.mail.sendTransactional(m.ctx, "reset-password", to, {
      name: "O",
      url: "https://engage.test/reset-password?token=x",
    });
    expect(essential.status).toBe("sent");
    expect(mailFiles()).toHaveLength(before + 1);
  });

  it("opting out of all optional mail (the footer link) covers every category", async () => {
    const to = "all.out@example.com";
    m.mail.optOut(m.ctx, m.mail.createUnsubscribeToken(to, "all"));
    expect(m.mail.isOptedOut(to, "security_notices")).toBe(true);
    const skipped = await m.mail.sendTransactional(m.ctx, "new-device-sign-in", to, signIn);
    expect(skipped.status).toBe("skipped");
    // ...and a category opt-out does not count as "all".
    m.mail.optOut(m.ctx, m.mail.createUnsubscribeToken("one@example.com", "security_notices"));
    expect(m.mail.isOptedOut("one@example.com", "all")).toBe(false);
  });

  it("opting out is idempotent and audited once, without the address in clear", async () => {
    const token = m.mail.createUnsubscribeToken("audit.me@example.com", "security_notices");
    const db = (await import("~/db/control.server")).getControlDb();
    const count = () =>
      db.$client
        .prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'mail.opted_out'")
        .get() as { n: number };
    const rows = () =>
      db.$client
        .prepare("SELECT count(*) AS n FROM mail_opt_outs WHERE email = ?")
        .get("audit.me@example.com") as { n: number };

    const auditsBefore = count().n;
    expect(m.mail.optOut(m.ctx, token).changed).toBe(true);
    expect(m.mail.optOut(m.ctx, token).changed).toBe(false);
    expect(rows().n).toBe(1);
    expect(count().n).toBe(auditsBefore + 1);

    const last = db.$client
      .prepare("SELECT * FROM audit_log WHERE action = 'mail.opted_out' ORDER BY id DESC LIMIT 1")
      .get() as Record<string, string>;
    expect(last.actor_type).toBe("system");
    expect(last.target_type).toBe("mail_address");
    expect(last.target_id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(last)).not.toContain("audit.me");
    expect(JSON.parse(last.details!)).toEqual({ category: "security_notices" });
    expect(m.audit.verifyAuditChain().ok).toBe(true);
  });

  it("refuses forged, altered and malformed unsubscribe tokens with a 400, recording nothing", async () => {
    const good = m.mail.createUnsubscribeToken("victim@example.com", "security_notices");
    const [payload, signature] = good.split(".") as [string, string];
    const otherPayload = Buffer.from("someone@example.com|security_notices").toString("base64url");
    const badScope = Buffer.from("victim@example.com|billing").toString("base64url");
    const { createHmac } = await import("node:crypto");
    const signedWithWrongKey = `${otherPayload}.${createHmac("sha256", "not-the-secret")
      .update(`engage:mail-unsubscribe:v1:${otherPayload}`)
      .digest("base64url")}`;
    const forged = [
      `${otherPayload}.${signature}`, // someone else's address under this signature
      `${payload}.${signature.slice(0, 20)}${signature[20] === "A" ? "B" : "A"}${signature.slice(21)}`,
      // The last character carries two unused bits: a second spelling of the same bytes.
      `${payload}.${signature.slice(0, -1)}${String.fromCharCode(signature.charCodeAt(42) ^ 1)}`,
      `${badScope}.${signature}`,
      signedWithWrongKey,
      payload,
      "",
      "not a token",
      `${"a".repeat(2000)}.${signature}`,
    ];
    for (const token of forged) {
      let error: unknown;
      try {
        m.mail.optOut(m.ctx, token);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(m.mail.InvalidUnsubscribeTokenError);
      expect((error as { status: number }).status).toBe(400);
    }
    expect(m.mail.isOptedOut("victim@example.com", "security_notices")).toBe(false);
    expect(m.mail.isOptedOut("someone@example.com", "security_notices")).toBe(false);
    expect(m.mail.describeUnsubscribe(good)).toEqual({
      maskedEmail: "v***@example.com",
      scope: "security_notices",
      what: "new sign-in alerts",
      alreadyOptedOut: false,
    });
  });

  it("an address the transport refuses is a 400 MailDeliveryError and nothing is written", async () => {
    const before = mailFiles().length;
    const error = await m.mail
      .sendTransactional(m.ctx, "verify-email", "a@example.com, b@example.com", verify)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(m.mail.MailDeliveryError);
    expect(error).toMatchObject({ status: 400, reason: "invalid", retryable: false });
    expect(mailFiles()).toHaveLength(before);
  });
});

describe("SES configured", () => {
  let fake: FakeServer;
  let m: Awaited<ReturnType<typeof loadMail>>;
  const FROM = "Engage Mailer <mailer@engage.test>";

  beforeAll(async () => {
    fake = createSesFake();
    const { url } = await fake.start();
    Object.assign(process.env, {
      SES_REGION: "eu-west-1",
      SES_ACCESS_KEY_ID: "AKIDPLATFORM",
      SES_SECRET_ACCESS_KEY: "platform-secret",
      SES_ENDPOINT: url,
      MAIL_FROM: FROM,
    });
    m = await loadMail();
  });
  afterAll(async () => {
    for (const name of [...SES_VARS, "MAIL_FROM"]) delete process.env[name];
    await fake.stop();
  });

  it("sends through SES: the raw MIME has the subject, From = MAIL_FROM and List-Unsubscribe", async () => {
    expect(m.transport.isFileMailbox()).toBe(false);
    const files = mailFiles().length;
    const outcome = await m.mail.sendTransactional(
      m.ctx,
      "new-device-sign-in",
      "ses.user@example.com",
      signIn,
    );
    expect(outcome).toMatchObject({ status: "sent", transport: "ses" });

    const sent = sesSentEmails(fake).at(-1)!;
    expect(sent.messageId).toBe((outcome as { id: string }).id);
    expect(sent.accessKeyId).toBe("AKIDPLATFORM");
    expect(sent.region).toBe("eu-west-1");
    expect(sent.destination.to).toEqual(["ses.user@example.com"]);
    expect(sent.raw).toContain(`From: ${FROM}`);
    expect(sent.raw).toContain("Subject: New sign-in to your Pleisys Engage account");
    expect(sent.raw).toMatch(
      /List-Unsubscribe:\s+<https:\/\/engage\.test\/unsubscribe\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+>/,
    );
    expect(sent.raw).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    expect(mailFiles()).toHaveLength(files);
  });

  it("throttling that outlasts the SDK's retries is a retryable 503 MailDeliveryError", async () => {
    fake.injectFault(sesFault(429, "TooManyRequestsException", "Maximum sending rate exceeded."), {
      times: 3,
    });
    const error = await m.mail
      .sendTransactional(m.ctx, "verify-email", "busy@example.com", verify)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(m.mail.MailDeliveryError);
    expect(error).toMatchObject({
      status: 503,
      reason: "throttled",
      retryable: true,
      code: "mail_throttled",
    });
  });

  it("MessageRejected is a permanent 422 MailDeliveryError", async () => {
    fake.injectFault(sesFault(400, "MessageRejected", "Email address is not verified."));
    const error = await m.mail
      .sendTransactional(m.ctx, "reset-password", "rejected@example.com", verify)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(m.mail.MailDeliveryError);
    expect(error).toMatchObject({ status: 422, reason: "rejected", retryable: false });
    // The message shown to people says nothing about the provider.
    expect((error as Error).message).not.toMatch(/SES|verified/);
  });

  it("an opted-out address gets no optional mail through SES either, but required mail goes", async () => {
    const to = "ses.optout@example.com";
    m.mail.optOut(m.ctx, m.mail.createUnsubscribeToken(to, "security_notices"));
    const before = sesSentEmails(fake).length;
    expect(await m.mail.sendTransactional(m.ctx, "new-device-sign-in", to, signIn)).toEqual({
      status: "skipped",
      reason: "opted_out",
    });
    expect(sesSentEmails(fake)).toHaveLength(before);
    const required = await m.mail.sendTransactional(m.ctx, "invitation", to, {
      inviterName: "Asha",
      workspaceName: "Acme",
      role: "marketer",
      url: "https://engage.test/invitations/x",
      expiresAt: T0,
    });
    expect(required.status).toBe("sent");
    expect(sesSentEmails(fake)).toHaveLength(before + 1);
    expect(sesSentEmails(fake).at(-1)!.raw).not.toContain("List-Unsubscribe:");
  });
});
