import { and, desc, eq, isNotNull, isNull, or } from "drizzle-orm";
import { existsSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { getControlDb } from "~/db/control.server";
import { tenantDbPath } from "~/db/tenants.server";
import {
  auditLog,
  dsarRequests,
  dsarTasks,
  memberships,
  sessions,
  users,
  workspaces,
} from "~/db/schema/control";
import { getEnv } from "~/lib/env.server";
import { normaliseEmail } from "~/lib/email-address";
import { AppError, NotFoundError, ValidationError } from "~/lib/errors";
import { normalisePhone } from "~/lib/phone";
import { readSignedToken, signToken } from "~/lib/signed-token.server";
import { randomToken } from "~/lib/tokens";
import { runWorker } from "~/lib/worker.server";
import { correctAccountEmail, deleteUserAccount } from "../accounts/account-deletion.server";
import { updateProfile } from "../accounts/accounts.server";
import { findUserById } from "../accounts/users.server";
import { recordAudit } from "../audit/audit.server";
import { eraseContact, getContact, updateContact } from "../contacts/contacts.server";
import { suppressionKey } from "../contacts/suppression-hash.server";
import { suppressContact, suppressContactInTransaction } from "../contacts/suppressions.server";
import type { SystemContext, WorkspaceContext } from "../context";
import { createUnsubscribeToken, optOut } from "../mail/mail.server";
import { openWorkspaceContext } from "../workspaces/access.server";
import {
  matchingContactIds,
  writeBundleZip,
  type Bundle,
  type BundleSection,
  type BundleSubject,
} from "./dsar-bundle.server";
import type { RequesterIdentifiers } from "./dsar-notify.server";
import { subjectHash, subjectHashes, unindexSubjects } from "./subject-index.server";

/**
 * Fulfilling one approved privacy task: access/export write a zip (the
 * workspace's part in a worker thread), correction applies the fields an admin entered,
 * erasure and a child's data delete the person and keep only suppression hashes, opt-out
 * suppresses every channel. Workspace data changes only through the contacts domain, so
 * validation, the timeline and the subject index stay right. Returns counts, never content.
 */

type TaskRow = typeof dsarTasks.$inferSelect;

export const EXPORT_LINK_DAYS = 7;
const DAY_MS = 86_400_000;
export const DSAR_EXPORT_WORKER = "app/workers/dsar-export.worker.ts";
const DOWNLOAD_PURPOSE = "dsar-download\n";

export interface DsarExportWorkerData {
  workspaceId: string;
  /** The tenant file, resolved (and validated) by the main thread. */
  path: string;
  /** The workspace's suppression key, base64, so the worker finds the person's entries. */
  suppressionKey: string;
  subject: BundleSubject;
  file: string;
  now: number;
}

export type FulfilCounts = Record<string, number>;

export interface FulfilOutcome {
  counts: FulfilCounts;
  exportFile?: string;
  exportExpiresAt?: Date;
}

/** What a workspace admin (or, for an account, a platform admin) typed in the approve form. */
export interface CorrectionInput {
  name?: string;
  email?: string;
  phone?: string;
  /** "key = value" per attribute; an empty value clears it. */
  attributes?: Record<string, string>;
  /** Which contact, when the person's email and phone are on two different contacts. */
  contactId?: number;
}

/** The normalised identifiers a request names (email lower-case, phone E.164). */
export function subjectOf(requester: RequesterIdentifiers, defaultCountry = "IN"): BundleSubject {
  const phone = requester.phone ? normalisePhone(requester.phone, defaultCountry) : null;
  return {
    email: requester.email ? normaliseEmail(requester.email) : null,
    phone: phone?.ok ? phone.e164 : null,
  };
}

/** The workspace's contacts holding the person's email or phone now (for the task page). */
export function matchingContacts(
  ctx: WorkspaceContext,
  subject: BundleSubject,
): { id: number; name: string }[] {
  return matchingContactIds(ctx.db.$client, subject).map((id) => {
    const contact = getContact(ctx, id);
    return { id, name: contact.name || contact.email || contact.phone || `#${id}` };
  });
}

function hashesOf(subject: BundleSubject): string[] {
  return subjectHashes(subject);
}

// ---------------------------------------------------------------------------------------------
// Export files and links

export function dsarExportsDir(): string {
  return join(getEnv().DATA_DIR, "exports", "dsar");
}

/** A stored path (relative to DATA_DIR) resolved and kept inside DATA_DIR. */
function absoluteFile(stored: string): string {
  const root = resolve(getEnv().DATA_DIR);
  const full = resolve(root, stored);
  const rel = relative(root, full);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new NotFoundError("Export file");
  return full;
}

function newExportPath(taskId: number): string {
  return join("exports", "dsar", `${taskId}-${randomToken(9)}.zip`);
}

/**
 * The requester's download link for a task's export: the task id and the file's name signed
 * under the server secret, so a new export (a new file) makes old links stop working.
 */
export function downloadToken(task: Pick<TaskRow, "id" | "exportFile">): string {
  return signToken(DOWNLOAD_PURPOSE, `${task.id}:${task.exportFile ?? ""}`);
}

export function downloadUrl(task: Pick<TaskRow, "id" | "exportFile">): string {
  return `${getEnv().BASE_URL}/dsar/download/${downloadToken(task)}`;
}

/** The link has expired (410). */
export class DownloadExpiredError extends AppError {
  constructor() {
    super(
      "This download link has expired. Exports can be downloaded for 7 days; make a new request if you still need your data.",
      410,
      "dsar_export_expired",
    );
  }
}

export interface DsarDownload {
  path: string;
  bytes: number;
  taskId: number;
}

/**
 * Checks a download link: a token that is not ours or names no current export is a 404; an
 * expired one a 410. Every download is audited (task and size; who asked is anonymous, the
 * request's IP and user agent are in the row).
 */
export function openDsarDownload(ctx: SystemContext, token: string): DsarDownload {
  const payload = readSignedToken(DOWNLOAD_PURPOSE, token);
  const match = payload ? /^([1-9]\d{0,14}):(.+)$/.exec(payload) : null;
  if (!match) throw new NotFoundError("Download");
  const task = getControlDb()
    .select()
    .from(dsarTasks)
    .where(eq(dsarTasks.id, Number(match[1])))
    .get();
  if (!task || task.exportFile !== match[2]) throw new NotFoundError("Download");
  if (!task.exportExpiresAt || task.exportExpiresAt.getTime() <= ctx.now().getTime()) {
    throw new DownloadExpiredError();
  }
  const path = absoluteFile(task.exportFile);
  if (!existsSync(path)) throw new DownloadExpiredError();
  const bytes = statSync(path).size;
  recordAudit(ctx, {
    action: "dsar.export_downloaded",
    workspaceId: task.workspaceId,
    target: { type: "dsar_task", id: task.id },
    details: { bytes },
  });
  return { path, bytes, taskId: task.id };
}

/** Removes an export file (expired, or replaced); safe when it is already gone. */
export function removeExportFile(stored: string | null): void {
  if (stored) rmSync(absoluteFile(stored), { force: true });
}

/**
 * An erased person's earlier exports from the same holder (a workspace, or the platform for
 * `workspaceId` null) still hold their data: the files go and their links stop working.
 */
function dropEarlierExports(workspaceId: string | null, subject: BundleSubject): number {
  const db = getControlDb();
  const email = subject.email ? subjectHash("email", subject.email) : null;
  const phone = subject.phone ? subjectHash("phone", subject.phone) : null;
  if (!email && !phone) return 0;
  const rows = db
    .select({ id: dsarTasks.id, exportFile: dsarTasks.exportFile })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .where(
      and(
        isNotNull(dsarTasks.exportFile),
        workspaceId ? eq(dsarTasks.workspaceId, workspaceId) : isNull(dsarTasks.workspaceId),
        or(
          email ? eq(dsarRequests.emailHash, email) : undefined,
          phone ? eq(dsarRequests.phoneHash, phone) : undefined,
        ),
      ),
    )
    .all();
  for (const row of rows) {
    removeExportFile(row.exportFile);
    db.update(dsarTasks)
      .set({ exportFile: null, exportExpiresAt: null })
      .where(eq(dsarTasks.id, row.id))
      .run();
  }
  return rows.length;
}

// ---------------------------------------------------------------------------------------------
// Workspace tasks

function workspaceContextFor(ctx: SystemContext, workspaceId: string): WorkspaceContext {
  return openWorkspaceContext(workspaceId, ctx.actor, ctx.request ?? {}, ctx.now);
}

function workspaceCountry(workspaceId: string): string {
  return (
    getControlDb()
      .select({ country: workspaces.country })
      .from(workspaces)
      .where(eq(workspaces.id, workspaceId))
      .get()?.country ?? "IN"
  );
}

async function exportFromWorkspace(
  ctx: SystemContext,
  task: TaskRow,
  subject: BundleSubject,
): Promise<FulfilOutcome> {
  const stored = newExportPath(task.id);
  const file = absoluteFile(stored);
  const now = ctx.now();
  const key = suppressionKey(workspaceContextFor(ctx, task.workspaceId!).db);
  try {
    const result = await runWorker<{ bytes: number; rows: number }>(DSAR_EXPORT_WORKER, {
      name: `dsar-export ${task.id}`,
      workerData: {
        workspaceId: task.workspaceId!,
        path: tenantDbPath(task.workspaceId!),
        suppressionKey: key.toString("base64"),
        subject,
        file,
        now: now.getTime(),
      } satisfies DsarExportWorkerData,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    return {
      counts: { rows: result.rows, bytes: result.bytes },
      exportFile: stored,
      exportExpiresAt: new Date(now.getTime() + EXPORT_LINK_DAYS * DAY_MS),
    };
  } catch (error) {
    rmSync(file, { force: true });
    rmSync(`${file}.part`, { force: true });
    throw error;
  }
}

/**
 * Erasure in one workspace: the person's contacts are erased through the contacts domain
 * (suppression hashes on every channel, contact, consents, events and conversations deleted),
 * then the messages we sent them keep only what usage and campaign counts need (channel,
 * status, times) and lose recipient and content; inbound messages from their addresses go.
 */
function eraseFromWorkspace(ctx: SystemContext, task: TaskRow, subject: BundleSubject) {
  const wctx = workspaceContextFor(ctx, task.workspaceId!);
  const client = wctx.db.$client;
  client.pragma("secure_delete = ON");
  const ids = matchingContactIds(client, subject);
  const found = ids.map((id) => getContact(wctx, id));
  const addresses = [
    ...new Set(
      [
        subject.email,
        subject.phone,
        ...found.flatMap((c) => [c.email, c.phone]),
        ...ids.map(
          (id) =>
            (
              client
                .prepare("SELECT telegram_chat_id AS chat FROM contacts WHERE id = ?")
                .get(id) as { chat: string | null } | undefined
            )?.chat ?? null,
        ),
      ].filter((v): v is string => Boolean(v)),
    ),
  ];
  const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");
  const byContact = ids.length ? `contact_id IN (${marks(ids.length)})` : "0";
  const byAddress = (column: string) =>
    addresses.length ? `${column} IN (${marks(addresses.length)})` : "0";
  const messageIds = (
    client
      .prepare(`SELECT id FROM messages WHERE ${byContact} OR ${byAddress("recipient")}`)
      .all(...ids, ...addresses) as { id: string }[]
  ).map((m) => m.id);
  const events = ids.length
    ? (
        client
          .prepare(`SELECT count(*) AS n FROM contact_events WHERE ${byContact}`)
          .get(...ids) as { n: number }
      ).n
    : 0;

  for (const id of ids) eraseContact(wctx, id);

  const key = suppressionKey(wctx.db);
  const at = ctx.now();
  const result = wctx.db.transaction(
    (tx) => {
      // Identifiers that were not (or no longer) on a contact are suppressed all the same.
      const { added } = suppressContactInTransaction(
        tx,
        key,
        { id: null, email: subject.email, phone: subject.phone },
        "erasure",
        "all",
        at,
      );
      const conversations = client
        .prepare(`DELETE FROM inbound_messages WHERE ${byAddress("sender")}`)
        .run(...addresses).changes;
      const anonymise = client.prepare(
        `UPDATE messages SET recipient = '',
                status = CASE WHEN status IN ('queued', 'sending') THEN 'skipped' ELSE status END,
                error = CASE WHEN status IN ('queued', 'sending') THEN 'Erased (privacy request)' ELSE NULL END,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
          WHERE id = ?`,
      );
      const dropContent = client.prepare("DELETE FROM message_contents WHERE message_id = ?");
      for (const id of messageIds) {
        anonymise.run(at.getTime(), id);
        dropContent.run(id);
      }
      return { added, conversations };
    },
    { behavior: "immediate" },
  );
  try {
    client.pragma("wal_checkpoint(TRUNCATE)");
  } catch {
    // Best effort, as after any deletion: the next checkpoint moves it.
  }
  const hashes = [
    ...hashesOf(subject),
    ...found.flatMap((c) => subjectHashes({ email: c.email, phone: c.phone })),
  ];
  unindexSubjects(task.workspaceId!, [...new Set(hashes)]);
  const exports = dropEarlierExports(task.workspaceId, subject);
  return {
    counts: {
      exports,
      contacts: ids.length,
      messages: messageIds.length,
      events,
      conversations: result.conversations,
      suppressions: result.added,
    },
  };
}

/** Opt-out in one workspace: every channel suppressed for the person and their contacts. */
function optOutInWorkspace(ctx: SystemContext, task: TaskRow, subject: BundleSubject) {
  const wctx = workspaceContextFor(ctx, task.workspaceId!);
  const ids = matchingContactIds(wctx.db.$client, subject);
  let added = 0;
  let withdrawn = 0;
  for (const id of ids) {
    const contact = getContact(wctx, id);
    const result = suppressContact(wctx, contact, "unsubscribe", "all");
    added += result.added;
    withdrawn += result.withdrawn.length;
  }
  const key = suppressionKey(wctx.db);
  const at = ctx.now();
  added += wctx.db.transaction(
    (tx) =>
      suppressContactInTransaction(
        tx,
        key,
        { id: null, email: subject.email, phone: subject.phone },
        "unsubscribe",
        "all",
        at,
      ).added,
    { behavior: "immediate" },
  );
  return { counts: { contacts: ids.length, suppressions: added, consentsWithdrawn: withdrawn } };
}

function cleanCorrection(input: CorrectionInput | undefined): CorrectionInput {
  const out: CorrectionInput = {};
  const text = (v: string | undefined) => (v ?? "").trim();
  if (text(input?.name)) out.name = text(input?.name);
  if (text(input?.email)) out.email = text(input?.email);
  if (text(input?.phone)) out.phone = text(input?.phone);
  if (input?.attributes && Object.keys(input.attributes).length) out.attributes = input.attributes;
  if (input?.contactId) out.contactId = input.contactId;
  return out;
}

export const NOTHING_TO_CORRECT =
  "Enter the corrected value of at least one field (what the person asked to change).";

/** Whether a correction has any field to apply (used to refuse an empty approval early). */
export function hasCorrection(input: CorrectionInput | undefined): boolean {
  const clean = cleanCorrection(input);
  return Boolean(clean.name || clean.email || clean.phone || clean.attributes);
}

function correctInWorkspace(
  ctx: SystemContext,
  task: TaskRow,
  subject: BundleSubject,
  input: CorrectionInput | undefined,
) {
  const correction = cleanCorrection(input);
  if (!hasCorrection(correction)) throw new ValidationError(NOTHING_TO_CORRECT);
  const wctx = workspaceContextFor(ctx, task.workspaceId!);
  const ids = matchingContactIds(wctx.db.$client, subject);
  if (ids.length === 0) {
    throw new ValidationError(
      "No contact in this workspace has the person's email or phone any more. Decline the request with that reason.",
    );
  }
  const id = correction.contactId ?? (ids.length === 1 ? ids[0]! : null);
  if (id === null || !ids.includes(id)) {
    const message = "Choose which of the person's contacts to correct.";
    throw new ValidationError(message, { contactId: [message] });
  }
  const before = getContact(wctx, id);
  const after = updateContact(
    wctx,
    id,
    {
      name: correction.name,
      email: correction.email,
      phone: correction.phone,
      attributes: correction.attributes,
    },
    { defaultCountry: wctx.workspace.country },
  );
  const fields = (["name", "email", "phone"] as const).filter((f) => before[f] !== after[f]);
  const attributes = Object.keys(correction.attributes ?? {}).length;
  return { counts: { contacts: 1, fields: fields.length, attributes } };
}

// ---------------------------------------------------------------------------------------------
// Account tasks (the platform is controller: profile, memberships, sessions, audit events)

function iso(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

export function collectAccountBundle(userId: string, now: Date): Bundle {
  const db = getControlDb();
  const user = db.select().from(users).where(eq(users.id, userId)).get();
  if (!user) throw new NotFoundError("User", userId);
  const memberRows = db
    .select({
      workspace: workspaces.name,
      slug: workspaces.slug,
      role: memberships.role,
      joined: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .all();
  const sessionRows = db
    .select()
    .from(sessions)
    .where(eq(sessions.userId, userId))
    .orderBy(desc(sessions.createdAt))
    .all();
  const auditRows = db
    .select()
    .from(auditLog)
    .where(
      or(
        eq(auditLog.actorId, userId),
        and(eq(auditLog.targetType, "user"), eq(auditLog.targetId, userId)),
      ),
    )
    .orderBy(auditLog.id)
    .all();
  const sections: BundleSection[] = [
    {
      name: "profile",
      columns: [
        "id",
        "email",
        "name",
        "status",
        "created_at",
        "email_verified_at",
        "mfa_enabled",
        "google_sign_in",
        "policy_version",
        "policy_accepted_at",
        "age_confirmed_at",
      ],
      rows: [
        {
          id: user.id,
          email: user.email,
          name: user.name,
          status: user.status,
          created_at: iso(user.createdAt),
          email_verified_at: iso(user.emailVerifiedAt),
          mfa_enabled: Boolean(user.totpEnabledAt),
          google_sign_in: Boolean(user.googleSub),
          policy_version: user.policyVersion,
          policy_accepted_at: iso(user.policyAcceptedAt),
          age_confirmed_at: iso(user.ageConfirmedAt),
        },
      ],
    },
    {
      name: "memberships",
      columns: ["workspace", "slug", "role", "joined_at"],
      rows: memberRows.map((m) => ({
        workspace: m.workspace,
        slug: m.slug,
        role: m.role,
        joined_at: iso(m.joined),
      })),
    },
    {
      name: "sessions",
      columns: ["created_at", "last_seen_at", "expires_at", "ip", "user_agent"],
      rows: sessionRows.map((s) => ({
        created_at: iso(s.createdAt),
        last_seen_at: iso(s.lastSeenAt),
        expires_at: iso(s.expiresAt),
        ip: s.ip,
        user_agent: s.userAgent,
      })),
    },
    {
      name: "audit_events",
      columns: [
        "at",
        "action",
        "actor_type",
        "actor_id",
        "workspace_id",
        "target_type",
        "target_id",
        "ip",
        "user_agent",
        "data",
      ],
      rows: auditRows.map((a) => ({
        at: iso(a.at),
        action: a.action,
        actor_type: a.actorType,
        actor_id: a.actorId,
        workspace_id: a.workspaceId,
        target_type: a.targetType,
        target_id: a.targetId,
        ip: a.ip,
        user_agent: a.userAgent,
        data: a.details,
      })),
    },
  ];
  return {
    title: "Your Pleisys Engage account data",
    generatedAt: now.toISOString(),
    sections,
  };
}

function exportAccount(ctx: SystemContext, task: TaskRow): FulfilOutcome {
  const now = ctx.now();
  const stored = newExportPath(task.id);
  const result = writeBundleZip(absoluteFile(stored), collectAccountBundle(task.userId!, now));
  return {
    counts: { rows: result.rows, bytes: result.bytes },
    exportFile: stored,
    exportExpiresAt: new Date(now.getTime() + EXPORT_LINK_DAYS * DAY_MS),
  };
}

function correctAccount(ctx: SystemContext, task: TaskRow, input: CorrectionInput | undefined) {
  const correction = cleanCorrection(input);
  if (!correction.name && !correction.email) {
    throw new ValidationError("Enter the corrected name or email address.");
  }
  let fields = 0;
  if (correction.name) {
    updateProfile(ctx, task.userId!, { name: correction.name });
    fields += 1;
  }
  if (correction.email) {
    correctAccountEmail(ctx, task.userId!, correction.email);
    fields += 1;
  }
  return { counts: { fields } };
}

function optOutAccount(ctx: SystemContext, task: TaskRow) {
  const user = getControlDb()
    .select({ email: users.email })
    .from(users)
    .where(eq(users.id, task.userId!))
    .get();
  if (!user) throw new NotFoundError("User", task.userId!);
  const { changed } = optOut(ctx, createUnsubscribeToken(user.email, "all"));
  return { counts: { optOuts: changed ? 1 : 0 } };
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/** Whether the task can only be fulfilled with fields an admin enters (correction). */
export function needsCorrectionFields(type: string): boolean {
  return type === "correction";
}

/**
 * Does the work of one approved task and returns what it did. Throws a ValidationError when
 * the input is not enough (a correction without fields) so that nothing is marked done.
 */
export async function fulfilTask(
  ctx: SystemContext,
  task: TaskRow,
  request: { type: string },
  requester: RequesterIdentifiers,
  correction?: CorrectionInput,
): Promise<FulfilOutcome> {
  if (task.workspaceId) {
    const subject = subjectOf(requester, workspaceCountry(task.workspaceId));
    switch (request.type) {
      case "access":
      case "export":
        return exportFromWorkspace(ctx, task, subject);
      case "correction":
        return correctInWorkspace(ctx, task, subject, correction);
      case "erasure":
      case "child":
        return eraseFromWorkspace(ctx, task, subject);
      case "opt_out":
        return optOutInWorkspace(ctx, task, subject);
    }
  } else if (task.userId) {
    switch (request.type) {
      case "access":
      case "export":
        return exportAccount(ctx, task);
      case "correction":
        return correctAccount(ctx, task, correction);
      case "erasure":
      case "child": {
        // Already gone (closed and purged, or a second task): nothing left to delete.
        const deleted = findUserById(task.userId)
          ? deleteUserAccount(ctx, task.userId)
          : { memberships: 0 };
        const subject = subjectOf(requester);
        return { counts: { ...deleted, exports: dropEarlierExports(null, subject) } };
      }
      case "opt_out":
        return optOutAccount(ctx, task);
    }
  }
  throw new ValidationError("This request cannot be fulfilled automatically.");
}
