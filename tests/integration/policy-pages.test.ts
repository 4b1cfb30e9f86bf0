import { and, eq, gt } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { policyAcceptances, policyVersions } from "~/db/schema/control";
import type { SystemContext } from "~/domain/context";
import { publishPolicy } from "~/domain/privacy/policy-versions.server";
import { listFileMailbox } from "~/emails/transport.server";
import { formatCalendarDay } from "~/lib/format";
import { createVerifiedUser, type Browser, type TestUser } from "../support/accounts";
import { createPlatformAdmin, enrolTotp, signInWithTotp, type TestAdmin } from "../support/admin";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { signInAll, startServer } from "../support/teams";

/**
 * Privacy policy versions through the real server: /privacy, /privacy/v/<n>, the banner on
 * signed-in pages and its acknowledgement, and the admin publishing page. Versions are seeded
 * with the domain functions in this process (it shares DATA_DIR with the server).
 */

const DAY = 24 * 60 * 60 * 1000;
const daysFromToday = (n: number) => new Date(Date.now() + n * DAY).toISOString().slice(0, 10);
const cli: SystemContext = { actor: { type: "cli" }, now: () => new Date() };
const BANNER = "Our privacy policy changes on";
const SHIPPED_V2_DATE = "2026-12-21";

function accepted(userId: string, version: number): boolean {
  return (
    getControlDb()
      .select()
      .from(policyAcceptances)
      .where(and(eq(policyAcceptances.userId, userId), eq(policyAcceptances.version, version)))
      .get() !== undefined
  );
}

/** Who was sent the notice of the version taking effect on `effectiveDate`. */
async function noticeRecipients(effectiveDate: string): Promise<string[]> {
  const subject = `Our privacy policy changes on ${formatCalendarDay(effectiveDate)}`;
  const { items } = await listFileMailbox({ limit: 10_000, offset: 0 });
  return items
    .filter((m) => m.subject === subject)
    .map((m) => m.to.toLowerCase())
    .sort();
}

describe("privacy policy pages", () => {
  let server: TestServer;
  let asha: TestUser;
  let bala: TestUser;
  let admin: TestAdmin;
  let asAsha: Browser;
  let asBala: Browser;
  let asAdmin: Browser;

  beforeAll(async () => {
    asha = await createVerifiedUser({ email: "asha.policy@example.com", name: "Asha" });
    bala = await createVerifiedUser({ email: "bala.policy@example.com", name: "Bala" });
    admin = await createPlatformAdmin({ email: "policy-root@example.com" });
    await enrolTotp(admin);
    server = await startServer();
    ({ asAsha, asBala } = await signInAll(server, { asAsha: asha, asBala: bala }));
    asAdmin = await signInWithTotp(server, admin);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("publishes the shipped version 2 at start-up: v1 in force, v2 announced with every sub-processor, notices sent", async () => {
    // content/privacy-policy/2026-12-21.md, with at least 14 days' notice from the server's start.
    const shippedEffective = [SHIPPED_V2_DATE, daysFromToday(14)].sort()[1]!;
    const res = await server.fetch("/privacy");
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toContain("Version 1, in force since 10 June 2026.");
    expect(html).toContain("1. Introduction");
    expect(html).toContain("Cookies we set");
    expect(html).toMatch(/<code>engage_session<\/code>/);
    expect(html).toContain("HttpOnly, SameSite=Lax, Path=/");
    expect(html).toMatch(/<code>engage_flash<\/code>/);
    expect(html).toContain("We rely on the following sub-processors");
    expect(html).toContain("Hostinger VPS");
    expect(html).toContain("All platform data (stored in India)");
    expect(html).not.toContain("Telegram (Bot API)");
    expect(html).toContain("Policy history");
    expect(html).toMatch(/<a [^>]*href="\/privacy\/v\/1"[^>]*>Version 1<\/a>/);
    expect(html).toContain(`A new version takes effect on ${formatCalendarDay(shippedEffective)}`);
    expect(html).toMatch(/<a [^>]*href="\/privacy\/v\/2"[^>]*>Read version 2<\/a>/);

    const v2 = await textOf(await server.fetch("/privacy/v/2"));
    for (const row of ["Telegram (Bot API)", "Twilio (SMS API)", "Google (Google Sign-In)"]) {
      expect(v2, row).toContain(row);
    }
    expect(await textOf(await asAsha.get("/account"))).toContain(BANNER);
    // Everyone registered before the start got the notice, through the normal job.
    const everyone = [asha.email, bala.email, admin.email].sort();
    let recipients: string[] = [];
    for (let i = 0; i < 50 && recipients.length < everyone.length; i++) {
      recipients = await noticeRecipients(shippedEffective);
      if (recipients.length < everyone.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recipients).toEqual(everyone);

    expect((await server.fetch("/privacy/v/1")).status).toBe(200);
    for (const path of ["/privacy/v/3", "/privacy/v/abc", "/privacy/v/0", "/privacy/v/1e3"]) {
      expect((await server.fetch(path)).status, path).toBe(404);
    }
    // The rest of this file exercises publishing from a policy with v1 alone.
    getControlDb().delete(policyVersions).where(gt(policyVersions.version, 1)).run();
  });

  it("shows no banner while nothing is announced", async () => {
    const res = await asAsha.get("/account");
    expect(res.status).toBe(200);
    const page = await textOf(res);
    expect(page).toContain("Sign out");
    expect(page).not.toContain(BANNER);
  });

  it("announces a published version on /privacy and with a banner, HTML escaped", async () => {
    const effective = daysFromToday(14);
    publishPolicy(cli, {
      markdown: "## 1. What changes\n\nWe add **Telegram**.\n\n<script>alert('x')</script>\n",
      effectiveDate: effective,
    });

    const privacy = await textOf(await server.fetch("/privacy"));
    expect(privacy).toContain("Version 1, in force since 10 June 2026.");
    expect(privacy).toContain("A new version takes effect on");
    expect(privacy).toMatch(/<a [^>]*href="\/privacy\/v\/2"[^>]*>Read version 2<\/a>/);

    const v2 = await server.fetch("/privacy/v/2");
    expect(v2.status).toBe(200);
    const v2Html = await v2.text();
    expect(v2Html).toContain("<h3>1. What changes</h3>");
    expect(v2Html).toContain("<strong>Telegram</strong>");
    expect(v2Html).toContain("&lt;script&gt;alert(");
    expect(v2Html).not.toContain("<script>alert(");

    // Every signed-in page carries the banner, for everyone who has not acknowledged it.
    for (const [browser, path] of [
      [asAsha, "/account"],
      [asAsha, "/account/security"],
      [asBala, "/account"],
    ] as const) {
      const res = await browser.get(path);
      expect(res.status, path).toBe(200);
      const page = await textOf(res);
      expect(page, path).toContain(BANNER);
      expect(page).toContain('href="/privacy/v/2"');
      expect(page).toContain("Read what changes.");
    }
    // Not for visitors who are not signed in.
    expect(await textOf(await server.fetch("/privacy"))).not.toContain(BANNER);
  });

  it("records the acknowledgement and stops showing the banner to that user only", async () => {
    const res = await asAsha.post("/privacy/accept", {
      version: "2",
      redirectTo: "/account/security",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/account/security");
    expect(accepted(asha.id, 2)).toBe(true);
    expect(await textOf(await asAsha.get("/account"))).not.toContain(BANNER);
    expect(await textOf(await asBala.get("/account"))).toContain(BANNER);

    // Off-site redirects fall back; unknown or malformed versions are 404s and record nothing.
    const offsite = await asBala.post("/privacy/accept", {
      version: "2",
      redirectTo: "//evil.example",
    });
    expect(offsite.headers.get("location")).toBe("/workspaces");
    expect((await asBala.post("/privacy/accept", { version: "99" })).status).toBe(404);
    expect((await asBala.post("/privacy/accept", { version: "x" })).status).toBe(404);
    // Not signed in: sent to sign in.
    const anonymous = await server.fetch("/privacy/accept", {
      method: "POST",
      headers: {
        origin: server.url,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "version=2",
    });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toMatch(/^\/login/);
  });

  it("lets a platform admin preview and publish a version, refusing 13 days ahead", async () => {
    const page = await textOf(await asAdmin.get("/admin/policy"));
    expect(page).toContain("Privacy policy versions");
    expect(page).toContain("Publish a new version");
    expect(page).toMatch(/<label for="[^"]+">Effective date<\/label>/);
    // Version 2 was accepted by Asha (and sign-ups accepted version 1).
    expect(page).toMatch(/<a [^>]*href="\/privacy\/v\/2"[^>]*>Version 2<\/a>/);

    const post = (fields: Record<string, string>) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      return server.fetch("/admin/policy", {
        method: "POST",
        headers: { cookie: asAdmin.cookie, origin: server.url },
        body: form,
      });
    };
    const markdown = "## 1. Version three\n\nAnother change.";

    const early = await post({ intent: "preview", markdown, effectiveDate: daysFromToday(13) });
    expect(early.status).toBe(400);
    expect(await textOf(early)).toContain("must be at least 14 days after today");

    const preview = await post({ intent: "preview", markdown, effectiveDate: daysFromToday(21) });
    expect(preview.status).toBe(200);
    const previewHtml = await textOf(preview);
    expect(previewHtml).toContain("Preview of version 3");
    expect(previewHtml).toContain("<h3>1. Version three</h3>");
    expect(previewHtml).toContain("Publish version 3");

    const unconfirmed = await post({
      intent: "publish",
      markdown,
      effectiveDate: daysFromToday(21),
    });
    expect(unconfirmed.status).toBe(400);
    const unconfirmedHtml = await textOf(unconfirmed);
    expect(unconfirmedHtml).toContain("Tick the box to confirm");
    // The preview stays beside the refusal, so the admin can tick the box and publish.
    expect(unconfirmedHtml).toContain("<h3>1. Version three</h3>");
    expect(unconfirmedHtml).toContain("Publish version 3");

    // A binary file is refused on its field, and the date typed is kept.
    const binary = new FormData();
    binary.set("intent", "preview");
    binary.set("effectiveDate", daysFromToday(21));
    binary.set("file", new File(["PK\u0000\u0003"], "policy.docx"));
    const refused = await server.fetch("/admin/policy", {
      method: "POST",
      headers: { cookie: asAdmin.cookie, origin: server.url },
      body: binary,
    });
    expect(refused.status).toBe(400);
    const refusedHtml = await textOf(refused);
    expect(refusedHtml).toContain("Upload a text (Markdown) file.");
    expect(refusedHtml).toContain(`value="${daysFromToday(21)}"`);
    expect(refusedHtml).not.toContain("Preview of version 3");
    expect(getControlDb().select().from(policyVersions).all()).toHaveLength(2);

    // A file upload takes the place of the text area.
    const form = new FormData();
    form.set("intent", "publish");
    form.set("markdown", "ignored");
    form.set("effectiveDate", daysFromToday(21));
    form.set("confirm", "on");
    form.set("file", new File([markdown], "policy.md", { type: "text/markdown" }));
    const published = await server.fetch("/admin/policy", {
      method: "POST",
      headers: { cookie: asAdmin.cookie, origin: server.url },
      body: form,
    });
    expect(published.status).toBe(302);
    expect(published.headers.get("location")).toBe("/admin/policy");
    const v3 = getControlDb()
      .select()
      .from(policyVersions)
      .where(eq(policyVersions.version, 3))
      .get();
    expect(v3).toMatchObject({ effectiveDate: daysFromToday(21), markdown, publishedBy: admin.id });

    // The notices go out in the background: to every active account, the admin included.
    const everyone = [asha.email, bala.email, admin.email].sort();
    let recipients: string[] = [];
    for (let i = 0; i < 50 && recipients.length < everyone.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      recipients = await noticeRecipients(daysFromToday(21));
    }
    expect(recipients).toEqual(everyone);
  });

  it("stops the banner once the effective date has come", async () => {
    // As if 14 days had passed: versions 2 and 3 take effect today.
    getControlDb()
      .update(policyVersions)
      .set({ effectiveDate: new Date().toISOString().slice(0, 10) })
      .where(gt(policyVersions.version, 1))
      .run();
    expect(await textOf(await asBala.get("/account"))).not.toContain(BANNER);
    const privacy = await textOf(await server.fetch("/privacy"));
    expect(privacy).toMatch(/Version 3, in force since/);
    expect(privacy).not.toContain("A new version takes effect");
  });

  it("is not open to people who are not platform admins", async () => {
    expect((await asBala.get("/admin/policy")).status).toBe(404);
  });
});
