import { inArray } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { users } from "~/db/schema/control";

/** Members' display names by user id (the control db), one query for a page. */
export function userNames(ids: Iterable<string>): Map<string, string> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = getControlDb()
    .select({ id: users.id, name: users.name })
    .from(users)
    .where(inArray(users.id, unique))
    .all();
  return new Map(rows.map((r) => [r.id, r.name]));
}
