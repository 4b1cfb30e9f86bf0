import { and, desc, eq, ne } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { sessions, users } from "~/db/schema/control";
import { getEnv } from "~/lib/env.server";
import { randomToken, sha256Hex } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";

export type SessionRow = typeof sessions.$inferSelect;
export type UserRow = typeof users.$inferSelect;

const MINUTE = 60_000;
/** A half-signed-in session (password done, second factor pending) lives this long. */
const MFA_PENDING_MS = 10 * MINUTE;
/** last_seen_at is written at most this often, so reading pages doesn't write on every hit. */
const TOUCH_EVERY_MS = MINUTE;

export interface NewSession {
  /** The cookie value; only its hash is stored. */
  token: string;
  session: SessionRow;
}

/**
 * Starts a session with a fresh 256-bit id. Called at sign-in and at every privilege change
 * (MFA done, password changed), with `replacing` the old token so the old id stops working.
 */
export function createSession(
  ctx: SystemContext,
  userId: string,
  options: { mfaPending?: boolean; replacing?: string | null } = {},
): NewSession {
  const env = getEnv();
  const now = ctx.now();
  const token = randomToken();
  const lifetime = options.mfaPending ? MFA_PENDING_MS : env.SESSION_MAX_HOURS * 60 * MINUTE;
  const db = getControlDb();
  const session = db.transaction((tx) => {
    if (options.replacing) {
      tx.delete(sessions)
        .where(eq(sessions.idHash, sha256Hex(options.replacing)))
        .run();
    }
    return tx
      .insert(sessions)
      .values({
        idHash: sha256Hex(token),
        userId,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: new Date(now.getTime() + lifetime),
        mfaPending: options.mfaPending ?? false,
        authenticatedAt: now,
        ip: ctx.request?.ip ?? null,
        userAgent: ctx.request?.userAgent?.slice(0, 512) ?? null,
      })
      .returning()
      .get();
  });
  return { token, session };
}

/**
 * The live session for a cookie token with its user, or null. Expired (idle or absolute)
 * sessions and sessions of suspended users are deleted on sight.
 */
export function findSession(
  token: string | null | undefined,
  now: Date,
): { session: SessionRow; user: UserRow } | null {
  if (!token || token.length > 200) return null;
  const db = getControlDb();
  const idHash = sha256Hex(token);
  const found = db
    .select()
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.idHash, idHash))
    .get();
  if (!found) return null;
  const { sessions: session, users: user } = found;
  const idleMs = getEnv().SESSION_IDLE_MINUTES * MINUTE;
  const t = now.getTime();
  if (
    session.expiresAt.getTime() <= t ||
    session.lastSeenAt.getTime() + idleMs <= t ||
    user.status !== "active"
  ) {
    db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
    return null;
  }
  if (t - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.idHash, idHash)).run();
    session.lastSeenAt = now;
  }
  return { session, user };
}

export function listSessions(userId: string): SessionRow[] {
  return getControlDb()
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.mfaPending, false)))
    .orderBy(desc(sessions.lastSeenAt))
    .all();
}

/** Public handle for a session in lists and forms: a prefix of the stored hash, never the id. */
export function sessionHandle(session: SessionRow): string {
  return session.idHash.slice(0, 16);
}

export function revokeSession(ctx: SystemContext, userId: string, handle: string): boolean {
  if (!/^[0-9a-f]{16}$/.test(handle)) return false;
  const db = getControlDb();
  const target = db
    .select()
    .from(sessions)
    .where(eq(sessions.userId, userId))
    .all()
    .find((s) => sessionHandle(s) === handle);
  if (!target) return false;
  db.delete(sessions).where(eq(sessions.idHash, target.idHash)).run();
  recordAudit(ctx, {
    action: "session.revoked",
    target: { type: "user", id: userId },
    details: { session: handle },
  });
  return true;
}

/** Ends every session of the user except the one holding `keepToken` (if given). */
export function revokeOtherSessions(
  ctx: SystemContext,
  userId: string,
  keepToken: string | null,
): number {
  const db = getControlDb();
  const where = keepToken
    ? and(eq(sessions.userId, userId), ne(sessions.idHash, sha256Hex(keepToken)))
    : eq(sessions.userId, userId);
  const count = db.delete(sessions).where(where).run().changes;
  recordAudit(ctx, {
    action: keepToken ? "session.revoked_others" : "session.revoked_all",
    target: { type: "user", id: userId },
    details: { count },
  });
  return count;
}

export function deleteSessionByToken(token: string): void {
  getControlDb()
    .delete(sessions)
    .where(eq(sessions.idHash, sha256Hex(token)))
    .run();
}

/** After re-entering a password or code: sensitive actions check this time. */
export function markReauthenticated(token: string, now: Date): void {
  getControlDb()
    .update(sessions)
    .set({ authenticatedAt: now })
    .where(eq(sessions.idHash, sha256Hex(token)))
    .run();
}
