/**
 * Dates are formatted on the server (in the workspace's time zone, or UTC) and sent as text, so
 * the page reads the same with and without JavaScript and hydration never disagrees.
 */
export function formatDateTime(at: Date, timeZone = "UTC"): string {
  const text = new Intl.DateTimeFormat("en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone,
  }).format(at);
  return timeZone === "UTC" ? `${text} UTC` : text;
}
