import type BetterSqlite3 from "better-sqlite3";
import { eq, inArray } from "drizzle-orm";
import { contacts, lists } from "~/db/schema/tenant";
import { ValidationError } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { releaseContactSubjects } from "../privacy/subject-index.server";
import {
  contactMatchWhere,
  ensureSecureDelete,
  ensureTag,
  findTag,
  flushWal,
  type ContactFilters,
  type SearchField,
} from "./contacts.server";
import { startContactExportWhere } from "./contact-export.server";
import type { SegmentContext } from "../segments/segments.server";
import { suppressionKey } from "./suppression-hash.server";
import { suppressContactInTransaction } from "./suppressions.server";

/**
 * Actions on many contacts at once from the contacts list: the ticked rows of a page, or every
 * contact matching the page's search and filters. A "matching" selection is evaluated here,
 * when the action runs, never from a count or id list the browser sent. The work goes in
 * chunks of ids, newest first, each chunk one transaction, with a yield to the event loop
 * between chunks, so a million-contact workspace never holds every row in memory and other
 * requests keep being served. Each action is audited once, with how many contacts it changed.
 */

/** A page shows at most 200 rows: more ticked ids than that did not come from the page. */
export const MAX_TICKED = 200;
/** Ids per chunk of an "all matching" action: a few milliseconds of work between yields. */
const WINDOW = 1_000;

export type BulkSelection =
  | { kind: "ids"; ids: number[] }
  | {
      kind: "matching";
      q?: string;
      field?: SearchField;
      filters?: ContactFilters;
      defaultCountry: string;
    };

interface Where {
  sql: string;
  params: (string | number)[];
}

function selectionWhere(selection: BulkSelection): Where {
  if (selection.kind === "ids") {
    const ids = [...new Set(selection.ids)].filter((id) => Number.isSafeInteger(id) && id > 0);
    if (ids.length === 0) {
      throw new ValidationError("Tick at least one contact, or choose all matching contacts.");
    }
    if (ids.length > MAX_TICKED) {
      throw new ValidationError(
        `Tick up to ${MAX_TICKED} contacts, or choose all matching contacts.`,
      );
    }
    // Ids of contacts that are not in this workspace's file simply match nothing.
    return { sql: "c.id IN (SELECT value FROM json_each(?))", params: [JSON.stringify(ids)] };
  }
  return contactMatchWhere(selection) ?? { sql: "0", params: [] };
}

/** How many contacts the selection holds now (counting stops at `cap`, when given). */
export function countSelection(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  cap?: number,
): number {
  const where = selectionWhere(selection);
  const inner = `SELECT 1 FROM contacts c WHERE ${where.sql}${cap ? " LIMIT ?" : ""}`;
  const row = ctx.db.$client
    .prepare(`SELECT count(*) AS n FROM (${inner})`)
    .get(...where.params, ...(cap ? [cap] : [])) as { n: number };
  return row.n;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Calls `apply` with the matching ids inside one transaction per chunk; returns the sum of
 * what `apply` returns. Ticked ids are one chunk. "All matching" walks the contacts' id space
 * downwards in windows of `WINDOW` ids on the primary key (NOT INDEXED keeps the planner off
 * a search index, whose range it would sort again for every window): each window costs the
 * same small scan however many contacts the search matches, and the whole walk reads the
 * table once.
 */
async function inChunks(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  apply: (client: BetterSqlite3.Database, ids: number[]) => number,
  afterCommit?: () => void,
  size = WINDOW,
): Promise<number> {
  const where = selectionWhere(selection);
  const client = ctx.db.$client;
  if (selection.kind === "ids") {
    const changed = client
      .transaction(() => {
        const ids = client
          .prepare(`SELECT c.id FROM contacts c WHERE ${where.sql} ORDER BY c.id DESC`)
          .pluck()
          .all(...where.params) as number[];
        return ids.length ? apply(client, ids) : 0;
      })
      .immediate();
    afterCommit?.();
    return changed;
  }
  const top = client.prepare("SELECT max(id) FROM contacts").pluck().get() as number | null;
  const window = client
    .prepare(
      `SELECT c.id FROM contacts AS c NOT INDEXED WHERE c.id >= ? AND c.id < ? AND (${where.sql}) ORDER BY c.id DESC`,
    )
    .pluck();
  let total = 0;
  for (let hi = (top ?? 0) + 1; hi > 0; hi -= size) {
    const lo = Math.max(hi - size, 0);
    const changed = client
      .transaction(() => {
        const ids = window.all(lo, hi, ...where.params) as number[];
        return ids.length ? apply(client, ids) : null;
      })
      .immediate();
    if (changed !== null) {
      afterCommit?.();
      total += changed;
    }
    await tick();
  }
  return total;
}

function audit(
  ctx: WorkspaceContext,
  action: string,
  selection: BulkSelection,
  details: Record<string, string | number | boolean>,
): void {
  recordAudit(ctx, {
    action,
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: { selection: selection.kind, ...details },
  });
}

export interface BulkResult {
  /** Contacts the action changed (already tagged, already on the list and so on don't count). */
  changed: number;
  /** The tag or list, by name, for the message. */
  name?: string;
}

function recordEvents(
  client: BetterSqlite3.Database,
  ids: number[],
  at: number,
  type: string,
  data: Record<string, string>,
): void {
  if (ids.length === 0) return;
  client
    .prepare(
      "INSERT INTO contact_events (contact_id, at, type, data) SELECT value, ?, ?, ? FROM json_each(?)",
    )
    .run(at, type, JSON.stringify(data), JSON.stringify(ids));
}

/**
 * One tag or list change over the selection, window by window: the SQL returns the contacts it
 * changed, each of those gets a timeline event, and the whole an audit entry.
 */
async function changeMembership(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  change: {
    sql: string;
    params: (at: number) => (string | number)[];
    event: string;
    detail: Record<string, string>;
    action: string;
    audit: Record<string, string | number>;
  },
): Promise<number> {
  const at = ctx.now().getTime();
  const changed = await inChunks(ctx, selection, (client, ids) => {
    const touched = client
      .prepare(change.sql)
      .pluck()
      .all(...change.params(at), JSON.stringify(ids)) as number[];
    recordEvents(client, touched, at, change.event, change.detail);
    return touched.length;
  });
  audit(ctx, change.action, selection, { ...change.audit, contacts: changed });
  return changed;
}

/** Tags the selection with `tagName`, creating the tag when it is new. */
export async function bulkAddTag(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  tagName: string,
): Promise<BulkResult> {
  selectionWhere(selection);
  const tag = ensureTag(ctx, tagName);
  const changed = await changeMembership(ctx, selection, {
    sql: "INSERT INTO contact_tags (contact_id, tag_id) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING contact_id",
    params: () => [tag.id],
    event: "tag.added",
    detail: { tag: tag.name },
    action: "contacts.bulk_tagged",
    audit: { tagId: tag.id },
  });
  return { changed, name: tag.name };
}

/** Takes the existing tag `tagName` off the selection. */
export async function bulkRemoveTag(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  tagName: string,
): Promise<BulkResult> {
  selectionWhere(selection);
  const tag = findTag(ctx, tagName);
  const changed = await changeMembership(ctx, selection, {
    sql: "DELETE FROM contact_tags WHERE tag_id = ? AND contact_id IN (SELECT value FROM json_each(?)) RETURNING contact_id",
    params: () => [tag.id],
    event: "tag.removed",
    detail: { tag: tag.name },
    action: "contacts.bulk_untagged",
    audit: { tagId: tag.id },
  });
  return { changed, name: tag.name };
}

function requireList(ctx: WorkspaceContext, listId: number): { id: number; name: string } {
  const list = Number.isSafeInteger(listId)
    ? ctx.db
        .select({ id: lists.id, name: lists.name })
        .from(lists)
        .where(eq(lists.id, listId))
        .get()
    : undefined;
  if (!list) {
    const message = "That list does not exist any more. Choose a list from the menu.";
    throw new ValidationError(message, { list: [message] });
  }
  return list;
}

export async function bulkAddToList(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  listId: number,
): Promise<BulkResult> {
  selectionWhere(selection);
  const list = requireList(ctx, listId);
  const changed = await changeMembership(ctx, selection, {
    sql: "INSERT INTO list_members (list_id, contact_id, added_at) SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING RETURNING contact_id",
    params: (at) => [list.id, at],
    event: "list.added",
    detail: { list: list.name },
    action: "contacts.bulk_listed",
    audit: { listId: list.id },
  });
  return { changed, name: list.name };
}

export async function bulkRemoveFromList(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  listId: number,
): Promise<BulkResult> {
  selectionWhere(selection);
  const list = requireList(ctx, listId);
  const changed = await changeMembership(ctx, selection, {
    sql: "DELETE FROM list_members WHERE list_id = ? AND contact_id IN (SELECT value FROM json_each(?)) RETURNING contact_id",
    params: () => [list.id],
    event: "list.removed",
    detail: { list: list.name },
    action: "contacts.bulk_unlisted",
    audit: { listId: list.id },
  });
  return { changed, name: list.name };
}

/**
 * Deletes the selection as deleting one contact does (consents, tags, lists and timeline go
 * with it; freed pages are zeroed and the WAL flushed). `erase`: an erasure, as for one
 * contact: each email and phone goes on the suppression list for every channel as a keyed
 * hash in the same transaction as the deletion, so they cannot be imported again.
 */
export async function bulkDelete(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  options: { erase: boolean },
): Promise<BulkResult> {
  selectionWhere(selection);
  ensureSecureDelete(ctx.db);
  const key = options.erase ? suppressionKey(ctx.db) : null;
  const now = ctx.now();
  let suppressed = 0;
  let released: { email: string | null; phone: string | null }[] = [];
  const changed = await inChunks(
    ctx,
    selection,
    (_client, ids) => {
      // The drizzle handle shares the connection and joins the chunk's transaction.
      const rows = ctx.db
        .select({ id: contacts.id, email: contacts.email, phone: contacts.phone })
        .from(contacts)
        .where(inArray(contacts.id, ids))
        .all();
      if (key) {
        for (const row of rows) {
          suppressed += suppressContactInTransaction(ctx.db, key, row, "erasure", "all", now).added;
        }
      }
      ctx.db.delete(contacts).where(inArray(contacts.id, ids)).run();
      released = rows;
      return rows.length;
    },
    // Unindexed only once the chunk's deletion has committed (never a moment of a missed holder).
    () => {
      releaseContactSubjects(ctx.db.$client, ctx.workspaceId, released);
      released = [];
    },
    // A deletion also zeroes freed pages and cascades to five tables: smaller chunks.
    WINDOW / 4,
  );
  flushWal(ctx);
  audit(ctx, "contacts.bulk_deleted", selection, {
    contacts: changed,
    erased: options.erase,
    ...(options.erase ? { suppressionEntries: suppressed } : {}),
  });
  return { changed };
}

/**
 * Starts a CSV export of the selection (the same file as any contact export, on the export
 * page). The selection is compiled now; the export worker reads it when it runs.
 */
export function bulkExport(ctx: SegmentContext, selection: BulkSelection): { id: string } {
  const where = selectionWhere(selection);
  return startContactExportWhere(ctx, selection.kind === "ids" ? "selected" : "matching", where);
}
