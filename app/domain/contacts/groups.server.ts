import type BetterSqlite3 from "better-sqlite3";
import { count, eq, sql } from "drizzle-orm";
import { contacts, contactTags, listMembers, lists, tags } from "~/db/schema/tenant";
import type { TenantDb, TenantTx } from "~/db/tenants.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";

/**
 * Tags and lists: named groups of contacts, managed the same way. A tag is put on by name (a
 * new name creates it); a list is chosen from the lists that exist. Every membership change,
 * for one contact or many (bulk.server.ts), goes through `applyMembership`, which writes the
 * timeline events.
 */

export type GroupKind = "tag" | "list";
export type MembershipChange = "add" | "remove";
/** A tag or list by id, or by name in any case (adding by a name that is new creates it). */
export type GroupRef = { id: number } | { name: string };

export interface Group {
  id: number;
  name: string;
  contacts: number;
  createdAt: Date;
}

const MAX_GROUP_NAME = 60;
// Both tables have the same columns (id, name, createdAt); one code path manages either.
const GROUP_TABLES = { tag: tags, list: lists as unknown as typeof tags } as const;
const GROUP_LABELS = { tag: "Tag", list: "List" } as const;
const MEMBER_COUNTS = {
  tag: { table: contactTags, group: contactTags.tagId },
  list: { table: listMembers, group: listMembers.listId },
} as const;

function cleanGroupName(kind: GroupKind, input: string): string {
  const name = input.trim().replace(/\s+/g, " ");
  if (!name || name.length > MAX_GROUP_NAME) {
    const message = `Give the ${kind} a name of up to ${MAX_GROUP_NAME} characters.`;
    throw new ValidationError(message, { name: [message] });
  }
  return name;
}

function duplicateName(kind: GroupKind, name: string): never {
  const message = `There is already a ${kind} called “${name}”.`;
  throw new ValidationError(message, { name: [message] });
}

/** By name; `counts: false` skips counting members (for filter menus). */
export function listGroups(
  ctx: WorkspaceContext,
  kind: GroupKind,
  options: { counts?: boolean } = {},
): Group[] {
  const members = MEMBER_COUNTS[kind];
  const counts = new Map(
    options.counts === false
      ? []
      : ctx.db
          .select({ id: members.group, n: count() })
          .from(members.table)
          .groupBy(members.group)
          .all()
          .map((r) => [r.id, r.n]),
  );
  const table = GROUP_TABLES[kind];
  return ctx.db
    .select()
    .from(table)
    .orderBy(sql`lower(${table.name})`)
    .all()
    .map((g) => ({ ...g, contacts: counts.get(g.id) ?? 0 }));
}

function findGroupByName(tx: TenantDb | TenantTx, kind: GroupKind, name: string) {
  const table = GROUP_TABLES[kind];
  return tx
    .select()
    .from(table)
    .where(sql`lower(${table.name}) = lower(${name})`)
    .get();
}

export function createGroup(ctx: WorkspaceContext, kind: GroupKind, input: string) {
  const name = cleanGroupName(kind, input);
  const table = GROUP_TABLES[kind];
  const row = ctx.db.transaction(
    (tx) => {
      if (findGroupByName(tx, kind, name)) duplicateName(kind, name);
      return tx.insert(table).values({ name, createdAt: ctx.now() }).returning().get();
    },
    { behavior: "immediate" },
  );
  auditGroupCreated(ctx, kind, row.id);
  return { id: row.id, name: row.name };
}

/**
 * For a form that creates several things at once (the import's options): a tag or list name
 * checked as createGroup checks it, without storing anything. Null when it is fine.
 */
export function groupNameProblem(kind: GroupKind, input: string): string | null {
  try {
    cleanGroupName(kind, input);
    return null;
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
}

/**
 * Inside the caller's transaction: the tag or list with this name (any case), inserted when
 * there is none. The caller audits the created ones after its transaction commits.
 */
export function findOrInsertGroup(
  tx: TenantTx,
  kind: GroupKind,
  input: string,
  now: Date,
): { id: number; name: string; created: boolean } {
  const name = cleanGroupName(kind, input);
  const found = findGroupByName(tx, kind, name);
  if (found) return { id: found.id, name: found.name, created: false };
  const row = tx.insert(GROUP_TABLES[kind]).values({ name, createdAt: now }).returning().get();
  return { id: row.id, name: row.name, created: true };
}

export function auditGroupCreated(ctx: WorkspaceContext, kind: GroupKind, id: number): void {
  recordAudit(ctx, {
    action: `${kind}.created`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id },
  });
}

export function renameGroup(
  ctx: WorkspaceContext,
  kind: GroupKind,
  id: number,
  input: string,
): void {
  const name = cleanGroupName(kind, input);
  const table = GROUP_TABLES[kind];
  ctx.db.transaction(
    (tx) => {
      const existing = findGroupByName(tx, kind, name);
      if (existing && existing.id !== id) duplicateName(kind, name);
      const done = tx.update(table).set({ name }).where(eq(table.id, id)).run();
      if (done.changes === 0) throw new NotFoundError(GROUP_LABELS[kind], id);
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: `${kind}.renamed`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id },
  });
}

export function deleteGroup(ctx: WorkspaceContext, kind: GroupKind, id: number): void {
  const table = GROUP_TABLES[kind];
  const done = ctx.db.delete(table).where(eq(table.id, id)).run();
  if (done.changes === 0) throw new NotFoundError(GROUP_LABELS[kind], id);
  recordAudit(ctx, {
    action: `${kind}.deleted`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id },
  });
}

/**
 * The group a membership change is about, read in the caller's transaction. Adding by a name
 * that is new creates the tag or list (unaudited, as part of the change); a group that does
 * not exist otherwise is undefined.
 */
export function findGroupForChange(
  tx: TenantDb | TenantTx,
  kind: GroupKind,
  change: MembershipChange,
  group: GroupRef,
  now: Date,
): { id: number; name: string } | undefined {
  const table = GROUP_TABLES[kind];
  if ("id" in group) {
    if (!Number.isSafeInteger(group.id)) return undefined;
    return tx
      .select({ id: table.id, name: table.name })
      .from(table)
      .where(eq(table.id, group.id))
      .get();
  }
  const name = cleanGroupName(kind, group.name);
  const found = findGroupByName(tx, kind, name);
  if (found || change === "remove") return found && { id: found.id, name: found.name };
  return tx
    .insert(table)
    .values({ name, createdAt: now })
    .returning({ id: table.id, name: table.name })
    .get();
}

/** The error for a group that `findGroupForChange` did not find. */
export function groupNotFound(kind: GroupKind, group: GroupRef): ValidationError {
  if ("id" in group) {
    const message = `That ${kind} does not exist any more. Choose a ${kind} from the menu.`;
    return new ValidationError(message, { [`${kind}Id`]: [message] });
  }
  const message = `There is no ${kind} called “${cleanGroupName(kind, group.name)}”.`;
  return new ValidationError(message, { [kind]: [message] });
}

type Statement = { sql: string; params: (groupId: number, at: number, ids: string) => unknown[] };
const MEMBERSHIP_SQL: Record<GroupKind, Record<MembershipChange, Statement>> = {
  tag: {
    add: {
      sql: "INSERT INTO contact_tags (contact_id, tag_id) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING contact_id",
      params: (groupId, _at, ids) => [groupId, ids],
    },
    remove: {
      sql: "DELETE FROM contact_tags WHERE tag_id = ? AND contact_id IN (SELECT value FROM json_each(?)) RETURNING contact_id",
      params: (groupId, _at, ids) => [groupId, ids],
    },
  },
  list: {
    add: {
      sql: "INSERT INTO list_members (list_id, contact_id, added_at) SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING contact_id",
      params: (groupId, at, ids) => [groupId, at, ids],
    },
    remove: {
      sql: "DELETE FROM list_members WHERE list_id = ? AND contact_id IN (SELECT value FROM json_each(?)) RETURNING contact_id",
      params: (groupId, _at, ids) => [groupId, ids],
    },
  },
};

/**
 * Adds the contacts `ids` to the group or takes them out, inside the caller's transaction, and
 * appends a tag.added / list.removed (and so on) event to the timeline of each contact it
 * changed. Returns those contacts' ids.
 */
export function applyMembership(
  client: BetterSqlite3.Database,
  kind: GroupKind,
  change: MembershipChange,
  group: { id: number; name: string },
  ids: readonly number[],
  at: number,
): number[] {
  const statement = MEMBERSHIP_SQL[kind][change];
  const touched = client
    .prepare(statement.sql)
    .pluck()
    .all(...statement.params(group.id, at, JSON.stringify(ids))) as number[];
  if (touched.length) {
    client
      .prepare(
        "INSERT INTO contact_events (contact_id, at, type, data) SELECT value, ?, ?, ? FROM json_each(?)",
      )
      .run(
        at,
        `${kind}.${change === "add" ? "added" : "removed"}`,
        JSON.stringify({ [kind]: group.name }),
        JSON.stringify(touched),
      );
  }
  return touched;
}

/**
 * Puts one contact into a tag or list, or takes them out. Taking someone out of a group that
 * no longer exists changes nothing; adding them to one is an error. The contact's timeline
 * and the audit log record a change, and only a change.
 */
export function changeMembership(
  ctx: WorkspaceContext,
  kind: GroupKind,
  contactId: number,
  change: MembershipChange,
  group: GroupRef,
): { groupId: number | null; changed: boolean } {
  const now = ctx.now();
  const result = ctx.db.transaction(
    (tx) => {
      const found = tx
        .select({ id: contacts.id })
        .from(contacts)
        .where(eq(contacts.id, contactId))
        .get();
      if (!found) throw new NotFoundError("Contact", contactId);
      const target = findGroupForChange(tx, kind, change, group, now);
      if (!target) {
        if (change === "add") throw groupNotFound(kind, group);
        return { groupId: null, changed: false };
      }
      const touched = applyMembership(ctx.db.$client, kind, change, target, [contactId], +now);
      return { groupId: target.id, changed: touched.length > 0 };
    },
    { behavior: "immediate" },
  );
  if (result.changed) {
    recordAudit(ctx, {
      action: "contact.updated",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { [`${kind}${change === "add" ? "Added" : "Removed"}`]: result.groupId! },
    });
  }
  return result;
}
