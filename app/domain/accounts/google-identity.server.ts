import { and, eq, isNull } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { authTokens, recoveryCodes, sessions, users } from "~/db/schema/control";
import { normaliseEmail } from "~/lib/email-address";
import { ConflictError, ForbiddenError } from "~/lib/errors";
import { newId } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { recordSignUpAcceptance, versionInForce } from "../privacy/policy-versions.server";
import { assertCanSignIn, assertConsent } from "./accounts.server";
import { findUserByEmail, getUser, type User } from "./users.server";

export interface GoogleIdentity {
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
}

export type GoogleOutcome =
  { kind: "user"; user: User } | { kind: "new"; identity: GoogleIdentity };

/**
 * Finds the account for a Google identity. An existing password account with the same address
 * is linked only when Google says it verified that address; otherwise anyone could create a
 * Google account with someone else's address and walk in. Linking to an account whose address
 * was never verified drops its password, second factor, sessions and pending mail links, since
 * whoever set those never proved the address was theirs.
 */
export function resolveGoogleIdentity(ctx: SystemContext, identity: GoogleIdentity): GoogleOutcome {
  const db = getControlDb();
  const bySub = db.select().from(users).where(eq(users.googleSub, identity.sub)).get();
  const user = bySub ?? findUserByEmail(identity.email);
  if (!user) return { kind: "new", identity };
  assertCanSignIn(user);
  if (bySub) return { kind: "user", user };
  if (!identity.emailVerified) {
    throw new ForbiddenError(
      "Google has not verified this address, so we can't link it to your account. Sign in with your password.",
    );
  }
  if (user.googleSub && user.googleSub !== identity.sub) {
    throw new ConflictError("This account is linked to a different Google account.");
  }
  const now = ctx.now();
  // An unverified account may have been opened by someone else with this address before its
  // owner arrived (pre-hijack): nothing they set may survive Google proving the mailbox.
  const takeover = !user.emailVerifiedAt;
  let sessionsEnded = 0;
  db.transaction((tx) => {
    if (takeover) {
      tx.update(users)
        .set({
          googleSub: identity.sub,
          emailVerifiedAt: now,
          passwordHash: null,
          passwordChangedAt: now,
          totpSecretEnc: null,
          totpEnabledAt: null,
          totpLastStep: null,
        })
        .where(eq(users.id, user.id))
        .run();
      tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id)).run();
      sessionsEnded = tx.delete(sessions).where(eq(sessions.userId, user.id)).run().changes;
      tx.update(authTokens)
        .set({ usedAt: now })
        .where(and(eq(authTokens.userId, user.id), isNull(authTokens.usedAt)))
        .run();
    } else {
      tx.update(users).set({ googleSub: identity.sub }).where(eq(users.id, user.id)).run();
    }
  });
  recordAudit(
    { ...ctx, actor: { type: "user", id: user.id } },
    {
      action: "auth.google_linked",
      target: { type: "user", id: user.id },
      details: takeover
        ? { unverifiedAccountReset: true, sessionsEnded, hadPassword: Boolean(user.passwordHash) }
        : undefined,
    },
  );
  return { kind: "user", user: getUser(user.id) };
}

/** A new account from Google, after the person confirmed their age and the policy. */
export function signUpWithGoogle(
  ctx: SystemContext,
  identity: GoogleIdentity,
  consent: { ageConfirmed: boolean; policyAccepted: boolean },
): User {
  assertConsent(consent);
  if (!identity.emailVerified) {
    throw new ForbiddenError(
      "Google has not verified this address. Sign up with a password instead.",
    );
  }
  const outcome = resolveGoogleIdentity(ctx, identity);
  if (outcome.kind === "user") return outcome.user;
  const now = ctx.now();
  const id = newId("usr");
  const policyVersion = versionInForce(now).version;
  const db = getControlDb();
  db.transaction(() => {
    db.insert(users)
      .values({
        id,
        email: normaliseEmail(identity.email),
        name: identity.name.trim().slice(0, 100) || identity.email,
        googleSub: identity.sub,
        emailVerifiedAt: now,
        ageConfirmedAt: now,
        policyVersion: String(policyVersion),
        policyAcceptedAt: now,
        createdAt: now,
      })
      .run();
    recordSignUpAcceptance(id, policyVersion, now);
  });
  recordAudit(
    { ...ctx, actor: { type: "user", id } },
    {
      action: "auth.signed_up",
      target: { type: "user", id },
      details: { method: "google", policyVersion },
    },
  );
  return getUser(id);
}
