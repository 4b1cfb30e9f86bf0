import type { Channel } from "~/lib/channels";
import { csvLine } from "~/lib/csv";
import type { AbMetric } from "../campaigns/ab-test";
import { getCampaign, type Campaign } from "../campaigns/campaigns.server";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { HOUR_MS, localBucketSql, localHourLabel, offsetSpans } from "./local-time.server";
import { splitProviderError } from "./provider-error";

/**
 * What happened to a campaign: the funnel from audience to replies, rates,
 * sends and engagement per hour on the workspace's clock, failures by provider code and
 * reason, clicks per link, unsubscribes, bounces and complaints it caused, each A/B variant's
 * numbers, and a per-recipient CSV. Every query starts from the campaign's index on `messages`
 * (or, for rare events, the event type index) and reads in one pass; the CSV pages through the
 * rows, so a campaign of a million messages is never held in memory.
 */

export interface Funnel {
  /** Everyone the audience held when the campaign was reviewed (or the messages written). */
  audience: number;
  /** Messages handed to the outbox (everyone not skipped). */
  queued: number;
  sent: number;
  delivered: number;
  /** Read (WhatsApp) or opened (email). */
  seen: number;
  clicked: number;
  /** People who wrote back on the campaign's channel after its message reached them. */
  replied: number;
  /** Failed or bounced. */
  failed: number;
  /** Still queued or sending. */
  pending: number;
  skipped: number;
}

/** Each rate's denominator is the step it follows; null when that step is 0. */
export interface Rates {
  delivery: number | null;
  seen: number | null;
  click: number | null;
  clickToSeen: number | null;
  reply: number | null;
  failure: number | null;
  unsubscribe: number | null;
}

export interface HourPoint {
  /** Local wall time of the hour's start, "2026-11-26T14:00". */
  hour: string;
  sent: number;
  delivered: number;
  seen: number;
  clicked: number;
  failed: number;
}

export interface FailureGroup {
  code: string | null;
  reason: string;
  count: number;
}

export interface LinkClicks {
  url: string;
  clicks: number;
  recipients: number;
}

export interface VariantNumbers {
  key: string;
  recipients: number;
  sent: number;
  delivered: number;
  read: number;
  opened: number;
  seen: number;
  clicked: number;
  replied: number;
  failed: number;
  /** The A/B test's metric per message sent (what picks the winner); null if nothing sent. */
  metricRate: number | null;
  winner: boolean;
}

export interface CampaignReport {
  campaign: Pick<
    Campaign,
    "id" | "name" | "channel" | "status" | "winner" | "createdAt" | "startedAt" | "finishedAt"
  > & { abMetric: AbMetric | null };
  funnel: Funnel;
  rates: Rates;
  skipped: { reason: string; count: number }[];
  hourly: HourPoint[];
  /** The series stops after MAX_HOURS hours from the first; later hours are left out. */
  hourlyTruncated: boolean;
  failures: FailureGroup[];
  links: LinkClicks[];
  suppressions: { unsubscribed: number; bounced: number; complained: number };
  /** One entry per variant for an A/B test; empty for a plain campaign. */
  variants: VariantNumbers[];
}

/** Two weeks of hours: engagement after that is in the totals, not the chart. */
export const MAX_HOURS = 14 * 24;
const MAX_FAILURE_GROUPS = 50;
const MAX_LINKS = 100;

function rate(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

const HOURLY = ["sent", "delivered", "seen", "clicked", "failed"] as const;
type HourlyMetric = (typeof HOURLY)[number];

/**
 * One group of the campaign's messages: same variant and status, each event in the same local
 * hour (null: it did not happen). Everything the report counts per message comes from these.
 */
type GroupRow = Record<HourlyMetric, number | null> & {
  variant: string | null;
  status: string;
  n: number;
  read: number;
  opened: number;
  replied: number;
};

const FAILED = new Set(["failed", "bounced"]);
const PENDING = new Set(["queued", "sending"]);

/** Counts per variant (or for the whole campaign) from the groups. */
function countGroups(rows: GroupRow[]) {
  const total = (pick: (r: GroupRow) => number) => rows.reduce((n, r) => n + pick(r), 0);
  const when = (metric: HourlyMetric) => total((r) => (r[metric] === null ? 0 : r.n));
  const whereStatus = (test: (status: string) => boolean) =>
    total((r) => (test(r.status) ? r.n : 0));
  return {
    written: total((r) => r.n),
    skipped: whereStatus((s) => s === "skipped"),
    sent: when("sent"),
    delivered: when("delivered"),
    read: total((r) => r.read),
    opened: total((r) => r.opened),
    seen: when("seen"),
    clicked: when("clicked"),
    replied: total((r) => r.replied),
    failed: whereStatus((s) => FAILED.has(s)),
    bounced: whereStatus((s) => s === "bounced"),
    pending: whereStatus((s) => PENDING.has(s)),
  };
}

export function campaignReport(ctx: WorkspaceContext, campaignId: number): CampaignReport {
  const campaign = getCampaign(ctx, campaignId);
  const client = ctx.db.$client;
  const since = campaign.createdAt.getTime();
  const now = ctx.now().getTime();

  // The one pass over the campaign's messages (each row is read once: its timestamps sit
  // behind the content, so every extra pass would cost as much again).
  const spans = offsetSpans(Math.min(since, now), now, ctx.workspace.timeZone);
  const hour = (column: string) => localBucketSql(column, spans, HOUR_MS);
  const groups = client
    .prepare(
      `SELECT variant, status, ${hour("sent_at")} AS sent, ${hour("delivered_at")} AS delivered,
              ${hour("coalesce(read_at, opened_at)")} AS seen, ${hour("clicked_at")} AS clicked,
              ${hour("CASE WHEN status IN ('failed', 'bounced') THEN failed_at END")} AS failed,
              count(*) AS n, count(read_at) AS read, count(opened_at) AS opened,
              sum(sent_at IS NOT NULL AND EXISTS (SELECT 1 FROM inbound_messages i
                    WHERE i.contact_id = m.contact_id AND i.channel = m.channel
                      AND i.at >= m.sent_at)) AS replied
         FROM messages m WHERE campaign_id = ?
        GROUP BY 1, 2, 3, 4, 5, 6, 7`,
    )
    .all(campaignId) as GroupRow[];

  const counts = countGroups(groups);
  const funnel: Funnel = {
    audience: Math.max(campaign.review?.audience ?? 0, counts.written),
    queued: counts.written - counts.skipped,
    sent: counts.sent,
    delivered: counts.delivered,
    seen: counts.seen,
    clicked: counts.clicked,
    replied: counts.replied,
    failed: counts.failed,
    pending: counts.pending,
    skipped: counts.skipped,
  };

  const skipped = client
    .prepare(
      `SELECT coalesce(error, 'No reason given') AS reason, count(*) AS count FROM messages
        WHERE campaign_id = ? AND status = 'skipped' GROUP BY reason ORDER BY count DESC, reason`,
    )
    .all(campaignId) as { reason: string; count: number }[];

  const suppressions = {
    unsubscribed: unsubscribesOf(ctx, campaignId, since),
    bounced: counts.bounced,
    complained: client
      .prepare(
        `SELECT count(DISTINCT e.contact_id) FROM contact_events e
           JOIN messages m ON m.id = json_extract(e.data, '$.messageId')
          WHERE e.type = 'message.complained' AND e.at >= ? AND m.campaign_id = ?`,
      )
      .pluck()
      .get(since, campaignId) as number,
  };
  const { points, truncated } = hourlySeries(groups);

  return {
    campaign: {
      id: campaign.id,
      name: campaign.name,
      channel: campaign.channel,
      status: campaign.status,
      winner: campaign.winner,
      createdAt: campaign.createdAt,
      startedAt: campaign.startedAt,
      finishedAt: campaign.finishedAt,
      abMetric: campaign.abTest?.metric ?? null,
    },
    funnel,
    rates: {
      delivery: rate(funnel.delivered, funnel.sent),
      seen: rate(funnel.seen, funnel.delivered),
      click: rate(funnel.clicked, funnel.delivered),
      clickToSeen: rate(funnel.clicked, funnel.seen),
      reply: rate(funnel.replied, funnel.delivered),
      failure: rate(funnel.failed, funnel.queued),
      unsubscribe: rate(suppressions.unsubscribed, funnel.delivered),
    },
    skipped,
    hourly: points,
    hourlyTruncated: truncated,
    failures: failureGroups(ctx, campaignId),
    links: linkClicks(ctx, campaignId, since),
    suppressions,
    variants: campaign.variants.length > 1 ? variantNumbers(campaign, groups) : [],
  };
}

function variantNumbers(campaign: Campaign, groups: GroupRow[]): VariantNumbers[] {
  const metric = campaign.abTest?.metric ?? null;
  return campaign.variants.map(({ key }) => {
    const c = countGroups(groups.filter((r) => r.variant === key));
    const numbers = {
      key,
      recipients: c.written - c.skipped,
      sent: c.sent,
      delivered: c.delivered,
      read: c.read,
      opened: c.opened,
      seen: c.seen,
      clicked: c.clicked,
      replied: c.replied,
      failed: c.failed,
    };
    return {
      ...numbers,
      // The same rate the A/B test compares (ab-test.ts rateOf): per message sent.
      metricRate: metric ? rate(numbers[metric], numbers.sent) : null,
      winner: campaign.winner === key,
    };
  });
}

/**
 * Unsubscribes the campaign caused: people whose unsubscribe (link, one-click, STOP reply)
 * came after its message reached them with no later message on that channel in between — the
 * last message someone got before leaving is the one they left over.
 */
function unsubscribesOf(ctx: WorkspaceContext, campaignId: number, since: number): number {
  return ctx.db.$client
    .prepare(
      `SELECT count(DISTINCT e.contact_id) FROM contact_events e
         JOIN messages m ON m.contact_id = e.contact_id AND m.campaign_id = ?
          AND m.sent_at IS NOT NULL AND m.sent_at <= e.at
          AND (e.channel IS NULL OR e.channel = m.channel)
        WHERE e.type = 'contact.suppressed' AND e.at >= ?
          AND json_extract(e.data, '$.reason') = 'unsubscribe'
          AND NOT EXISTS (SELECT 1 FROM messages later
                WHERE later.contact_id = e.contact_id
                  AND (e.channel IS NULL OR later.channel = m.channel)
                  AND later.sent_at > m.sent_at AND later.sent_at <= e.at)`,
    )
    .pluck()
    .get(campaignId, since) as number;
}

/** Per local hour from the groups; hours with nothing are filled in, up to MAX_HOURS. */
function hourlySeries(groups: GroupRow[]): { points: HourPoint[]; truncated: boolean } {
  let start = Infinity;
  let end = -Infinity;
  for (const row of groups) {
    for (const metric of HOURLY) {
      const at = row[metric];
      if (at === null) continue;
      start = Math.min(start, at);
      end = Math.max(end, at);
    }
  }
  if (!Number.isFinite(start)) return { points: [], truncated: false };
  const length = Math.min(end - start + 1, MAX_HOURS);
  const points: HourPoint[] = Array.from({ length }, (_, i) => ({
    hour: localHourLabel(start + i),
    sent: 0,
    delivered: 0,
    seen: 0,
    clicked: 0,
    failed: 0,
  }));
  for (const row of groups) {
    for (const metric of HOURLY) {
      const at = row[metric];
      if (at === null || at - start >= length) continue;
      points[at - start]![metric] += row.n;
    }
  }
  return { points, truncated: end - start + 1 > MAX_HOURS };
}

function failureGroups(ctx: WorkspaceContext, campaignId: number): FailureGroup[] {
  const rows = ctx.db.$client
    .prepare(
      `SELECT error, count(*) AS n FROM messages
        WHERE campaign_id = ? AND status IN ('failed', 'bounced') GROUP BY error`,
    )
    .all(campaignId) as { error: string | null; n: number }[];
  const groups = new Map<string, FailureGroup>();
  for (const row of rows) {
    const { code, reason } = splitProviderError(row.error);
    const key = `${code ?? ""}\u0000${reason}`;
    const group = groups.get(key) ?? { code, reason, count: 0 };
    group.count += row.n;
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || (a.code ?? "").localeCompare(b.code ?? ""))
    .slice(0, MAX_FAILURE_GROUPS);
}

/** Clicks per URL from the click events (recipient-links.server.ts records campaign and URL). */
function linkClicks(ctx: WorkspaceContext, campaignId: number, since: number): LinkClicks[] {
  return ctx.db.$client
    .prepare(
      `SELECT json_extract(data, '$.url') AS url, count(*) AS clicks,
              count(DISTINCT contact_id) AS recipients
         FROM contact_events
        WHERE type = 'message.clicked' AND at >= ? AND json_extract(data, '$.campaignId') = ?
          AND json_extract(data, '$.url') IS NOT NULL
        GROUP BY url ORDER BY clicks DESC, url LIMIT ?`,
    )
    .all(since, campaignId, MAX_LINKS) as LinkClicks[];
}

// ---------------------------------------------------------------------------------------------
// Per-recipient CSV.

export const RECIPIENT_CSV_COLUMNS = [
  "recipient",
  "contact_id",
  "variant",
  "status",
  "queued_at",
  "sent_at",
  "delivered_at",
  "read_at",
  "opened_at",
  "clicked_at",
  "failed_at",
  "error_code",
  "error_reason",
] as const;

interface RecipientRow {
  seq: number;
  recipient: string;
  contact_id: number | null;
  variant: string | null;
  status: string;
  created_at: number;
  sent_at: number | null;
  delivered_at: number | null;
  read_at: number | null;
  opened_at: number | null;
  clicked_at: number | null;
  failed_at: number | null;
  error: string | null;
}

const PAGE = 2_000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function* recipientLines(ctx: WorkspaceContext, campaignId: number): Generator<string> {
  yield csvLine(RECIPIENT_CSV_COLUMNS);
  const client = ctx.db.$client;
  // The campaign's rows were written in slices, close together in rowid order: walking the
  // rowid range from its first to its last row reads them in queue order, a page at a time,
  // with no sort and no open cursor between pages (`+campaign_id` keeps SQLite on the rowid).
  const range = client
    .prepare("SELECT min(rowid) AS lo, max(rowid) AS hi FROM messages WHERE campaign_id = ?")
    .get(campaignId) as { lo: number | null; hi: number | null };
  if (range.lo === null || range.hi === null) return;
  const page = client.prepare(
    `SELECT rowid AS seq, recipient, contact_id, variant, status, created_at, sent_at,
            delivered_at, read_at, opened_at, clicked_at, failed_at, error
       FROM messages WHERE rowid > ? AND rowid <= ? AND +campaign_id = ?
      ORDER BY rowid LIMIT ${PAGE}`,
  );
  let after = range.lo - 1;
  for (;;) {
    const rows = page.all(after, range.hi, campaignId) as RecipientRow[];
    if (rows.length === 0) return;
    let chunk = "";
    for (const r of rows) {
      const error = r.error === null ? null : splitProviderError(r.error);
      chunk += csvLine([
        r.recipient,
        r.contact_id,
        r.variant,
        r.status,
        iso(r.created_at),
        iso(r.sent_at),
        iso(r.delivered_at),
        iso(r.read_at),
        iso(r.opened_at),
        iso(r.clicked_at),
        iso(r.failed_at),
        error?.code,
        error?.reason,
      ]);
    }
    yield chunk;
    after = rows.at(-1)!.seq;
  }
}

/**
 * The per-recipient results as CSV chunks (header first). The export is audited before the
 * first line, like the audit log's; an unknown campaign throws NotFoundError before that.
 */
export function exportCampaignRecipientsCsv(
  ctx: WorkspaceContext,
  campaignId: number,
): Generator<string> {
  const campaign = getCampaign(ctx, campaignId);
  const messages = ctx.db.$client
    .prepare("SELECT count(*) FROM messages WHERE campaign_id = ?")
    .pluck()
    .get(campaignId) as number;
  recordAudit(ctx, {
    action: "campaign.report_exported",
    workspaceId: ctx.workspaceId,
    target: { type: "campaign", id: campaignId },
    details: { format: "csv", rows: messages, channel: campaign.channel },
  });
  return recipientLines(ctx, campaignId);
}

/** How a channel names "seen": WhatsApp reads, email opens. */
export function seenLabel(channel: Channel): "Read" | "Opened" {
  return channel === "email" ? "Opened" : "Read";
}
