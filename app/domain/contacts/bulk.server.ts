import type BetterSqlite3 from "better-sqlite3";
import { inArray } from "drizzle-orm";
import { contacts } from "~/db/schema/tenant";
import { ValidationError } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { releaseContactSubjects } from "../privacy/subject-index.server";
import { ensureSecureDelete, flushWal } from "./contacts.server";
import {
  applyMembership,
  findGroupForChange,
  groupNotFound,
  type GroupKind,
  type GroupRef,
  type MembershipChange,
} from "./groups.server";
import { contactMatchWhere, type ContactMatch } from "./search.server";
import { startContactExportWhere } from "./contact-export.server";
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

export type BulkSelection = { kind: "ids"; ids: number[] } | ({ kind: "matching" } & ContactMatch);

interface Where {
  sql: string;
  params: (string | number)[];
}

function selectionWhere(ctx: WorkspaceContext, selection: BulkSelection): Where {
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
  return contactMatchWhere(ctx, selection) ?? { sql: "0", params: [] };
}

/** How many contacts the selection holds now (counting stops at `cap`, when given). */
export function countSelection(
  ctx: WorkspaceContext,
  selection: BulkSelection,
  cap?: number,
): number {
  const where = selectionWhere(ctx, selection);
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
  const where = selectionWhere(ctx, selection);
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

const BULK_ACTIONS: Record<GroupKind, Record<MembershipChange, string>> = {
  tag: { add: "contacts.bulk_tagged", remove: "contacts.bulk_untagged" },
  list: { add: "contacts.bulk_listed", remove: "contacts.bulk_unlisted" },
};

/**
 * Adds the selection to a tag or list, or takes it out, window by window (the same change as
 * for one contact: groups.server.ts), with one audit entry for the whole. Adding to a tag by a
 * name that is new creates it; any other group that does not exist is an error.
 */
export async function bulkChangeMembership(
  ctx: WorkspaceContext,
  kind: GroupKind,
  selection: BulkSelection,
  change: MembershipChange,
  group: GroupRef,
): Promise<BulkResult> {
  selectionWhere(ctx, selection);
  const target = ctx.db.transaction(
    (tx) => findGroupForChange(tx, kind, change, group, ctx.now()),
    { behavior: "immediate" },
  );
  if (!target) throw groupNotFound(kind, group);
  const at = ctx.now().getTime();
  const changed = await inChunks(
    ctx,
    selection,
    (client, ids) => applyMembership(client, kind, change, target, ids, at).length,
  );
  audit(ctx, BULK_ACTIONS[kind][change], selection, {
    [`${kind}Id`]: target.id,
    contacts: changed,
  });
  return { changed, name: target.name };
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
  selectionWhere(ctx, selection);
  ensureSecureDelete(ctx);
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
export function bulkExport(ctx: WorkspaceContext, selection: BulkSelection): { id: string } {
  const where = selectionWhere(ctx, selection);
  return startContactExportWhere(ctx, selection.kind === "ids" ? "selected" : "matching", where);
}
