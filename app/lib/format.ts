/**
 * Dates are formatted on the server (in the workspace's time zone, or UTC) and sent as text, so
 * the page reads the same with and without JavaScript and hydration never disagrees.
 */

/**
 * One formatter per time zone, made once: an Intl.DateTimeFormat costs ~70 µs to build and
 * holds ~30 KB of ICU memory outside the V8 heap until it is collected, so making one per date
 * (50 per contacts page) cost milliseconds per page and grew the process by hundreds of MB
 * under load. Time zones are a short list; the cap only guards against a flood of odd ones.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 200;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function formatDateTime(date: Date, timeZone = "UTC"): string {
  return formatterFor(timeZone).format(date);
}

/**
 * A date for a table cell: "7 Dec, 14:21" this year, "7 Dec 2025" before. Short enough to stay
 * on one line; pair it with formatDateTime (e.g. in a title) where the exact time matters.
 */
export function formatDateTimeCompact(date: Date, timeZone = "UTC", now = new Date()): string {
  const parts = (d: Date) =>
    Object.fromEntries(
      // The full formatter's parts, without its zone name.
      formatterFor(timeZone)
        .formatToParts(d)
        .map((p) => [p.type, p.value]),
    ) as Record<string, string>;
  const p = parts(date);
  if (p.year === parts(now).year) return `${p.day} ${p.month}, ${p.hour}:${p.minute}`;
  return `${p.day} ${p.month} ${p.year}`;
}

const DAY_MS = 86_400_000;

/**
 * How long until a due date, in whole days: "12 days left", "due today", "3 days overdue".
 * Privacy requests show it next to their due date (30 days from receipt).
 */
export function dueCountdown(due: Date, now: Date): { text: string; overdue: boolean } {
  const ms = due.getTime() - now.getTime();
  if (ms < 0) {
    // Whole days late, and at least one: "1 day overdue" from the moment it is due.
    const days = Math.max(1, Math.floor(-ms / DAY_MS));
    return { text: `${days} ${days === 1 ? "day" : "days"} overdue`, overdue: true };
  }
  const days = Math.floor(ms / DAY_MS);
  if (days === 0) return { text: "due today", overdue: false };
  return { text: `${days} ${days === 1 ? "day" : "days"} left`, overdue: false };
}

const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "10 June 2026" for a calendar day "2026-06-10" (no time zone involved). */
export function formatCalendarDay(day: string): string {
  const [year, month, date] = day.split("-").map(Number);
  return `${date} ${MONTH_NAMES[(month ?? 1) - 1]} ${year}`;
}

/**
 * A list's summary line as one string, so it renders (and is announced) as one piece of text:
 * "12 users matching “asha” · page 2 of 3".
 */
export function listSummary(
  total: number,
  noun: { one: string; many: string },
  q: string,
  page: number,
  pageCount: number,
): string {
  const count = total === 1 ? `1 ${noun.one}` : `${total} ${noun.many}`;
  const matching = q ? ` matching “${q}”` : "";
  const paging = pageCount > 1 ? ` · page ${page} of ${pageCount}` : "";
  return count + matching + paging;
}
