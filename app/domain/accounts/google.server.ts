import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { users } from "~/db/schema/control";
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
 * Google account with someone else's address and walk in.
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
  db.update(users)
    .set({ googleSub: identity.sub, emailVerifiedAt: user.emailVerifiedAt ?? ctx.now() })
    .where(eq(users.id, user.id))
    .run();
  recordAudit(
    { ...ctx, actor: { type: "user", id: user.id } },
    { action: "auth.google_linked", target: { type: "user", id: user.id } },
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
