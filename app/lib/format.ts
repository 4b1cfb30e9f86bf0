/**
 * Dates are formatted on the server (in the workspace's time zone, or UTC) and sent as text, so
 * the page reads the same with and without JavaScript and hydration never disagrees.
 */
export function formatDateTime(date: Date, timeZone = "UTC"): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(date);
}
