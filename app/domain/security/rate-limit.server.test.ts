import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { rateLimits } from "~/db/schema/control";
import { RateLimitedError } from "~/lib/errors";
import {
  assertNotLocked,
  clearLimit,
  consume,
  POLICIES,
  pruneRateLimits,
  recordHit,
  type LimitPolicy,
} from "./rate-limit.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** 3 attempts a minute; lockouts of 10 s, 20 s, 40 s, then 40 s again. */
const POLICY: LimitPolicy = {
  limit: 3,
  windowMs: MINUTE,
  lockoutMs: 10 * SECOND,
  maxLockoutMs: 40 * SECOND,
};

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);

let keySeq = 0;
/** A key nobody else in this file uses. */
const freshKey = (label = "k") => `test:${label}:${++keySeq}`;

function refusal(fn: () => void): RateLimitedError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitedError);
    return error as RateLimitedError;
  }
  throw new Error("expected a RateLimitedError");
}

const attempt = (key: string, when: Date, policy = POLICY) => consume([[key, policy]], when);

/** Hits the key until it locks and returns the lockout length in seconds. */
function lockNow(key: string, when: Date, policy = POLICY): number {
  for (let i = 1; i < policy.limit; i++) {
    expect(recordHit(key, policy, when)).toEqual({ locked: false, retryAfterSeconds: 0 });
  }
  const hit = recordHit(key, policy, when);
  expect(hit.locked).toBe(true);
  return hit.retryAfterSeconds;
}

const row = (key: string) =>
  getControlDb().select().from(rateLimits).where(eq(rateLimits.key, key)).get();

describe("consume", () => {
  it("allows `limit` attempts per window, then refuses with the seconds to wait", () => {
    const key = freshKey();
    attempt(key, at(0));
    attempt(key, at(1 * SECOND));
    attempt(key, at(2 * SECOND));
    const refused = refusal(() => attempt(key, at(2 * SECOND)));
    expect(refused.status).toBe(429);
    expect(refused.retryAfterSeconds).toBe(10);
    // The wait counts down, rounded up to whole seconds.
    expect(refusal(() => attempt(key, at(6 * SECOND))).retryAfterSeconds).toBe(6);
    expect(refusal(() => attempt(key, at(4_500))).retryAfterSeconds).toBe(8);
    expect(refusal(() => attempt(key, at(11_500))).retryAfterSeconds).toBe(1);
    expect(refusal(() => attempt(key, at(12 * SECOND - 1))).retryAfterSeconds).toBe(1);
    // Once the lockout is over, attempts are allowed again.
    expect(() => attempt(key, at(12 * SECOND))).not.toThrow();
  });

  it("refuses while any of several keys is locked, and counts every key", () => {
    const ip = freshKey("ip");
    const account = freshKey("acct");
    lockNow(account, at(0));
    const refused = refusal(() =>
      consume(
        [
          [ip, POLICY],
          [account, POLICY],
        ],
        at(SECOND),
      ),
    );
    expect(refused.retryAfterSeconds).toBe(9);
    // The refused attempt was not counted against the unlocked key.
    expect(row(ip)).toBeUndefined();

    const a = freshKey("a");
    const b = freshKey("b");
    consume(
      [
        [a, POLICY],
        [b, POLICY],
      ],
      at(0),
    );
    expect(row(a)?.count).toBe(1);
    expect(row(b)?.count).toBe(1);
  });

  it("keeps keys apart: locking one leaves another untouched", () => {
    const locked = freshKey();
    const other = freshKey();
    lockNow(locked, at(0));
    expect(() => assertNotLocked([other], at(0))).not.toThrow();
    expect(() => attempt(other, at(0))).not.toThrow();
    expect(() => assertNotLocked([locked], at(0))).toThrow(RateLimitedError);
  });

  it("counts every one of many sequential attempts exactly", () => {
    const many: LimitPolicy = { limit: 100, windowMs: HOUR, lockoutMs: MINUTE, maxLockoutMs: HOUR };
    const key = freshKey();
    const neighbour = freshKey();
    for (let i = 1; i <= 99; i++) {
      attempt(key, at(i), many);
      if (i % 2 === 0) attempt(neighbour, at(i), many);
    }
    expect(row(key)?.count).toBe(99);
    expect(row(neighbour)?.count).toBe(49);
    expect(() => assertNotLocked([key], at(100))).not.toThrow();
    // The 100th is allowed and locks; the 101st is refused.
    attempt(key, at(100), many);
    expect(refusal(() => attempt(key, at(101), many)).retryAfterSeconds).toBe(60);
    expect(() => attempt(neighbour, at(101), many)).not.toThrow();
  });
});

describe("windows", () => {
  it("starts a new window after windowMs: earlier attempts no longer count", () => {
    const key = freshKey();
    attempt(key, at(0));
    attempt(key, at(SECOND));
    // windowMs after the first attempt the count starts again from zero.
    attempt(key, at(MINUTE));
    attempt(key, at(MINUTE + SECOND));
    expect(() => assertNotLocked([key], at(MINUTE + SECOND))).not.toThrow();
    expect(row(key)?.count).toBe(2);
  });

  it("still counts attempts made just before the window ends", () => {
    const key = freshKey();
    attempt(key, at(0));
    attempt(key, at(SECOND));
    attempt(key, at(MINUTE - 1));
    expect(() => attempt(key, at(MINUTE - 1))).toThrow(RateLimitedError);
  });
});

describe("progressive lockout", () => {
  it("doubles each lockout in a row, up to maxLockoutMs", () => {
    const key = freshKey();
    let t = 0;
    const lengths: number[] = [];
    for (let i = 0; i < 5; i++) {
      const seconds = lockNow(key, at(t));
      lengths.push(seconds);
      expect(refusal(() => assertNotLocked([key], at(t))).retryAfterSeconds).toBe(seconds);
      // Still locked a moment before the end, free at the end.
      expect(() => assertNotLocked([key], at(t + seconds * SECOND - 1))).toThrow(RateLimitedError);
      t += seconds * SECOND;
      expect(() => assertNotLocked([key], at(t))).not.toThrow();
    }
    expect(lengths).toEqual([10, 20, 40, 40, 40]);
    expect(row(key)?.strikes).toBe(5);
  });

  it("does not extend a lockout for attempts made while locked", () => {
    const key = freshKey();
    expect(lockNow(key, at(0))).toBe(10);
    const during = recordHit(key, POLICY, at(4 * SECOND));
    expect(during).toEqual({ locked: false, retryAfterSeconds: 6 });
    expect(refusal(() => assertNotLocked([key], at(4 * SECOND))).retryAfterSeconds).toBe(6);
    expect(() => assertNotLocked([key], at(10 * SECOND))).not.toThrow();
  });

  it("forgets earlier lockouts after a quiet day", () => {
    const quiet = freshKey();
    const busy = freshKey();
    for (const key of [quiet, busy]) {
      expect(lockNow(key, at(0))).toBe(10);
      expect(lockNow(key, at(10 * SECOND))).toBe(20);
    }
    // The second lockout ended at 30 s. A day of quiet after that resets the strikes...
    expect(lockNow(quiet, at(30 * SECOND + DAY))).toBe(10);
    // ...but less than a day does not.
    expect(lockNow(busy, at(30 * SECOND + DAY - MINUTE))).toBe(40);
  });
});

describe("clearLimit", () => {
  it("ends a lockout and forgets the count and the strikes", () => {
    const key = freshKey();
    expect(lockNow(key, at(0))).toBe(10);
    expect(lockNow(key, at(10 * SECOND))).toBe(20);
    clearLimit(key);
    expect(row(key)).toBeUndefined();
    expect(() => assertNotLocked([key], at(11 * SECOND))).not.toThrow();
    // A fresh start: limit attempts again, and the next lockout is the shortest one.
    expect(lockNow(key, at(12 * SECOND))).toBe(10);
  });

  it("resets the count of a key that is not locked", () => {
    const key = freshKey();
    attempt(key, at(0));
    attempt(key, at(0));
    clearLimit(key);
    attempt(key, at(0));
    attempt(key, at(0));
    expect(() => assertNotLocked([key], at(0))).not.toThrow();
  });

  it("leaves other keys alone", () => {
    const cleared = freshKey();
    const kept = freshKey();
    lockNow(cleared, at(0));
    lockNow(kept, at(0));
    clearLimit(cleared);
    expect(() => assertNotLocked([cleared], at(0))).not.toThrow();
    expect(() => assertNotLocked([kept], at(0))).toThrow(RateLimitedError);
  });
});

describe("pruneRateLimits", () => {
  it("drops counters older than two days unless they are still locked", () => {
    const year: LimitPolicy = {
      limit: 1,
      windowMs: MINUTE,
      lockoutMs: 365 * DAY,
      maxLockoutMs: 365 * DAY,
    };
    const old = freshKey();
    const stillLocked = freshKey();
    const recent = freshKey();
    attempt(old, at(0));
    recordHit(stillLocked, year, at(0));
    attempt(recent, at(2 * DAY));
    const removed = pruneRateLimits(at(2 * DAY + HOUR));
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(row(old)).toBeUndefined();
    expect(row(stillLocked)).toBeDefined();
    expect(row(recent)).toBeDefined();
  });
});

describe("POLICIES", () => {
  it("locks sign-in and second-factor guessing after 5 failures", () => {
    expect(POLICIES.loginAccount.limit).toBe(5);
    expect(POLICIES.otpAccount.limit).toBe(5);
    for (const policy of Object.values(POLICIES)) {
      expect(policy.maxLockoutMs).toBeGreaterThanOrEqual(policy.lockoutMs);
      expect(policy.limit).toBeGreaterThan(0);
    }
  });
});
