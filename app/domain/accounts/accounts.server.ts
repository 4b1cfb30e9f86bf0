import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { users } from "~/db/schema/control";
import { getEnv } from "~/lib/env.server";
import { normaliseEmail } from "~/lib/email-address";
import { AppError, ForbiddenError, RateLimitedError, ValidationError } from "~/lib/errors";
import { newId } from "~/lib/tokens";
import { hasSignedInFrom } from "../audit/audit-queries.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { recordSignUpAcceptance, versionInForce } from "../privacy/policy-versions.server";
import { daysMs, RETENTION } from "../privacy/retention-policy";
import {
  clearLimit,
  consume,
  POLICIES,
  releaseAttempt,
  reserveAttempt,
} from "../security/rate-limit.server";
import {
  authTokenOwner,
  consumeAuthToken,
  issueAuthToken,
  latestReturnTo,
  peekAuthToken,
  peekEmailChange,
} from "./auth-tokens.server";
import { notify } from "./notify.server";
import {
  hashPassword,
  passwordProblem,
  verifyAgainstNothing,
  verifyPassword,
} from "./passwords.server";
import { revokeOtherSessions } from "./sessions.server";
import { findUserByEmail, findUserById, getUser, type User } from "./users.server";

/** The one answer to a failed sign-in, whether or not the account exists. */
export class SignInFailedError extends AppError {
  constructor() {
    super("Email or password is incorrect.", 401, "sign_in_failed");
  }
}

export const ipKey = (prefix: string, ctx: SystemContext) =>
  `${prefix}:ip:${ctx.request?.ip ?? "none"}`;
export const accountKey = (prefix: string, id: string) => `${prefix}:acct:${id}`;

/** The last moment a closed account can be reopened; it is deleted after (policy §5). */
export function reopenDeadline(closedAt: Date): Date {
  return new Date(closedAt.getTime() + daysMs(RETENTION.closedAccountDays));
}

/** Sign-in to a closed account: says so, and until when it can be reopened. */
export class AccountClosedError extends ForbiddenError {
  constructor(closedAt: Date | null) {
    const until = closedAt ? reopenDeadline(closedAt).toISOString().slice(0, 10) : null;
    super(
      until
        ? `This account is closed. You can reopen it until ${until} (UTC) with “Reopen a closed account” below; after that it is deleted.`
        : "This account is closed.",
    );
  }
}

/** Whether a user who proved who they are may sign in: active, or a clear reason why not. */
export function assertCanSignIn(user: User): void {
  if (user.status === "closed") throw new AccountClosedError(user.closedAt);
  if (user.status !== "active") {
    throw new ForbiddenError("This account is suspended. Contact support to restore it.");
  }
}

export function link(path: string, token: string): string {
  return `${getEnv().BASE_URL}${path}?token=${encodeURIComponent(token)}`;
}

function assertPassword(password: string, about: { email?: string; name?: string }) {
  const problem = passwordProblem(password, about);
  if (problem) throw new ValidationError(problem, { password: [problem] });
}

/** Policy: users are 18 or over and accept the current privacy policy to open an account. */
export function assertConsent(consent: { ageConfirmed: boolean; policyAccepted: boolean }) {
  if (!consent.ageConfirmed) {
    throw new ValidationError("You must be 18 or older to use Pleisys Engage.", {
      ageConfirmed: ["Confirm that you are 18 or older."],
    });
  }
  if (!consent.policyAccepted) {
    throw new ValidationError("Accept the privacy policy to create an account.", {
      policyAccepted: ["Accept the privacy policy to continue."],
    });
  }
}

export interface SignUpInput {
  name: string;
  email: string;
  password: string;
  ageConfirmed: boolean;
  policyAccepted: boolean;
  /** A local path to continue to once the address is verified (checked by the caller). */
  returnTo?: string | null;
}

/**
 * Creates an unverified account and mails a verification link. When the address already has an
 * account, that person gets a mail saying so (with a reset link) and the caller sees the same
 * answer, so sign-up does not reveal who has an account.
 */
export async function signUp(ctx: SystemContext, input: SignUpInput): Promise<void> {
  const now = ctx.now();
  consume([[ipKey("signup", ctx), POLICIES.signupIp]], now);
  assertConsent(input);
  const email = normaliseEmail(input.email);
  const name = input.name.trim();
  assertPassword(input.password, { email, name });
  const passwordHash = await hashPassword(input.password);

  const existing = findUserByEmail(email);
  if (existing) {
    const token = issueAuthToken("reset_password", existing.id, now);
    await notify(ctx, "reset-password", existing.email, {
      name: existing.name,
      url: link("/reset-password", token),
      trigger: "signup_with_existing_email",
    });
    recordAudit(ctx, {
      action: "auth.signup_existing_email",
      target: { type: "user", id: existing.id },
    });
    return;
  }
  const id = newId("usr");
  const policyVersion = versionInForce(now).version;
  const db = getControlDb();
  db.transaction(() => {
    db.insert(users)
      .values({
        id,
        email,
        name,
        passwordHash,
        passwordChangedAt: now,
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
      details: { method: "password", policyVersion },
    },
  );
  await sendVerification(ctx, getUser(id), input.returnTo ?? null);
}

async function sendVerification(
  ctx: SystemContext,
  user: User,
  returnTo: string | null,
): Promise<void> {
  const token = issueAuthToken("verify_email", user.id, ctx.now(), null, returnTo);
  await notify(ctx, "verify-email", user.email, {
    name: user.name,
    url: link("/verify-email", token),
    expiresInHours: 24,
  });
}

/** Sends a fresh verification link (limited per account). */
export async function resendVerification(ctx: SystemContext, userId: string): Promise<void> {
  const user = getUser(userId);
  if (user.emailVerifiedAt) return;
  consume([[accountKey("verify", userId), POLICIES.verifyAccount]], ctx.now());
  await sendVerification(ctx, user, latestReturnTo("verify_email", userId));
}

/**
 * What a verification link can still do, without spending it: mail scanners and previews open
 * links, so only the page's button (a POST) verifies.
 */
export function describeVerifyLink(
  token: string,
  now: Date,
): "usable" | "already_verified" | "invalid" {
  if (peekAuthToken("verify_email", token, now)) return "usable";
  const owner = authTokenOwner("verify_email", token);
  return owner && findUserById(owner.userId)?.emailVerifiedAt ? "already_verified" : "invalid";
}

export function verifyEmail(
  ctx: SystemContext,
  token: string,
): { userId: string; returnTo: string | null } | null {
  const now = ctx.now();
  consume([[ipKey("token", ctx), POLICIES.tokenIp]], now);
  const spent = consumeAuthToken("verify_email", token, now);
  if (!spent) return null;
  getControlDb()
    .update(users)
    .set({ emailVerifiedAt: now })
    .where(eq(users.id, spent.userId))
    .run();
  recordAudit(
    { ...ctx, actor: { type: "user", id: spent.userId } },
    { action: "auth.email_verified", target: { type: "user", id: spent.userId } },
  );
  return { userId: spent.userId, returnTo: spent.returnTo };
}

/**
 * Checks email + password under the abuse limits (per IP and per account, progressive
 * lockout). Unknown accounts cost the same bcrypt work and get the same error.
 */
export async function checkPassword(
  ctx: SystemContext,
  emailInput: string,
  password: string,
): Promise<User> {
  const now = ctx.now();
  const email = normaliseEmail(emailInput);
  const ip = ipKey("login", ctx);
  const account = accountKey("login", email);
  // Counted before bcrypt runs, so a parallel burst is cut off at the limit (ADR 0005).
  const reserved = reserveAttempt(
    [
      [ip, POLICIES.loginIp],
      [account, POLICIES.loginAccount],
    ],
    now,
  );
  const user = findUserByEmail(email);
  const ok =
    user?.passwordHash && password.length <= 1024
      ? await verifyPassword(password, user.passwordHash)
      : await verifyAgainstNothing(password.slice(0, 1024));
  if (!ok || !user) {
    recordAudit(ctx, {
      action: "auth.sign_in_failed",
      target: user ? { type: "user", id: user.id } : undefined,
      details: { reason: user ? "wrong_password" : "unknown_account" },
    });
    if (reserved.locked) {
      recordAudit(ctx, {
        action: "auth.locked_out",
        target: user ? { type: "user", id: user.id } : undefined,
        details: { seconds: reserved.retryAfterSeconds },
      });
      throw new RateLimitedError(reserved.retryAfterSeconds);
    }
    throw new SignInFailedError();
  }
  clearLimit(account);
  releaseAttempt(ip, now);
  assertCanSignIn(user);
  return user;
}

/**
 * Records a completed sign-in (after the second factor when there is one) and tells the user
 * by mail when it came from a device we have not seen before.
 */
export async function recordSignIn(
  ctx: SystemContext,
  user: User,
  method: "password" | "google",
): Promise<void> {
  const userCtx: SystemContext = { ...ctx, actor: { type: "user", id: user.id } };
  const seenBefore = hasSignedInFrom(user.id);
  const known = hasSignedInFrom(user.id, ctx.request?.ip, ctx.request?.userAgent);
  recordAudit(userCtx, {
    action: "auth.signed_in",
    target: { type: "user", id: user.id },
    details: { method, mfa: user.totpEnabledAt !== null },
  });
  if (seenBefore && !known) {
    await notify(userCtx, "new-device-sign-in", user.email, {
      name: user.name,
      ip: ctx.request?.ip ?? "unknown",
      userAgent: ctx.request?.userAgent ?? "unknown",
      at: ctx.now(),
      url: `${getEnv().BASE_URL}/account/security`,
    });
  }
}

/** Always answers the same way; only a real account gets a mail. */
export async function requestPasswordReset(ctx: SystemContext, emailInput: string): Promise<void> {
  const now = ctx.now();
  const email = normaliseEmail(emailInput);
  consume(
    [
      [ipKey("reset", ctx), POLICIES.resetIp],
      [accountKey("reset", email), POLICIES.resetAccount],
    ],
    now,
  );
  const user = findUserByEmail(email);
  if (!user || user.status !== "active") return;
  const token = issueAuthToken("reset_password", user.id, now);
  await notify(ctx, "reset-password", user.email, {
    name: user.name,
    url: link("/reset-password", token),
    expiresInMinutes: 60,
  });
  recordAudit(ctx, {
    action: "auth.password_reset_requested",
    target: { type: "user", id: user.id },
  });
}

/** Sets a new password from a reset link and ends every session of the account. */
export async function resetPassword(
  ctx: SystemContext,
  token: string,
  password: string,
): Promise<{ userId: string } | null> {
  const now = ctx.now();
  consume([[ipKey("token", ctx), POLICIES.tokenIp]], now);
  // Check the password before spending the token, so a weak one doesn't burn the link.
  const pending = peekAuthToken("reset_password", token, now);
  if (!pending) return null;
  const user = getUser(pending.userId);
  assertPassword(password, { email: user.email, name: user.name });
  const passwordHash = await hashPassword(password);
  const spent = consumeAuthToken("reset_password", token, now);
  if (!spent) return null;
  getControlDb()
    .update(users)
    // The link proved the mailbox is theirs, so the address counts as verified too.
    .set({ passwordHash, passwordChangedAt: now, emailVerifiedAt: user.emailVerifiedAt ?? now })
    .where(eq(users.id, user.id))
    .run();
  const userCtx: SystemContext = { ...ctx, actor: { type: "user", id: user.id } };
  revokeOtherSessions(userCtx, user.id, null);
  clearLimit(accountKey("login", user.email));
  recordAudit(userCtx, { action: "auth.password_reset", target: { type: "user", id: user.id } });
  return { userId: user.id };
}

/**
 * Re-authentication for sensitive changes. Wrong guesses count with sign-in failures, and while
 * the account is locked every such form is refused too, so a stolen session cannot be used to
 * guess the password.
 */
export async function confirmPassword(
  ctx: SystemContext,
  user: User,
  password: string,
  field = "password",
): Promise<void> {
  const key = accountKey("login", user.email);
  const reserved = reserveAttempt([[key, POLICIES.loginAccount]], ctx.now());
  if (user.passwordHash && (await verifyPassword(password, user.passwordHash))) {
    releaseAttempt(key, ctx.now());
    return;
  }
  if (reserved.locked) throw new RateLimitedError(reserved.retryAfterSeconds);
  const message =
    field === "current" ? "Your current password is not right." : "Your password is not right.";
  throw new ValidationError(message, { [field]: [message] });
}

/**
 * Changes (or, for a Google-only account, sets) the password. The current password is required
 * when there is one; every other session ends.
 */
export async function changePassword(
  ctx: SystemContext,
  userId: string,
  input: { current?: string; password: string; keepSessionToken: string | null },
): Promise<void> {
  const user = getUser(userId);
  if (user.passwordHash) await confirmPassword(ctx, user, input.current ?? "", "current");
  assertPassword(input.password, { email: user.email, name: user.name });
  const passwordHash = await hashPassword(input.password);
  getControlDb()
    .update(users)
    .set({ passwordHash, passwordChangedAt: ctx.now() })
    .where(eq(users.id, userId))
    .run();
  revokeOtherSessions(ctx, userId, input.keepSessionToken);
  recordAudit(ctx, {
    action: user.passwordHash ? "auth.password_changed" : "auth.password_set",
    target: { type: "user", id: userId },
  });
}

export function updateProfile(ctx: SystemContext, userId: string, input: { name: string }): void {
  const name = input.name.trim();
  if (!name || name.length > 100) {
    throw new ValidationError("Enter your name (up to 100 characters).", {
      name: ["Enter your name (up to 100 characters)."],
    });
  }
  getControlDb().update(users).set({ name }).where(eq(users.id, userId)).run();
  recordAudit(ctx, { action: "account.profile_updated", target: { type: "user", id: userId } });
}

/**
 * Starts a change of address: a link goes to the new address and nothing changes until it is
 * followed. The answer is the same whether or not the new address is taken.
 */
export async function requestEmailChange(
  ctx: SystemContext,
  userId: string,
  input: { email: string; password?: string },
): Promise<void> {
  const user = getUser(userId);
  if (user.passwordHash) await confirmPassword(ctx, user, input.password ?? "");
  const email = normaliseEmail(input.email);
  if (email === user.email) {
    throw new ValidationError("That is already your address.", {
      email: ["That is already your address."],
    });
  }
  consume([[accountKey("verify", userId), POLICIES.verifyAccount]], ctx.now());
  recordAudit(ctx, {
    action: "account.email_change_requested",
    target: { type: "user", id: userId },
  });
  if (findUserByEmail(email)) return;
  const token = issueAuthToken("change_email", userId, ctx.now(), email);
  await notify(ctx, "change-email", email, {
    name: user.name,
    url: link("/account/confirm-email", token),
    newEmail: email,
  });
}

/** The address a change link would confirm, while it still works (the page shows a button). */
export function describeEmailChangeLink(token: string, now: Date): { newEmail: string } | null {
  const pending = peekEmailChange(token, now);
  return pending ? { newEmail: pending.email } : null;
}

export function confirmEmailChange(ctx: SystemContext, token: string): { userId: string } | null {
  const now = ctx.now();
  consume([[ipKey("token", ctx), POLICIES.tokenIp]], now);
  const spent = consumeAuthToken("change_email", token, now);
  if (!spent?.email) return null;
  if (findUserByEmail(spent.email)) {
    throw new ValidationError("That address now belongs to another account.");
  }
  getControlDb()
    .update(users)
    .set({ email: spent.email, emailVerifiedAt: now })
    .where(eq(users.id, spent.userId))
    .run();
  recordAudit(
    { ...ctx, actor: { type: "user", id: spent.userId } },
    {
      action: "account.email_changed",
      // Audit rows outlive the account (7 years) and cannot be edited: ids only, no addresses.
      target: { type: "user", id: spent.userId },
    },
  );
  return { userId: spent.userId };
}

export function recordSignOut(ctx: SystemContext, userId: string): void {
  recordAudit(ctx, { action: "auth.signed_out", target: { type: "user", id: userId } });
}

/** Whether a reset link can still be used (to show the form or an "expired" page). */
export function isResetLinkValid(token: string, now: Date): boolean {
  return peekAuthToken("reset_password", token, now) !== null;
}
