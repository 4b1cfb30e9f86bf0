import { zoneOffsetMs } from "~/lib/time-zone";

/**
 * Hours and days on the workspace's wall clock, computed in SQL. A time zone's offset from UTC
 * only changes at its daylight-saving transitions, so over a time range it is a few constant
 * spans; SQL adds the span's offset to each timestamp and divides, and every row lands in the
 * right local hour or day (India's +5:30 included) in one pass over the rows.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** From `from` on (until the next span), the wall clock is `offsetMs` ahead of UTC. */
export interface OffsetSpan {
  from: number;
  offsetMs: number;
}

/** No zone changes its offset twice within a week, so weekly samples find every transition. */
const SAMPLE_MS = 7 * DAY_MS;
const MINUTE_MS = 60_000;

/** The constant-offset spans of `timeZone` over [from, to]. */
export function offsetSpans(from: number, to: number, timeZone: string): OffsetSpan[] {
  const spans: OffsetSpan[] = [{ from, offsetMs: zoneOffsetMs(from, timeZone) }];
  let at = from;
  while (at < to) {
    const next = Math.min(at + SAMPLE_MS, to);
    const offset = zoneOffsetMs(next, timeZone);
    if (offset !== spans.at(-1)!.offsetMs) {
      // Transitions happen on a whole minute: search the minute the new offset starts.
      let lo = Math.floor(at / MINUTE_MS);
      let hi = Math.ceil(next / MINUTE_MS);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffsetMs(mid * MINUTE_MS, timeZone) === offset) hi = mid;
        else lo = mid;
      }
      spans.push({ from: hi * MINUTE_MS, offsetMs: offset });
    }
    at = next;
  }
  return spans;
}

/**
 * SQL for the local bucket number of the timestamp `column` (ms): floor(local wall time /
 * size). NULL stays NULL. The numbers are generated here, never user input.
 */
export function localBucketSql(column: string, spans: readonly OffsetSpan[], sizeMs: number) {
  const offset =
    spans.length === 1
      ? String(spans[0]!.offsetMs)
      : `CASE ${spans
          .slice(1)
          .map((span, i) => `WHEN ${column} < ${span.from} THEN ${spans[i]!.offsetMs}`)
          .join(" ")} ELSE ${spans.at(-1)!.offsetMs} END`;
  return `((${column} + ${offset}) / ${sizeMs})`;
}

/** The local bucket number of an instant, as the SQL above computes it. */
export function localBucket(instant: number, spans: readonly OffsetSpan[], sizeMs: number) {
  let offset = spans[0]!.offsetMs;
  for (const span of spans) if (instant >= span.from) offset = span.offsetMs;
  return Math.floor((instant + offset) / sizeMs);
}

/** "2026-11-26" for a local day number. */
export function localDayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** "2026-11-26T14:00" (wall time, no zone) for a local hour number. */
export function localHourLabel(hour: number): string {
  return new Date(hour * HOUR_MS).toISOString().slice(0, 16);
}
