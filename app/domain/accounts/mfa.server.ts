import { and, eq, isNull, lt, or } from "drizzle-orm";
import { authenticator } from "otplib";
import { createHmac, randomBytes } from "node:crypto";
import { getControlDb } from "~/db/control.server";
import { recoveryCodes, users } from "~/db/schema/control";
import { decryptSecret, encryptSecret } from "~/lib/crypto/vault.server";
import { ConflictError, RateLimitedError, ValidationError } from "~/lib/errors";
import type { MfaChange } from "~/emails/mfa-changed";
import { getEnv } from "~/lib/env.server";
import { getSecrets } from "~/lib/local-secrets.server";
import { safeEqual } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { assertNotLocked, clearLimit, POLICIES, recordHit } from "../security/rate-limit.server";
import { notify } from "./notify.server";
import { confirmPassword } from "./accounts.server";
import { getUser, type User } from "./users.server";

/** RFC 6238 defaults that every authenticator app understands: SHA-1, 6 digits, 30 s. */
const STEP_MS = 30_000;
/** Codes from the previous and next step are accepted too (clock drift). */
const DRIFT_STEPS = 1;
export const RECOVERY_CODE_COUNT = 10;
const ISSUER = "Pleisys Engage";

/** Apps show codes as "123 456"; people type them that way. */
const withoutSpaces = (code: string) => code.replace(/[\s-]/g, "");

const aad = (userId: string) => `users.totp_secret_enc:${userId}`;
const otpKey = (userId: string) => `otp:acct:${userId}`;

export interface Enrolment {
  secret: string;
  otpauthUrl: string;
}

function notifyMfaChange(ctx: SystemContext, user: User, change: MfaChange) {
  return notify(ctx, "mfa-changed", user.email, {
    name: user.name,
    change,
    at: ctx.now(),
    ip: ctx.request?.ip,
    url: `${getEnv().BASE_URL}/account/security/mfa`,
  });
}

/** Step 1: a new secret, stored encrypted but not yet active. */
export function beginTotpEnrolment(ctx: SystemContext, userId: string): Enrolment {
  const user = getUser(userId);
  if (user.totpEnabledAt) throw new ConflictError("Two-factor authentication is already on.");
  const secret = authenticator.generateSecret(20);
  getControlDb()
    .update(users)
    .set({ totpSecretEnc: encryptSecret(secret, aad(userId)), totpLastStep: null })
    .where(eq(users.id, userId))
    .run();
  return { secret, otpauthUrl: authenticator.keyuri(user.email, ISSUER, secret) };
}

/** The pending secret, so the enrolment page can show it again after a wrong code. */
export function pendingEnrolment(userId: string): Enrolment | null {
  const user = getUser(userId);
  if (user.totpEnabledAt || !user.totpSecretEnc) return null;
  const secret = decryptSecret(user.totpSecretEnc, aad(userId));
  return { secret, otpauthUrl: authenticator.keyuri(user.email, ISSUER, secret) };
}

/**
 * The time step a code belongs to, searching ±DRIFT_STEPS around now and only steps after the
 * last one accepted (so an observed code cannot be replayed), or null.
 */
function matchingStep(secret: string, code: string, now: Date, lastStep: number | null) {
  if (!/^\d{6}$/.test(code)) return null;
  const current = Math.floor(now.getTime() / STEP_MS);
  for (let step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++) {
    if (lastStep !== null && step <= lastStep) continue;
    const expected = authenticator.clone({ epoch: step * STEP_MS }).generate(secret);
    if (safeEqual(expected, code)) return step;
  }
  return null;
}

/** Claims a step atomically: two requests with the same code cannot both succeed. */
function claimStep(userId: string, step: number): boolean {
  return (
    getControlDb()
      .update(users)
      .set({ totpLastStep: step })
      .where(
        and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))),
      )
      .run().changes === 1
  );
}

function recoveryHash(code: string): string {
  const normalised = code.replace(/[\s-]/g, "").toUpperCase();
  return createHmac("sha256", getSecrets().sessionSecret)
    .update(`recovery-code:${normalised}`)
    .digest("hex");
}

/** 10 codes of 16 base32 characters (80 bits each), shown once, stored as keyed hashes. */
function newRecoveryCodes(userId: string): string[] {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = [...randomBytes(16)].map((b) => alphabet[b % 32]).join("");
    return chars.match(/.{4}/g)!.join("-");
  });
  const db = getControlDb();
  db.transaction((tx) => {
    tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)).run();
    tx.insert(recoveryCodes)
      .values(codes.map((code) => ({ userId, codeHash: recoveryHash(code) })))
      .run();
  });
  return codes;
}

function wrongCode(ctx: SystemContext, userId: string): never {
  const hit = recordHit(otpKey(userId), POLICIES.otpAccount, ctx.now());
  recordAudit(ctx, { action: "mfa.code_rejected", target: { type: "user", id: userId } });
  if (hit.locked) {
    recordAudit(ctx, {
      action: "auth.locked_out",
      target: { type: "user", id: userId },
      details: { factor: "totp", seconds: hit.retryAfterSeconds },
    });
    throw new RateLimitedError(hit.retryAfterSeconds);
  }
  throw new ValidationError("That code is not right. Check your authenticator app.", {
    code: ["That code is not right. Check your authenticator app."],
  });
}

/** Step 2: the first code proves the app works; MFA goes on and recovery codes are made. */
export async function confirmTotpEnrolment(
  ctx: SystemContext,
  userId: string,
  code: string,
): Promise<{ recoveryCodes: string[] }> {
  assertNotLocked([otpKey(userId)], ctx.now());
  const user = getUser(userId);
  if (user.totpEnabledAt) throw new ConflictError("Two-factor authentication is already on.");
  if (!user.totpSecretEnc) throw new ConflictError("Start the set-up again.");
  const secret = decryptSecret(user.totpSecretEnc, aad(userId));
  const step = matchingStep(secret, withoutSpaces(code), ctx.now(), user.totpLastStep);
  if (step === null || !claimStep(userId, step)) wrongCode(ctx, userId);
  getControlDb().update(users).set({ totpEnabledAt: ctx.now() }).where(eq(users.id, userId)).run();
  const codes = newRecoveryCodes(userId);
  clearLimit(otpKey(userId));
  recordAudit(ctx, { action: "mfa.enabled", target: { type: "user", id: userId } });
  await notifyMfaChange(ctx, user, "enabled");
  return { recoveryCodes: codes };
}

/**
 * Checks a second factor: a TOTP code (each accepted once) or an unused recovery code.
 * Limited per account with progressive lockout.
 */
export function verifySecondFactor(
  ctx: SystemContext,
  userId: string,
  input: string,
): { method: "totp" | "recovery_code" } {
  assertNotLocked([otpKey(userId)], ctx.now());
  const user = getUser(userId);
  if (!user.totpEnabledAt || !user.totpSecretEnc) {
    throw new ConflictError("Two-factor authentication is not on for this account.");
  }
  const code = withoutSpaces(input);
  if (/^\d{6}$/.test(code)) {
    const secret = decryptSecret(user.totpSecretEnc, aad(userId));
    const step = matchingStep(secret, code, ctx.now(), user.totpLastStep);
    if (step === null || !claimStep(userId, step)) wrongCode(ctx, userId);
    clearLimit(otpKey(userId));
    return { method: "totp" };
  }
  const used = getControlDb()
    .update(recoveryCodes)
    .set({ usedAt: ctx.now() })
    .where(
      and(
        eq(recoveryCodes.userId, userId),
        eq(recoveryCodes.codeHash, recoveryHash(code)),
        isNull(recoveryCodes.usedAt),
      ),
    )
    .run().changes;
  if (used !== 1) wrongCode(ctx, userId);
  clearLimit(otpKey(userId));
  recordAudit(ctx, { action: "mfa.recovery_code_used", target: { type: "user", id: userId } });
  return { method: "recovery_code" };
}

export function remainingRecoveryCodes(userId: string): number {
  return getControlDb()
    .select({ id: recoveryCodes.id })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))
    .all().length;
}

/** A sign-in this recent stands in for re-authentication when the account has no password or code. */
export const RECENT_SIGN_IN_MS = 10 * 60_000;

/**
 * Re-authentication for sensitive changes: the password, or a current code. An account with
 * neither (Google sign-in, no MFA) proves itself by a sign-in in this session in the last ten
 * minutes (`sessionAuthenticatedAt`), when the caller passes it.
 */
export async function reauthenticate(
  ctx: SystemContext,
  user: User,
  proof: { password?: string; code?: string },
  sessionAuthenticatedAt?: Date,
): Promise<void> {
  if (proof.password && user.passwordHash) {
    await confirmPassword(ctx, user, proof.password);
    return;
  }
  if (proof.code) {
    verifySecondFactor(ctx, user.id, proof.code);
    return;
  }
  if (!user.passwordHash && !user.totpEnabledAt && sessionAuthenticatedAt) {
    if (ctx.now().getTime() - sessionAuthenticatedAt.getTime() <= RECENT_SIGN_IN_MS) return;
    throw new ValidationError(
      "For your safety, sign out and sign in with Google again, then do this within 10 minutes.",
    );
  }
  throw new ValidationError("Confirm it's you with your password or a code.", {
    password: ["Enter your password."],
  });
}

export async function disableTotp(
  ctx: SystemContext,
  userId: string,
  proof: { password?: string; code?: string },
): Promise<void> {
  const user = getUser(userId);
  if (!user.totpEnabledAt) throw new ConflictError("Two-factor authentication is already off.");
  await reauthenticate(ctx, user, proof);
  getControlDb()
    .update(users)
    .set({ totpEnabledAt: null, totpSecretEnc: null, totpLastStep: null })
    .where(eq(users.id, userId))
    .run();
  getControlDb().delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)).run();
  recordAudit(ctx, { action: "mfa.disabled", target: { type: "user", id: userId } });
  await notifyMfaChange(ctx, user, "disabled");
}

export async function regenerateRecoveryCodes(
  ctx: SystemContext,
  userId: string,
  proof: { password?: string; code?: string },
): Promise<string[]> {
  const user = getUser(userId);
  if (!user.totpEnabledAt) throw new ConflictError("Turn on two-factor authentication first.");
  await reauthenticate(ctx, user, proof);
  const codes = newRecoveryCodes(userId);
  recordAudit(ctx, {
    action: "mfa.recovery_codes_regenerated",
    target: { type: "user", id: userId },
  });
  await notifyMfaChange(ctx, user, "recovery_codes_regenerated");
  return codes;
}
