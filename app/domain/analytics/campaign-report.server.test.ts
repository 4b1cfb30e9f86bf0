import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { campaigns, contactEvents } from "~/db/schema/tenant";
import { reloadEnv } from "~/lib/env.server";
import {
  emailTokens,
  LINKS,
  queueReportCampaign,
  recordComplaint,
  recordReply,
  settleMessage,
} from "../../../tests/support/campaign-report";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { CampaignContext } from "../campaigns/campaigns.server";
import { listAuditEvents } from "../audit/audit-queries.server";
import { followClick, unsubscribeOneClick } from "../delivery/recipient-links.server";
import { campaignReport, exportCampaignRecipientsCsv } from "./campaign-report.server";
import { splitProviderError } from "./provider-error";

/**
 * The campaign report on a crafted campaign: eleven contacts (three skipped for three
 * reasons), eight messages with known outcomes at known times, real click and unsubscribe
 * links, a complaint. Every number is checked exactly.
 */

/** A click from a person's browser (not our app, a scanner or a prefetch). */
const PERSON = {
  method: "GET",
  userAgent:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  referer: null,
  origin: null,
  secFetchSite: "cross-site",
  purpose: null,
};
const IST = 5.5 * 3_600_000;
const MIN = 60_000;
let ctx: CampaignContext;
/** A whole hour on Kolkata's clock, three days ago. */
let t0: number;

beforeAll(async () => {
  process.env.BASE_URL = "https://engage.test";
  reloadEnv();
  const wctx = await makeWorkspace("report-domain");
  ctx = { ...wctx, userId: wctx.actor.id };
  const threeDaysAgo = Date.now() - 3 * 86_400_000;
  t0 = Math.floor((threeDaysAgo + IST) / 3_600_000) * 3_600_000 - IST;
});

const localHour = (ms: number) => new Date(ms + IST).toISOString().slice(0, 16);

describe("splitProviderError", () => {
  it("splits provider codes, SES bounce types and exhausted retries", () => {
    expect(splitProviderError("WhatsApp 131026: Message undeliverable")).toEqual({
      code: "WhatsApp 131026",
      reason: "Message undeliverable",
    });
    expect(splitProviderError("SES MessageRejected: Email address is not verified.")).toEqual({
      code: "SES MessageRejected",
      reason: "Email address is not verified.",
    });
    expect(splitProviderError("Permanent/General: smtp; 550 5.1.1 user unknown")).toEqual({
      code: "Permanent/General",
      reason: "smtp; 550 5.1.1 user unknown",
    });
    expect(
      splitProviderError("Gave up after 5 attempts over 31 min: SMS 30003: Unreachable handset"),
    ).toEqual({ code: "SMS 30003", reason: "Unreachable handset (gave up after retries)" });
    expect(splitProviderError("Internal error; retrying")).toEqual({
      code: null,
      reason: "Internal error; retrying",
    });
    expect(splitProviderError(null)).toEqual({ code: null, reason: "No reason given" });
  });
});

describe("campaignReport", () => {
  it("counts an A/B email campaign exactly", async () => {
    // Created and queued an hour before the first send.
    const before = { ...ctx, now: () => new Date(t0 - 60 * MIN) };
    const { campaignId, contactIds, messageIds } = queueReportCampaign(before, {
      name: "Winter sale",
      channel: "email",
      variants: ["A", "B"],
      abMetric: "clicked",
      contacts: [
        { name: "c1", email: "c1@report.test" },
        { name: "c2", email: "c2@report.test" },
        { name: "c3", email: "c3@report.test" },
        { name: "c4", email: "c4@report.test" },
        { name: "c5", email: "c5@report.test" },
        { name: "c6", email: "c6@report.test" },
        { name: "c7", email: "c7@report.test" },
        { name: "c8", email: "=2+3@report.test" },
        { name: "c9", email: "c9@report.test", consent: false },
        { name: "c10", phone: "+919810000010" },
        { name: "c11", email: "c11@report.test", suppressed: true },
      ],
    });
    // Variants go by contact id (even A, odd B): the expectations below rely on these ids.
    expect(contactIds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(messageIds.size).toBe(11);
    const m = (n: number) => messageIds.get(n)!;
    const rejected = "SES MessageRejected: Email address is not verified.";
    settleMessage(ctx, m(1), {
      status: "delivered",
      sentAt: t0 + 5 * MIN,
      deliveredAt: t0 + 6 * MIN,
      openedAt: t0 + 65 * MIN,
      clickedAt: t0 + 70 * MIN,
    });
    settleMessage(ctx, m(2), {
      status: "delivered",
      sentAt: t0 + 5 * MIN,
      deliveredAt: t0 + 7 * MIN,
      openedAt: t0 + 10 * MIN,
      clickedAt: t0 + 20 * MIN,
    });
    settleMessage(ctx, m(3), {
      status: "delivered",
      sentAt: t0 + 10 * MIN,
      deliveredAt: t0 + 12 * MIN,
      openedAt: t0 + 130 * MIN,
    });
    settleMessage(ctx, m(4), {
      status: "delivered",
      sentAt: t0 + 15 * MIN,
      deliveredAt: t0 + 16 * MIN,
    });
    settleMessage(ctx, m(5), {
      status: "failed",
      sentAt: t0 + 20 * MIN,
      failedAt: t0 + 21 * MIN,
      error: rejected,
    });
    settleMessage(ctx, m(6), { status: "failed", failedAt: t0 + 75 * MIN, error: rejected });
    settleMessage(ctx, m(7), {
      status: "bounced",
      sentAt: t0 + 20 * MIN,
      failedAt: t0 + 80 * MIN,
      error: "Permanent/General: smtp; 550 5.1.1 user unknown",
    });
    settleMessage(ctx, m(8), { status: "sent", sentAt: t0 + 30 * MIN });

    // c1 clicks the sale link twice and the other once; c2 the sale link once.
    const c1 = emailTokens(ctx, m(1));
    expect(await followClick(c1.clicks[0]!, PERSON)).toBe(LINKS[0]);
    await followClick(c1.clicks[0]!, PERSON);
    await followClick(c1.clicks[1]!, PERSON);
    await followClick(emailTokens(ctx, m(2)).clicks[0]!, PERSON);
    // The click event carries the campaign and the URL.
    const event = ctx.db
      .select()
      .from(contactEvents)
      .where(eq(contactEvents.type, "message.clicked"))
      .get()!;
    expect(JSON.parse(event.data!)).toEqual({ messageId: m(1), campaignId, url: LINKS[0] });
    // c4 unsubscribes with one click; c2 complains; the winner was A.
    await unsubscribeOneClick(emailTokens(ctx, m(4)).unsubscribe);
    recordComplaint(ctx, 2, m(2));
    ctx.db.update(campaigns).set({ winner: "A" }).where(eq(campaigns.id, campaignId)).run();

    const report = campaignReport(ctx, campaignId);
    expect(report.funnel).toEqual({
      audience: 11,
      queued: 8,
      sent: 7,
      delivered: 4,
      seen: 3,
      clicked: 2,
      replied: 0,
      failed: 3,
      pending: 0,
      skipped: 3,
    });
    expect(report.rates).toEqual({
      delivery: 4 / 7,
      seen: 3 / 4,
      click: 2 / 4,
      clickToSeen: 2 / 3,
      reply: 0,
      failure: 3 / 8,
      unsubscribe: 1 / 4,
    });
    expect(report.skipped).toEqual([
      { reason: "No address on this channel", count: 1 },
      { reason: "No marketing consent on this channel", count: 1 },
      { reason: "On the suppression list", count: 1 },
    ]);
    expect(report.hourly).toEqual([
      { hour: localHour(t0), sent: 7, delivered: 4, seen: 1, clicked: 1, failed: 1 },
      { hour: localHour(t0 + 60 * MIN), sent: 0, delivered: 0, seen: 1, clicked: 1, failed: 2 },
      { hour: localHour(t0 + 120 * MIN), sent: 0, delivered: 0, seen: 1, clicked: 0, failed: 0 },
    ]);
    // Kolkata is 5:30 ahead: the hours start at :00 on its clock, not UTC's.
    expect(report.hourly[0]!.hour.endsWith(":00")).toBe(true);
    expect(report.hourlyTruncated).toBe(false);
    expect(report.failures).toEqual([
      { code: "SES MessageRejected", reason: "Email address is not verified.", count: 2 },
      { code: "Permanent/General", reason: "smtp; 550 5.1.1 user unknown", count: 1 },
    ]);
    expect(report.links).toEqual([
      { url: LINKS[0], clicks: 3, recipients: 2 },
      { url: LINKS[1], clicks: 1, recipients: 1 },
    ]);
    expect(report.suppressions).toEqual({ unsubscribed: 1, bounced: 1, complained: 1 });
    expect(report.campaign).toMatchObject({ id: campaignId, abMetric: "clicked", winner: "A" });
    expect(report.variants).toEqual([
      {
        key: "A",
        recipients: 4,
        sent: 3,
        delivered: 2,
        read: 0,
        opened: 1,
        seen: 1,
        clicked: 1,
        replied: 0,
        failed: 1,
        metricRate: 1 / 3,
        winner: true,
      },
      {
        key: "B",
        recipients: 4,
        sent: 4,
        delivered: 2,
        read: 0,
        opened: 2,
        seen: 2,
        clicked: 1,
        replied: 0,
        failed: 2,
        metricRate: 1 / 4,
        winner: false,
      },
    ]);

    // The CSV: one row per recipient in queue order, formula-safe, audited.
    const csv = [...exportCampaignRecipientsCsv(ctx, campaignId)].join("");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "recipient,contact_id,variant,status,queued_at,sent_at,delivered_at,read_at,opened_at," +
        "clicked_at,failed_at,error_code,error_reason",
    );
    expect(lines).toHaveLength(12);
    expect(lines.slice(1).map((l) => l.split(",")[3])).toEqual([
      "delivered",
      "delivered",
      "delivered",
      "delivered",
      "failed",
      "failed",
      "bounced",
      "sent",
      "skipped",
      "skipped",
      "skipped",
    ]);
    expect(lines[5]).toContain(`c5@report.test,5,B,failed,`);
    expect(lines[5]).toContain(
      `,${new Date(t0 + 20 * MIN).toISOString()},,,,,${new Date(t0 + 21 * MIN).toISOString()},SES MessageRejected,Email address is not verified.`,
    );
    expect(lines[8]!.startsWith("'=2+3@report.test,8,A,sent,")).toBe(true);
    expect(lines[10]).toBe(
      `,10,A,skipped,${lines[10]!.split(",")[4]},,,,,,,,No address on this channel`,
    );
    const audit = listAuditEvents(
      { workspaceId: ctx.workspaceId, action: "campaign.report_exported" },
      { limit: 5 },
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]!.targetId).toBe(String(campaignId));
  });

  it("gives an unsubscribe to the last message before it and counts replies per channel", async () => {
    const contacts = [
      { name: "Lena", email: "lena@report.test", phone: "+919810000101" },
      { name: "Ravi", email: "ravi@report.test", phone: "+919810000102" },
    ];
    const first = queueReportCampaign(ctx, { name: "First", channel: "email", contacts });
    const [lena, ravi] = first.contactIds as [number, number];
    const second = queueReportCampaign(ctx, {
      name: "Second",
      channel: "email",
      contacts: [lena, ravi],
    });
    const whatsapp = queueReportCampaign(ctx, {
      name: "Chat",
      channel: "whatsapp",
      contacts: [lena, ravi],
    });
    const day = 86_400_000;
    for (const id of [lena, ravi]) {
      settleMessage(ctx, first.messageIds.get(id)!, {
        status: "delivered",
        sentAt: t0 - 2 * day,
        deliveredAt: t0 - 2 * day + MIN,
      });
      settleMessage(ctx, second.messageIds.get(id)!, {
        status: "delivered",
        sentAt: t0 - day,
        deliveredAt: t0 - day + MIN,
      });
      settleMessage(ctx, whatsapp.messageIds.get(id)!, {
        status: "read",
        sentAt: t0,
        deliveredAt: t0 + MIN,
        readAt: t0 + 2 * MIN,
      });
    }
    // Lena leaves email through the first campaign's link, after the second reached her: the
    // second is the last email she got, so it caused it. Ravi answers on WhatsApp.
    await unsubscribeOneClick(emailTokens(ctx, first.messageIds.get(lena)!).unsubscribe);
    recordReply(ctx, ravi, "whatsapp", "+919810000102", t0 + 5 * MIN);

    expect(campaignReport(ctx, first.campaignId).suppressions.unsubscribed).toBe(0);
    expect(campaignReport(ctx, second.campaignId).suppressions.unsubscribed).toBe(1);
    const chat = campaignReport(ctx, whatsapp.campaignId);
    expect(chat.suppressions.unsubscribed).toBe(0);
    expect(chat.funnel).toMatchObject({ sent: 2, delivered: 2, seen: 2, replied: 1 });
    expect(chat.rates.reply).toBe(1 / 2);
    expect(chat.variants).toEqual([]);
    expect(campaignReport(ctx, second.campaignId).funnel.replied).toBe(0);
  });

  it("refuses an unknown campaign", () => {
    expect(() => campaignReport(ctx, 999_999)).toThrow(/not found/);
    expect(() => exportCampaignRecipientsCsv(ctx, 999_999)).toThrow(/not found/);
  });
});
