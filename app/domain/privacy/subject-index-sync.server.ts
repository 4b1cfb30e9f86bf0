import type Database from "better-sqlite3";
import { createHmac } from "node:crypto";
import { cachedStatement } from "~/db/statements.server";

/**
 * Keeping the privacy subject index (control db) in step with a workspace's contacts, on raw
 * connections so the import's writing thread can use it without drizzle; the main thread uses
 * it through subject-index.server.ts. Two rules make the index never miss a workspace that
 * holds a person (a false positive only costs a privacy request a "no data here" answer):
 *
 * - Entries are added before the tenant write commits (or a marker covers the workspace, see
 *   below), so no moment exists where the file holds a person the index does not list.
 * - Entries are removed only after the tenant write that released them has committed, and then
 *   only under the workspace's write lock after checking that no contact has the value again
 *   (another writer may have just taken the address).
 *
 * A marker is an entry whose hash starts with "*" (never a base64url character): "this
 * workspace may hold anyone for now". Writers that add many contacts at once (an import, a
 * rebuild) put one up first, index their rows afterwards in batches, and take it down when
 * done; lookups count a marker as a match. A marker left by a crash is found at the next start
 * and the workspace rebuilt (subject-reindex.server.ts).
 */

export type SubjectKind = "email" | "phone";

export interface SubjectIdentifiers {
  email?: string | null;
  phone?: string | null;
}

/** The keyed hash of one normalised identifier: HMAC-SHA-256, base64url. */
export function hashSubject(key: Buffer, kind: SubjectKind, normalised: string): string {
  return createHmac("sha256", key).update(`${kind}:${normalised}`).digest("base64url");
}

/** Markers sort in ["*", "+"): a range of the primary key, so lookups find them cheaply. */
export const MARKER_FIRST = "*";
export const MARKER_END = "+";

export function subjectMarker(owner: string): string {
  return `${MARKER_FIRST}${owner}`;
}

export function importMarker(importId: string): string {
  return subjectMarker(`import:${importId}`);
}

export function isMarker(hash: string): boolean {
  return hash.startsWith(MARKER_FIRST);
}

/** Adds entries in one control transaction; sorted, so each lands near the last. */
export function insertSubjectHashes(
  control: Database.Database,
  workspaceId: string,
  hashes: readonly string[],
): number {
  if (hashes.length === 0) return 0;
  const sorted = [...hashes].sort();
  const insert = cachedStatement(
    control,
    "INSERT INTO subject_index (hash, workspace_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
  );
  return control.transaction(() => {
    let added = 0;
    for (const hash of sorted) added += insert.run(hash, workspaceId).changes;
    return added;
  })();
}

export function deleteSubjectHashes(
  control: Database.Database,
  workspaceId: string,
  hashes: readonly string[],
): number {
  if (hashes.length === 0) return 0;
  return cachedStatement(
    control,
    "DELETE FROM subject_index WHERE workspace_id = ? AND hash IN (SELECT value FROM json_each(?))",
  ).run(workspaceId, JSON.stringify(hashes)).changes;
}

/** Drops a workspace's entries but not its markers (a rebuild starts with this). */
export function dropIndexedHashes(
  control: Database.Database,
  workspaceId: string,
  limit = Number.MAX_SAFE_INTEGER,
): number {
  return cachedStatement(
    control,
    `DELETE FROM subject_index WHERE rowid IN (
       SELECT rowid FROM subject_index
        WHERE workspace_id = ? AND NOT (hash >= ? AND hash < ?) LIMIT ?)`,
  ).run(workspaceId, MARKER_FIRST, MARKER_END, limit).changes;
}

/**
 * Unindexes identifiers a workspace released (a contact deleted, or its email/phone changed),
 * once that change has committed: under the workspace's write lock, each one no contact holds
 * any more is removed; one a contact took meanwhile stays. Returns how many entries went.
 */
export function releaseSubjects(
  tenant: Database.Database,
  control: Database.Database,
  workspaceId: string,
  key: Buffer,
  released: readonly SubjectIdentifiers[],
): number {
  const wanted = released.filter((r) => r.email || r.phone);
  if (wanted.length === 0) return 0;
  const byEmail = cachedStatement(tenant, "SELECT 1 FROM contacts WHERE email = ?").pluck();
  const byPhone = cachedStatement(tenant, "SELECT 1 FROM contacts WHERE phone = ?").pluck();
  return tenant
    .transaction(() => {
      const gone: string[] = [];
      for (const { email, phone } of wanted) {
        if (email && byEmail.get(email) === undefined) {
          gone.push(hashSubject(key, "email", email));
        }
        if (phone && byPhone.get(phone) === undefined) {
          gone.push(hashSubject(key, "phone", phone));
        }
      }
      return deleteSubjectHashes(control, workspaceId, gone);
    })
    .immediate();
}

export interface IndexBatch {
  /** The last contact id read: the next batch starts after it. */
  lastId: number;
  contacts: number;
  /** Entries added (ones already there are not counted). */
  added: number;
}

/** Contacts per batch of a bulk indexing run (an import's catch-up, a rebuild). */
export const BULK_BATCH = 50_000;

type ContactKeys = [id: number, email: string | null, phone: string | null];

/**
 * Indexes the next `limit` contacts after `afterId` (only those changed since `since`, ms).
 * Entries go in as one sorted control transaction: the index is keyed by random hashes, so
 * every commit rewrites each page it touched, and large commits are several times cheaper per
 * entry than small ones. A contact deleted or given another address between the reading and
 * the indexing would leave a stale entry, so afterwards, under the workspace's write lock, the
 * batch's contacts are read again and what changed is released. Null when none is left.
 */
export function indexContactBatch(
  tenant: Database.Database,
  control: Database.Database,
  workspaceId: string,
  key: Buffer,
  afterId: number,
  options: { since?: number; limit?: number } = {},
): IndexBatch | null {
  const rows = cachedStatement(
    tenant,
    "SELECT id, email, phone FROM contacts WHERE id > ? AND updated_at >= ? ORDER BY id LIMIT ?",
  )
    .raw()
    .all(afterId, options.since ?? 0, options.limit ?? BULK_BATCH) as ContactKeys[];
  if (rows.length === 0) return null;
  const hashes: string[] = [];
  for (const [, email, phone] of rows) {
    if (email) hashes.push(hashSubject(key, "email", email));
    if (phone) hashes.push(hashSubject(key, "phone", phone));
  }
  const lastId = rows[rows.length - 1]![0];
  const added = insertSubjectHashes(control, workspaceId, hashes);
  const reread = cachedStatement(
    tenant,
    "SELECT id, email, phone FROM contacts WHERE id > ? AND id <= ?",
  ).raw();
  tenant
    .transaction(() => {
      const now = new Map<number, ContactKeys>();
      for (const row of reread.all(afterId, lastId) as ContactKeys[]) now.set(row[0], row);
      const changed: SubjectIdentifiers[] = [];
      for (const [id, email, phone] of rows) {
        const current = now.get(id);
        const oldEmail = email && email !== current?.[1] ? email : null;
        const oldPhone = phone && phone !== current?.[2] ? phone : null;
        if (oldEmail || oldPhone) changed.push({ email: oldEmail, phone: oldPhone });
      }
      releaseSubjects(tenant, control, workspaceId, key, changed);
    })
    .immediate();
  return { lastId, contacts: rows.length, added };
}

/** Indexes every contact changed since `since` (ms), batch by batch; see indexContactBatch. */
export function indexContactsSince(
  tenant: Database.Database,
  control: Database.Database,
  workspaceId: string,
  key: Buffer,
  since: number,
): { contacts: number; added: number } {
  const total = { contacts: 0, added: 0 };
  let afterId = 0;
  for (;;) {
    const batch = indexContactBatch(tenant, control, workspaceId, key, afterId, {
      since,
      limit: BULK_BATCH,
    });
    if (!batch) return total;
    afterId = batch.lastId;
    total.contacts += batch.contacts;
    total.added += batch.added;
  }
}
