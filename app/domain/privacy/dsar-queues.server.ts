import { and, asc, count, desc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import {
  auditLog,
  dsarRequests,
  dsarTasks,
  users,
  workspaces,
  type DsarType,
} from "~/db/schema/control";
import { DSAR_REQUEST_PHRASES } from "~/lib/dsar";
import { getEnv } from "~/lib/env.server";
import { dueCountdown, formatDateTime } from "~/lib/format";
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import { notify } from "../accounts/notify.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext, WorkspaceContext } from "../context";
import { listMembers } from "../workspaces/workspaces.server";
import {
  downloadUrl,
  fulfilTask,
  matchingContacts,
  needsCorrectionFields,
  removeExportFile,
  subjectOf,
  hasCorrection,
  NOTHING_TO_CORRECT,
  type CorrectionInput,
  type FulfilOutcome,
} from "./dsar-fulfil.server";
import { correctionFrom, type Decision } from "./dsar-decision-form";
import { askedBusiness, notifyRequester, requesterOf } from "./dsar-notify.server";

/**
 * The privacy queues: each workspace decides the tasks about its
 * contacts (owners and admins: the routes require `privacy:manage`), platform admins decide
 * account tasks. Approve (which fulfils at once) or decline with a reason, within the 30 days the
 * policy promises (there is no extension). When every task of a request is done, settleRequest
 * completes it and tells the requester. A request still unanswered past its due date is
 * escalated to the platform operators, once. Audited by ids and counts only.
 */

type TaskRow = typeof dsarTasks.$inferSelect;
type RequestRow = typeof dsarRequests.$inferSelect;

const DAY_MS = 86_400_000;
export const RESPONSE_DAYS = 30;
export const REMINDER_DAYS = [7, 2] as const;
export const MAX_REASON = 1000;
const PAGE_SIZE = 25;

export const DSAR_TYPE_LABELS: Record<DsarType, string> = {
  access: "Access to their data",
  export: "Export of their data",
  correction: "Correction",
  erasure: "Erasure",
  opt_out: "Opt out of all messages",
  child: "A child's data (erasure)",
};

export const DSAR_TASK_STATUS_LABELS: Record<TaskRow["status"], string> = {
  pending: "Waiting for a decision",
  approved: "Approved",
  declined: "Declined",
  completed: "Completed",
};

// ---------------------------------------------------------------------------------------------
// Reading

export interface DsarTaskView {
  id: number;
  requestId: string;
  type: DsarType;
  typeLabel: string;
  status: TaskRow["status"];
  workspaceId: string | null;
  userId: string | null;
  receivedAt: Date;
  dueAt: Date;
  /** Whole days until the due date (negative once overdue). */
  daysLeft: number;
  /** "12 days left", "due today", "3 days overdue" (empty once answered), as everywhere else. */
  countdown: string;
  open: boolean;
  overdue: boolean;
  decidedBy: string | null;
  decidedAt: Date | null;
  declineReason: string | null;
  completedAt: Date | null;
  counts: Record<string, number> | null;
  /** An approved correction waits for the corrected fields (auto-approval cannot supply them). */
  needsFields: boolean;
  downloadUrl: string | null;
  exportExpiresAt: Date | null;
}

const isOpen = (status: TaskRow["status"]) => status === "pending" || status === "approved";

function toView(
  task: TaskRow,
  request: Pick<RequestRow, "type" | "receivedAt">,
  now: Date,
): DsarTaskView {
  const open = isOpen(task.status);
  const exportLive =
    task.status === "completed" &&
    task.exportFile !== null &&
    task.exportExpiresAt !== null &&
    task.exportExpiresAt.getTime() > now.getTime();
  return {
    id: task.id,
    requestId: task.requestId,
    type: request.type,
    typeLabel: DSAR_TYPE_LABELS[request.type],
    status: task.status,
    workspaceId: task.workspaceId,
    userId: task.userId,
    receivedAt: request.receivedAt,
    dueAt: task.dueAt,
    daysLeft: Math.ceil((task.dueAt.getTime() - now.getTime()) / DAY_MS),
    countdown: open ? dueCountdown(task.dueAt, now).text : "",
    open,
    overdue: open && task.dueAt.getTime() < now.getTime(),
    decidedBy: task.decidedBy,
    decidedAt: task.decidedAt,
    declineReason: task.declineReason,
    completedAt: task.completedAt,
    counts: task.counts ? (JSON.parse(task.counts) as Record<string, number>) : null,
    needsFields:
      task.status === "approved" &&
      task.completedAt === null &&
      needsCorrectionFields(request.type),
    downloadUrl: exportLive ? downloadUrl(task) : null,
    exportExpiresAt: exportLive ? task.exportExpiresAt : null,
  };
}

export type TaskFilter = "open" | "all";

export interface TaskPage {
  rows: DsarTaskView[];
  total: number;
  page: number;
  pages: number;
}

function taskPage(
  where: ReturnType<typeof and>,
  filter: TaskFilter,
  page: number,
  now: Date,
): TaskPage {
  const db = getControlDb();
  const condition = and(
    where,
    filter === "open" ? inArray(dsarTasks.status, ["pending", "approved"]) : undefined,
  );
  const total =
    db
      .select({ n: count() })
      .from(dsarTasks)
      .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
      .where(condition)
      .get()?.n ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  const rows = db
    .select({ task: dsarTasks, type: dsarRequests.type, receivedAt: dsarRequests.receivedAt })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .where(condition)
    // Open ones first, soonest due first; then the finished ones, newest first.
    .orderBy(
      sql`CASE WHEN ${dsarTasks.status} IN ('pending', 'approved') THEN 0 ELSE 1 END`,
      sql`CASE WHEN ${dsarTasks.status} IN ('pending', 'approved') THEN ${dsarTasks.dueAt} ELSE -${dsarTasks.dueAt} END`,
      asc(dsarTasks.id),
    )
    .limit(PAGE_SIZE)
    .offset((current - 1) * PAGE_SIZE)
    .all();
  return {
    rows: rows.map((r) => toView(r.task, { type: r.type, receivedAt: r.receivedAt }, now)),
    total,
    page: current,
    pages,
  };
}

/** The workspace's queue: its own tasks only. */
export function listWorkspaceTasks(
  ctx: WorkspaceContext,
  options: { filter?: TaskFilter; page?: number } = {},
): TaskPage {
  return taskPage(
    and(eq(dsarTasks.workspaceId, ctx.workspaceId)),
    options.filter ?? "open",
    options.page ?? 1,
    ctx.now(),
  );
}

/** The platform's queue: account tasks (the platform is controller of account data). */
export function listAccountTasks(
  ctx: SystemContext,
  options: { filter?: TaskFilter; page?: number } = {},
): TaskPage {
  return taskPage(
    and(isNull(dsarTasks.workspaceId)),
    options.filter ?? "open",
    options.page ?? 1,
    ctx.now(),
  );
}

export interface OverdueTask extends DsarTaskView {
  workspaceName: string;
  workspaceSlug: string;
  /** When the platform admins were mailed about its request (null: on the job's next run). */
  escalatedAt: Date | null;
}

/**
 * Open workspace tasks past their due date, across every workspace, for the admin pages: each
 * is escalated to the platform operators (see escalateOverdue).
 */
export function listOverdueWorkspaceTasks(ctx: SystemContext, limit = 100): OverdueTask[] {
  const now = ctx.now();
  return getControlDb()
    .select({
      task: dsarTasks,
      type: dsarRequests.type,
      receivedAt: dsarRequests.receivedAt,
      name: workspaces.name,
      slug: workspaces.slug,
      escalatedAt: dsarRequests.escalatedAt,
    })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .innerJoin(workspaces, eq(workspaces.id, dsarTasks.workspaceId))
    .where(and(inArray(dsarTasks.status, ["pending", "approved"]), lt(dsarTasks.dueAt, now)))
    .orderBy(asc(dsarTasks.dueAt))
    .limit(limit)
    .all()
    .map((r) => ({
      ...toView(r.task, { type: r.type, receivedAt: r.receivedAt }, now),
      workspaceName: r.name,
      workspaceSlug: r.slug,
      escalatedAt: r.escalatedAt,
    }));
}

export interface DsarHistoryEntry {
  at: Date;
  action: string;
  actorType: string;
  actorId: string | null;
}

export interface DsarTaskDetail extends DsarTaskView {
  /** What the requester wrote (for a correction: what to change). */
  details: string | null;
  /** Workspace tasks: the contacts holding the person's email or phone now. */
  contacts: { id: number; name: string }[];
  /** Account tasks: whose account. */
  account: { name: string; email: string } | null;
  history: DsarHistoryEntry[];
}

const HISTORY_LABELS: Record<string, string> = {
  "dsar.task_approved": "Approved",
  "dsar.task_declined": "Declined",
  "dsar.task_completed": "Fulfilled",
  "dsar.export_downloaded": "Export downloaded",
};

export function historyLabel(action: string): string {
  return HISTORY_LABELS[action] ?? action;
}

/**
 * One task for its decider: a workspace context sees only its own workspace's tasks, anyone
 * else only account tasks (and only platform admins and the CLI get that far). A task of
 * another workspace is "not found".
 */
function loadTask(ctx: SystemContext, taskId: number): { task: TaskRow; request: RequestRow } {
  const workspaceId = "workspaceId" in ctx ? (ctx as WorkspaceContext).workspaceId : null;
  if (workspaceId === null && ctx.actor.type !== "admin" && ctx.actor.type !== "cli") {
    throw new ForbiddenError("Only platform admins decide requests about accounts.");
  }
  const row = getControlDb()
    .select({ task: dsarTasks, request: dsarRequests })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .where(
      and(
        eq(dsarTasks.id, taskId),
        workspaceId === null
          ? isNull(dsarTasks.workspaceId)
          : eq(dsarTasks.workspaceId, workspaceId),
      ),
    )
    .get();
  if (!row) throw new NotFoundError("Privacy request");
  return row;
}

export function getTask(ctx: SystemContext, taskId: number): DsarTaskDetail {
  const { task, request } = loadTask(ctx, taskId);
  const requester = requesterOf(request);
  const contacts =
    "db" in ctx && task.workspaceId
      ? matchingContacts(ctx as WorkspaceContext, subjectOf(requester))
      : [];
  const account = task.userId
    ? (getControlDb()
        .select({ name: users.name, email: users.email })
        .from(users)
        .where(eq(users.id, task.userId))
        .get() ?? null)
    : null;
  const history = getControlDb()
    .select({
      at: auditLog.at,
      action: auditLog.action,
      actorType: auditLog.actorType,
      actorId: auditLog.actorId,
    })
    .from(auditLog)
    .where(and(eq(auditLog.targetType, "dsar_task"), eq(auditLog.targetId, String(task.id))))
    .orderBy(desc(auditLog.id))
    .limit(50)
    .all();
  return {
    ...toView(task, request, ctx.now()),
    details: requester.details,
    contacts,
    account,
    history,
  };
}

// ---------------------------------------------------------------------------------------------
// Deciding

function cleanReason(input: string | null | undefined, what: string): string {
  const reason = (input ?? "").trim();
  if (!reason) {
    const message = `Give the reason ${what}.`;
    throw new ValidationError(message, { reason: [message] });
  }
  if (reason.length > MAX_REASON) {
    const message = `Keep the reason under ${MAX_REASON} characters.`;
    throw new ValidationError(message, { reason: [message] });
  }
  return reason;
}

function assertOpen(task: TaskRow): void {
  if (!isOpen(task.status) || task.completedAt) {
    throw new ConflictError(
      `This request is already ${DSAR_TASK_STATUS_LABELS[task.status].toLowerCase()}.`,
    );
  }
}

function deciderId(ctx: SystemContext): string {
  return ctx.actor.id ?? ctx.actor.type;
}

function auditTask(
  ctx: SystemContext,
  task: TaskRow,
  action: string,
  details: Record<string, unknown>,
): void {
  recordAudit(ctx, {
    action,
    workspaceId: task.workspaceId,
    target: { type: "dsar_task", id: task.id },
    details,
  });
}

export type ApproveResult =
  | { status: "completed"; settled: boolean }
  /** Approved, but the work failed for a reason of ours: the job tries again. */
  | { status: "approved"; error: string };

/** Records the work done (once: a task another run completed first stays as it was). */
function complete(
  ctx: SystemContext,
  task: TaskRow,
  request: RequestRow,
  outcome: FulfilOutcome,
): boolean {
  const now = ctx.now();
  const updated = getControlDb()
    .update(dsarTasks)
    .set({
      status: "completed",
      completedAt: now,
      counts: JSON.stringify(outcome.counts),
      exportFile: outcome.exportFile ?? null,
      exportExpiresAt: outcome.exportExpiresAt ?? null,
      decidedBy: task.decidedBy ?? deciderId(ctx),
      decidedAt: task.decidedAt ?? now,
    })
    .where(
      and(
        eq(dsarTasks.id, task.id),
        inArray(dsarTasks.status, ["pending", "approved"]),
        isNull(dsarTasks.completedAt),
      ),
    )
    .run().changes;
  if (!updated) {
    removeExportFile(outcome.exportFile ?? null);
    return false;
  }
  auditTask(ctx, task, "dsar.task_completed", { type: request.type, counts: outcome.counts });
  return true;
}

/**
 * Approves a task and fulfils it at once. A correction needs the corrected fields (`correction`)
 * and may also be "approved" again when auto-approval left it waiting for them. Input the
 * domain refuses (a correction without fields, an invalid email, an account whose erasure
 * would orphan a workspace) changes nothing.
 */
export async function approveTask(
  ctx: SystemContext,
  taskId: number,
  correction?: CorrectionInput,
): Promise<ApproveResult> {
  const { task, request } = loadTask(ctx, taskId);
  assertOpen(task);
  const fields = needsCorrectionFields(request.type);
  if (task.status === "approved" && !fields) {
    throw new ConflictError("This request is already approved; it is being fulfilled.");
  }
  if (fields && !hasCorrection(correction)) throw new ValidationError(NOTHING_TO_CORRECT);
  const now = ctx.now();
  const approved = () => {
    if (task.status === "pending")
      auditTask(ctx, task, "dsar.task_approved", { type: request.type });
  };
  let outcome: FulfilOutcome;
  try {
    outcome = await fulfilTask(ctx, task, request, requesterOf(request), correction);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) throw error;
    logger.error({ err: error, taskId }, "privacy request fulfilment failed");
    getControlDb()
      .update(dsarTasks)
      .set({ status: "approved", decidedBy: deciderId(ctx), decidedAt: now })
      .where(and(eq(dsarTasks.id, task.id), eq(dsarTasks.status, "pending")))
      .run();
    approved();
    return {
      status: "approved",
      error:
        "Approved, but the work could not be finished now. It is tried again in a few minutes.",
    };
  }
  approved();
  complete(ctx, { ...task, decidedBy: task.decidedBy ?? deciderId(ctx) }, request, outcome);
  const settled = await settleRequest(ctx, request.id);
  return { status: "completed", settled: settled.settled };
}

export async function declineTask(
  ctx: SystemContext,
  taskId: number,
  reasonInput: string,
): Promise<void> {
  const reason = cleanReason(reasonInput, "for declining (the requester is told)");
  const { task, request } = loadTask(ctx, taskId);
  assertOpen(task);
  const changed = getControlDb()
    .update(dsarTasks)
    .set({
      status: "declined",
      declineReason: reason,
      decidedBy: deciderId(ctx),
      decidedAt: ctx.now(),
    })
    .where(and(eq(dsarTasks.id, task.id), inArray(dsarTasks.status, ["pending", "approved"])))
    .run().changes;
  if (!changed) throw new ConflictError("This request was decided in the meantime.");
  auditTask(ctx, task, "dsar.task_declined", { type: request.type });
  await settleRequest(ctx, request.id);
}

function holderName(task: Pick<TaskRow, "workspaceId">): string {
  if (!task.workspaceId) return "Pleisys Engage (your account)";
  return (
    getControlDb()
      .select({ name: workspaces.name })
      .from(workspaces)
      .where(eq(workspaces.id, task.workspaceId))
      .get()?.name ?? "A business"
  );
}

// ---------------------------------------------------------------------------------------------
// Settling

function outcomeLine(task: TaskRow, type: DsarType): string {
  const who = holderName(task);
  if (task.status === "declined") return `${who} declined your request: ${task.declineReason}`;
  const counts = task.counts ? (JSON.parse(task.counts) as Record<string, number>) : {};
  switch (type) {
    case "access":
    case "export":
      return `${who}: your data is ready to download (link below).`;
    case "correction":
      return `${who} corrected your details.`;
    case "erasure":
    case "child":
      return task.workspaceId
        ? `${who} deleted your data (${counts.contacts ?? 0} contact record(s), ${counts.messages ?? 0} message(s)) and will not message you again.`
        : `${who}: your account and its data were deleted.`;
    case "opt_out":
      return `${who} will not message you again on any channel.`;
  }
}

export interface SettleResult {
  settled: boolean;
  status?: "completed" | "declined";
  notified?: boolean;
}

/**
 * Completes the request once every task is completed or declined (declined when all were),
 * with an outcome text, and tells the requester with the download links. Idempotent: a request
 * already settled, or with tasks still open, is left as it is.
 */
export async function settleRequest(ctx: SystemContext, requestId: string): Promise<SettleResult> {
  const db = getControlDb();
  const request = db.select().from(dsarRequests).where(eq(dsarRequests.id, requestId)).get();
  if (!request || request.status !== "open") return { settled: false };
  const tasks = db
    .select()
    .from(dsarTasks)
    .where(eq(dsarTasks.requestId, requestId))
    .orderBy(asc(dsarTasks.id))
    .all();
  if (tasks.length === 0 || tasks.some((t) => isOpen(t.status))) return { settled: false };
  const status = tasks.every((t) => t.status === "declined") ? "declined" : "completed";
  const lines = tasks.map((t) => outcomeLine(t, request.type));
  const now = ctx.now();
  const downloads = tasks
    .filter((t) => t.status === "completed" && t.exportFile && t.exportExpiresAt)
    .filter((t) => t.exportExpiresAt!.getTime() > now.getTime())
    .map((t) => ({ label: `Download: ${holderName(t)}`, url: downloadUrl(t) }));
  const expiries = tasks.flatMap((t) => (t.exportExpiresAt ? [t.exportExpiresAt.getTime()] : []));
  const changed = db
    .update(dsarRequests)
    .set({ status, completedAt: now, outcome: lines.join("\n") })
    .where(and(eq(dsarRequests.id, requestId), eq(dsarRequests.status, "open")))
    .run().changes;
  if (!changed) return { settled: false };
  recordAudit(ctx, {
    action: "dsar.request_settled",
    target: { type: "dsar_request", id: requestId },
    details: { status, tasks: tasks.length, downloads: downloads.length },
  });
  const result = await notifyRequester(ctx, request, {
    kind: "outcome",
    data: {
      askedName: askedBusiness(request.portalWorkspaceId),
      what: DSAR_REQUEST_PHRASES[request.type],
      declined: status === "declined",
      lines,
      downloads,
      linksExpireAt: expiries.length ? new Date(Math.min(...expiries)) : null,
    },
  });
  return { settled: true, status, notified: result.sent };
}

// ---------------------------------------------------------------------------------------------
// The job: fulfil approved tasks, remind before the due date

const FULFIL_BATCH = 50;

async function fulfilApproved(ctx: SystemContext): Promise<{ fulfilled: number; failed: number }> {
  const db = getControlDb();
  const due = db
    .select({ task: dsarTasks, request: dsarRequests })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .where(
      and(
        eq(dsarTasks.status, "approved"),
        isNull(dsarTasks.completedAt),
        // A correction waits for the fields an admin enters.
        sql`${dsarRequests.type} <> 'correction'`,
      ),
    )
    .orderBy(asc(dsarTasks.dueAt))
    .limit(FULFIL_BATCH)
    .all();
  let fulfilled = 0;
  let failed = 0;
  for (const { task, request } of due) {
    try {
      const outcome = await fulfilTask(ctx, task, request, requesterOf(request));
      if (complete(ctx, task, request, outcome)) fulfilled += 1;
      await settleRequest(ctx, request.id);
    } catch (error) {
      failed += 1;
      logger.error({ err: error, taskId: task.id }, "privacy request fulfilment failed");
    }
  }
  return { fulfilled, failed };
}

function taskUrl(task: TaskRow, slug: string | null): string {
  const base = getEnv().BASE_URL;
  return slug
    ? `${base}/w/${slug}/privacy/requests/${task.id}`
    : `${base}/admin/privacy/${task.id}`;
}

/** The platform operators: active platform admins. */
function platformAdminEmails(): string[] {
  return getControlDb()
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.isPlatformAdmin, true), eq(users.status, "active")))
    .all()
    .map((u) => u.email);
}

/** Owners and admins of the workspace; for account tasks, the platform admins. */
function reminderRecipients(task: TaskRow): string[] {
  if (task.workspaceId) {
    return listMembers(task.workspaceId)
      .filter((m) => m.role === "owner" || m.role === "admin")
      .map((m) => m.email);
  }
  return platformAdminEmails();
}

/**
 * Reminders 7 and 2 days before the due date, each once. A task first seen inside 2 days gets
 * only the 2-day one.
 */
async function sendReminders(ctx: SystemContext): Promise<{ reminders: number }> {
  const db = getControlDb();
  const now = ctx.now();
  const horizon = new Date(now.getTime() + REMINDER_DAYS[0] * DAY_MS);
  const rows = db
    .select({
      task: dsarTasks,
      type: dsarRequests.type,
      workspaceName: workspaces.name,
      slug: workspaces.slug,
    })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .leftJoin(workspaces, eq(workspaces.id, dsarTasks.workspaceId))
    .where(
      and(
        inArray(dsarTasks.status, ["pending", "approved"]),
        isNull(dsarTasks.completedAt),
        lt(dsarTasks.dueAt, horizon),
        sql`${dsarTasks.dueAt} > ${now.getTime()}`,
        sql`(${dsarTasks.remindedAt7} IS NULL OR ${dsarTasks.remindedAt2} IS NULL)`,
      ),
    )
    .all();
  let sent = 0;
  for (const { task, type, workspaceName, slug } of rows) {
    const left = task.dueAt.getTime() - now.getTime();
    const which = left <= REMINDER_DAYS[1] * DAY_MS ? 2 : 7;
    if (which === 7 && task.remindedAt7) continue;
    if (which === 2 && task.remindedAt2) continue;
    // Marked first, so two runs never both send (the mail is best effort, as every notice).
    const claimed = db
      .update(dsarTasks)
      .set(
        which === 2
          ? { remindedAt2: now, remindedAt7: task.remindedAt7 ?? now }
          : { remindedAt7: now },
      )
      .where(
        and(
          eq(dsarTasks.id, task.id),
          which === 2 ? isNull(dsarTasks.remindedAt2) : isNull(dsarTasks.remindedAt7),
        ),
      )
      .run().changes;
    if (!claimed) continue;
    for (const email of reminderRecipients(task)) {
      await notify(ctx, "dsar-reminder", email, {
        workspaceName: workspaceName ?? "Pleisys Engage (account requests)",
        requestLabel: DSAR_TYPE_LABELS[type],
        dueAt: task.dueAt,
        daysLeft: Math.max(1, Math.ceil(left / DAY_MS)),
        url: taskUrl(task, slug),
      });
      sent += 1;
    }
  }
  return { reminders: sent };
}

/**
 * Tells owners and admins (platform admins for account tasks) that a request arrived, once per
 * task: marked first, so two runs never both send. Runs with the job, within minutes of the
 * requester confirming; tasks from before this notice existed were marked by their migration.
 */
async function announceNewTasks(ctx: SystemContext): Promise<{ announced: number }> {
  const db = getControlDb();
  const now = ctx.now();
  const rows = db
    .select({
      task: dsarTasks,
      type: dsarRequests.type,
      workspaceName: workspaces.name,
      slug: workspaces.slug,
    })
    .from(dsarTasks)
    .innerJoin(dsarRequests, eq(dsarRequests.id, dsarTasks.requestId))
    .leftJoin(workspaces, eq(workspaces.id, dsarTasks.workspaceId))
    .where(and(isNull(dsarTasks.notifiedAt), inArray(dsarTasks.status, ["pending", "approved"])))
    .orderBy(asc(dsarTasks.id))
    .limit(FULFIL_BATCH)
    .all();
  let sent = 0;
  for (const { task, type, workspaceName, slug } of rows) {
    const claimed = db
      .update(dsarTasks)
      .set({ notifiedAt: now })
      .where(and(eq(dsarTasks.id, task.id), isNull(dsarTasks.notifiedAt)))
      .run().changes;
    if (!claimed) continue;
    for (const email of reminderRecipients(task)) {
      await notify(ctx, "dsar-arrived", email, {
        workspaceName: workspaceName ?? "Pleisys Engage (account requests)",
        requestLabel: DSAR_TYPE_LABELS[type],
        decided: task.status === "approved",
        dueAt: task.dueAt,
        url: taskUrl(task, slug),
      });
      sent += 1;
    }
  }
  return { announced: sent };
}

/**
 * A request still open past its due date goes to the platform operators: marked escalated
 * (which the admin page shows) and mailed to every platform admin, once per request.
 */
async function escalateOverdue(ctx: SystemContext): Promise<{ escalated: number }> {
  const db = getControlDb();
  const now = ctx.now();
  const overdue = db
    .select()
    .from(dsarRequests)
    .where(
      and(
        eq(dsarRequests.status, "open"),
        lt(dsarRequests.dueAt, now),
        isNull(dsarRequests.escalatedAt),
      ),
    )
    .orderBy(asc(dsarRequests.dueAt))
    .limit(FULFIL_BATCH)
    .all();
  let escalated = 0;
  for (const request of overdue) {
    // Marked first, so two runs never both send (the mail is best effort, as every notice).
    const claimed = db
      .update(dsarRequests)
      .set({ escalatedAt: now })
      .where(and(eq(dsarRequests.id, request.id), isNull(dsarRequests.escalatedAt)))
      .run().changes;
    if (!claimed) continue;
    escalated += 1;
    const openTasks = db
      .select()
      .from(dsarTasks)
      .where(
        and(
          eq(dsarTasks.requestId, request.id),
          inArray(dsarTasks.status, ["pending", "approved"]),
        ),
      )
      .orderBy(asc(dsarTasks.id))
      .all();
    recordAudit(ctx, {
      action: "dsar.escalated",
      target: { type: "dsar_request", id: request.id },
      details: { openTasks: openTasks.length },
    });
    for (const email of platformAdminEmails()) {
      await notify(ctx, "dsar-escalated", email, {
        holders: openTasks.map((t) =>
          t.workspaceId ? holderName(t) : "Pleisys Engage (account data: decide it on this page)",
        ),
        requestLabel: DSAR_TYPE_LABELS[request.type],
        receivedAt: request.receivedAt,
        dueAt: request.dueAt,
        url: `${getEnv().BASE_URL}/admin/privacy`,
      });
    }
  }
  return { escalated };
}

/** The `dsar-tasks` job. */
export async function runDsarTasks(ctx: SystemContext): Promise<Record<string, number>> {
  const announced = await announceNewTasks(ctx);
  const work = await fulfilApproved(ctx);
  const reminders = await sendReminders(ctx);
  const escalations = await escalateOverdue(ctx);
  return { ...announced, ...work, ...reminders, ...escalations };
}

/** Workspaces that have open tasks, with how many are overdue (for the workspace badge). */
export function openTaskCounts(ctx: WorkspaceContext): { open: number; overdue: number } {
  const db = getControlDb();
  const now = ctx.now();
  const row = db
    .select({
      open: count(),
      overdue: sql<number>`sum(CASE WHEN ${dsarTasks.dueAt} < ${now.getTime()} THEN 1 ELSE 0 END)`,
    })
    .from(dsarTasks)
    .where(
      and(
        eq(dsarTasks.workspaceId, ctx.workspaceId),
        inArray(dsarTasks.status, ["pending", "approved"]),
      ),
    )
    .get();
  return { open: row?.open ?? 0, overdue: Number(row?.overdue ?? 0) };
}

/**
 * How many of the workspace's requests wait for its decision (the menu badge). Approved ones
 * are the job's to carry out, so only pending ones count.
 */
export function tasksAwaitingDecision(ctx: WorkspaceContext): number {
  const row = getControlDb()
    .select({ n: count() })
    .from(dsarTasks)
    .where(and(eq(dsarTasks.workspaceId, ctx.workspaceId), eq(dsarTasks.status, "pending")))
    .get();
  return row?.n ?? 0;
}

// ---------------------------------------------------------------------------------------------
// For the pages

/** Carries out a decision form (components/dsar-task.tsx) and says what happened. */
export async function decideTask(
  ctx: SystemContext,
  taskId: number,
  decision: Decision,
): Promise<string> {
  switch (decision.intent) {
    case "approve": {
      const result = await approveTask(ctx, taskId, correctionFrom(decision));
      return result.status === "completed"
        ? "Approved and carried out. The requester is told once every part of their request is done."
        : result.error;
    }
    case "decline":
      await declineTask(ctx, taskId, decision.reason);
      return "Declined. The requester is told the reason.";
  }
}

/** A queue row as the pages show it (plain strings and ISO dates). */
export function presentTaskRow(view: DsarTaskView, timeZone: string) {
  return {
    id: view.id,
    type: view.type,
    typeLabel: view.typeLabel,
    status: view.status,
    statusLabel: view.needsFields
      ? "Approved: enter the corrected fields"
      : DSAR_TASK_STATUS_LABELS[view.status],
    received: formatDateTime(view.receivedAt, timeZone),
    receivedIso: view.receivedAt.toISOString(),
    due: formatDateTime(view.dueAt, timeZone),
    dueIso: view.dueAt.toISOString(),
    countdown: view.countdown,
    overdue: view.overdue,
    open: view.open,
  };
}

/** The task page's data. `who` names a decider id (a member's or admin's name). */
export function presentTask(
  detail: DsarTaskDetail,
  timeZone: string,
  who: (id: string | null) => string,
) {
  return {
    ...presentTaskRow(detail, timeZone),
    details: detail.details,
    needsFields: detail.needsFields,
    correction: detail.type === "correction",
    contacts: detail.contacts,
    account: detail.account,
    declineReason: detail.declineReason,
    decidedBy: detail.decidedBy === "auto" ? "Automatic approval" : who(detail.decidedBy),
    decided: detail.decidedAt ? formatDateTime(detail.decidedAt, timeZone) : null,
    completed: detail.completedAt ? formatDateTime(detail.completedAt, timeZone) : null,
    counts: detail.counts,
    downloadUrl: detail.downloadUrl,
    downloadExpires: detail.exportExpiresAt
      ? formatDateTime(detail.exportExpiresAt, timeZone)
      : null,
    history: detail.history.map((h) => ({
      at: formatDateTime(h.at, timeZone),
      atIso: h.at.toISOString(),
      what: historyLabel(h.action),
      by:
        h.actorType === "system"
          ? "Pleisys Engage"
          : h.actorType === "cli"
            ? "An operator"
            : who(h.actorId),
    })),
  };
}

export type TaskPageData = ReturnType<typeof presentTask>;
export type TaskRowData = ReturnType<typeof presentTaskRow>;
