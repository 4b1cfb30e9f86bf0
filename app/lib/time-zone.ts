/** Calendar days in a workspace's time zone, for date filters (audit log, segments). */

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in ms. */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(whole));
  const get = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return wall - whole;
}

/**
 * The instant (ms) a calendar day starts in `timeZone`; `day` may overflow (month-end + 1).
 * Two passes settle days on which the clocks change.
 */
export function startOfZonedDay(year: number, month: number, day: number, timeZone: string) {
  const wall = Date.UTC(year, month - 1, day);
  const instant = wall - zoneOffsetMs(wall, timeZone);
  return wall - zoneOffsetMs(instant, timeZone);
}

/**
 * The instant (ms) a wall-clock time ("2026-12-01", "09:30") happens in `timeZone`. A time that
 * the clocks skip resolves to the same wall time read with the earlier offset.
 */
export function zonedWallTimeToInstant(date: string, time: string, timeZone: string): number {
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const wall = Date.UTC(year!, month! - 1, day!, hour!, minute!);
  const instant = wall - zoneOffsetMs(wall, timeZone);
  return wall - zoneOffsetMs(instant, timeZone);
}

/** The IANA zones of a country (ISO 3166 alpha-2), from the runtime's CLDR data. */
export function countryTimeZones(country: string): string[] {
  try {
    const locale = new Intl.Locale(`und-${country.toUpperCase()}`) as Intl.Locale & {
      getTimeZones?: () => string[];
      timeZones?: string[];
    };
    // Node 20 has the `timeZones` getter; newer V8 renamed it to getTimeZones().
    return locale.getTimeZones?.() ?? locale.timeZones ?? [];
  } catch {
    return [];
  }
}
