import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { authTokens } from "~/db/schema/control";
import { randomToken, sha256Hex } from "~/lib/tokens";

export type TokenKind = (typeof authTokens.$inferSelect)["kind"];

const HOUR = 3_600_000;

/** How long each kind of emailed link works. */
export const TOKEN_TTL_MS: Record<TokenKind, number> = {
  verify_email: 24 * HOUR,
  reset_password: HOUR,
  change_email: 24 * HOUR,
};

/**
 * Issues a single-use link token. Older unused tokens of the same kind for the user are
 * retired, so only the newest link works.
 */
export function issueAuthToken(
  kind: TokenKind,
  userId: string,
  now: Date,
  email: string | null = null,
  returnTo: string | null = null,
): string {
  const token = randomToken();
  const db = getControlDb();
  db.transaction((tx) => {
    tx.update(authTokens)
      .set({ usedAt: now })
      .where(
        and(eq(authTokens.userId, userId), eq(authTokens.kind, kind), isNull(authTokens.usedAt)),
      )
      .run();
    tx.insert(authTokens)
      .values({
        tokenHash: sha256Hex(token),
        kind,
        userId,
        email,
        returnTo,
        createdAt: now,
        expiresAt: new Date(now.getTime() + TOKEN_TTL_MS[kind]),
      })
      .run();
  });
  return token;
}

/** Spends a token: returns its row once, null when unknown, used, expired or of another kind. */
export function consumeAuthToken(
  kind: TokenKind,
  token: string,
  now: Date,
): { userId: string; email: string | null; returnTo: string | null } | null {
  if (!token || token.length > 200) return null;
  const row = getControlDb()
    .update(authTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(authTokens.tokenHash, sha256Hex(token)),
        eq(authTokens.kind, kind),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    )
    .returning({
      userId: authTokens.userId,
      email: authTokens.email,
      returnTo: authTokens.returnTo,
    })
    .get();
  return row ?? null;
}

/** Checks a token without spending it (to validate a form before the user's link is used up). */
export function peekAuthToken(
  kind: TokenKind,
  token: string,
  now: Date,
): { userId: string } | null {
  if (!token || token.length > 200) return null;
  const row = getControlDb()
    .select({ userId: authTokens.userId })
    .from(authTokens)
    .where(
      and(
        eq(authTokens.tokenHash, sha256Hex(token)),
        eq(authTokens.kind, kind),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    )
    .get();
  return row ?? null;
}

/** Whose link this was, even once used or expired (to tell "already done" from "expired"). */
export function authTokenOwner(kind: TokenKind, token: string): { userId: string } | null {
  if (!token || token.length > 200) return null;
  const row = getControlDb()
    .select({ userId: authTokens.userId })
    .from(authTokens)
    .where(and(eq(authTokens.tokenHash, sha256Hex(token)), eq(authTokens.kind, kind)))
    .get();
  return row ?? null;
}

/** A pending address change, without spending its link (for the confirm page). */
export function peekEmailChange(
  token: string,
  now: Date,
): { userId: string; email: string } | null {
  if (!token || token.length > 200) return null;
  const row = getControlDb()
    .select({ userId: authTokens.userId, email: authTokens.email })
    .from(authTokens)
    .where(
      and(
        eq(authTokens.tokenHash, sha256Hex(token)),
        eq(authTokens.kind, "change_email"),
        isNull(authTokens.usedAt),
        gt(authTokens.expiresAt, now),
      ),
    )
    .get();
  return row?.email ? { userId: row.userId, email: row.email } : null;
}

/** Where the user's newest link of this kind continues to, so a resent link keeps going there. */
export function latestReturnTo(kind: TokenKind, userId: string): string | null {
  const row = getControlDb()
    .select({ returnTo: authTokens.returnTo })
    .from(authTokens)
    .where(and(eq(authTokens.userId, userId), eq(authTokens.kind, kind)))
    .orderBy(desc(authTokens.id))
    .get();
  return row?.returnTo ?? null;
}
