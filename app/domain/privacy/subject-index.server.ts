import type Database from "better-sqlite3";
import { and, eq, gte, inArray, lt, or } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { subjectIndex } from "~/db/schema/control";
import { getSubjectIndexKey } from "~/lib/local-secrets.server";
import {
  hashSubject,
  MARKER_END,
  MARKER_FIRST,
  releaseSubjects,
  type SubjectIdentifiers,
  type SubjectKind,
} from "./subject-index-sync.server";

/**
 * The privacy subject index: which workspaces hold a person, by a keyed
 * hash of their normalised email (lower-case) or E.164 phone. A privacy request finds its
 * subject across thousands of workspace files with one indexed query; the index holds no
 * readable address, and its key (SUBJECT_INDEX_KEY) is not the workspaces' suppression keys.
 * How writers keep it in step (and never let it miss a workspace): subject-index-sync.server.ts.
 */

export type { SubjectIdentifiers, SubjectKind };

/** The keyed hash of one normalised identifier (callers normalise as contacts do). */
export function subjectHash(kind: SubjectKind, normalised: string, key?: Buffer): string {
  return hashSubject(key ?? getSubjectIndexKey(), kind, normalised);
}

/** The hashes of a person's identifiers (an email, a phone, or both). */
export function subjectHashes(identifiers: SubjectIdentifiers, key?: Buffer): string[] {
  const hashes: string[] = [];
  if (identifiers.email) hashes.push(subjectHash("email", identifiers.email, key));
  if (identifiers.phone) hashes.push(subjectHash("phone", identifiers.phone, key));
  return hashes;
}

/** Records that `workspaceId` holds these hashes (idempotent). */
export function indexSubjects(workspaceId: string, hashes: readonly string[]): void {
  if (hashes.length === 0) return;
  // One prepared statement in one transaction: callers index thousands at a time.
  const client = getControlDb().$client;
  const insert = client.prepare(
    "INSERT INTO subject_index (hash, workspace_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
  );
  client.transaction(() => {
    for (const hash of hashes) insert.run(hash, workspaceId);
  })();
}

/** Forgets that `workspaceId` holds these hashes (the contact was deleted or changed address). */
export function unindexSubjects(workspaceId: string, hashes: readonly string[]): void {
  if (hashes.length === 0) return;
  getControlDb()
    .delete(subjectIndex)
    .where(and(eq(subjectIndex.workspaceId, workspaceId), inArray(subjectIndex.hash, [...hashes])))
    .run();
}

/**
 * The workspaces holding any of these hashes, and those whose entries are being written right
 * now (a marker: an import or a rebuild is under way), which may hold anyone.
 */
export function workspacesHolding(hashes: readonly string[]): string[] {
  if (hashes.length === 0) return [];
  return getControlDb()
    .selectDistinct({ workspaceId: subjectIndex.workspaceId })
    .from(subjectIndex)
    .where(
      or(
        inArray(subjectIndex.hash, [...hashes]),
        and(gte(subjectIndex.hash, MARKER_FIRST), lt(subjectIndex.hash, MARKER_END)),
      ),
    )
    .all()
    .map((row) => row.workspaceId);
}

/**
 * After a tenant write that deleted contacts or changed their email/phone has committed:
 * unindexes the old values no contact of the workspace holds any more (see releaseSubjects).
 */
export function releaseContactSubjects(
  tenant: Database.Database,
  workspaceId: string,
  released: readonly SubjectIdentifiers[],
): number {
  return releaseSubjects(
    tenant,
    getControlDb().$client,
    workspaceId,
    getSubjectIndexKey(),
    released,
  );
}

/** Drops every entry of a workspace (it was deleted); returns how many went. */
export function dropWorkspaceSubjects(workspaceId: string): number {
  return getControlDb().delete(subjectIndex).where(eq(subjectIndex.workspaceId, workspaceId)).run()
    .changes;
}
