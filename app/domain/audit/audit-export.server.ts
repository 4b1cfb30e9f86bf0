import { csvCell, csvLine } from "~/lib/csv";
import { ValidationError, type FieldErrors } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { iterateAuditEvents, type AuditFilter, type AuditRow } from "./audit-queries.server";
import { recordAudit } from "./audit.server";
import { startOfZonedDay, zoneOffsetMs } from "~/lib/time-zone";

/**
 * A workspace's view of the audit log: the filters its admins can use (action group, a date
 * range read in the workspace's time zone) and the CSV export, which is itself audited.
 */

/** The action groups offered as filters; each is an action-name prefix. */
export const AUDIT_ACTION_GROUPS = [
  { value: "auth.", label: "Sign-in and account security" },
  { value: "member.", label: "Members" },
  { value: "invitation.", label: "Invitations" },
  { value: "workspace.", label: "Workspace settings" },
  { value: "ip_allowlist.", label: "IP allowlist" },
  { value: "api_key.", label: "API keys" },
  { value: "audit.", label: "Audit log exports" },
] as const;

/** The filter as typed in the query string (all optional, all text). */
export interface AuditQuery {
  action?: string;
  /** YYYY-MM-DD, the first day included, in the workspace's time zone. */
  from?: string;
  /** YYYY-MM-DD, the last day included, in the workspace's time zone. */
  to?: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant a calendar day starts in `timeZone`. */
function startOfDay(year: number, month: number, day: number, timeZone: string): Date {
  return new Date(startOfZonedDay(year, month, day, timeZone));
}

function parseDay(value: string): { year: number; month: number; day: number } | null {
  const m = DAY.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (
    year < 2000 ||
    year > 9999 ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day
  ) {
    return null;
  }
  return { year, month, day };
}

/** The calendar day (YYYY-MM-DD) of `date` in `timeZone`. */
export function dayIn(date: Date, timeZone: string): string {
  const shifted = new Date(date.getTime() + zoneOffsetMs(date.getTime(), timeZone));
  return shifted.toISOString().slice(0, 10);
}

/**
 * Turns the typed query into a filter on this workspace's events. Dates are whole days in the
 * workspace's time zone. Throws ValidationError (with a message per field) for anything else.
 */
export function workspaceAuditFilter(
  workspaceId: string,
  timeZone: string,
  query: AuditQuery,
): AuditFilter {
  const fieldErrors: FieldErrors = {};
  const filter: AuditFilter = { workspaceId };
  const action = query.action?.trim();
  if (action) {
    if (AUDIT_ACTION_GROUPS.some((g) => g.value === action)) filter.action = action;
    else fieldErrors.action = ["Choose a kind of event from the list."];
  }
  const from = query.from?.trim();
  if (from) {
    const day = parseDay(from);
    if (day) filter.from = startOfDay(day.year, day.month, day.day, timeZone);
    else fieldErrors.from = ["Enter the start date as YYYY-MM-DD, for example 2026-06-01."];
  }
  const to = query.to?.trim();
  if (to) {
    const day = parseDay(to);
    // Inclusive: up to the last millisecond before the next day starts.
    if (day) {
      filter.to = new Date(startOfDay(day.year, day.month, day.day + 1, timeZone).getTime() - 1);
    } else {
      fieldErrors.to = ["Enter the end date as YYYY-MM-DD, for example 2026-06-30."];
    }
  }
  if (filter.from && filter.to && filter.from > filter.to) {
    fieldErrors.to = ["The end date is before the start date."];
  }
  if (Object.keys(fieldErrors).length > 0) {
    throw new ValidationError("Check the filter: some values are not valid.", fieldErrors);
  }
  return filter;
}

// ---------------------------------------------------------------------------------------------
// CSV

export const AUDIT_CSV_COLUMNS = [
  "time",
  "actor_type",
  "actor_id",
  "action",
  "target_type",
  "target_id",
  "ip",
  "user_agent",
  "details",
] as const;

// The CSV cell and line writers (with the formula-injection guard) live in app/lib/csv.ts,
// shared with the contacts export; re-exported here for existing callers.
export { csvCell, csvLine };

function rowCells(row: AuditRow): (string | null)[] {
  return [
    row.at.toISOString(),
    row.actorType,
    row.actorId,
    row.action,
    row.targetType,
    row.targetId,
    row.ip,
    row.userAgent,
    row.details,
  ];
}

/** The header and one line per matching event, newest first, produced as they are read. */
function* csvLines(filter: AuditFilter): Generator<string> {
  yield csvLine(AUDIT_CSV_COLUMNS);
  for (const row of iterateAuditEvents(filter)) yield csvLine(rowCells(row));
}

/**
 * Exports the workspace's events matching `filter` as CSV lines. The export is recorded in the
 * audit log (who, when, which filters) before the first line is produced. The workspace comes
 * from the context, never from the filter, so one workspace's export cannot hold another's
 * events.
 */
export function exportAuditCsv(
  ctx: WorkspaceContext,
  filter: Omit<AuditFilter, "workspaceId" | "userId">,
): Iterable<string> {
  const scoped: AuditFilter = {
    action: filter.action,
    from: filter.from,
    to: filter.to,
    workspaceId: ctx.workspaceId,
  };
  recordAudit(ctx, {
    action: "audit.exported",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: {
      format: "csv",
      filters: {
        action: scoped.action ?? null,
        from: scoped.from?.toISOString() ?? null,
        to: scoped.to?.toISOString() ?? null,
      },
    },
  });
  return csvLines(scoped);
}
