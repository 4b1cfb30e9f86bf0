import { and, asc, count, desc, eq, lt, ne, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { memberships, sessions, users, workspaces } from "~/db/schema/control";
import { normaliseEmail } from "~/lib/email-address";
import { ConflictError, ValidationError } from "~/lib/errors";
import { readSignedToken, signToken } from "~/lib/signed-token.server";
import { forgetAiUsageUser } from "../ai/usage.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { daysMs, RETENTION } from "../privacy/retention-policy";
import { consume, POLICIES } from "../security/rate-limit.server";
import {
  markWorkspaceDeleted,
  restoreWorkspacesDeletedAt,
  type ReauthSession,
} from "../workspaces/deletion.server";
import { accountKey, ipKey, link, reopenDeadline } from "./accounts.server";
import { reauthenticate } from "./mfa.server";
import { notify } from "./notify.server";
import { findUserByEmail, findUserById, getUser, type User } from "./users.server";
import { releaseInboxMemberEverywhere } from "../inbox/departures.server";

/**
 * Closing an account (policy §5): the owner re-authenticates and types their address; the
 * account is closed at once (sessions ended, sign-in refused with the reopen date), workspaces
 * they own alone are deleted with it, and the retention job deletes the account 90 days later.
 * Until then a signed link (mailed at closure, or again from the sign-in page) reopens it.
 */

const REOPEN_PURPOSE = "engage:account-reopen:v1";

export interface ClosureProof {
  /** The account's email address, typed by its owner. */
  confirmEmail: string;
  password?: string;
  code?: string;
}

interface OwnedWorkspace {
  id: string;
  name: string;
  members: number;
}

function ownedWorkspaces(userId: string): OwnedWorkspace[] {
  return getControlDb()
    .select({
      id: workspaces.id,
      name: workspaces.name,
      members: sql<number>`(SELECT count(*) FROM memberships m WHERE m.workspace_id = ${workspaces.id})`,
    })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(
      and(
        eq(memberships.userId, userId),
        eq(memberships.role, "owner"),
        ne(workspaces.status, "deleted"),
      ),
    )
    .orderBy(asc(workspaces.name))
    .all();
}

/** What closing would do: workspaces deleted with it, and those to hand over first. */
export function closurePreview(userId: string): {
  deletedWithAccount: string[];
  transferFirst: string[];
} {
  const owned = ownedWorkspaces(userId);
  return {
    deletedWithAccount: owned.filter((w) => w.members <= 1).map((w) => w.name),
    transferFirst: owned.filter((w) => w.members > 1).map((w) => w.name),
  };
}

function reopenToken(user: { id: string }, closedAt: Date): string {
  return signToken(REOPEN_PURPOSE, `${user.id}.${closedAt.getTime()}`);
}

function reopenLink(user: { id: string }, closedAt: Date): string {
  return link("/reopen-account", reopenToken(user, closedAt));
}

export async function closeAccount(
  ctx: SystemContext,
  userId: string,
  proof: ClosureProof,
  session: ReauthSession,
): Promise<{ reopenUntil: Date; workspacesDeleted: number }> {
  const user = getUser(userId);
  if (user.status !== "active") throw new ConflictError("This account is not open.");
  if (normaliseEmail(proof.confirmEmail) !== user.email) {
    const message = `Type your email address, ${user.email}, exactly.`;
    throw new ValidationError(message, { confirmEmail: [message] });
  }
  await reauthenticate(ctx, user, proof, session.authenticatedAt);
  const owned = ownedWorkspaces(userId);
  const shared = owned.filter((w) => w.members > 1);
  if (shared.length) {
    throw new ConflictError(
      `You own ${shared.map((w) => `“${w.name}”`).join(", ")}, which other people use. Transfer ownership to another member (on its Members page) before closing your account.`,
    );
  }
  // One instant for the closure and the workspaces it deletes, so reopening finds them.
  const now = ctx.now();
  const at = { ...ctx, now: () => now };
  // The workspaces they share with others stop counting on them (their own are deleted); their
  // teams stay until the purge, so reopening the account puts them back where they were.
  releaseInboxMemberEverywhere(
    userId,
    owned.map((w) => w.id),
    { forget: false },
  );
  for (const workspace of owned) markWorkspaceDeleted(at, workspace.id, "account_closed");
  const db = getControlDb();
  db.transaction((tx) => {
    tx.update(users).set({ status: "closed", closedAt: now }).where(eq(users.id, userId)).run();
    tx.delete(sessions).where(eq(sessions.userId, userId)).run();
  });
  const reopenUntil = reopenDeadline(now);
  recordAudit(at, {
    action: "account.closed",
    target: { type: "user", id: userId },
    details: { workspacesDeleted: owned.length, purgeOn: reopenUntil.toISOString() },
  });
  await notify(at, "account-closed", user.email, {
    name: user.name,
    url: reopenLink(user, now),
    reopenUntil,
    trigger: "closed",
  });
  return { reopenUntil, workspacesDeleted: owned.length };
}

function reopenable(user: User | undefined, now: Date): user is User & { closedAt: Date } {
  return Boolean(user?.status === "closed" && user.closedAt && reopenDeadline(user.closedAt) > now);
}

/** From the sign-in page: always the same answer; only a reopenable account gets a mail. */
export async function requestReopenLink(ctx: SystemContext, emailInput: string): Promise<void> {
  const now = ctx.now();
  const email = normaliseEmail(emailInput);
  consume(
    [
      [ipKey("reopen", ctx), POLICIES.resetIp],
      [accountKey("reopen", email), POLICIES.resetAccount],
    ],
    now,
  );
  const user = findUserByEmail(email);
  if (!reopenable(user, now)) return;
  await notify(ctx, "account-closed", user.email, {
    name: user.name,
    url: reopenLink(user, user.closedAt),
    reopenUntil: reopenDeadline(user.closedAt),
    trigger: "reopen_requested",
  });
  recordAudit(ctx, { action: "account.reopen_requested", target: { type: "user", id: user.id } });
}

/**
 * The account a reopen link is for, while it can still be reopened. The link names the closure
 * it was made for, so it stops working once the account is reopened (single use) or the
 * window ends.
 */
export function readReopenLink(
  token: string,
  now: Date,
): { user: User & { closedAt: Date }; reopenUntil: Date } | null {
  const payload = readSignedToken(REOPEN_PURPOSE, token);
  const match = payload ? /^(usr_[0-9A-Za-z_-]{1,64})\.(\d{1,16})$/.exec(payload) : null;
  if (!match) return null;
  const user = findUserById(match[1]!);
  if (!reopenable(user, now) || user.closedAt.getTime() !== Number(match[2])) return null;
  return { user, reopenUntil: reopenDeadline(user.closedAt) };
}

export async function reopenAccount(
  ctx: SystemContext,
  token: string,
): Promise<{ userId: string; workspacesRestored: number } | null> {
  const now = ctx.now();
  consume([[ipKey("token", ctx), POLICIES.tokenIp]], now);
  const found = readReopenLink(token, now);
  if (!found) return null;
  const { user } = found;
  const reopened = getControlDb()
    .update(users)
    .set({ status: "active", closedAt: null })
    .where(
      and(eq(users.id, user.id), eq(users.status, "closed"), eq(users.closedAt, user.closedAt)),
    )
    .run().changes;
  if (!reopened) return null;
  const userCtx: SystemContext = { ...ctx, actor: { type: "user", id: user.id } };
  const workspacesRestored = await restoreWorkspacesDeletedAt(userCtx, user.id, user.closedAt);
  recordAudit(userCtx, {
    action: "account.reopened",
    target: { type: "user", id: user.id },
    details: { workspacesRestored },
  });
  return { userId: user.id, workspacesRestored };
}

const WINDOW_MS = daysMs(RETENTION.closedAccountDays);

/** Closed accounts past their 90 days. */
export function accountsDueForPurge(now: Date): string[] {
  return getControlDb()
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.status, "closed"), lt(users.closedAt, new Date(now.getTime() - WINDOW_MS))))
    .all()
    .map((row) => row.id);
}

/**
 * Deletes a closed account for good: the user row, and with it (cascade) sessions,
 * memberships, email-link tokens, recovery codes and policy acceptances. AI usage rows stay
 * (billing) but no longer name the user; audit rows keep only the id (pseudonymous).
 */
export function purgeClosedAccount(ctx: SystemContext, userId: string): boolean {
  forgetAiUsageUser(userId);
  releaseInboxMemberEverywhere(userId);
  const deleted = getControlDb()
    .delete(users)
    .where(and(eq(users.id, userId), eq(users.status, "closed")))
    .run().changes;
  if (deleted) {
    recordAudit(ctx, { action: "account.purged", target: { type: "user", id: userId } });
  }
  return deleted > 0;
}

export interface ClosedAccountRow {
  id: string;
  name: string;
  email: string;
  closedAt: Date;
  purgeOn: Date;
}

export const CLOSED_PAGE_SIZE = 50;

/** For the admin page: closed accounts, most recently closed first. */
export function listClosedAccounts(page = 1): { rows: ClosedAccountRow[]; total: number } {
  const db = getControlDb();
  const where = eq(users.status, "closed");
  const total = db.select({ n: count() }).from(users).where(where).get()?.n ?? 0;
  const rows = db
    .select({ id: users.id, name: users.name, email: users.email, closedAt: users.closedAt })
    .from(users)
    .where(where)
    .orderBy(desc(users.closedAt))
    .limit(CLOSED_PAGE_SIZE)
    .offset((page - 1) * CLOSED_PAGE_SIZE)
    .all()
    .map((row) => {
      const closedAt = row.closedAt ?? new Date(0);
      return { ...row, closedAt, purgeOn: reopenDeadline(closedAt) };
    });
  return { rows, total };
}
