import { beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "~/lib/env.server";
import { queueReportCampaign, settleMessage } from "../../../tests/support/campaign-report";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { CampaignContext } from "../campaigns/campaigns.server";
import { DAY_MS, localBucket, offsetSpans } from "./local-time.server";
import { workspaceOverview } from "./overview.server";

/**
 * The workspace overview: days on the workspace's clock (Kolkata, 5:30 ahead of UTC), only
 * the last 30 of them, per channel, and the recent campaigns' headline numbers.
 */

const TZ = "Asia/Kolkata";
const IST = 5.5 * 3_600_000;
const MIN = 60_000;
let ctx: CampaignContext;
let now: number;

const istDay = (ms: number) => new Date(ms + IST).toISOString().slice(0, 10);

beforeAll(async () => {
  process.env.BASE_URL = "https://engage.test";
  reloadEnv();
  const wctx = await makeWorkspace("overview-domain");
  now = Date.now();
  ctx = { ...wctx, now: () => new Date(now), userId: wctx.actor.id };
});

describe("offsetSpans", () => {
  it("finds a daylight-saving change to the minute and buckets by it", () => {
    const from = Date.UTC(2026, 2, 20);
    const change = Date.UTC(2026, 2, 29, 1);
    const spans = offsetSpans(from, Date.UTC(2026, 3, 10), "Europe/London");
    expect(spans).toEqual([
      { from, offsetMs: 0 },
      { from: change, offsetMs: 3_600_000 },
    ]);
    // 23:30 UTC on the 29th is already 00:30 on the 30th in London.
    expect(localBucket(Date.UTC(2026, 2, 29, 23, 30), spans, DAY_MS)).toBe(
      Date.UTC(2026, 2, 30) / DAY_MS,
    );
    expect(offsetSpans(from, Date.UTC(2026, 3, 10), TZ)).toEqual([{ from, offsetMs: IST }]);
  });
});

describe("workspaceOverview", () => {
  it("is empty before anything was sent", () => {
    const overview = workspaceOverview(ctx);
    expect(overview.channels).toEqual([]);
    expect(overview.recentCampaigns).toEqual([]);
    expect(overview.to).toBe(istDay(now));
  });

  it("counts the last 30 days per channel on the workspace's clock", () => {
    // Midnight starting yesterday, Kolkata time.
    const yesterday = Math.floor((now + IST) / DAY_MS) * DAY_MS - DAY_MS - IST;
    const mail = queueReportCampaign(ctx, {
      name: "Overview mail",
      channel: "email",
      contacts: [
        { name: "e1", email: "e1@overview.test" },
        { name: "e2", email: "e2@overview.test" },
        { name: "e3", email: "e3@overview.test" },
      ],
    });
    const [e1, e2, e3] = mail.contactIds.map((id) => mail.messageIds.get(id)!);
    // 23:45 the day before yesterday in Kolkata: the same UTC date as yesterday's midnight.
    settleMessage(ctx, e1!, {
      status: "delivered",
      sentAt: yesterday - 15 * MIN,
      deliveredAt: yesterday + 5 * MIN,
      openedAt: yesterday + 120 * MIN,
      clickedAt: yesterday + 121 * MIN,
    });
    settleMessage(ctx, e2!, {
      status: "failed",
      sentAt: yesterday + 60 * MIN,
      failedAt: yesterday + 61 * MIN,
      error: "SES MessageRejected: no",
    });
    // Forty days ago: outside the window.
    settleMessage(ctx, e3!, {
      status: "delivered",
      sentAt: now - 40 * DAY_MS,
      deliveredAt: now - 40 * DAY_MS + MIN,
    });
    const chat = queueReportCampaign(ctx, {
      name: "Overview chat",
      channel: "whatsapp",
      contacts: [
        { name: "w1", phone: "+919810000201" },
        { name: "w2", phone: "+919810000202", consent: false },
      ],
    });
    settleMessage(ctx, chat.messageIds.get(chat.contactIds[0]!)!, {
      status: "read",
      sentAt: yesterday + 180 * MIN,
      deliveredAt: yesterday + 181 * MIN,
      readAt: yesterday + 240 * MIN,
    });

    const overview = workspaceOverview(ctx);
    const today = istDay(now);
    expect(overview.to).toBe(today);
    expect(overview.from).toBe(istDay(now - 29 * DAY_MS));
    expect(overview.channels.map((c) => c.channel)).toEqual(["email", "whatsapp"]);
    const [email, whatsapp] = overview.channels;
    expect(email!.days).toHaveLength(30);
    expect(email!.days.at(-1)!.day).toBe(today);
    const nonZero = (
      days: { sent: number; delivered: number; failed: number; seen: number; clicked: number }[],
    ) => days.filter((d) => d.sent + d.delivered + d.failed + d.seen + d.clicked > 0);
    expect(nonZero(email!.days)).toEqual([
      { day: istDay(yesterday - DAY_MS), sent: 1, delivered: 0, failed: 0, seen: 0, clicked: 0 },
      { day: istDay(yesterday), sent: 1, delivered: 1, failed: 1, seen: 1, clicked: 1 },
    ]);
    expect(email!.totals).toEqual({ sent: 2, delivered: 1, failed: 1, seen: 1, clicked: 1 });
    expect(email!.deliveryRate).toBe(0.5);
    expect(nonZero(whatsapp!.days)).toEqual([
      { day: istDay(yesterday), sent: 1, delivered: 1, failed: 0, seen: 1, clicked: 0 },
    ]);
    expect(whatsapp!.deliveryRate).toBe(1);

    expect(overview.recentCampaigns).toMatchObject([
      {
        id: chat.campaignId,
        name: "Overview chat",
        channel: "whatsapp",
        recipients: 1,
        sent: 1,
        delivered: 1,
        seen: 1,
        clicked: 0,
        failed: 0,
        deliveryRate: 1,
      },
      {
        id: mail.campaignId,
        name: "Overview mail",
        channel: "email",
        recipients: 3,
        sent: 3,
        delivered: 2,
        seen: 1,
        clicked: 1,
        failed: 1,
        deliveryRate: 2 / 3,
      },
    ]);
  });
});
