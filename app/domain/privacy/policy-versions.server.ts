import { and, asc, count, desc, eq, gt, gte, inArray, lte, notExists, sql } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import { getControlDb, type ControlDb } from "~/db/control.server";
import { auditLog, policyAcceptances, policyVersions, users } from "~/db/schema/control";
import { getEnv } from "~/lib/env.server";
import { ForbiddenError, NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import { parseSafeMarkdown, type DocBlock } from "~/lib/safe-markdown";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { MailDeliveryError, sendTransactional } from "../mail/mail.server";
import { acquireJobLock, releaseJobLock } from "../operations/job-runs.server";
import {
  parsePolicy,
  SHIPPED_POLICY,
  shippedPolicyText,
  shippedPolicyUpdates,
} from "./policy.server";

/**
 * Privacy policy versions (policy §9). Version 1 is the plain-text policy shipped in
 * content/privacy-policy; every later version is Markdown published by a platform admin (web or
 * CLI) at least MIN_NOTICE_DAYS before it takes effect. Publishing stores the version; the
 * notice emails go out in batches from sendPolicyNotices (the policy-notices job, or the CLI),
 * never inside the request. A version is in force from 00:00 UTC on its effective date.
 */

export const MIN_NOTICE_DAYS = 14;
/** Far above any real policy (the shipped one is ~6 KB); keeps a pasted mistake out. */
export const POLICY_MAX_BYTES = 200_000;
const NOTICE_BATCH = 200;
const NOTICE_LOCK = "policy-notices:send";
const NOTICE_LEASE_MS = 10 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PolicyVersionSummary {
  version: number;
  /** YYYY-MM-DD (UTC). */
  effectiveDate: string;
  publishedAt: Date;
  /** Users the notice email has been sent to so far. */
  notified: number;
}

export interface PolicyVersionDocument extends PolicyVersionSummary {
  blocks: DocBlock[];
}

const summaryColumns = {
  version: policyVersions.version,
  effectiveDate: policyVersions.effectiveDate,
  publishedAt: policyVersions.publishedAt,
  notified: policyVersions.notified,
};

// ---------------------------------------------------------------------------------------------
// Dates: the rules are about calendar days in UTC.

export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function isCalendarDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const at = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(at.getTime()) && utcDay(at) === value;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/** The first day a version published at `now` may take effect. */
export function earliestEffectiveDate(now: Date): string {
  return addDays(utcDay(now), MIN_NOTICE_DAYS);
}

// ---------------------------------------------------------------------------------------------
// Version 1, from the shipped file.

const seeded = new WeakSet<ControlDb>();

/**
 * Stores the shipped policy as version 1 when it is absent, and moves accounts from before
 * versioned policies onto it: users.policy_version "2026-06-10" (the shipped file's name)
 * becomes "1", with a policy_acceptances row dated when they accepted it. Idempotent; runs at
 * boot (host) and before any read or write here, once per database handle.
 */
export function ensureShippedPolicyVersion(): void {
  const db = getControlDb();
  if (seeded.has(db)) return;
  db.transaction(
    () => {
      db.insert(policyVersions)
        .values({
          version: SHIPPED_POLICY.version,
          effectiveDate: SHIPPED_POLICY.effectiveDate,
          markdown: shippedPolicyText(),
          publishedAt: new Date(`${SHIPPED_POLICY.effectiveDate}T00:00:00.000Z`),
          publishedBy: null,
        })
        .onConflictDoNothing()
        .run();
      const legacy = [SHIPPED_POLICY.effectiveDate, String(SHIPPED_POLICY.version)];
      db.run(sql`
        INSERT OR IGNORE INTO policy_acceptances (user_id, version, accepted_at)
        SELECT id, ${SHIPPED_POLICY.version}, policy_accepted_at FROM users
        WHERE policy_version IN (${sql.join(
          legacy.map((v) => sql`${v}`),
          sql`, `,
        )})`);
      db.update(users)
        .set({ policyVersion: String(SHIPPED_POLICY.version) })
        .where(eq(users.policyVersion, SHIPPED_POLICY.effectiveDate))
        .run();
    },
    { behavior: "immediate" },
  );
  seeded.add(db);
}

// ---------------------------------------------------------------------------------------------
// Reading.

export function listPolicyVersions(): (PolicyVersionSummary & { publishedBy: string | null })[] {
  ensureShippedPolicyVersion();
  return getControlDb()
    .select({ ...summaryColumns, publishedBy: users.email })
    .from(policyVersions)
    .leftJoin(users, eq(users.id, policyVersions.publishedBy))
    .orderBy(desc(policyVersions.version))
    .all();
}

/** The version in force at `now`: the newest whose effective date has come. */
export function versionInForce(now: Date): PolicyVersionSummary {
  ensureShippedPolicyVersion();
  const row = getControlDb()
    .select(summaryColumns)
    .from(policyVersions)
    .where(lte(policyVersions.effectiveDate, utcDay(now)))
    .orderBy(desc(policyVersions.effectiveDate), desc(policyVersions.version))
    .limit(1)
    .get();
  // Before 2026-06-10 nothing is in force yet by date; the shipped version is what users accept.
  return row ?? oldestVersion();
}

function oldestVersion(): PolicyVersionSummary {
  return getControlDb()
    .select(summaryColumns)
    .from(policyVersions)
    .orderBy(asc(policyVersions.version))
    .limit(1)
    .get()!;
}

/** The next published version that has not taken effect yet, if any. */
export function upcomingVersion(now: Date): PolicyVersionSummary | undefined {
  ensureShippedPolicyVersion();
  return getControlDb()
    .select(summaryColumns)
    .from(policyVersions)
    .where(gt(policyVersions.effectiveDate, utcDay(now)))
    .orderBy(asc(policyVersions.effectiveDate))
    .limit(1)
    .get();
}

/** Version `version` with its text as blocks; NotFoundError for anything else. */
export function getPolicyVersion(version: number): PolicyVersionDocument {
  ensureShippedPolicyVersion();
  const row = Number.isSafeInteger(version)
    ? getControlDb()
        .select({ ...summaryColumns, markdown: policyVersions.markdown })
        .from(policyVersions)
        .where(eq(policyVersions.version, version))
        .get()
    : undefined;
  if (!row) throw new NotFoundError("Policy version");
  const { markdown, ...summary } = row;
  return { ...summary, blocks: renderPolicyText(summary.version, markdown) };
}

/** The shipped version is plain text with numbered headings; published ones are Markdown. */
function renderPolicyText(version: number, text: string): DocBlock[] {
  return version === SHIPPED_POLICY.version ? parsePolicy(text).blocks : parseSafeMarkdown(text);
}

// ---------------------------------------------------------------------------------------------
// Publishing.

export interface PublishInput {
  markdown: string;
  effectiveDate: string;
}

/** Why `input` cannot be published at `now`, per field; empty when it can. */
export function publicationProblems(now: Date, input: PublishInput): FieldErrors {
  const problems: FieldErrors = {};
  const text = input.markdown.trim();
  if (!text) {
    problems.markdown = ["The policy text is empty: write or upload the new version."];
  } else if (Buffer.byteLength(text, "utf8") > POLICY_MAX_BYTES) {
    problems.markdown = [
      `The policy is too long: at most ${POLICY_MAX_BYTES / 1000} KB of text (this is ${Math.ceil(Buffer.byteLength(text, "utf8") / 1000)} KB).`,
    ];
  }
  const day = input.effectiveDate.trim();
  const today = utcDay(now);
  if (!isCalendarDay(day)) {
    problems.effectiveDate = ["Enter the effective date as YYYY-MM-DD, for example 2026-07-01."];
  } else if (daysBetween(today, day) < MIN_NOTICE_DAYS) {
    problems.effectiveDate = [
      `The effective date must be at least ${MIN_NOTICE_DAYS} days after today (${today}, UTC): ${earliestEffectiveDate(now)} or later. Users must be told ${MIN_NOTICE_DAYS} days before a change takes effect (policy §9).`,
    ];
  } else {
    const latest = latestVersion();
    if (latest && day <= latest.effectiveDate) {
      problems.effectiveDate = [
        `The effective date must be after ${latest.effectiveDate}, when version ${latest.version} takes effect.`,
      ];
    }
  }
  return problems;
}

function latestVersion(): PolicyVersionSummary | undefined {
  return getControlDb()
    .select(summaryColumns)
    .from(policyVersions)
    .orderBy(desc(policyVersions.version))
    .limit(1)
    .get();
}

export class PolicyPublishError extends ValidationError {
  constructor(fieldErrors: FieldErrors) {
    super(Object.values(fieldErrors).flat().join(" "), fieldErrors);
  }
}

/** What the admin sees before confirming: the text as it will render, and any problem. */
export function previewPolicy(
  now: Date,
  input: PublishInput,
): { blocks: DocBlock[]; problems: FieldErrors } {
  ensureShippedPolicyVersion();
  return { blocks: parseSafeMarkdown(input.markdown), problems: publicationProblems(now, input) };
}

function assertPlatformAdmin(ctx: SystemContext): void {
  // The operator's CLI, and the start-up publishing of versions shipped with the product.
  if (ctx.actor.type === "cli" || ctx.actor.type === "system") return;
  const id = ctx.actor.type === "admin" ? ctx.actor.id : undefined;
  const admin = id
    ? getControlDb()
        .select({ isPlatformAdmin: users.isPlatformAdmin, status: users.status })
        .from(users)
        .where(eq(users.id, id))
        .get()
    : undefined;
  if (!admin?.isPlatformAdmin || admin.status !== "active") {
    throw new ForbiddenError("Only a platform admin can publish a privacy policy.");
  }
}

/**
 * Stores a new version. Refused (PolicyPublishError, nothing stored) when the text is empty or
 * too long, or the effective date is fewer than 14 days after today (UTC) or not after the
 * latest version's. The notice emails are sent afterwards by sendPolicyNotices.
 */
export function publishPolicy(ctx: SystemContext, input: PublishInput): PolicyVersionSummary {
  assertPlatformAdmin(ctx);
  ensureShippedPolicyVersion();
  const db = getControlDb();
  const now = ctx.now();
  return db.transaction(
    () => {
      const problems = publicationProblems(now, input);
      if (Object.keys(problems).length > 0) throw new PolicyPublishError(problems);
      const version = (latestVersion()?.version ?? 0) + 1;
      const markdown = input.markdown.trim();
      const row = db
        .insert(policyVersions)
        .values({
          version,
          effectiveDate: input.effectiveDate.trim(),
          markdown,
          publishedAt: now,
          publishedBy: ctx.actor.type === "admin" ? ctx.actor.id : null,
        })
        .returning(summaryColumns)
        .get();
      recordAudit(ctx, {
        action: "policy.published",
        target: { type: "policy_version", id: version },
        details: { effectiveDate: row.effectiveDate, bytes: Buffer.byteLength(markdown, "utf8") },
      });
      return row;
    },
    { behavior: "immediate" },
  );
}

// ---------------------------------------------------------------------------------------------
// Versions shipped with the product after the first.

const EFFECTIVE_LINE = /^Effective date:.*$/m;

/** The text without its "Effective date:" line: what a version says, whenever it applies. */
function policyBody(markdown: string): string {
  return markdown.replace(EFFECTIVE_LINE, "").trim();
}

function longDay(day: string): string {
  return new Date(`${day}T00:00:00.000Z`).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
}

/** The versions whose text shipped with the product (version 1, and the files published at start-up). */
export function shippedVersionNumbers(): Set<number> {
  ensureShippedPolicyVersion();
  const bodies = new Set(shippedPolicyUpdates().map((u) => policyBody(u.markdown)));
  const rows = getControlDb()
    .select({ version: policyVersions.version, markdown: policyVersions.markdown })
    .from(policyVersions)
    .where(gt(policyVersions.version, SHIPPED_POLICY.version))
    .all();
  return new Set([
    SHIPPED_POLICY.version,
    ...rows.filter((r) => bodies.has(policyBody(r.markdown))).map((r) => r.version),
  ]);
}

/**
 * Publishes each policy version that ships in content/privacy-policy after the first and is not
 * stored yet, through publishPolicy, so the operator runs nothing and the usual rules hold: the
 * 14-day notice, the notice emails (the policy-notices job) and the banner. A file reached fewer
 * than 14 days before its date takes effect 14 days after publishing instead, and its
 * "Effective date:" line is rewritten to say so. A file is skipped when a version with the same
 * text is stored, or when an admin has already published a version taking effect on or after
 * its date (theirs is the newer policy). Runs at start-up (host boot).
 */
export function publishShippedPolicyVersions(ctx: SystemContext): PolicyVersionSummary[] {
  ensureShippedPolicyVersion();
  const db = getControlDb();
  const published: PolicyVersionSummary[] = [];
  for (const update of shippedPolicyUpdates()) {
    const body = policyBody(update.markdown);
    const stored = db
      .select({ markdown: policyVersions.markdown, effectiveDate: policyVersions.effectiveDate })
      .from(policyVersions)
      .where(gt(policyVersions.version, SHIPPED_POLICY.version))
      .all();
    if (stored.some((v) => policyBody(v.markdown) === body)) continue;
    const later = stored.find((v) => v.effectiveDate >= update.effectiveDate);
    if (later) {
      logger.warn(
        { file: update.file, publishedEffectiveDate: later.effectiveDate },
        "shipped privacy policy not published: a version taking effect later is already published",
      );
      continue;
    }
    const earliest = earliestEffectiveDate(ctx.now());
    const effectiveDate = update.effectiveDate < earliest ? earliest : update.effectiveDate;
    const markdown = EFFECTIVE_LINE.test(update.markdown)
      ? update.markdown.replace(EFFECTIVE_LINE, `Effective date: ${longDay(effectiveDate)}`)
      : update.markdown;
    const version = publishPolicy(ctx, { markdown, effectiveDate });
    logger.info(
      { file: update.file, version: version.version, effectiveDate },
      "shipped privacy policy version published; notices follow",
    );
    published.push(version);
  }
  return published;
}

// ---------------------------------------------------------------------------------------------
// Notices.

export interface NoticeReport {
  versions: number;
  sent: number;
  failed: number;
  /** True when a version still has users to notify (mail was unavailable); the next run goes on. */
  unfinished: boolean;
}

/**
 * Emails the notice of every upcoming version to every active account that existed when it
 * was published (later sign-ups see the banner and the policy in force). Users are walked in
 * id order in batches; after each batch `notified` grows and an audit row records how far the
 * walk got, so a run that stops (crash, mail outage) resumes after the last finished batch and
 * re-sends at most one batch. Closed and suspended accounts are skipped: they cannot sign in,
 * and a suspended account that is reinstated sees the banner and the policy in force.
 * One sender at a time (a lease), so the job and the CLI never both mail the same people.
 */
export async function sendPolicyNotices(
  ctx: SystemContext,
  options: { batchSize?: number } = {},
): Promise<NoticeReport> {
  ensureShippedPolicyVersion();
  const report: NoticeReport = { versions: 0, sent: 0, failed: 0, unfinished: false };
  const holder = `policy-notices:${randomUUID()}`;
  if (!acquireJobLock(NOTICE_LOCK, holder, ctx.now(), NOTICE_LEASE_MS)) {
    return { ...report, unfinished: true };
  }
  try {
    const db = getControlDb();
    const pending = db
      .select(summaryColumns)
      .from(policyVersions)
      .where(gt(policyVersions.effectiveDate, utcDay(ctx.now())))
      .orderBy(asc(policyVersions.version))
      .all();
    for (const version of pending) {
      const progress = noticeProgress(version);
      if (progress.done) continue;
      report.versions += 1;
      const outcome = await notifyVersion(ctx, version, progress.through, options.batchSize, () =>
        acquireJobLock(NOTICE_LOCK, holder, ctx.now(), NOTICE_LEASE_MS),
      );
      report.sent += outcome.sent;
      report.failed += outcome.failed;
      if (!outcome.finished) {
        report.unfinished = true;
        break;
      }
    }
  } finally {
    releaseJobLock(NOTICE_LOCK, holder);
  }
  return report;
}

/** How far the notices of `version` got, from the audit rows its batches left. */
function noticeProgress(version: PolicyVersionSummary): { done: boolean; through: string } {
  const last = getControlDb()
    .select({ action: auditLog.action, details: auditLog.details })
    .from(auditLog)
    .where(
      and(
        gte(auditLog.at, version.publishedAt),
        inArray(auditLog.action, ["policy.notice_batch", "policy.notices_sent"]),
        eq(auditLog.targetType, "policy_version"),
        eq(auditLog.targetId, String(version.version)),
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(1)
    .get();
  if (!last) return { done: false, through: "" };
  if (last.action === "policy.notices_sent") return { done: true, through: "" };
  const through = (JSON.parse(last.details ?? "{}") as { through?: unknown }).through;
  return { done: false, through: typeof through === "string" ? through : "" };
}

async function notifyVersion(
  ctx: SystemContext,
  version: PolicyVersionSummary,
  after: string,
  batchSize = NOTICE_BATCH,
  keepLease: () => boolean,
): Promise<{ sent: number; failed: number; finished: boolean }> {
  const db = getControlDb();
  const url = `${getEnv().BASE_URL}/privacy/v/${version.version}`;
  const log = logger.child({ policyVersion: version.version });
  let through = after;
  let sent = 0;
  let failed = 0;
  for (;;) {
    const batch = db
      .select({ id: users.id, email: users.email, name: users.name })
      .from(users)
      .where(
        and(
          gt(users.id, through),
          eq(users.status, "active"),
          lte(users.createdAt, version.publishedAt),
        ),
      )
      .orderBy(asc(users.id))
      .limit(batchSize)
      .all();
    let batchSent = 0;
    let batchFailed = 0;
    let stoppedAt: string | undefined;
    for (const user of batch) {
      try {
        await sendTransactional(ctx, "policy-changed", user.email, {
          name: user.name,
          version: version.version,
          effectiveDate: version.effectiveDate,
          url,
        });
        batchSent += 1;
      } catch (error) {
        if (error instanceof MailDeliveryError && !error.retryable) {
          batchFailed += 1;
        } else {
          // Mail is down or throttled: stop here, the next run starts again at this user.
          log.warn({ err: error }, "policy notices paused: mail unavailable");
          stoppedAt = user.id;
          break;
        }
      }
      through = user.id;
    }
    sent += batchSent;
    failed += batchFailed;
    if (batchSent + batchFailed > 0) {
      db.transaction(() => {
        db.update(policyVersions)
          .set({ notified: sql`${policyVersions.notified} + ${batchSent}` })
          .where(eq(policyVersions.version, version.version))
          .run();
        recordAudit(ctx, {
          action: "policy.notice_batch",
          target: { type: "policy_version", id: version.version },
          details: { through, sent: batchSent, failed: batchFailed },
        });
      });
    }
    if (stoppedAt !== undefined) return { sent, failed, finished: false };
    if (batch.length < batchSize) break;
    if (!keepLease()) return { sent, failed, finished: false };
    // Let requests in between batches: 100,000 users must not hold the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const total = db
    .select({ notified: policyVersions.notified })
    .from(policyVersions)
    .where(eq(policyVersions.version, version.version))
    .get();
  recordAudit(ctx, {
    action: "policy.notices_sent",
    target: { type: "policy_version", id: version.version },
    details: { notified: total?.notified ?? sent },
  });
  log.info({ sent, failed }, "policy notices sent");
  return { sent, failed, finished: true };
}

// ---------------------------------------------------------------------------------------------
// Acceptance.

/**
 * The user's acceptance of the version in force when the account is created. Called inside
 * the sign-up transaction; users.policy_version holds the same number as text.
 */
export function recordSignUpAcceptance(userId: string, version: number, at: Date): void {
  getControlDb()
    .insert(policyAcceptances)
    .values({ userId, version, acceptedAt: at })
    .onConflictDoNothing()
    .run();
}

/**
 * Records that `userId` accepted `version` (from the banner). Only the version in force or an
 * upcoming one can be accepted. users.policy_version / policy_accepted_at follow the newest
 * version the user accepted. Idempotent.
 */
export function recordAcceptance(ctx: SystemContext, userId: string, version: number): void {
  const now = ctx.now();
  const inForce = versionInForce(now);
  const exists = getControlDb()
    .select({ version: policyVersions.version })
    .from(policyVersions)
    .where(eq(policyVersions.version, version))
    .get();
  if (!exists) throw new NotFoundError("Policy version");
  if (version < inForce.version) {
    throw new ValidationError(
      `Version ${version} of the privacy policy is no longer in force; version ${inForce.version} is.`,
    );
  }
  const db = getControlDb();
  db.transaction(() => {
    const inserted = db
      .insert(policyAcceptances)
      .values({ userId, version, acceptedAt: now })
      .onConflictDoNothing()
      .run();
    if (inserted.changes === 0) return;
    db.update(users)
      .set({ policyVersion: String(version), policyAcceptedAt: now })
      .where(and(eq(users.id, userId), sql`CAST(${users.policyVersion} AS INTEGER) < ${version}`))
      .run();
    recordAudit(ctx, {
      action: "policy.accepted",
      target: { type: "policy_version", id: version },
    });
  });
}

/**
 * For the banner on every signed-in page: the next upcoming version this user has not accepted
 * yet, if any. One query (policy_versions has a row per version ever published, and the
 * acceptance check is a primary-key lookup).
 */
export function policyNoticeFor(
  userId: string,
  now: Date,
): { version: number; effectiveDate: string } | undefined {
  const db = getControlDb();
  return db
    .select({ version: policyVersions.version, effectiveDate: policyVersions.effectiveDate })
    .from(policyVersions)
    .where(
      and(
        gt(policyVersions.effectiveDate, utcDay(now)),
        notExists(
          db
            .select({ one: sql`1` })
            .from(policyAcceptances)
            .where(
              and(
                eq(policyAcceptances.userId, userId),
                eq(policyAcceptances.version, policyVersions.version),
              ),
            ),
        ),
      ),
    )
    .orderBy(asc(policyVersions.effectiveDate))
    .limit(1)
    .get();
}

/** For the admin page: acceptances per version, and how many accounts are active. */
export function acceptanceCounts(): { byVersion: Map<number, number>; activeUsers: number } {
  const db = getControlDb();
  const rows = db
    .select({ version: policyAcceptances.version, n: count() })
    .from(policyAcceptances)
    .groupBy(policyAcceptances.version)
    .all();
  const active = db.select({ n: count() }).from(users).where(eq(users.status, "active")).get();
  return { byVersion: new Map(rows.map((r) => [r.version, r.n])), activeUsers: active?.n ?? 0 };
}

/**
 * Starts sending the notices of a version just published, without making the request wait.
 * The policy-notices job picks up whatever this does not finish.
 */
export function startPolicyNotices(now: () => Date = () => new Date()): void {
  const ctx: SystemContext = { actor: { type: "system", id: "policy-notices" }, now };
  sendPolicyNotices(ctx).catch((error: unknown) => {
    logger.error({ err: error }, "policy notices failed; the policy-notices job will retry");
  });
}
