import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaigns } from "~/db/schema/tenant";
import { listAuditEvents } from "~/domain/audit/audit-queries.server";
import type { CampaignContext } from "~/domain/campaigns/campaigns.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import {
  emailTokens,
  LINKS,
  queueReportCampaign,
  recordComplaint,
  settleMessage,
} from "../support/campaign-report";
import type { TestServer } from "../support/server";
import { decodeHtml, textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The campaign report, its CSV and the workspace dashboard through the real server. The
 * campaign is created and queued by the domain in this process (same DATA_DIR and signing
 * key as the server), its messages settled as the dispatcher and webhooks record them, and
 * the recipients click and unsubscribe through the server's own link routes.
 */

const SESSION_SECRET = randomBytes(32).toString("base64url");
process.env.SESSION_SECRET = SESSION_SECRET;

const TZ = "Asia/Kolkata";
const IST = 5.5 * 3_600_000;
const DAY = 86_400_000;
const MIN = 60_000;
const slug = "campaign-report";
const otherSlug = "campaign-report-other";

let server: TestServer;
let owner: TestUser;
let workspace: Workspace;
let alice: Browser;
let viewer: Browser;
let agent: Browser;
let ctx: CampaignContext;
let otherCtx: CampaignContext;
let campaignId: number;
/** 09:00 in Kolkata three days ago: every crafted event falls on that day. */
const t0 = Math.floor((Date.now() + IST) / DAY) * DAY - 3 * DAY + 9 * 60 * MIN - IST;
const report = () => `/w/${slug}/campaigns/${campaignId}/report`;

/** Every table row of the page as its cells' text. */
function rows(html: string): string[][] {
  return [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      decodeHtml(cell[1]!.replace(/<[^>]+>/g, "")).trim(),
    ),
  );
}

/** The cells after the first, of the row whose first cell is `label`. */
function row(html: string, label: string): string[] {
  const found = rows(html).find((cells) => cells[0] === label);
  if (!found)
    throw new Error(
      `no row "${label}" in ${rows(html)
        .map((r) => r[0])
        .join(" | ")}`,
    );
  return found.slice(1);
}

const dayLabel = (ms: number) =>
  new Date(ms).toLocaleString("en-GB", { timeZone: TZ, day: "numeric", month: "short" });

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Rina Owner",
    workspace: { slug, name: "Report Shop", timezone: TZ },
    members: {
      viewer: { name: "Vik Viewer", role: "viewer" },
      agent: { name: "Anu Agent", role: "agent" },
    },
  });
  ({ owner, workspace } = team);
  const them = await makeTeam({
    owner: "Omar Outsider",
    workspace: { slug: otherSlug, name: "Other Secret Shop" },
  });
  ctx = {
    ...team.ctx,
    userId: owner.id,
  };
  otherCtx = {
    ...them.ctx,
    userId: them.owner.id,
  };
  server = await startServer({ env: { SESSION_SECRET } });
  ({ alice, viewer, agent } = await signInAll(server, {
    alice: owner,
    ...team.members,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("workspace dashboard before anything was sent", () => {
  it("shows the getting-started checklist instead of empty numbers", async () => {
    const res = await alice.get(`/w/${slug}`);
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toContain("Welcome, Rina Owner");
    expect(html).toContain("Get started");
    expect(html).not.toContain("Last 30 days");
    expect(html).toContain(`href="/w/${slug}/campaigns/new"`);
  });
});

describe("campaign report", () => {
  beforeAll(async () => {
    // The other workspace has two campaigns, so id 2 exists there and not here.
    for (const name of ["Other one", "Other two"]) {
      queueReportCampaign(otherCtx, {
        name,
        channel: "email",
        contacts: [{ name: "o", email: `${name.replace(" ", "")}@other.test` }],
      });
    }
    const queued = queueReportCampaign(
      { ...ctx, now: () => new Date(t0 - 60 * MIN) },
      {
        name: "Monsoon sale",
        channel: "email",
        variants: ["A", "B"],
        abMetric: "clicked",
        contacts: [
          { name: "c1", email: "c1@report.test" },
          { name: "c2", email: "c2@report.test" },
          { name: "c3", email: "c3@report.test" },
          { name: "c4", email: "c4@report.test" },
          { name: "c5", email: "c5@report.test" },
          { name: "c6", email: "=2+3@report.test" },
          { name: "c7", email: "c7@report.test", consent: false },
        ],
      },
    );
    campaignId = queued.campaignId;
    expect(queued.contactIds).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const m = (n: number) => queued.messageIds.get(n)!;
    settleMessage(ctx, m(1), {
      status: "delivered",
      sentAt: t0 + 5 * MIN,
      deliveredAt: t0 + 6 * MIN,
      openedAt: t0 + 65 * MIN,
    });
    settleMessage(ctx, m(2), {
      status: "delivered",
      sentAt: t0 + 5 * MIN,
      deliveredAt: t0 + 7 * MIN,
      openedAt: t0 + 10 * MIN,
    });
    settleMessage(ctx, m(3), {
      status: "failed",
      sentAt: t0 + 20 * MIN,
      failedAt: t0 + 21 * MIN,
      error: "SES MessageRejected: Email address is not verified.",
    });
    settleMessage(ctx, m(4), {
      status: "bounced",
      sentAt: t0 + 20 * MIN,
      failedAt: t0 + 80 * MIN,
      error: "Permanent/General: smtp; 550 5.1.1 user unknown",
    });
    settleMessage(ctx, m(5), {
      status: "delivered",
      sentAt: t0 + 15 * MIN,
      deliveredAt: t0 + 16 * MIN,
    });
    settleMessage(ctx, m(6), { status: "sent", sentAt: t0 + 30 * MIN });
    // Recipients use the links in their email: c1 clicks the sale twice, c2 the other link.
    const c1 = emailTokens(ctx, m(1));
    for (const token of [c1.clicks[0]!, c1.clicks[0]!, emailTokens(ctx, m(2)).clicks[1]!]) {
      // From a phone's browser: node's own user agent is rightly not counted as a person.
      const res = await server.fetch(`/t/c/${token}`, {
        redirect: "manual",
        headers: {
          "User-Agent":
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
        },
      });
      expect(res.status).toBe(302);
    }
    const unsubscribe = await server.fetch(`/u/${emailTokens(ctx, m(5)).unsubscribe}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(unsubscribe.status).toBe(200);
    recordComplaint(ctx, 2, m(2));
    ctx.db
      .update(campaigns)
      .set({ winner: "B", status: "completed" })
      .where(eq(campaigns.id, campaignId))
      .run();
  });

  it("shows the funnel, hours, failures, links, unsubscribes and variants", async () => {
    const res = await alice.get(report());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain("Report: Monsoon sale");
    expect(html).toContain(`href="${report()}.csv"`);
    expect(html).toContain(`href="/w/${slug}/campaigns/${campaignId}"`);

    expect(row(html, "Audience")).toEqual(["7", ""]);
    expect(row(html, "Queued")).toEqual(["6", ""]);
    expect(row(html, "Sent")).toEqual(["6", ""]);
    expect(row(html, "Delivered")).toEqual(["3", "50% of sent"]);
    expect(row(html, "Opened")).toEqual(["2", "66.7% of delivered"]);
    expect(row(html, "Clicked")).toEqual(["2", "66.7% of delivered"]);
    expect(row(html, "Replied")).toEqual(["0", "0% of delivered"]);
    expect(row(html, "Failed or bounced")).toEqual(["2", "33.3% of queued"]);
    expect(row(html, "Not sent (skipped)")).toEqual(["1", ""]);
    expect(row(html, "No marketing consent on this channel")).toEqual(["1"]);

    // Hours on Kolkata's clock; the funnel chart is server-rendered SVG with a title.
    expect(row(html, `${dayLabel(t0)} 09:00`)).toEqual(["6", "3", "1", "0", "1"]);
    expect(row(html, `${dayLabel(t0)} 10:00`)).toEqual(["0", "0", "1", "0", "1"]);
    expect(html).toMatch(/<svg viewBox="0 0 640 \d+" role="img"/);
    expect(html).toContain("<title");
    expect(html).toContain(">Funnel of Monsoon sale</title>");

    // Known provider codes in plain words, with SES's own words on a details line.
    const [rejected, rejectedCount] = row(html, "SES MessageRejected");
    expect(rejected).toContain("Amazon SES refused to send this email.");
    expect(rejected).toContain("Details: SES MessageRejected: Email address is not verified.");
    expect(rejectedCount).toBe("1");
    expect(row(html, "Permanent/General")).toEqual(["smtp; 550 5.1.1 user unknown", "1"]);
    expect(row(html, LINKS[0])).toEqual(["2", "1"]);
    expect(row(html, LINKS[1])).toEqual(["1", "1"]);
    expect(html).toMatch(/<dt>Unsubscribed<\/dt><dd>1<\/dd>/);
    expect(html).toMatch(/<dt>Bounced<\/dt><dd>1<\/dd>/);
    expect(html).toMatch(/<dt>Complaints<\/dt><dd>1<\/dd>/);
    expect(html).toMatch(/<dt>Unsubscribe rate<\/dt><dd>33.3%<\/dd>/);

    expect(row(html, "A")).toEqual(["3", "3", "1", "1", "1", "0", "1", "33.3%"]);
    expect(row(html, "Bwinner")).toEqual(["3", "3", "2", "1", "1", "0", "1", "33.3%"]);
  });

  it("exports one CSV row per recipient, formula-safe and audited", async () => {
    const res = await alice.get(`${report()}.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="campaign-${campaignId}-${slug}-recipients.csv"`,
    );
    const lines = (await res.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "recipient,contact_id,variant,status,queued_at,sent_at,delivered_at,read_at,opened_at," +
        "clicked_at,failed_at,error_code,error_reason",
    );
    const records = lines.slice(1).map((l) => l.split(","));
    expect(records.map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
      ["c1@report.test", "1", "B", "delivered"],
      ["c2@report.test", "2", "A", "delivered"],
      ["c3@report.test", "3", "B", "failed"],
      ["c4@report.test", "4", "A", "bounced"],
      ["c5@report.test", "5", "B", "delivered"],
      ["'=2+3@report.test", "6", "A", "sent"],
      ["c7@report.test", "7", "B", "skipped"],
    ]);
    expect(records[2]!.slice(5)).toEqual([
      new Date(t0 + 20 * MIN).toISOString(),
      "",
      "",
      "",
      "",
      new Date(t0 + 21 * MIN).toISOString(),
      "SES MessageRejected",
      "Email address is not verified.",
    ]);
    // c1's click was recorded by the server just now.
    expect(records[0]![9]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(records[6]![12]).toBe("No marketing consent on this channel");
    // No cell starts with a character a spreadsheet would run as a formula.
    expect(records.flat().filter((cell) => /^[=+\-@]/.test(cell))).toEqual([]);

    const audit = listAuditEvents(
      { workspaceId: workspace.id, action: "campaign.report_exported" },
      { limit: 5 },
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actorId: owner.id, targetId: String(campaignId) });
  });

  it("answers 404 for a campaign this workspace does not have", async () => {
    for (const id of ["2", "999999", "abc", "0", "1.5", "99999999999999999999"]) {
      for (const path of [
        `/w/${slug}/campaigns/${id}/report`,
        `/w/${slug}/campaigns/${id}/report.csv`,
      ]) {
        const res = await alice.get(path);
        expect(res.status, path).toBe(404);
        const text = await res.text();
        expect(text).not.toContain("Other one");
        expect(text).not.toContain("Other two");
      }
    }
  });

  it("lets a viewer read the report but not download its recipients (a contact export); not an agent", async () => {
    const page = await viewer.get(report());
    expect(page.status).toBe(200);
    const html = await textOf(page);
    expect(row(html, "Delivered")).toEqual(["3", "50% of sent"]);
    expect(html).not.toContain("Download CSV");
    expect((await viewer.get(`${report()}.csv`)).status).toBe(403);
    expect((await agent.get(report())).status).toBe(403);
    expect((await agent.get(`${report()}.csv`)).status).toBe(403);
  });
});

describe("workspace dashboard", () => {
  it("shows the last 30 days per channel and the recent campaigns", async () => {
    const res = await alice.get(`/w/${slug}`);
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toContain("Last 30 days");
    expect(html).not.toContain("Nothing sent in the last 30 days");
    expect(html).toMatch(/<h2 class="card-title">Email<\/h2>/);
    expect(html).toMatch(/<dt>Sent<\/dt><dd>6<\/dd>/);
    expect(html).toMatch(/<dt>Delivery rate<\/dt><dd>50%<\/dd>/);
    expect(html).toMatch(/<dt>Clicked<\/dt><dd>2<\/dd>/);
    expect(html).toMatch(/<dt>Failed<\/dt><dd>2<\/dd>/);
    expect(html).toContain(">Email: the last 30 days</title>");
    // The crafted day, on Kolkata's clock: sent, delivered, opened, clicked, failed.
    expect(row(html, dayLabel(t0))).toEqual(["6", "3", "2", "0", "2"]);
    // The clicks came in today.
    expect(row(html, dayLabel(Date.now()))).toEqual(["0", "0", "0", "2", "0"]);
    // 30 days, the oldest 29 days ago.
    expect(rows(html).filter((r) => r.length === 6 && /^\d+ \w{3}$/.test(r[0]!))).toHaveLength(30);
    expect(html).toMatch(new RegExp(`<a [^>]*href="${report()}"[^>]*>Monsoon sale</a>`));
    const recent = rows(html).filter((r) => r[0]!.startsWith("Monsoon sale"));
    expect(recent).toHaveLength(1);
    expect(recent[0]![0]).toMatch(/^Monsoon saleEmail · /);
    expect(recent[0]!.slice(1)).toEqual(["completed", "6", "3", "2", "2", "2", "50%"]);
    // Nothing of the other workspace.
    expect(html).not.toContain("Other one");
  });

  it("shows the overview to a viewer and the rest of the home page to an agent", async () => {
    const seen = await textOf(await viewer.get(`/w/${slug}`));
    expect(seen).toMatch(/<dt>Sent<\/dt><dd>6<\/dd>/);
    expect(seen).not.toContain(`href="/w/${slug}/campaigns/new"`);
    const res = await agent.get(`/w/${slug}`);
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toContain("Welcome, Anu Agent");
    expect(html).not.toContain("Last 30 days");
  });
});
