import { and, isNotNull, lt, or } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { authTokens, invitations, sessions } from "~/db/schema/control";
import { pruneRateLimits } from "../security/rate-limit.server";

const DAY = 24 * 3_600_000;

/**
 * Removes what has no further use: ended sessions, email-link tokens a week after they expired
 * or were used, invitations a month after they ended, and stale abuse counters. Audit rows
 * about them stay (7 years).
 */
export function purgeExpiredAuthData(now: Date) {
  const db = getControlDb();
  const weekAgo = new Date(now.getTime() - 7 * DAY);
  const monthAgo = new Date(now.getTime() - 30 * DAY);
  const sessionsDeleted = db.delete(sessions).where(lt(sessions.expiresAt, now)).run().changes;
  const tokensDeleted = db
    .delete(authTokens)
    .where(or(lt(authTokens.expiresAt, weekAgo), lt(authTokens.usedAt, weekAgo)))
    .run().changes;
  const invitationsDeleted = db
    .delete(invitations)
    .where(
      or(
        lt(invitations.expiresAt, monthAgo),
        and(isNotNull(invitations.acceptedAt), lt(invitations.acceptedAt, monthAgo)),
        and(isNotNull(invitations.revokedAt), lt(invitations.revokedAt, monthAgo)),
      ),
    )
    .run().changes;
  const rateLimitsDeleted = pruneRateLimits(now);
  return { sessionsDeleted, tokensDeleted, invitationsDeleted, rateLimitsDeleted };
}
