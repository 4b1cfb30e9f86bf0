import { CHANNELS, type Channel } from "~/lib/channels";
import { listCampaigns } from "../campaigns/campaigns.server";
import type { CampaignStatus } from "~/db/schema/tenant";
import type { WorkspaceContext } from "../context";
import {
  DAY_MS,
  localBucket,
  localBucketSql,
  localDayLabel,
  offsetSpans,
} from "./local-time.server";

/**
 * The workspace overview on its home page: the last 30 days per channel (each day on the
 * workspace's clock: sent, delivered, failed, read/opened, clicked), totals and delivery rate
 * per channel, and the recent campaigns with their headline numbers.
 */

export const OVERVIEW_DAYS = 30;
const RECENT_CAMPAIGNS = 5;
/** Messages written this long before the window still count for what happens inside it. */
const LATE_EVENTS_MS = 7 * DAY_MS;

export interface DayNumbers {
  sent: number;
  delivered: number;
  failed: number;
  /** Read (WhatsApp) or opened (email). */
  seen: number;
  clicked: number;
}

export interface DayPoint extends DayNumbers {
  /** "2026-11-26", the workspace's calendar day. */
  day: string;
}

export interface ChannelOverview {
  channel: Channel;
  days: DayPoint[];
  totals: DayNumbers;
  /** Delivered per sent; null when nothing was sent. */
  deliveryRate: number | null;
}

export interface RecentCampaign {
  id: number;
  name: string;
  channel: Channel;
  status: CampaignStatus;
  createdAt: Date;
  recipients: number;
  sent: number;
  delivered: number;
  seen: number;
  clicked: number;
  failed: number;
  deliveryRate: number | null;
}

export interface WorkspaceOverview {
  /** First and last day of the window. */
  from: string;
  to: string;
  /** Channels with anything in the window, in the usual channel order. */
  channels: ChannelOverview[];
  recentCampaigns: RecentCampaign[];
}

const METRICS = ["sent", "delivered", "failed", "seen", "clicked"] as const;

export function workspaceOverview(ctx: WorkspaceContext): WorkspaceOverview {
  const now = ctx.now().getTime();
  const spans = offsetSpans(
    now - (OVERVIEW_DAYS + 1) * DAY_MS - LATE_EVENTS_MS,
    now,
    ctx.workspace.timeZone,
  );
  const today = localBucket(now, spans, DAY_MS);
  const firstDay = today - OVERVIEW_DAYS + 1;
  const day = (column: string) => localBucketSql(column, spans, DAY_MS);
  // One pass over the window's messages, grouped by channel and the local day of each event.
  const rows = ctx.db.$client
    .prepare(
      `SELECT channel, ${day("sent_at")} AS sent, ${day("delivered_at")} AS delivered,
              ${day("CASE WHEN status IN ('failed', 'bounced') THEN failed_at END")} AS failed,
              ${day("coalesce(read_at, opened_at)")} AS seen, ${day("clicked_at")} AS clicked,
              count(*) AS n
         FROM messages WHERE created_at >= ? AND status NOT IN ('skipped', 'queued')
        GROUP BY 1, 2, 3, 4, 5, 6`,
    )
    .all(firstDay * DAY_MS - spans[0]!.offsetMs - LATE_EVENTS_MS) as (Record<
    (typeof METRICS)[number],
    number | null
  > & { channel: Channel; n: number })[];

  const byChannel = new Map<Channel, DayPoint[]>();
  for (const row of rows) {
    for (const metric of METRICS) {
      const at = row[metric];
      if (at === null || at < firstDay || at > today) continue;
      let days = byChannel.get(row.channel);
      if (!days) {
        days = Array.from({ length: OVERVIEW_DAYS }, (_, i) => ({
          day: localDayLabel(firstDay + i),
          sent: 0,
          delivered: 0,
          failed: 0,
          seen: 0,
          clicked: 0,
        }));
        byChannel.set(row.channel, days);
      }
      days[at - firstDay]![metric] += row.n;
    }
  }

  const channels = CHANNELS.filter((c) => byChannel.has(c)).map((channel) => {
    const days = byChannel.get(channel)!;
    const totals = { sent: 0, delivered: 0, failed: 0, seen: 0, clicked: 0 };
    for (const point of days) for (const metric of METRICS) totals[metric] += point[metric];
    return {
      channel,
      days,
      totals,
      deliveryRate: totals.sent > 0 ? totals.delivered / totals.sent : null,
    };
  });

  return {
    from: localDayLabel(firstDay),
    to: localDayLabel(today),
    channels,
    recentCampaigns: recentCampaigns(ctx),
  };
}

function recentCampaigns(ctx: WorkspaceContext): RecentCampaign[] {
  const campaigns = listCampaigns(ctx, RECENT_CAMPAIGNS);
  if (campaigns.length === 0) return [];
  const rows = ctx.db.$client
    .prepare(
      `SELECT campaign_id AS id, sum(status <> 'skipped') AS recipients, count(sent_at) AS sent,
              count(delivered_at) AS delivered, count(coalesce(read_at, opened_at)) AS seen,
              count(clicked_at) AS clicked, sum(status IN ('failed', 'bounced')) AS failed
         FROM messages WHERE campaign_id IN (${campaigns.map(() => "?").join(", ")})
        GROUP BY campaign_id`,
    )
    .all(...campaigns.map((c) => c.id)) as (DayNumbers & {
    id: number;
    recipients: number;
  })[];
  return campaigns.map((c) => {
    const n = rows.find((r) => r.id === c.id);
    const sent = n?.sent ?? 0;
    const delivered = n?.delivered ?? 0;
    return {
      id: c.id,
      name: c.name,
      channel: c.channel,
      status: c.status,
      createdAt: c.createdAt,
      recipients: n?.recipients ?? 0,
      sent,
      delivered,
      seen: n?.seen ?? 0,
      clicked: n?.clicked ?? 0,
      failed: n?.failed ?? 0,
      deliveryRate: sent > 0 ? delivered / sent : null,
    };
  });
}
