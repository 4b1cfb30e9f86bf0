import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { consents, contactEvents } from "~/db/schema/tenant";
import { suppressionKey } from "~/domain/contacts/suppression-hash.server";
import { isSuppressed } from "~/domain/contacts/suppressions.server";
import type { WorkspaceContext } from "~/domain/context";
import { getMessage, queueMessages } from "~/domain/delivery/outbox.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Channel } from "~/lib/channels";
import { signedIn, type Browser, type TestUser } from "../support/accounts";
import { giveConsent, insertContact } from "../support/contacts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, startServer } from "../support/teams";

/**
 * What the person who got a marketing email can do with its links, against the real server
 * with no session: the RFC 8058 one-click unsubscribe, the preferences page (save, leave all,
 * resubscribe), the click redirect and the open pixel. Messages are queued through the outbox
 * in this process, which shares DATA_DIR and SESSION_SECRET (the links' signing key) with the
 * server.
 */

const SESSION_SECRET = randomBytes(32).toString("base64url");
process.env.SESSION_SECRET = SESSION_SECRET;

const slug = "recipient-links";
const WORKSPACE_NAME = "Chai & Co";
let server: TestServer;
let owner: TestUser;
let alice: Browser;
let workspace: Workspace;
let ctx: WorkspaceContext;

interface Sent {
  contactId: number;
  email: string;
  messageId: string;
  unsubscribe: string;
  open: string | null;
  click: string | null;
}

async function marketingEmail(
  consentOn: Channel[] = ["email"],
  phone: string | null = null,
): Promise<Sent> {
  const email = `reader-${randomBytes(3).toString("hex")}@example.com`;
  const contactId = insertContact(ctx.db, { name: "Reader", email, phone });
  for (const channel of consentOn) giveConsent(ctx.db, contactId, channel, "granted");
  const summary = queueMessages(ctx, [
    {
      contactId,
      channel: "email",
      kind: "marketing",
      content: {
        channel: "email",
        subject: "Monsoon sale",
        html: '<p>Hello! <a href="https://shop.example/sale?x=1&amp;y=2">See the sale</a></p>',
        text: "Hello! https://shop.example/sale",
      },
    },
  ]);
  expect(summary.queued).toBe(1);
  const messageId = summary.ids[0]!;
  const content = getMessage(ctx, messageId).content;
  if (content?.channel !== "email") throw new Error("not an email");
  const token = (path: string) =>
    new RegExp(`/${path}/([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43})`).exec(content.html)?.[1] ?? null;
  const unsubscribe = token("u");
  if (!unsubscribe) throw new Error(`no unsubscribe link in ${content.html}`);
  return { contactId, email, messageId, unsubscribe, open: token("t/o"), click: token("t/c") };
}

/** A person's browser: node's own user agent is rightly not counted as a person. */
const AS_PERSON: RequestInit = {
  headers: {
    "User-Agent":
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  },
};

function consentOf(contactId: number, channel: Channel): string | undefined {
  return ctx.db
    .select({ status: consents.status })
    .from(consents)
    .where(and(eq(consents.contactId, contactId), eq(consents.channel, channel)))
    .get()?.status;
}

function suppressed(sent: Sent, channel: Channel): boolean {
  return isSuppressed(ctx.db, suppressionKey(ctx.db), { email: sent.email, phone: null }, channel);
}

function oneClick(token: string, init: RequestInit = {}): Promise<Response> {
  return server.fetch(`/u/${token}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "List-Unsubscribe=One-Click",
    ...init,
  });
}

function postForm(token: string, fields: [string, string][]): Promise<Response> {
  return server.fetch(`/u/${token}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", origin: server.url },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Same payload, one character changed: the signature no longer matches. */
function tamper(token: string): string {
  const [payload, signature] = token.split(".") as [string, string];
  const flipped = payload.endsWith("A") ? `${payload.slice(0, -1)}B` : `${payload.slice(0, -1)}A`;
  return `${flipped}.${signature}`;
}

beforeAll(async () => {
  ({ owner, workspace, ctx } = await makeTeam({
    owner: "Rhea Owner",
    workspace: { slug, name: WORKSPACE_NAME },
  }));
  server = await startServer({ env: { SESSION_SECRET } });
  alice = await signedIn(server, owner);
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("the unsubscribe page /u/<token>", () => {
  it("a GET shows the choices and changes nothing", async () => {
    const sent = await marketingEmail(["email", "sms"], "+919876500001");
    for (let i = 0; i < 2; i++) {
      const res = await server.fetch(`/u/${sent.unsubscribe}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("x-robots-tag")).toContain("noindex");
      const html = await textOf(res);
      expect(html).toContain(`${WORKSPACE_NAME} — manage your messages`);
      expect(html).toMatch(/<meta name="robots" content="noindex/);
      // The address is masked; the full one never appears.
      const local = sent.email.split("@")[0]!;
      expect(html).toContain(`re${"•".repeat(local.length - 2)}@example.com`);
      expect(html).not.toContain(sent.email);
      expect(html).toMatch(/<input[^>]*type="checkbox"[^>]*name="subscribed"[^>]*value="email"/);
      expect(html).toMatch(/<input[^>]*type="checkbox"[^>]*name="subscribed"[^>]*value="sms"/);
      expect(html).toContain("Unsubscribe from all");
    }
    expect(consentOf(sent.contactId, "email")).toBe("granted");
    expect(suppressed(sent, "email")).toBe(false);
  });

  it("RFC 8058 one-click: no cookie, no Origin, answers 200 (not a redirect) and unsubscribes", async () => {
    const sent = await marketingEmail();
    const res = await oneClick(sent.unsubscribe);
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await textOf(res)).toContain("You are unsubscribed");
    expect(consentOf(sent.contactId, "email")).toBe("withdrawn");
    expect(suppressed(sent, "email")).toBe(true);
    // A second one-click (mail clients retry) is fine and changes nothing more.
    expect((await oneClick(sent.unsubscribe)).status).toBe(200);
    expect(consentOf(sent.contactId, "email")).toBe("withdrawn");
  });

  it("one-click also works as multipart/form-data", async () => {
    const sent = await marketingEmail();
    const body = new FormData();
    body.set("List-Unsubscribe", "One-Click");
    const res = await server.fetch(`/u/${sent.unsubscribe}`, { method: "POST", body });
    expect(res.status).toBe(200);
    expect(consentOf(sent.contactId, "email")).toBe("withdrawn");
  });

  it("a forged or altered token is a 400 that changes nothing", async () => {
    const victim = await marketingEmail();
    const other = await marketingEmail();
    // The other contact's signature on a payload naming the victim.
    const [victimPayload] = victim.unsubscribe.split(".");
    const [, otherSignature] = other.unsubscribe.split(".");
    for (const token of [
      `${victimPayload}.${otherSignature}`,
      tamper(victim.unsubscribe),
      victim.unsubscribe.slice(0, -2),
      "nonsense",
    ]) {
      const get = await server.fetch(`/u/${token}`);
      expect(get.status, token).toBe(400);
      expect(await textOf(get)).toContain("This link is not valid");
      const post = await oneClick(token);
      expect(post.status, token).toBe(400);
      expect(post.headers.get("location")).toBeNull();
      const form = await postForm(token, [["intent", "unsubscribe-all"]]);
      expect(form.status, token).toBe(400);
    }
    expect(consentOf(victim.contactId, "email")).toBe("granted");
    expect(consentOf(other.contactId, "email")).toBe("granted");
    expect(suppressed(victim, "email")).toBe(false);
  });

  it("the page's form saves choices, leaves all, and offers to resubscribe", async () => {
    const sent = await marketingEmail(["email", "sms"], "+919876500002");
    // Keep email, leave SMS.
    let res = await postForm(sent.unsubscribe, [
      ["intent", "save"],
      ["subscribed", "email"],
    ]);
    expect(res.status).toBe(200);
    let html = await textOf(res);
    expect(html).toContain("Your choices are saved");
    expect(html).toContain("no longer send you marketing messages by SMS");
    expect(consentOf(sent.contactId, "email")).toBe("granted");
    expect(consentOf(sent.contactId, "sms")).toBe("withdrawn");

    // Leave everything: the answer offers exactly what was just left.
    res = await postForm(sent.unsubscribe, [["intent", "unsubscribe-all"]]);
    expect(res.status).toBe(200);
    html = await textOf(res);
    expect(html).toContain("You are unsubscribed");
    expect(html).toContain("Resubscribe to Email");
    expect(consentOf(sent.contactId, "email")).toBe("withdrawn");
    expect(suppressed(sent, "email")).toBe(true);

    // Resubscribe through the page form.
    res = await postForm(sent.unsubscribe, [
      ["intent", "resubscribe"],
      ["channel", "email"],
    ]);
    expect(res.status).toBe(200);
    expect(await textOf(res)).toContain("Welcome back");
    expect(consentOf(sent.contactId, "email")).toBe("granted");
    expect(suppressed(sent, "email")).toBe(false);
    // SMS was left separately and stays left.
    expect(consentOf(sent.contactId, "sms")).toBe("withdrawn");
  });

  it("resubscribing after a one-click unsubscribe works", async () => {
    const sent = await marketingEmail();
    expect((await oneClick(sent.unsubscribe)).status).toBe(200);
    expect(suppressed(sent, "email")).toBe(true);
    const res = await postForm(sent.unsubscribe, [
      ["intent", "resubscribe"],
      ["channel", "email"],
    ]);
    expect(res.status).toBe(200);
    expect(consentOf(sent.contactId, "email")).toBe("granted");
    expect(suppressed(sent, "email")).toBe(false);
  });
});

describe("tracking links", () => {
  it("/t/c/<token> redirects only to the signed URL and counts the click", async () => {
    const sent = await marketingEmail();
    expect(sent.click).not.toBeNull();
    const res = await server.fetch(`/t/c/${sent.click}`, AS_PERSON);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://shop.example/sale?x=1&y=2");
    expect(getMessage(ctx, sent.messageId).clickedAt).toBeInstanceOf(Date);
    const events = ctx.db
      .select()
      .from(contactEvents)
      .where(eq(contactEvents.contactId, sent.contactId))
      .all();
    expect(events.map((e) => e.type)).toContain("message.clicked");
  });

  it("a tampered click token is a 400 with a clear message, never a redirect", async () => {
    const sent = await marketingEmail();
    const [payload, signature] = sent.click!.split(".") as [string, string];
    const evil = Buffer.from(
      Buffer.from(payload, "base64url")
        .toString("utf8")
        .replace("https://shop.example/sale?x=1&y=2", "https://evil.example/"),
    ).toString("base64url");
    for (const token of [`${evil}.${signature}`, tamper(sent.click!), "nonsense"]) {
      const res = await server.fetch(`/t/c/${token}`);
      expect(res.status, token).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("This link is not valid");
    }
    // The open pixel's token is not a click token either.
    expect((await server.fetch(`/t/c/${sent.open}`)).status).toBe(400);
    expect(getMessage(ctx, sent.messageId).clickedAt).toBeNull();
  });

  it("/t/o/<token> answers a GIF and records the open while the workspace tracks opens", async () => {
    const sent = await marketingEmail();
    expect(sent.open).not.toBeNull();
    const res = await server.fetch(`/t/o/${sent.open}`, AS_PERSON);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/gif");
    expect(res.headers.get("cache-control")).toContain("no-store");
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 6).toString("ascii")).toBe("GIF89a");
    expect(getMessage(ctx, sent.messageId).openedAt).toBeInstanceOf(Date);

    // A bad token gets the same image, never an error.
    for (const token of [tamper(sent.open!), "nonsense", sent.click!]) {
      const bad = await server.fetch(`/t/o/${token}`);
      expect(bad.status).toBe(200);
      expect(bad.headers.get("content-type")).toBe("image/gif");
      expect(Buffer.from(await bad.arrayBuffer()).equals(body)).toBe(true);
    }
  });

  it("records no opens once the workspace turns open tracking off in settings", async () => {
    const sent = await marketingEmail();
    // The owner turns opens off (clicks stay on) on the settings page.
    const res = await alice.post(`/w/${slug}/settings`, {
      name: WORKSPACE_NAME,
      country: "IN",
      timezone: "Asia/Kolkata",
      currency: "INR",
      trackClicks: "on",
      stopKeywords: "CANCEL, stop,  band   karo ",
    });
    expect(res.status).toBe(302);
    const row = getControlDb()
      .select()
      .from(workspaces)
      .where(eq(workspaces.id, workspace.id))
      .get()!;
    expect(row.trackOpens).toBe(false);
    expect(row.trackClicks).toBe(true);
    // STOP always works, so it is not stored again; spaces are tidied.
    expect(row.stopKeywords).toBe("CANCEL,band karo");

    const pixel = await server.fetch(`/t/o/${sent.open}`, AS_PERSON);
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get("content-type")).toBe("image/gif");
    expect(getMessage(ctx, sent.messageId).openedAt).toBeNull();

    // New marketing email carries no pixel at all now.
    const later = await marketingEmail();
    expect(later.open).toBeNull();
    expect(later.click).not.toBeNull();

    const settings = await textOf(await alice.get(`/w/${slug}/settings`));
    expect(settings).toMatch(/<input[^>]*name="trackOpens"(?![^>]*checked)[^>]*>/);
    expect(settings).toMatch(/<input[^>]*name="trackClicks"[^>]*checked/);
    expect(settings).toContain('value="CANCEL, band karo"');
  });
});
