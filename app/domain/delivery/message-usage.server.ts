import { and, eq, gte, lte, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { usageDaily } from "~/db/schema/control";
import { CHANNELS, type Channel } from "~/lib/channels";
import { csvLine } from "~/lib/csv";

/**
 * Reading the usage the dispatcher meters (usage_daily: messages handed to a provider, per
 * workspace, channel and day; sandbox sends are free and not counted). Days are UTC days, as
 * they are recorded and billed, so the page, the CSV and an invoice agree.
 */

export type ChannelCounts = Record<Channel, number>;

export interface UsageDay {
  /** YYYY-MM-DD, UTC. */
  day: string;
  counts: ChannelCounts;
  total: number;
}

export interface MessageUsage {
  /** First and last day of the window, YYYY-MM-DD (UTC), both included. */
  from: string;
  to: string;
  /** Every day of the window, oldest first, zeros included. */
  days: UsageDay[];
  windowTotals: ChannelCounts & { total: number };
  /** The first day of the current (UTC) calendar month. */
  monthStart: string;
  monthTotals: ChannelCounts & { total: number };
}

const DAY_MS = 24 * 60 * 60_000;

function utcDay(instant: number): string {
  return new Date(instant).toISOString().slice(0, 10);
}

function zeroCounts(): ChannelCounts {
  return { email: 0, whatsapp: 0, sms: 0, telegram: 0 };
}

function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}

/** The instant the current UTC calendar month began (for AI usage "this month"). */
export function usageMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

function totalsSince(workspaceId: string, from: string, to: string) {
  const totals = { ...zeroCounts(), total: 0 };
  const rows = getControlDb()
    .select({ channel: usageDaily.channel, messages: sql<number>`sum(${usageDaily.messages})` })
    .from(usageDaily)
    .where(
      and(
        eq(usageDaily.workspaceId, workspaceId),
        gte(usageDaily.day, from),
        lte(usageDaily.day, to),
      ),
    )
    .groupBy(usageDaily.channel)
    .all();
  for (const row of rows) {
    if (!isChannel(row.channel)) continue;
    totals[row.channel] += row.messages;
    totals.total += row.messages;
  }
  return totals;
}

/** Messages per channel per day over the last `days` days (today included), and this month. */
export function messageUsage(workspaceId: string, now: Date, days = 30): MessageUsage {
  const to = utcDay(now.getTime());
  const from = utcDay(now.getTime() - (days - 1) * DAY_MS);
  const byDay = new Map<string, UsageDay>();
  for (let i = days - 1; i >= 0; i--) {
    const day = utcDay(now.getTime() - i * DAY_MS);
    byDay.set(day, { day, counts: zeroCounts(), total: 0 });
  }
  const rows = getControlDb()
    .select({ day: usageDaily.day, channel: usageDaily.channel, messages: usageDaily.messages })
    .from(usageDaily)
    .where(
      and(
        eq(usageDaily.workspaceId, workspaceId),
        gte(usageDaily.day, from),
        lte(usageDaily.day, to),
      ),
    )
    .all();
  const windowTotals = { ...zeroCounts(), total: 0 };
  for (const row of rows) {
    const entry = byDay.get(row.day);
    if (!entry || !isChannel(row.channel)) continue;
    entry.counts[row.channel] += row.messages;
    entry.total += row.messages;
    windowTotals[row.channel] += row.messages;
    windowTotals.total += row.messages;
  }
  const monthStart = utcDay(usageMonthStart(now).getTime());
  return {
    from,
    to,
    days: [...byDay.values()],
    windowTotals,
    monthStart,
    monthTotals: totalsSince(workspaceId, monthStart, to),
  };
}

/** The usage as CSV: one line per day and channel (zeros included), UTC days. */
export function messageUsageCsv(usage: MessageUsage): string {
  let csv = csvLine(["day_utc", "channel", "messages"]);
  for (const { day, counts } of usage.days) {
    for (const channel of CHANNELS) csv += csvLine([day, channel, counts[channel]]);
  }
  return csv;
}
