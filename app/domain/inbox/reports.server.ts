import { ValidationError, type FieldErrors } from "~/lib/errors";
import { startOfZonedDay } from "~/lib/time-zone";
import { csvLine } from "~/lib/csv";
import { queryAnalytics } from "../analytics/analytics-worker.server";
import {
  DAY_MS,
  localBucket,
  localBucketSql,
  localDayLabel,
  offsetSpans,
} from "../analytics/local-time.server";
import type { WorkspaceContext } from "../context";
import { listMembers } from "../workspaces/workspaces.server";

/**
 * The inbox reports: per day of the workspace's calendar, conversations started and resolved,
 * replies, first-response and resolution times (median and 90th percentile), CSAT, and what
 * became of AI drafts; and the same per member. The numbers are computed in the analytics
 * worker (one slow report must not stall other requests); member names come from the control
 * database afterwards, on the web thread.
 *
 * Definitions:
 * - First response: from a conversation's first customer message to the first message a member
 *   wrote after it, counted on the day (and for the member) of that reply.
 * - Resolution time: from the conversation's start to its resolution, counted on the day it was
 *   resolved and for the member it is assigned to.
 * - CSAT: questions asked on the day; a response is an answered score; satisfied is 4 or 5.
 * - AI drafts: by the day they were asked for; accepted = sent unchanged, edited = sent after a
 *   change. Rates are shares of the drafts that ended (accepted, edited, discarded, failed).
 * - Percentiles interpolate between the two nearest values (the median of 4 and 6 is 5).
 */

export const REPORT_DEFAULT_DAYS = 30;
export const REPORT_MAX_DAYS = 366;

/** A range of whole days in the workspace's time zone, both included ("2026-11-26"). */
export interface ReportRange {
  from: string;
  to: string;
}

export interface DurationStats {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface CsatStats {
  /** Questions sent. */
  asked: number;
  /** Questions answered with a score. */
  responses: number;
  /** Mean score, 1 to 5; null without responses. */
  average: number | null;
  /** Responses scoring 4 or 5. */
  satisfied: number;
  /** satisfied / responses; null without responses. */
  satisfiedRate: number | null;
}

export interface DraftOutcomes {
  accepted: number;
  edited: number;
  discarded: number;
  failed: number;
  /** Still being written or waiting for a member. */
  open: number;
  /** Each share of the drafts that ended; null when none did. */
  rates: { accepted: number; edited: number; discarded: number; failed: number } | null;
}

export interface ReportDay {
  day: string;
  started: number;
  resolved: number;
  replies: number;
  firstResponse: DurationStats;
  resolution: DurationStats;
  csat: CsatStats;
  drafts: DraftOutcomes;
}

export interface ReportAgent {
  userId: string;
  /** Conversations the member wrote in. */
  handled: number;
  replies: number;
  /** First responses the member gave. */
  firstResponse: DurationStats;
  /** Conversations assigned to the member that were resolved. */
  resolved: number;
  csat: CsatStats;
}

export interface InboxReport extends ReportRange {
  days: ReportDay[];
  totals: Omit<ReportDay, "day">;
  agents: ReportAgent[];
}

export interface NamedReportAgent extends ReportAgent {
  name: string;
  email: string | null;
}

export interface NamedInboxReport extends Omit<InboxReport, "agents"> {
  agents: NamedReportAgent[];
  /** Nothing happened in the inbox in the range. */
  empty: boolean;
}

// ---------------------------------------------------------------------------------------------
// The range

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day number (days since 1970-01-01) of "YYYY-MM-DD", or null when it is no real date. */
function dayNumber(value: string): number | null {
  const m = DAY_PATTERN.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 2000 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.getTime() / DAY_MS;
}

/** Today's day number on the workspace's clock. */
function today(ctx: WorkspaceContext): number {
  const now = ctx.now().getTime();
  return localBucket(now, offsetSpans(now, now, ctx.workspace.timeZone), DAY_MS);
}

/** The last `days` days up to today on the workspace's clock. */
export function lastDays(ctx: WorkspaceContext, days: number): ReportRange {
  const to = today(ctx);
  return { from: localDayLabel(to - days + 1), to: localDayLabel(to) };
}

/**
 * The range asked for in the query string: both days optional (the last 30 days up to today by
 * default; a lone `from` runs to today, a lone `to` starts 29 days before it). Throws a
 * ValidationError for a day that is not a date, an end before the start, or more than 366 days.
 */
export function reportRange(
  ctx: WorkspaceContext,
  query: { from?: string | null; to?: string | null },
): ReportRange {
  const errors: FieldErrors = {};
  const fromText = query.from?.trim() ?? "";
  const toText = query.to?.trim() ?? "";
  let from = fromText ? dayNumber(fromText) : null;
  let to = toText ? dayNumber(toText) : null;
  if (fromText && from === null) {
    errors.from = ["Enter the first day as YYYY-MM-DD, for example 2026-11-01."];
  }
  if (toText && to === null)
    errors.to = ["Enter the last day as YYYY-MM-DD, for example 2026-11-30."];
  if (Object.keys(errors).length === 0) {
    to ??= from === null ? today(ctx) : Math.max(from, today(ctx));
    from ??= to - REPORT_DEFAULT_DAYS + 1;
    if (to < from) errors.to = ["The last day is before the first day."];
    else if (to - from + 1 > REPORT_MAX_DAYS) {
      errors.to = [`Choose at most ${REPORT_MAX_DAYS} days.`];
    }
  }
  if (Object.keys(errors).length > 0) {
    throw new ValidationError("Check the dates: the report cannot cover that range.", errors);
  }
  return { from: localDayLabel(from!), to: localDayLabel(to!) };
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

/** The p-quantile (0..1) of ascending `sorted`, interpolating between neighbours. */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

function durationStats(values: number[]): DurationStats {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, medianMs: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9) };
}

/** Running CSAT sums; `stats` turns them into the published numbers. */
class CsatTally {
  asked = 0;
  responses = 0;
  sum = 0;
  satisfied = 0;
  add(score: number | null, n: number) {
    this.asked += n;
    if (score === null) return;
    this.responses += n;
    this.sum += score * n;
    if (score >= 4) this.satisfied += n;
  }
  stats(): CsatStats {
    const { asked, responses, satisfied } = this;
    return {
      asked,
      responses,
      average: responses > 0 ? this.sum / responses : null,
      satisfied,
      satisfiedRate: responses > 0 ? satisfied / responses : null,
    };
  }
}

type DraftCounts = Omit<DraftOutcomes, "rates">;

function draftOutcomes(counts: DraftCounts): DraftOutcomes {
  const ended = counts.accepted + counts.edited + counts.discarded + counts.failed;
  return {
    ...counts,
    rates:
      ended === 0
        ? null
        : {
            accepted: counts.accepted / ended,
            edited: counts.edited / ended,
            discarded: counts.discarded / ended,
            failed: counts.failed / ended,
          },
  };
}

// ---------------------------------------------------------------------------------------------
// The queries (run in the analytics worker)

interface Buckets {
  started: number;
  resolved: number;
  replies: number;
  firstResponses: number[];
  resolutions: number[];
  csat: CsatTally;
  drafts: DraftCounts;
}

interface AgentBuckets {
  conversations: Set<number>;
  replies: number;
  firstResponses: number[];
  resolved: number;
  csat: CsatTally;
}

const emptyBuckets = (): Buckets => ({
  started: 0,
  resolved: 0,
  replies: 0,
  firstResponses: [],
  resolutions: [],
  csat: new CsatTally(),
  drafts: { accepted: 0, edited: 0, discarded: 0, failed: 0, open: 0 },
});

/** The report for a range already checked by `reportRange`. */
export function inboxReport(ctx: WorkspaceContext, range: ReportRange): InboxReport {
  const tz = ctx.workspace.timeZone;
  const firstDay = dayNumber(range.from)!;
  const lastDay = dayNumber(range.to)!;
  const date = (day: number) => new Date(day * DAY_MS);
  const startOf = (day: number) =>
    startOfZonedDay(
      date(day).getUTCFullYear(),
      date(day).getUTCMonth() + 1,
      date(day).getUTCDate(),
      tz,
    );
  const start = startOf(firstDay);
  const end = startOf(lastDay + 1);
  const spans = offsetSpans(start, end, tz);
  const day = (column: string) => localBucketSql(column, spans, DAY_MS);
  const sql = ctx.db.$client;
  const bounds = { start, end };

  const days = Array.from({ length: lastDay - firstDay + 1 }, emptyBuckets);
  const all = emptyBuckets();
  const agents = new Map<string, AgentBuckets>();
  const inRange = (d: number | null) => d !== null && d >= firstDay && d <= lastDay;
  const bucketsOf = (d: number) => [days[d - firstDay]!, all];
  const agent = (userId: string) => {
    let a = agents.get(userId);
    if (!a) {
      a = {
        conversations: new Set(),
        replies: 0,
        firstResponses: [],
        resolved: 0,
        csat: new CsatTally(),
      };
      agents.set(userId, a);
    }
    return a;
  };

  // Conversations started or resolved in the range: one pass over the conversations table
  // (it has no index on either time, and a pass is cheaper than two).
  const conversations = sql
    .prepare(
      `SELECT ${day("created_at")} AS started, ${day("resolved_at")} AS resolved,
              resolved_at - created_at AS took, assignee_id AS assignee
         FROM conversations
        WHERE (created_at >= @start AND created_at < @end) OR (resolved_at >= @start AND resolved_at < @end)`,
    )
    .all(bounds) as {
    started: number;
    resolved: number | null;
    took: number | null;
    assignee: string | null;
  }[];
  for (const c of conversations) {
    if (inRange(c.started)) for (const b of bucketsOf(c.started)) b.started++;
    if (inRange(c.resolved)) {
      for (const b of bucketsOf(c.resolved!)) {
        b.resolved++;
        b.resolutions.push(Math.max(0, c.took!));
      }
      if (c.assignee) agent(c.assignee).resolved++;
    }
  }

  // Replies members wrote in the range, by day, member and conversation.
  const replies = sql
    .prepare(
      `SELECT ${day("created_at")} AS day, author_id AS author, conversation_id AS conversation,
              count(*) AS n
         FROM messages
        WHERE created_at >= @start AND created_at < @end AND author_id IS NOT NULL
          AND conversation_id IS NOT NULL
        GROUP BY 1, 2, 3`,
    )
    .all(bounds) as { day: number; author: string; conversation: number; n: number }[];
  for (const r of replies) {
    for (const b of bucketsOf(r.day)) b.replies += r.n;
    const a = agent(r.author);
    a.replies += r.n;
    a.conversations.add(r.conversation);
  }

  // First responses: only a conversation a member wrote in during the range can have had its
  // first response in it; for each, the first customer message and the first member message at
  // or after it (both through the conversation indexes).
  const firsts = sql
    .prepare(
      `WITH replied AS (
         SELECT DISTINCT conversation_id AS id FROM messages
          WHERE created_at >= @start AND created_at < @end AND author_id IS NOT NULL
            AND conversation_id IS NOT NULL
       ), asked AS MATERIALIZED (
         SELECT id, (SELECT min(at) FROM inbound_messages i WHERE i.conversation_id = replied.id)
                AS asked_at
           FROM replied
       ), answered AS (
         SELECT asked_at, (SELECT m.id FROM messages m
                            WHERE m.conversation_id = asked.id AND m.author_id IS NOT NULL
                              AND m.created_at >= asked.asked_at
                            ORDER BY m.created_at, m.id LIMIT 1) AS message_id
           FROM asked WHERE asked_at IS NOT NULL
       )
       SELECT ${day("m.created_at")} AS day, m.author_id AS author,
              m.created_at - answered.asked_at AS took
         FROM answered JOIN messages m ON m.id = answered.message_id
        WHERE m.created_at >= @start AND m.created_at < @end`,
    )
    .all(bounds) as { day: number; author: string; took: number }[];
  for (const f of firsts) {
    for (const b of bucketsOf(f.day)) b.firstResponses.push(f.took);
    agent(f.author).firstResponses.push(f.took);
  }

  // CSAT questions asked in the range (indexed by asked_at), by day, member and score.
  const csat = sql
    .prepare(
      `SELECT ${day("asked_at")} AS day, agent_id AS agent, score, count(*) AS n
         FROM csat_responses WHERE asked_at >= @start AND asked_at < @end
        GROUP BY 1, 2, 3`,
    )
    .all(bounds) as { day: number; agent: string | null; score: number | null; n: number }[];
  for (const r of csat) {
    for (const b of bucketsOf(r.day)) b.csat.add(r.score, r.n);
    if (r.agent) agent(r.agent).csat.add(r.score, r.n);
  }

  // AI drafts asked for in the range (indexed by created_at), by day and outcome.
  const drafts = sql
    .prepare(
      `SELECT ${day("created_at")} AS day,
              CASE WHEN status = 'sent' AND edited THEN 'edited'
                   WHEN status = 'sent' THEN 'accepted'
                   WHEN status IN ('discarded', 'failed') THEN status
                   ELSE 'open' END AS outcome,
              count(*) AS n
         FROM ai_drafts WHERE created_at >= @start AND created_at < @end
        GROUP BY 1, 2`,
    )
    .all(bounds) as { day: number; outcome: keyof DraftCounts; n: number }[];
  for (const r of drafts) for (const b of bucketsOf(r.day)) b.drafts[r.outcome] += r.n;

  const publish = (b: Buckets): Omit<ReportDay, "day"> => ({
    started: b.started,
    resolved: b.resolved,
    replies: b.replies,
    firstResponse: durationStats(b.firstResponses),
    resolution: durationStats(b.resolutions),
    csat: b.csat.stats(),
    drafts: draftOutcomes(b.drafts),
  });
  return {
    ...range,
    days: days.map((b, i) => ({ day: localDayLabel(firstDay + i), ...publish(b) })),
    totals: publish(all),
    agents: [...agents].map(([userId, a]) => ({
      userId,
      handled: a.conversations.size,
      replies: a.replies,
      firstResponse: durationStats(a.firstResponses),
      resolved: a.resolved,
      csat: a.csat.stats(),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// On the web thread: the query string, the worker, and member names

/**
 * The report the page and the CSV show: the range from the query string (see `reportRange`),
 * the numbers from the analytics worker, and each member's name. Members with the agent role
 * are listed even on a quiet day (with zeros); anyone else who worked in the inbox appears when
 * they did; someone no longer a member shows as "Former member". Busiest first.
 */
export async function loadInboxReport(
  ctx: WorkspaceContext,
  query: { from?: string | null; to?: string | null },
): Promise<NamedInboxReport> {
  const range = reportRange(ctx, query);
  const report = await queryAnalytics("inboxReport", ctx.workspace, range);
  const members = listMembers(ctx.workspaceId);
  const byId = new Map(report.agents.map((a) => [a.userId, a]));
  for (const m of members) {
    if (m.role === "agent" && !byId.has(m.userId)) byId.set(m.userId, idleAgent(m.userId));
  }
  const people = new Map(members.map((m) => [m.userId, m]));
  const agents = [...byId.values()]
    .map((a) => ({
      ...a,
      name: people.get(a.userId)?.name ?? "Former member",
      email: people.get(a.userId)?.email ?? null,
    }))
    .sort((a, b) => b.handled - a.handled || b.replies - a.replies || a.name.localeCompare(b.name));
  const t = report.totals;
  const { accepted, edited, discarded, failed, open } = t.drafts;
  const empty =
    t.started +
      t.resolved +
      t.replies +
      t.csat.asked +
      accepted +
      edited +
      discarded +
      failed +
      open ===
    0;
  return { ...report, agents, empty };
}

function idleAgent(userId: string): ReportAgent {
  return {
    userId,
    handled: 0,
    replies: 0,
    firstResponse: durationStats([]),
    resolved: 0,
    csat: new CsatTally().stats(),
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

export const REPORT_CSV_TABLES = ["days", "agents"] as const;
export type ReportCsvTable = (typeof REPORT_CSV_TABLES)[number];

/** "days" unless the query asks for "agents"; anything else is a ValidationError. */
export function reportCsvTable(value: string | null): ReportCsvTable {
  if (value === null || value === "") return "days";
  const table = REPORT_CSV_TABLES.find((t) => t === value);
  if (!table) throw new ValidationError('Choose the table "days" or "agents".');
  return table;
}

const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));
const decimals = (value: number | null, places: number) =>
  value === null ? null : Number(value.toFixed(places));
const percent = (rate: number | null | undefined) =>
  rate === null || rate === undefined ? null : decimals(rate * 100, 1);

const DAY_COLUMNS = [
  "day",
  "conversations_started",
  "conversations_resolved",
  "replies_sent",
  "first_responses",
  "first_response_median_seconds",
  "first_response_p90_seconds",
  "resolution_median_seconds",
  "resolution_p90_seconds",
  "csat_asked",
  "csat_responses",
  "csat_average",
  "csat_satisfied_percent",
  "ai_drafts_accepted",
  "ai_drafts_edited",
  "ai_drafts_discarded",
  "ai_drafts_failed",
] as const;

const AGENT_COLUMNS = [
  "member",
  "email",
  "conversations_handled",
  "replies_sent",
  "first_responses",
  "first_response_median_seconds",
  "conversations_resolved",
  "csat_responses",
  "csat_average",
] as const;

/** The report as CSV lines: one row per day, or one per member (`table` "agents"). */
export function* inboxReportCsv(report: NamedInboxReport, table: ReportCsvTable) {
  if (table === "agents") {
    yield csvLine(AGENT_COLUMNS);
    for (const a of report.agents) {
      yield csvLine([
        a.name,
        a.email,
        a.handled,
        a.replies,
        a.firstResponse.count,
        seconds(a.firstResponse.medianMs),
        a.resolved,
        a.csat.responses,
        decimals(a.csat.average, 2),
      ]);
    }
    return;
  }
  yield csvLine(DAY_COLUMNS);
  for (const d of report.days) {
    yield csvLine([
      d.day,
      d.started,
      d.resolved,
      d.replies,
      d.firstResponse.count,
      seconds(d.firstResponse.medianMs),
      seconds(d.firstResponse.p90Ms),
      seconds(d.resolution.medianMs),
      seconds(d.resolution.p90Ms),
      d.csat.asked,
      d.csat.responses,
      decimals(d.csat.average, 2),
      percent(d.csat.satisfiedRate),
      d.drafts.accepted,
      d.drafts.edited,
      d.drafts.discarded,
      d.drafts.failed,
    ]);
  }
}
