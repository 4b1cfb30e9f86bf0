import { eq } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { dsarRequests, dsarTasks, workspaces } from "~/db/schema/control";
import { contacts } from "~/db/schema/tenant";
import { createContact } from "~/domain/contacts/contacts.server";
import { indexSubjects, subjectHash, subjectHashes } from "~/domain/privacy/subject-index.server";
import { openWorkspaceContext } from "~/domain/workspaces/access.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import {
  createVerifiedUser,
  createWorkspaceFor,
  findMail,
  type TestUser,
} from "../support/accounts";
import { createPlatformAdmin, enrolTotp, lastAuditRow, signInWithTotp } from "../support/admin";
import { createSmsFake, type SmsFake } from "../fakes/sms";
import { runCli, type TestServer } from "../support/server";
import { textOf } from "../support/html";
import { startServer } from "../support/teams";

/**
 * The privacy request portals through the real server, as a browser without JavaScript uses
 * them. Verification mail is read from the dev mailbox files in the shared DATA_DIR; subject
 * index entries are seeded here as contact writes would make them.
 */

let server: TestServer;
let owner: TestUser;
let shop: Workspace;
let other: Workspace;
let ipCounter = 0;

const unique = () => randomBytes(4).toString("hex");

/** A form POST from a fresh client address (the per-IP limit is tested on its own). */
function post(path: string, fields: Record<string, string>, ip?: string): Promise<Response> {
  ipCounter += 1;
  return server.fetch(path, {
    method: "POST",
    headers: {
      origin: server.url,
      "content-type": "application/x-www-form-urlencoded",
      "x-forwarded-for": ip ?? `198.51.100.${ipCounter % 250}`,
    },
    body: new URLSearchParams(fields).toString(),
  });
}

function requestCount(): number {
  return getControlDb().select().from(dsarRequests).all().length;
}

beforeAll(async () => {
  server = await startServer({
    env: { TRUST_PROXY: "loopback" },
  });
  owner = await createVerifiedUser({ name: "Priya Owner" });
  shop = createWorkspaceFor(owner, { slug: `dsar-shop-${unique()}`, name: "Sunrise Sarees" });
  other = createWorkspaceFor(owner, { slug: `dsar-other-${unique()}`, name: "Other Outfit" });
});

afterAll(async () => {
  await server?.stop();
});

describe("a workspace's portal", () => {
  it("takes a request, verifies it by the emailed link and shows its status", async () => {
    const email = `asha-${unique()}@example.com`;
    indexSubjects(shop.id, [subjectHash("email", email)]);
    indexSubjects(other.id, [subjectHash("email", email)]);

    const page = await server.fetch(`/dsar/${shop.slug}`);
    expect(page.status).toBe(200);
    const html = await textOf(page);
    expect(html).toContain("Privacy request to Sunrise Sarees");
    for (const label of ["Email address", "Phone number", "What should we change?"]) {
      expect(html).toContain(label);
    }
    expect(html).toContain('name="website"');

    const res = await post(`/dsar/${shop.slug}`, { type: "export", email: email.toUpperCase() });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`/dsar/${shop.slug}?sent=1`);
    const sent = await textOf(await server.fetch(res.headers.get("location")!));
    expect(sent).toContain("If we hold data about you, we have sent a link");

    const mail = await findMail(email, /Confirm your privacy request/);
    expect(mail).not.toBeNull();
    expect(mail!.text).toContain("Sunrise Sarees");
    expect(mail!.text).not.toContain("Other Outfit");
    const verifyPath = /http:\/\/[^/\s]+(\/dsar\/verify\/[A-Za-z0-9_-]+)/.exec(mail!.text)?.[1];
    expect(verifyPath).toBeDefined();

    // Opening the link changes nothing (mail scanners follow links); the button confirms.
    const confirmPage = await textOf(await server.fetch(verifyPath!));
    expect(confirmPage).toContain("Confirm my request");
    const row = getControlDb()
      .select()
      .from(dsarRequests)
      .where(eq(dsarRequests.emailHash, subjectHash("email", email)))
      .get()!;
    expect(row.status).toBe("unverified");

    const confirmed = await post(verifyPath!, {});
    expect(confirmed.status).toBe(302);
    const statusPath = confirmed.headers.get("location")!;
    expect(statusPath).toMatch(/^\/dsar\/status\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);

    const tasks = getControlDb()
      .select()
      .from(dsarTasks)
      .where(eq(dsarTasks.requestId, row.id))
      .all();
    expect(tasks.map((t) => t.workspaceId)).toEqual([shop.id]);

    const status = await server.fetch(statusPath);
    expect(status.status).toBe(200);
    expect(status.headers.get("cache-control")).toBe("no-store");
    const statusHtml = await textOf(status);
    expect(statusHtml).toContain("Get a copy of my data to download");
    expect(statusHtml).toContain("In progress");
    expect(statusHtml).toContain("Sunrise Sarees");
    expect(statusHtml).not.toContain("Other Outfit");
    const due = new Date(row.receivedAt.getTime() + 30 * 86_400_000);
    const dueDay = due.toLocaleDateString("en-GB", {
      day: "numeric",
      month: "short",
      year: "numeric",
      timeZone: "UTC",
    });
    expect(statusHtml).toContain(`Due by</th><td>${dueDay}`);
    expect(statusHtml).toMatch(/(29|30) days left/);

    // The link works once.
    const again = await post(verifyPath!, {});
    expect(again.status).toBe(400);
    expect(await textOf(again)).toContain("expired or was already used");
  });

  it("refuses the honeypot and bad input with 4xx and messages, storing nothing", async () => {
    const before = requestCount();
    const bot = await post(`/dsar/${shop.slug}`, {
      type: "access",
      email: "bot@example.com",
      website: "http://spam.example",
    });
    expect(bot.status).toBe(400);
    expect(await textOf(bot)).toContain("Leave the “Website” field empty");

    const empty = await post(`/dsar/${shop.slug}`, { type: "access" });
    expect(empty.status).toBe(400);
    expect(await textOf(empty)).toContain("Enter your email address or your phone number");

    const noType = await post(`/dsar/${shop.slug}`, { email: "a@example.com" });
    expect(noType.status).toBe(400);
    expect(await textOf(noType)).toContain("Choose what you would like us to do.");

    const badPhone = await post(`/dsar/${shop.slug}`, { type: "access", phone: "12" });
    expect(badPhone.status).toBe(400);
    expect(await textOf(badPhone)).toMatch(/not a (valid )?phone number/);

    const correction = await post(`/dsar/${shop.slug}`, {
      type: "correction",
      email: "a@example.com",
    });
    expect(correction.status).toBe(400);
    expect(await textOf(correction)).toContain("Tell us what is wrong and what it should say.");

    const platformLocal = await post("/dsar", {
      type: "access",
      email: "a@example.com",
      phone: "98111 55544",
    });
    expect(platformLocal.status).toBe(400);
    expect(await textOf(platformLocal)).toContain("country code");
    expect(requestCount()).toBe(before);
  });

  it("answers 404 for unknown workspaces, and for garbage verify, code and status links", async () => {
    expect((await server.fetch("/dsar/no-such-workspace-here")).status).toBe(404);
    expect(
      (await post("/dsar/no-such-workspace-here", { type: "access", email: "a@b.co" })).status,
    ).toBe(404);
    expect((await server.fetch("/dsar/status/xxxx")).status).toBe(404);
    expect((await server.fetch("/dsar/code/xxxx")).status).toBe(404);
    const verify = await server.fetch("/dsar/verify/xxxx");
    expect(verify.status).toBe(200);
    expect(await textOf(verify)).toContain("This link cannot be used");
    expect((await post("/dsar/verify/xxxx", {})).status).toBe(400);
  });

  it("limits submissions from one address", async () => {
    const ip = "203.0.113.99";
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await post("/dsar", { type: "access", email: `rl-${unique()}@example.com` }, ip);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(await textOf(res)).toContain("Too many attempts");
      }
    }
    expect(statuses.slice(0, 10).every((s) => s === 302)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe("without any SMS account (no platform SMS, no workspace integration)", () => {
  it("says before submitting that a phone alone is not enough, and refuses a phone-only request", async () => {
    for (const path of ["/dsar", `/dsar/${shop.slug}`]) {
      const form = await textOf(await server.fetch(path));
      expect(form).toContain("A phone number alone is not enough here");
      expect(form).toContain("send your request in writing to privacy@pleisys.com");
      const before = requestCount();
      const res = await post(path, { type: "erasure", phone: "+919811155544" });
      expect(res.status).toBe(400);
      const html = await textOf(res);
      expect(html).toContain("a request with only a phone number cannot be confirmed here");
      expect(requestCount()).toBe(before);
    }
  });
});

describe("the platform portal", () => {
  it("shows the form with every request type and links from /privacy", async () => {
    const html = await textOf(await server.fetch("/dsar"));
    for (const label of [
      "See the data held about me",
      "Get a copy of my data to download",
      "Correct my data",
      "Erase my data",
      "Stop all messages to me",
      "Delete a child's data",
      "Country of the phone number",
      "Stop messages from",
    ]) {
      expect(html).toContain(label);
    }
    expect(await textOf(await server.fetch("/privacy"))).toContain('href="/dsar"');
  });
});

describe("the admin page", () => {
  it("lists requests with due dates and logs a request received by email", async () => {
    const admin = await createPlatformAdmin();
    await enrolTotp(admin);
    const browser = await signInWithTotp(server, admin);

    const list = await browser.get("/admin/privacy-requests");
    expect(list.status).toBe(200);
    const html = await textOf(list);
    expect(html).toContain("Log a request received by email");
    expect(html).toMatch(/days left/);

    const email = `mailed-${unique()}@example.com`;
    const missingNote = await browser.post("/admin/privacy-requests", {
      type: "erasure",
      email,
      receivedOn: new Date().toISOString().slice(0, 10),
      identityVerified: "on",
    });
    expect(missingNote.status).toBe(400);
    expect(await textOf(missingNote)).toContain("Say how you verified");

    const logged = await browser.post("/admin/privacy-requests", {
      type: "erasure",
      email,
      receivedOn: new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10),
    });
    expect(logged.status).toBe(302);
    const row = getControlDb()
      .select()
      .from(dsarRequests)
      .where(eq(dsarRequests.emailHash, subjectHash("email", email)))
      .get()!;
    expect(row).toMatchObject({ source: "email", loggedBy: admin.id, status: "unverified" });
    expect(await findMail(email, /Confirm your privacy request/)).not.toBeNull();
    expect(lastAuditRow("dsar.logged", row.id)?.actorType).toBe("admin");

    // Not for anyone else: the admin area is a 404 to people who are not platform admins.
    const ownerRes = await server.fetch("/admin/privacy-requests");
    expect([302, 404]).toContain(ownerRes.status);
  });
});

/**
 * The same portals with the platform's SMS account configured (PLATFORM_SMS_*, pointed at the
 * fake Twilio-compatible API), and the "proven identifiers only" rule replayed over HTTP.
 */
describe("with the platform's SMS account", () => {
  const platformAccount = { sid: "AC" + "b2".repeat(16), token: "platform-sms-token" };
  let sms: SmsFake;
  let smsServer: TestServer;
  let smsIp = 0;

  function smsPost(path: string, fields: Record<string, string>): Promise<Response> {
    smsIp += 1;
    return smsServer.fetch(path, {
      method: "POST",
      headers: {
        origin: smsServer.url,
        "content-type": "application/x-www-form-urlencoded",
        "x-forwarded-for": `192.0.2.${smsIp % 250}`,
      },
      body: new URLSearchParams(fields).toString(),
    });
  }

  function codeTo(phone: string): string | undefined {
    const texts = sms.sent.filter((m) => m.to === phone);
    return /code is (\d{6})/.exec(texts[texts.length - 1]?.body ?? "")?.[1];
  }

  async function linkTo(email: string): Promise<string> {
    const mail = await findMail(email, /Confirm your privacy request/);
    return /http:\/\/[^/\s]+(\/dsar\/verify\/[A-Za-z0-9_-]+)/.exec(mail!.text)![1]!;
  }

  beforeAll(async () => {
    sms = createSmsFake({ accounts: [platformAccount] });
    await sms.start();
    // One server per DATA_DIR: this one takes over from the server without SMS.
    await server.stop();
    smsServer = await startServer({
      env: {
        TRUST_PROXY: "loopback",
        SMS_API_BASE_URL: sms.url,
        PLATFORM_SMS_ACCOUNT_SID: platformAccount.sid,
        PLATFORM_SMS_AUTH_TOKEN: platformAccount.token,
        PLATFORM_SMS_FROM: "+15005550002",
      },
    });
  }, 60_000);

  afterAll(async () => {
    await smsServer?.stop();
    await sms?.stop();
  });

  it("texts a phone-only requester's code on /dsar from the platform account", async () => {
    const form = await textOf(await smsServer.fetch("/dsar"));
    expect(form).not.toContain("A phone number alone is not enough here");
    const res = await smsPost("/dsar", { type: "access", phone: "+919811166677" });
    expect(res.status).toBe(302);
    const codePath = res.headers.get("location")!;
    expect(codePath).toMatch(/^\/dsar\/code\//);
    const sent = sms.sent.filter((m) => m.to === "+919811166677");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ accountSid: platformAccount.sid, from: "+15005550002" });
    const right = await smsPost(codePath, { code: codeTo("+919811166677")! });
    expect(right.status).toBe(302);
    const status = await textOf(await smsServer.fetch(right.headers.get("location")!));
    expect(status).toContain("We hold no data about you.");
    expect(status).toContain("Your phone number, which you confirmed.");
  });

  it("sends a phone requester to the code page and accepts the texted code", async () => {
    const res = await smsPost(`/dsar/${shop.slug}`, { type: "opt_out", phone: "98111 55544" });
    expect(res.status).toBe(302);
    const codePath = res.headers.get("location")!;
    expect(codePath).toMatch(/^\/dsar\/code\//);
    const page = await textOf(await smsServer.fetch(codePath));
    expect(page).toContain("Code from the text message");

    const code = codeTo("+919811155544");
    expect(code).toBeDefined();
    expect(sms.sent.find((m) => m.to === "+919811155544")!.body).toContain("Sunrise Sarees");

    const wrong = await smsPost(codePath, { code: code === "000000" ? "111111" : "000000" });
    expect(wrong.status).toBe(400);
    expect(await textOf(wrong)).toContain("That code is not right. You can try 4 more times.");

    const right = await smsPost(codePath, { code: code! });
    expect(right.status).toBe(302);
    const status = await textOf(await smsServer.fetch(right.headers.get("location")!));
    // Nobody holds this number: completed at once, and the page says so.
    expect(status).toContain("We hold no data about you.");
    expect(status).toContain("Completed");
  });

  it("my email and the victim's phone, proved in my inbox: the victim's data stays put", async () => {
    const victim = { email: `victim-${unique()}@example.com`, phone: "+919876512345" };
    const attacker = { email: `attacker-${unique()}@example.com`, phone: "+919812398765" };
    const ctxOf = (ws: Workspace) =>
      openWorkspaceContext(ws.id, { type: "user", id: owner.id }, {});
    const seed = (ws: Workspace, name: string, who: typeof victim) => {
      const row = createContact(ctxOf(ws), { name, ...who });
      indexSubjects(ws.id, subjectHashes({ email: row.email, phone: row.phone }));
      return row.id;
    };
    const victimHere = seed(shop, "Vera Victim", victim);
    const victimThere = seed(other, "Vera Victim", victim);
    seed(shop, "Arjun Attacker", attacker);
    getControlDb()
      .update(workspaces)
      .set({ dsarAutoApprove: true })
      .where(eq(workspaces.id, shop.id))
      .run();

    const res = await smsPost(`/dsar/${shop.slug}`, {
      type: "erasure",
      email: attacker.email,
      phone: victim.phone,
    });
    expect(res.status).toBe(302);
    const confirmed = await smsPost(await linkTo(attacker.email), {});
    expect(confirmed.status).toBe(302);
    const status = await textOf(await smsServer.fetch(confirmed.headers.get("location")!));
    expect(status).toContain("Your email address only, which you confirmed.");
    expect(status).toContain("The phone number you gave was not confirmed, so it was not used");
    expect(status).not.toContain("Other Outfit");

    const run = await runCli(["jobs", "run", "dsar-tasks"], { DATA_DIR: process.env.DATA_DIR! });
    expect(run.code).toBe(0);
    const row = getControlDb()
      .select()
      .from(dsarRequests)
      .where(eq(dsarRequests.emailHash, subjectHash("email", attacker.email)))
      .get()!;
    expect(row).toMatchObject({ status: "completed", phoneEnc: null, phoneProven: false });
    const exists = (ws: Workspace, id: number) =>
      ctxOf(ws).db.select().from(contacts).where(eq(contacts.id, id)).get() !== undefined;
    expect(exists(shop, victimHere)).toBe(true);
    expect(exists(other, victimThere)).toBe(true);
    // The outcome went to the address proven, and nothing but the code to the victim's phone.
    expect(await findMail(attacker.email, /complete/)).not.toBeNull();
    const texts = sms.sent.filter((m) => m.to === victim.phone);
    expect(texts.every((m) => /privacy request code/.test(m.body))).toBe(true);
  }, 60_000);

  it("the victim's email and my phone, proved by my code: nothing of the victim is exported", async () => {
    const victim = { email: `victim2-${unique()}@example.com`, phone: "+919876554321" };
    const attacker = { email: `attacker2-${unique()}@example.com`, phone: "+919812356789" };
    const ctxOf = (ws: Workspace) =>
      openWorkspaceContext(ws.id, { type: "user", id: owner.id }, {});
    for (const ws of [shop, other]) {
      const row = createContact(ctxOf(ws), { name: "Vera Victim", ...victim });
      indexSubjects(ws.id, subjectHashes({ email: row.email, phone: row.phone }));
    }
    const res = await smsPost("/dsar", {
      type: "export",
      email: victim.email,
      phone: attacker.phone,
    });
    expect(res.status).toBe(302);
    const codePath = res.headers.get("location")!;
    const confirmed = await smsPost(codePath, { code: codeTo(attacker.phone)! });
    expect(confirmed.status).toBe(302);
    const status = await textOf(await smsServer.fetch(confirmed.headers.get("location")!));
    expect(status).toContain("Your phone number only, which you confirmed.");
    // Nobody holds my phone: done at once, and no business of the victim's is named.
    expect(status).toContain("We hold no data about you.");
    expect(status).not.toContain("Sunrise Sarees");
    expect(status).not.toContain("Other Outfit");
    expect(await findMail(victim.email, /confirmed|complete/)).toBeNull();
  }, 60_000);
});
