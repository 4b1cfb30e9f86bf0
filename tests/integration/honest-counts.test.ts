import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contactEvents, messages } from "~/db/schema/tenant";
import type { WorkspaceContext } from "~/domain/context";
import { getMessage, queueMessages } from "~/domain/delivery/outbox.server";
import { sendMail } from "~/emails/transport.server";
import { saveTemplate } from "~/domain/templates/templates.server";
import { signedIn, type Browser, type TestUser } from "../support/accounts";
import { giveConsent, insertContact } from "../support/contacts";
import type { TestServer } from "../support/server";
import { makeTeam, startServer } from "../support/teams";

/**
 * Opens and clicks count people only, against the real server: in-app views of an email carry
 * no pixel and no tracked link, and hits from our app, scanners, bots, prefetches and HEAD
 * requests still get their image or redirect but change no count.
 */

const SESSION_SECRET = randomBytes(32).toString("base64url");
process.env.SESSION_SECRET = SESSION_SECRET;

const slug = "honest-counts";
const otherSlug = "honest-counts-other";
const SALE = "https://shop.example/sale?x=1&y=2";
const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

let server: TestServer;
let owner: TestUser;
let alice: Browser;
let ctx: WorkspaceContext;
let otherCtx: WorkspaceContext;

interface Sent {
  /** BASE_URL's origin, as the email's links carry it. */
  appOrigin: string;
  contactId: number;
  messageId: string;
  open: string;
  click: string;
}

/** A marketing email as the outbox stores it (pixel, tracked link), sent an hour ago. */
function sentEmail(c: WorkspaceContext = ctx): Sent {
  const email = `reader-${randomBytes(3).toString("hex")}@example.com`;
  const contactId = insertContact(c.db, { name: "Reader", email });
  giveConsent(c.db, contactId, "email", "granted");
  const { ids } = queueMessages(c, [
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
  const messageId = ids[0]!;
  const hourAgo = new Date(Date.now() - 3_600_000);
  c.db
    .update(messages)
    .set({ status: "delivered", sentAt: hourAgo, deliveredAt: hourAgo })
    .where(eq(messages.id, messageId))
    .run();
  const content = getMessage(c, messageId).content;
  if (content?.channel !== "email") throw new Error("not an email");
  const token = (path: string) =>
    new RegExp(`/${path}/([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43})`).exec(content.html)?.[1];
  const open = token("t/o");
  const click = token("t/c");
  if (!open || !click) throw new Error(`no tracking in ${content.html}`);
  const appOrigin = new URL(/href="([^"]+\/t\/c\/)/.exec(content.html)![1]!).origin;
  return { appOrigin, contactId, messageId, open, click };
}

function counts(messageId: string) {
  const m = getMessage(ctx, messageId);
  return { openedAt: m.openedAt, clickedAt: m.clickedAt };
}

function events(contactId: number, type: string) {
  return ctx.db
    .select()
    .from(contactEvents)
    .where(and(eq(contactEvents.contactId, contactId), eq(contactEvents.type, type)))
    .all()
    .map((e) => JSON.parse(e.data ?? "{}") as Record<string, unknown>);
}

beforeAll(async () => {
  ({ owner, ctx } = await makeTeam({
    owner: "Rhea Owner",
    workspace: { slug, name: "Chai & Co" },
  }));
  ({ ctx: otherCtx } = await makeTeam({
    owner: "Omar Outsider",
    workspace: { slug: otherSlug, name: "Other Shop" },
  }));
  server = await startServer({ env: { SESSION_SECRET } });
  alice = await signedIn(server, owner);
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("in-app views of a sent email", () => {
  it("the message page shows the email without its pixel or tracked links, and counts stay", async () => {
    const sent = sentEmail();
    const res = await alice.get(`/w/${slug}/messages/${sent.messageId}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("See the sale");
    expect(html).not.toContain("/t/o/");
    expect(html).not.toContain("/t/c/");
    expect(html).not.toContain(sent.open);
    expect(html).not.toContain(sent.click);
    // The link points at the shop itself (escaped twice: in srcdoc, inside the page).
    expect(html).toContain("https://shop.example/sale?x=1&amp;amp;y=2");
    expect(html).toContain("never counts as an open or a click");
    expect(counts(sent.messageId)).toEqual({ openedAt: null, clickedAt: null });
  });

  it("another workspace's message is a 404 on this workspace's message page", async () => {
    const theirs = sentEmail(otherCtx);
    const res = await alice.get(`/w/${slug}/messages/${theirs.messageId}`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain(theirs.click);
  });

  it("the template preview has no pixel or tracked link", async () => {
    const template = saveTemplate(ctx, {
      channel: "email",
      name: "Monsoon",
      subject: "Monsoon sale",
      preheader: null,
      blocks: [
        { type: "paragraph", text: "Hello" },
        { type: "button", text: "See the sale", url: SALE },
      ],
      trackLinks: true,
    });
    const res = await alice.get(`/w/${slug}/templates/${template.id}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("See the sale");
    expect(html).not.toContain("/t/o/");
    expect(html).not.toContain("/t/c/");
  });
});

describe("the dev mailbox", () => {
  it("shows a marketing email without its pixel or tracked links", async () => {
    const sent = sentEmail();
    const content = getMessage(ctx, sent.messageId).content;
    if (content?.channel !== "email") throw new Error("not an email");
    const mail = await sendMail({
      to: "reader@example.com",
      subject: "Monsoon sale",
      text: content.text,
      html: content.html,
    });
    const res = await server.fetch(`/dev/mailbox/${mail.id}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("See the sale");
    expect(html).not.toContain("/t/o/");
    expect(html).not.toContain("/t/c/");
    expect(html).toContain("https://shop.example/sale?x=1&amp;amp;y=2");
  });
});

describe("machine hits redirect or answer but are not counted", () => {
  it("a person's click and open count", async () => {
    const sent = sentEmail();
    const click = await server.fetch(`/t/c/${sent.click}`, { headers: { "User-Agent": CHROME } });
    expect(click.status).toBe(302);
    expect(click.headers.get("location")).toBe(SALE);
    await server.fetch(`/t/o/${sent.open}`, { headers: { "User-Agent": CHROME } });
    const after = counts(sent.messageId);
    expect(after.openedAt).toBeInstanceOf(Date);
    expect(after.clickedAt).toBeInstanceOf(Date);
    expect(events(sent.contactId, "message.clicked")).toHaveLength(1);
  });

  it("scanners, bots, prefetches, HEAD and our own app still reach the link, uncounted", async () => {
    const sent = sentEmail();
    const hits: [string, RequestInit, string][] = [
      ["Safe Links", { headers: { "User-Agent": "Barracuda Sentinel (EE)" } }, "link-scanner"],
      ["curl", { headers: { "User-Agent": "curl/8.5.0" } }, "bot"],
      ["no UA", { headers: { "User-Agent": "" } }, "no-user-agent"],
      ["prefetch", { headers: { "User-Agent": CHROME, "Sec-Purpose": "prefetch" } }, "prefetch"],
      ["HEAD", { method: "HEAD", headers: { "User-Agent": CHROME } }, "head-request"],
      [
        "our app",
        { headers: { "User-Agent": CHROME, Referer: `${sent.appOrigin}/w/${slug}/messages` } },
        "our-app",
      ],
    ];
    for (const [name, init] of hits) {
      const res = await server.fetch(`/t/c/${sent.click}`, init);
      expect(res.status, name).toBe(302);
      expect(res.headers.get("location"), name).toBe(SALE);
    }
    expect(counts(sent.messageId).clickedAt).toBeNull();
    expect(events(sent.contactId, "message.clicked")).toHaveLength(0);
    // Each is kept with its reason, for an audit of the count.
    expect(events(sent.contactId, "message.click_not_counted").map((e) => e.reason)).toEqual(
      hits.map(([, , reason]) => reason),
    );
    // The contact's timeline says why.
    const page = await (await alice.get(`/w/${slug}/contacts/${sent.contactId}`)).text();
    expect(page).toContain("Click not counted (Email): a mail security scanner checking the link");
  });

  it("Apple Mail Privacy Protection and our app get the pixel but no open", async () => {
    const sent = sentEmail();
    for (const headers of <Record<string, string>[]>[
      { "User-Agent": "Mozilla/5.0" },
      { "User-Agent": CHROME, "Sec-Fetch-Site": "same-origin" },
    ]) {
      const res = await server.fetch(`/t/o/${sent.open}`, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/gif");
    }
    expect(counts(sent.messageId).openedAt).toBeNull();
    expect(events(sent.contactId, "message.open_not_counted").map((e) => e.reason)).toEqual([
      "privacy-proxy",
      "our-app",
    ]);
  });

  it("a click within 2 s of sending is a scanner's", async () => {
    const sent = sentEmail();
    ctx.db
      .update(messages)
      .set({ sentAt: new Date() })
      .where(eq(messages.id, sent.messageId))
      .run();
    const res = await server.fetch(`/t/c/${sent.click}`, { headers: { "User-Agent": CHROME } });
    expect(res.status).toBe(302);
    expect(counts(sent.messageId).clickedAt).toBeNull();
    expect(events(sent.contactId, "message.click_not_counted")[0]?.reason).toBe("too-soon");
  });
});
