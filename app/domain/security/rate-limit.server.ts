import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { rateLimits } from "~/db/schema/control";
import { RateLimitedError } from "~/lib/errors";

/**
 * Abuse limits kept in the control db, so they hold across restarts and between the server and
 * the CLI. `limit` attempts per `windowMs`; reaching it locks the key for `lockoutMs`, doubled
 * for every lockout in a row up to `maxLockoutMs` (progressive lockout). A success may clear
 * the key (login), which also forgets earlier lockouts.
 */
export interface LimitPolicy {
  limit: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const POLICIES = {
  loginAccount: { limit: 5, windowMs: 15 * MINUTE, lockoutMs: MINUTE, maxLockoutMs: HOUR },
  loginIp: { limit: 30, windowMs: 15 * MINUTE, lockoutMs: 5 * MINUTE, maxLockoutMs: HOUR },
  otpAccount: { limit: 5, windowMs: 15 * MINUTE, lockoutMs: MINUTE, maxLockoutMs: HOUR },
  signupIp: { limit: 10, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  resetIp: { limit: 10, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  resetAccount: { limit: 3, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  verifyAccount: { limit: 5, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  tokenIp: { limit: 30, windowMs: 15 * MINUTE, lockoutMs: 5 * MINUTE, maxLockoutMs: HOUR },
  /** Privacy requests: per client address, and per email/phone asked about (by its hash). */
  dsarIp: { limit: 10, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
  dsarSubject: { limit: 3, windowMs: HOUR, lockoutMs: 15 * MINUTE, maxLockoutMs: 24 * HOUR },
} satisfies Record<string, LimitPolicy>;

/** Lockouts in a row are forgotten after a quiet day. */
const STRIKE_MEMORY_MS = 24 * HOUR;

function secondsUntil(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / 1000));
}

/** Throws RateLimitedError (429 + Retry-After) when any of the keys is locked. */
export function assertNotLocked(keys: string[], now: Date): void {
  const db = getControlDb();
  let worst = 0;
  for (const key of keys) {
    const row = db.select().from(rateLimits).where(eq(rateLimits.key, key)).get();
    const until = row?.lockedUntil?.getTime() ?? 0;
    if (until > now.getTime()) worst = Math.max(worst, until);
  }
  if (worst) throw new RateLimitedError(secondsUntil(worst, now.getTime()));
}

export interface HitResult {
  /** This hit locked the key. */
  locked: boolean;
  retryAfterSeconds: number;
}

type Tx = Parameters<Parameters<ReturnType<typeof getControlDb>["transaction"]>[0]>[0];

function hit(tx: Tx, key: string, policy: LimitPolicy, now: Date): HitResult {
  const t = now.getTime();
  const row = tx.select().from(rateLimits).where(eq(rateLimits.key, key)).get();
  const lockedUntil = row?.lockedUntil?.getTime() ?? 0;
  if (lockedUntil > t) return { locked: false, retryAfterSeconds: secondsUntil(lockedUntil, t) };
  const windowStart = row?.windowStart.getTime() ?? t;
  const fresh = !row || t - windowStart >= policy.windowMs;
  const quiet = !row || t - Math.max(windowStart, lockedUntil) >= STRIKE_MEMORY_MS;
  const strikes = quiet ? 0 : row.strikes;
  const count = fresh ? 1 : row.count + 1;
  if (count >= policy.limit) {
    const lockMs = Math.min(policy.lockoutMs * 2 ** strikes, policy.maxLockoutMs);
    const values = {
      key,
      count: 0,
      windowStart: now,
      lockedUntil: new Date(t + lockMs),
      strikes: strikes + 1,
    };
    tx.insert(rateLimits)
      .values(values)
      .onConflictDoUpdate({ target: rateLimits.key, set: values })
      .run();
    return { locked: true, retryAfterSeconds: secondsUntil(t + lockMs, t) };
  }
  const values = {
    key,
    count,
    windowStart: fresh ? now : new Date(windowStart),
    lockedUntil: null,
    strikes,
  };
  tx.insert(rateLimits)
    .values(values)
    .onConflictDoUpdate({ target: rateLimits.key, set: values })
    .run();
  return { locked: false, retryAfterSeconds: 0 };
}

/** Counts one attempt (or failure) against the key; atomic under concurrent requests. */
export function recordHit(key: string, policy: LimitPolicy, now: Date): HitResult {
  return getControlDb().transaction((tx) => hit(tx, key, policy, now), { behavior: "immediate" });
}

/**
 * Counts an attempt on every key BEFORE a slow check (bcrypt) runs, in one transaction that
 * first refuses (RateLimitedError) if any key is locked. Counting only failures after the check
 * would let a burst of parallel guesses all be evaluated before the first failure is recorded;
 * reserving first caps a burst at the limit. `locked` says this attempt used up the last one:
 * the caller evaluates it, but answers a failure with 429. A success gives the reservation back
 * (releaseAttempt) or clears the key.
 */
export function reserveAttempt(keys: [string, LimitPolicy][], now: Date): HitResult {
  return getControlDb().transaction(
    (tx) => {
      let worst = 0;
      for (const [key] of keys) {
        const row = tx.select().from(rateLimits).where(eq(rateLimits.key, key)).get();
        const until = row?.lockedUntil?.getTime() ?? 0;
        if (until > now.getTime()) worst = Math.max(worst, until);
      }
      if (worst) throw new RateLimitedError(secondsUntil(worst, now.getTime()));
      const result: HitResult = { locked: false, retryAfterSeconds: 0 };
      for (const [key, policy] of keys) {
        const one = hit(tx, key, policy, now);
        if (one.locked) {
          result.locked = true;
          result.retryAfterSeconds = Math.max(result.retryAfterSeconds, one.retryAfterSeconds);
        }
      }
      return result;
    },
    { behavior: "immediate" },
  );
}

/** Gives back one reserved attempt after it succeeded (a success is not a failure). */
export function releaseAttempt(key: string, now: Date): void {
  getControlDb()
    .$client.prepare(
      "UPDATE rate_limits SET count = count - 1 WHERE key = ? AND count > 0 AND (locked_until IS NULL OR locked_until <= ?)",
    )
    .run(key, now.getTime());
}

/** Allows `limit` attempts per window: refuses this one if the keys are locked, else counts it. */
export function consume(keys: [string, LimitPolicy][], now: Date): void {
  assertNotLocked(
    keys.map(([key]) => key),
    now,
  );
  for (const [key, policy] of keys) recordHit(key, policy, now);
}

export function clearLimit(key: string): void {
  getControlDb().delete(rateLimits).where(eq(rateLimits.key, key)).run();
}

/** Old counters are useless; the maintenance job calls this. */
export function pruneRateLimits(now: Date): number {
  const cutoff = now.getTime() - STRIKE_MEMORY_MS - 24 * HOUR;
  return getControlDb()
    .$client.prepare(
      "DELETE FROM rate_limits WHERE window_start < ? AND (locked_until IS NULL OR locked_until < ?)",
    )
    .run(cutoff, now.getTime()).changes;
}
