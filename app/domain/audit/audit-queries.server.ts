import { and, desc, eq, gte, lt, lte, or, type SQL } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditFilter {
  workspaceId?: string;
  /** Events done by this user, or done to them (target user). */
  userId?: string;
  /** Action prefix, e.g. "auth." or an exact action. */
  action?: string;
  from?: Date;
  to?: Date;
}

function conditions(filter: AuditFilter): SQL | undefined {
  const parts: (SQL | undefined)[] = [];
  if (filter.workspaceId) parts.push(eq(auditLog.workspaceId, filter.workspaceId));
  if (filter.userId) {
    parts.push(
      or(
        and(eq(auditLog.actorType, "user"), eq(auditLog.actorId, filter.userId)),
        and(eq(auditLog.targetType, "user"), eq(auditLog.targetId, filter.userId)),
      ),
    );
  }
  if (filter.action) {
    // A prefix is a range, so "_" and "%" in action names need no LIKE escaping.
    parts.push(
      filter.action.endsWith(".")
        ? and(gte(auditLog.action, filter.action), lt(auditLog.action, `${filter.action}\uffff`))
        : eq(auditLog.action, filter.action),
    );
  }
  if (filter.from) parts.push(gte(auditLog.at, filter.from));
  if (filter.to) parts.push(lte(auditLog.at, filter.to));
  return and(...parts);
}

/** Newest first, keyset-paginated by id (`before` = the last id of the previous page). */
export function listAuditEvents(
  filter: AuditFilter,
  page: { limit: number; before?: number },
): { rows: AuditRow[]; nextBefore: number | null } {
  const where = and(conditions(filter), page.before ? lt(auditLog.id, page.before) : undefined);
  const rows = getControlDb()
    .select()
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.id))
    .limit(page.limit + 1)
    .all();
  const more = rows.length > page.limit;
  const shown = more ? rows.slice(0, page.limit) : rows;
  return { rows: shown, nextBefore: more ? shown[shown.length - 1]!.id : null };
}

/** Every matching row, newest first, without holding them all in memory (for CSV export). */
export function* iterateAuditEvents(filter: AuditFilter): Generator<AuditRow> {
  let before: number | undefined;
  for (;;) {
    const { rows, nextBefore } = listAuditEvents(filter, { limit: 500, before });
    yield* rows;
    if (nextBefore === null) return;
    before = nextBefore;
  }
}

/** Has this user signed in before from this device (same IP and user agent)? */
export function hasSignedInFrom(userId: string, ip?: string, userAgent?: string): boolean {
  const row = getControlDb()
    .select({ id: auditLog.id })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.actorType, "user"),
        eq(auditLog.actorId, userId),
        eq(auditLog.action, "auth.signed_in"),
        ip ? eq(auditLog.ip, ip) : undefined,
        userAgent ? eq(auditLog.userAgent, userAgent.slice(0, 512)) : undefined,
      ),
    )
    .limit(1)
    .get();
  return Boolean(row);
}
