import { createTransport } from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { createSmtpFake, type SmtpFake } from "./smtp";

const fakes: SmtpFake[] = [];

async function start(options?: Parameters<typeof createSmtpFake>[0]): Promise<SmtpFake> {
  const fake = createSmtpFake(options);
  await fake.start();
  fakes.push(fake);
  return fake;
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

function transport(fake: SmtpFake, auth?: { user: string; pass: string }) {
  return createTransport({
    host: fake.host,
    port: fake.port,
    secure: false,
    // The fake's own certificate is the trust anchor: verification stays on.
    tls: { ca: [fake.certificatePem], minVersion: "TLSv1.2" },
    ...(auth ? { auth } : {}),
  });
}

const mail = {
  from: "Shop <news@shop.example>",
  to: "asha@example.com",
  subject: "Hello",
  text: "hi",
  headers: { "List-Unsubscribe": "<https://x.example/u>" },
};

describe("SMTP fake", () => {
  it("records envelope, raw message and headers, and answers with a queue id", async () => {
    const fake = await start();
    const info = await transport(fake).sendMail(mail);
    expect(fake.messages).toHaveLength(1);
    const received = fake.messages[0]!;
    expect(received.mailFrom).toBe("news@shop.example");
    expect(received.rcptTo).toEqual(["asha@example.com"]);
    expect(received.secure).toBe(true); // nodemailer upgrades with the STARTTLS we offer
    expect(received.headers.subject).toBe("Hello");
    expect(received.headers["list-unsubscribe"]).toBe("<https://x.example/u>");
    expect(received.raw).toContain("\r\n\r\nhi");
    expect(info.response).toContain(`queued as ${received.queueId}`);
  });

  it("requires AUTH when users are given; failNextAuth refuses the next login", async () => {
    const fake = await start({ users: { u: "p" } });
    await expect(transport(fake).sendMail(mail)).rejects.toMatchObject({ responseCode: 530 });
    await expect(transport(fake, { user: "u", pass: "bad" }).sendMail(mail)).rejects.toMatchObject({
      code: "EAUTH",
      responseCode: 535,
    });
    fake.failNextAuth();
    await expect(transport(fake, { user: "u", pass: "p" }).sendMail(mail)).rejects.toMatchObject({
      code: "EAUTH",
    });
    await transport(fake, { user: "u", pass: "p" }).sendMail(mail);
    expect(fake.messages[0]!.user).toBe("u");
    expect(fake.auth).toEqual({ ok: 1, failed: 2 });
  });

  it("injects RCPT and DATA replies, once each", async () => {
    const fake = await start();
    fake.failNextRecipient(550, "5.1.1 User unknown");
    await expect(transport(fake).sendMail(mail)).rejects.toMatchObject({
      responseCode: 550,
      command: "RCPT TO",
    });
    fake.failNextRecipient(451, "4.7.1 Slow down");
    await expect(transport(fake).sendMail(mail)).rejects.toMatchObject({ responseCode: 451 });
    fake.failNextData(554, "5.7.1 Spam");
    await expect(transport(fake).sendMail(mail)).rejects.toMatchObject({ responseCode: 554 });
    await transport(fake).sendMail(mail);
    expect(fake.messages).toHaveLength(1);
  });

  it("speaks implicit TLS with secure: true", async () => {
    const fake = await start({ secure: true });
    await createTransport({
      host: fake.host,
      port: fake.port,
      secure: true,
      // The fake's own certificate is the trust anchor: verification stays on.
      tls: { ca: [fake.certificatePem], minVersion: "TLSv1.2" },
    }).sendMail(mail);
    expect(fake.messages[0]!.secure).toBe(true);
  });

  it("stops promptly with a pooled client still connected", async () => {
    const fake = await start();
    const pooled = createTransport({
      pool: true,
      host: fake.host,
      port: fake.port,
      // The fake's own certificate is the trust anchor: verification stays on.
      tls: { ca: [fake.certificatePem], minVersion: "TLSv1.2" },
    });
    await pooled.sendMail(mail);
    const t = Date.now();
    await fake.stop();
    expect(Date.now() - t).toBeLessThan(2_000);
    pooled.close();
  });
});
