import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemContext } from "~/domain/context";
import { createUnsubscribeToken, isOptedOut, sendTransactional } from "~/domain/mail/mail.server";
import { listFileMailbox, readFileMailboxMessage, sendMail } from "~/emails/transport.server";
import { createSesFake } from "../fakes/ses";
import type { FakeServer } from "../fakes/base";
import { startTestServer, type TestServer } from "../support/server";

/**
 * The server is another process: this test shares its DATA_DIR and SESSION_SECRET, so mail
 * written here (through the same domain function the app uses) is what the server's dev
 * mailbox reads, and unsubscribe tokens made here are the server's tokens.
 */
const SESSION_SECRET = randomBytes(32).toString("base64url");
process.env.SESSION_SECRET = SESSION_SECRET;
process.env.BASE_URL = "http://localhost:3000";
for (const name of ["SES_REGION", "SES_ACCESS_KEY_ID", "SES_SECRET_ACCESS_KEY", "SES_ENDPOINT"]) {
  delete process.env[name];
}
const dataDir = process.env.DATA_DIR!;
const ctx = systemContext("test");

const signIn = {
  name: "Asha <b>Bold</b>",
  at: new Date("2030-01-02T03:04:05.000Z"),
  ip: "203.0.113.7",
  userAgent: `Evil"><script>alert(1)</script>`,
  url: "http://localhost:3000/account/security",
};

/** A raw HTTP request, for what fetch would normalise (dot segments) or forbid (Host). */
function raw(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function unsubscribePath(text: string): string {
  const match = /http:\/\/localhost:3000(\/unsubscribe\?token=[A-Za-z0-9_.-]+)/.exec(text);
  if (!match) throw new Error("no unsubscribe link");
  return match[1]!;
}

describe("mail routes (file mailbox)", () => {
  let server: TestServer;
  let mailId: string;

  beforeAll(async () => {
    server = await startTestServer({
      dataDir,
      // Trusting a loopback proxy lets a test claim another client address via X-Forwarded-For.
      env: { SESSION_SECRET, BASE_URL: "http://localhost:3000", TRUST_PROXY: "loopback" },
    });
    const sent = await sendTransactional(ctx, "new-device-sign-in", "asha@example.com", signIn);
    expect(sent.status).toBe("sent");
    mailId = (sent as { id: string }).id;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("/dev/mailbox lists the mail the domain wrote, newest first, uncached", async () => {
    await sendTransactional(ctx, "verify-email", "second@example.com", {
      name: "Second",
      url: "http://localhost:3000/verify-email?token=abc",
    });
    const res = await server.fetch("/dev/mailbox");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("Dev mailbox");
    expect(html).toContain("asha@example.com");
    expect(html).toContain("New sign-in to your Pleisys Engage account");
    expect(html).toContain(`href="/dev/mailbox/${mailId}"`);
    expect(html.indexOf("second@example.com")).toBeLessThan(html.indexOf("asha@example.com"));
    expect(html).toMatch(/Page 1 of 1/);
  });

  it("shows one message: headers, linked text body and a sandboxed HTML body", async () => {
    const res = await server.fetch(`/dev/mailbox/${mailId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("List-Unsubscribe-Post");
    expect(html).toContain("List-Unsubscribe=One-Click");
    expect(html).toMatch(/<pre[^>]*>/);
    // Links in the text body are clickable.
    expect(html).toContain(
      `<a href="http://localhost:3000/account/security" rel="noreferrer">http://localhost:3000/account/security</a>`,
    );
    expect(html).toMatch(
      /<a href="http:\/\/localhost:3000\/unsubscribe\?token=[^"]+" rel="noreferrer">/,
    );
    // The HTML body is only in a sandboxed srcdoc iframe, with no permissions at all.
    const iframe = /<iframe[^>]*>/.exec(html)![0];
    expect(iframe).toContain(`sandbox=""`);
    expect(iframe).toContain("srcDoc=");
    // The hostile user agent never reaches the page as markup.
    expect(html).not.toContain("<script>alert(1)</script>");
  });

  it("refuses ids that are not mailbox ids, path tricks included, with a 404", async () => {
    for (const path of [
      "/dev/mailbox/..%2F..%2Fcontrol.db",
      "/dev/mailbox/..%2Fsecrets%2Fsession.secret",
      "/dev/mailbox/%2e%2e",
      "/dev/mailbox/20990101T000000000Z-0000000000000000",
      "/dev/mailbox/x",
    ]) {
      const res = await server.fetch(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain(SESSION_SECRET);
    }
    // Dot segments sent as-is (fetch would resolve them before sending).
    const dotted = await raw(server, "/dev/mailbox/../../secrets/session.secret");
    expect(dotted.status).toBe(404);
    expect(dotted.body).not.toContain(SESSION_SECRET);
  });

  it("pages 50 messages at a time, newest first", async () => {
    const { total } = await listFileMailbox({ limit: 1, offset: 0 });
    for (let i = total; i < 53; i++) {
      await sendMail({
        to: `bulk${i}@example.com`,
        subject: `Bulk ${i}`,
        text: "x",
        html: "<p>x</p>",
      });
    }
    const rows = (html: string) => html.match(/href="\/dev\/mailbox\/\d{8}T/g) ?? [];
    const first = await (await server.fetch("/dev/mailbox")).text();
    expect(rows(first)).toHaveLength(50);
    expect(first).toContain("Bulk 52");
    expect(first).toContain("Page 1 of 2 · 53 messages");
    expect(first).toContain(`href="/dev/mailbox?page=2"`);
    const second = await (await server.fetch("/dev/mailbox?page=2")).text();
    expect(rows(second)).toHaveLength(3);
    expect(second).toContain("asha@example.com"); // the oldest message is on the last page
    expect(second).toContain(`href="/dev/mailbox?page=1"`);
  });

  it("pages: a bad page number is a 400, a page past the end says so", async () => {
    expect((await server.fetch("/dev/mailbox?page=abc")).status).toBe(400);
    expect((await server.fetch("/dev/mailbox?page=0")).status).toBe(400);
    const past = await server.fetch("/dev/mailbox?page=7");
    expect(past.status).toBe(200);
    expect(await past.text()).toContain("No messages on this page");
  });

  it("answers 404 to anyone who is not on this machine", async () => {
    // Through the trusted loopback proxy, for a client elsewhere.
    for (const path of ["/dev/mailbox", `/dev/mailbox/${mailId}`]) {
      const viaProxy = await server.fetch(path, {
        headers: { "X-Forwarded-For": "203.0.113.9" },
      });
      expect(viaProxy.status, path).toBe(404);
      const html = await viaProxy.text();
      expect(html).not.toContain("asha@example.com");
      expect(html).not.toContain("Dev mailbox");
    }
    // Any forwarded request, even one claiming to be local.
    expect(
      (await server.fetch("/dev/mailbox", { headers: { "X-Forwarded-For": "127.0.0.1" } })).status,
    ).toBe(404);
    // A foreign Host name pointing at 127.0.0.1 (DNS rebinding).
    expect((await raw(server, "/dev/mailbox", { Host: "evil.example:3000" })).status).toBe(404);
    expect(
      (await raw(server, "/dev/mailbox", { Host: `localhost:${new URL(server.url).port}` })).status,
    ).toBe(200);
  });

  it("unsubscribe: GET shows what will happen and changes nothing; POST opts out", async () => {
    const message = await readFileMailboxMessage(mailId);
    const path = unsubscribePath(message!.text!);

    const page = await server.fetch(path);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("a***@example.com");
    expect(html).toContain("new sign-in alerts");
    expect(html).toMatch(/<form method="post"/);
    expect(html).toMatch(/<button[^>]*type="submit"[^>]*>Unsubscribe<\/button>/);
    // Link scanners that follow GETs (twice, even) unsubscribe nobody.
    await server.fetch(path);
    expect(isOptedOut("asha@example.com", "security_notices")).toBe(false);

    const token = new URL(path, "http://x").searchParams.get("token")!;
    const post = await server.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain("You are unsubscribed");
    expect(isOptedOut("asha@example.com", "security_notices")).toBe(true);

    // The next optional mail is not sent; the GET now says so.
    const before = (await listFileMailbox({ limit: 1, offset: 0 })).total;
    expect(
      (await sendTransactional(ctx, "new-device-sign-in", "asha@example.com", signIn)).status,
    ).toBe("skipped");
    expect((await listFileMailbox({ limit: 1, offset: 0 })).total).toBe(before);
    expect(await (await server.fetch(path)).text()).toContain("Already unsubscribed");
  });

  it("unsubscribe: accepts the RFC 8058 one-click POST from a mail client", async () => {
    const token = createUnsubscribeToken("one.click@example.com", "security_notices");
    const res = await server.fetch(`/unsubscribe?token=${token}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect(isOptedOut("one.click@example.com", "security_notices")).toBe(true);

    // Some clients send multipart/form-data; the footer link's "all" scope works the same way.
    const form = new FormData();
    form.set("List-Unsubscribe", "One-Click");
    const all = createUnsubscribeToken("footer@example.com", "all");
    const multipart = await server.fetch(`/unsubscribe?token=${all}`, {
      method: "POST",
      body: form,
    });
    expect(multipart.status).toBe(200);
    expect(isOptedOut("footer@example.com", "security_notices")).toBe(true);
  });

  it("unsubscribe: a forged, altered or missing token is a 400 page that changes nothing", async () => {
    const good = createUnsubscribeToken("target@example.com", "security_notices");
    const forgedPayload = Buffer.from("other@example.com|security_notices").toString("base64url");
    const forged = `${forgedPayload}.${good.split(".")[1]}`;
    for (const path of [
      `/unsubscribe?token=${forged}`,
      `/unsubscribe?token=${good.slice(0, -3)}`,
      "/unsubscribe?token=nonsense",
      "/unsubscribe",
    ]) {
      const get = await server.fetch(path);
      expect(get.status, path).toBe(400);
      expect(await get.text()).toContain("This unsubscribe link is not valid");
      const post = await server.fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "List-Unsubscribe=One-Click",
      });
      expect(post.status, path).toBe(400);
    }
    // A good token in the query cannot be swapped for a forged one in the form.
    const swapped = await server.fetch(`/unsubscribe?token=${good}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: forged }).toString(),
    });
    expect(swapped.status).toBe(400);
    expect(isOptedOut("target@example.com", "security_notices")).toBe(false);
    expect(isOptedOut("other@example.com", "security_notices")).toBe(false);
    // A body the server cannot read as a form still gets a clear 4xx, not a 500.
    const junk = await server.fetch(`/unsubscribe?token=${forged}`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=x" },
      body: "garbage",
    });
    expect(junk.status).toBe(400);
  });
});

describe("mail routes (SES configured)", () => {
  let server: TestServer;
  let fake: FakeServer;

  beforeAll(async () => {
    fake = createSesFake();
    const { url } = await fake.start();
    // Its own data dir, holding a stored message: it must stay hidden once SES is configured.
    const sesDataDir = mkdtempSync(join(tmpdir(), "engage-ses-server-"));
    mkdirSync(join(sesDataDir, "mail"), { mode: 0o700 });
    const stored = readdirSync(join(dataDir, "mail")).find((n) => n.endsWith(".eml"))!;
    copyFileSync(join(dataDir, "mail", stored), join(sesDataDir, "mail", stored));
    server = await startTestServer({
      dataDir: sesDataDir,
      env: {
        SESSION_SECRET,
        SES_REGION: "ap-south-1",
        SES_ACCESS_KEY_ID: "AKIDTEST",
        SES_SECRET_ACCESS_KEY: "secret",
        SES_ENDPOINT: url,
      },
    });
    (server as TestServer & { stored?: string }).stored = stored.slice(0, -4);
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.stop();
  });

  it("/dev/mailbox does not exist (404), even from this machine", async () => {
    const stored = (server as TestServer & { stored?: string }).stored!;
    for (const path of ["/dev/mailbox", `/dev/mailbox/${stored}`, "/dev/mailbox?page=2"]) {
      const res = await server.fetch(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain("Dev mailbox");
    }
  });

  it("unsubscribe still works", async () => {
    const token = createUnsubscribeToken("ses.route@example.com", "security_notices");
    const res = await server.fetch(`/unsubscribe?token=${token}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("s***@example.com");
  });
});
