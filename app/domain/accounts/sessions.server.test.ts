import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { sessions } from "~/db/schema/control";
import { sha256Hex } from "~/lib/tokens";
import { createUserByOperator, setUserStatus } from "../admin/admin.server";
import type { SystemContext } from "../context";
import {
  createSession,
  deleteSessionByToken,
  findSession,
  listSessions,
  markReauthenticated,
  revokeOtherSessions,
  revokeSession,
  sessionHandle,
} from "./sessions.server";
import type { User } from "./users.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;
// The defaults are what these tests pin: 30 minutes idle, 12 hours at most.
delete process.env.SESSION_IDLE_MINUTES;
delete process.env.SESSION_MAX_HOURS;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.parse("2030-02-01T08:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);

function ctxAt(when: Date, actorId = "usr_test"): SystemContext {
  return {
    actor: { type: "user", id: actorId },
    now: () => when,
    request: { ip: "203.0.113.20", userAgent: "Vitest Browser/1.0" },
  };
}

let alice: User;
let bob: User;
let carol: User;

beforeAll(async () => {
  const ctx = ctxAt(at(0), "operator");
  const make = (name: string) =>
    createUserByOperator(
      { ...ctx, actor: { type: "cli" } },
      { name, email: `${name.toLowerCase()}@sessions.test`, password: "plum orbit saddle 42" },
    );
  [alice, bob, carol] = await Promise.all([make("Alice"), make("Bob"), make("Carol")]);
});

const rowCount = (token: string) =>
  getControlDb()
    .select()
    .from(sessions)
    .where(eq(sessions.idHash, sha256Hex(token)))
    .all().length;

describe("createSession", () => {
  it("stores only the SHA-256 of the token, never the token itself", () => {
    const { token, session } = createSession(ctxAt(at(0)), alice.id);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.idHash).toBe(sha256Hex(token));
    expect(session.idHash).not.toContain(token);

    const raw = getControlDb().$client.prepare("SELECT * FROM sessions").all() as Record<
      string,
      unknown
    >[];
    expect(raw.some((r) => r.id_hash === sha256Hex(token))).toBe(true);
    for (const r of raw) {
      for (const value of Object.values(r)) expect(String(value)).not.toContain(token);
    }
  });

  it("records when and from where, with a 12-hour lifetime", () => {
    const { session } = createSession(ctxAt(at(0)), alice.id);
    expect(session).toMatchObject({
      userId: alice.id,
      createdAt: at(0),
      lastSeenAt: at(0),
      authenticatedAt: at(0),
      expiresAt: at(12 * HOUR),
      mfaPending: false,
      ip: "203.0.113.20",
      userAgent: "Vitest Browser/1.0",
    });
  });

  it("gives every session its own token", () => {
    const tokens = new Set(
      Array.from({ length: 20 }, () => createSession(ctxAt(at(0)), bob.id).token),
    );
    expect(tokens.size).toBe(20);
    revokeOtherSessions(ctxAt(at(0)), bob.id, null);
  });
});

describe("findSession", () => {
  it("returns the session with its user for the token, and nothing for other tokens", () => {
    const { token } = createSession(ctxAt(at(0)), alice.id);
    const found = findSession(token, at(MINUTE));
    expect(found?.user.id).toBe(alice.id);
    expect(found?.user.email).toBe("alice@sessions.test");
    expect(found?.session.idHash).toBe(sha256Hex(token));

    expect(findSession(sha256Hex(token), at(MINUTE))).toBeNull();
    expect(findSession(`${token}x`, at(MINUTE))).toBeNull();
    expect(findSession("", at(MINUTE))).toBeNull();
    expect(findSession(null, at(MINUTE))).toBeNull();
    expect(findSession(undefined, at(MINUTE))).toBeNull();
    expect(findSession("x".repeat(201), at(MINUTE))).toBeNull();
  });

  it("ends a session after 30 idle minutes and deletes the row", () => {
    const used = createSession(ctxAt(at(0)), alice.id);
    expect(findSession(used.token, at(30 * MINUTE - 1))).not.toBeNull();

    const idle = createSession(ctxAt(at(0)), alice.id);
    expect(findSession(idle.token, at(30 * MINUTE))).toBeNull();
    expect(rowCount(idle.token)).toBe(0);
    // Gone for good: not even an earlier clock brings it back.
    expect(findSession(idle.token, at(MINUTE))).toBeNull();
  });

  it("moves the idle deadline with every visit", () => {
    const { token } = createSession(ctxAt(at(0)), alice.id);
    expect(findSession(token, at(29 * MINUTE))?.session.lastSeenAt).toEqual(at(29 * MINUTE));
    expect(findSession(token, at(58 * MINUTE))).not.toBeNull();
    expect(findSession(token, at(87 * MINUTE))).not.toBeNull();
    expect(findSession(token, at(117 * MINUTE))).toBeNull();
    expect(rowCount(token)).toBe(0);
  });

  it("writes last-seen at most once a minute", () => {
    const { token } = createSession(ctxAt(at(0)), alice.id);
    expect(findSession(token, at(30_000))?.session.lastSeenAt).toEqual(at(0));
    expect(findSession(token, at(MINUTE))?.session.lastSeenAt).toEqual(at(MINUTE));
    expect(findSession(token, at(MINUTE + 59_000))?.session.lastSeenAt).toEqual(at(MINUTE));
  });

  it("ends a session at its absolute expiry (12 hours) even when it is in use", () => {
    const { token } = createSession(ctxAt(at(0)), alice.id);
    for (let t = 20 * MINUTE; t < 12 * HOUR; t += 20 * MINUTE) {
      expect(findSession(token, at(t)), `at +${t / MINUTE} min`).not.toBeNull();
    }
    expect(findSession(token, at(12 * HOUR - 1))).not.toBeNull();
    expect(findSession(token, at(12 * HOUR))).toBeNull();
    expect(rowCount(token)).toBe(0);
  });

  it("ends a half-signed-in (second factor pending) session after 10 minutes", () => {
    const { token, session } = createSession(ctxAt(at(0)), alice.id, { mfaPending: true });
    expect(session.mfaPending).toBe(true);
    expect(session.expiresAt).toEqual(at(10 * MINUTE));
    // Not listed among the user's signed-in devices.
    expect(listSessions(alice.id).some((s) => s.idHash === session.idHash)).toBe(false);
    expect(findSession(token, at(10 * MINUTE - 1))?.session.mfaPending).toBe(true);
    expect(findSession(token, at(10 * MINUTE))).toBeNull();
    expect(rowCount(token)).toBe(0);
  });

  it("does not find sessions of a suspended user, and deletes them", () => {
    const before = createSession(ctxAt(at(0)), carol.id);
    setUserStatus(ctxAt(at(0), "operator"), carol.id, "suspended");
    expect(findSession(before.token, at(MINUTE))).toBeNull();
    // A session made while the account was being suspended (sign-in racing the operator).
    const racing = createSession(ctxAt(at(MINUTE)), carol.id);
    expect(rowCount(racing.token)).toBe(1);
    expect(findSession(racing.token, at(2 * MINUTE))).toBeNull();
    expect(rowCount(racing.token)).toBe(0);

    setUserStatus(ctxAt(at(3 * MINUTE), "operator"), carol.id, "active");
    const after = createSession(ctxAt(at(3 * MINUTE)), carol.id);
    expect(findSession(after.token, at(4 * MINUTE))?.user.id).toBe(carol.id);
  });
});

describe("rotation", () => {
  it("`replacing` ends the old session when the new one starts", () => {
    const pending = createSession(ctxAt(at(0)), alice.id, { mfaPending: true });
    const full = createSession(ctxAt(at(MINUTE)), alice.id, { replacing: pending.token });
    expect(findSession(pending.token, at(MINUTE))).toBeNull();
    expect(rowCount(pending.token)).toBe(0);
    const found = findSession(full.token, at(2 * MINUTE));
    expect(found?.session.mfaPending).toBe(false);
    expect(found?.session.expiresAt).toEqual(at(MINUTE + 12 * HOUR));
  });

  it("markReauthenticated moves the time sensitive actions check", () => {
    const { token } = createSession(ctxAt(at(0)), alice.id);
    markReauthenticated(token, at(5 * MINUTE));
    expect(findSession(token, at(5 * MINUTE))?.session.authenticatedAt).toEqual(at(5 * MINUTE));
  });

  it("deleteSessionByToken signs that session out", () => {
    const { token } = createSession(ctxAt(at(0)), alice.id);
    deleteSessionByToken(token);
    expect(findSession(token, at(MINUTE))).toBeNull();
  });
});

describe("revoking", () => {
  it("revokeSession ends one session by its public handle, only for its owner", () => {
    const mine = createSession(ctxAt(at(0)), bob.id);
    const other = createSession(ctxAt(at(0)), bob.id);
    const alices = createSession(ctxAt(at(0)), alice.id);
    const handle = sessionHandle(mine.session);
    expect(handle).toMatch(/^[0-9a-f]{16}$/);
    expect(mine.token).not.toContain(handle);

    // Someone else's handle, or junk, revokes nothing.
    expect(revokeSession(ctxAt(at(0)), bob.id, sessionHandle(alices.session))).toBe(false);
    expect(findSession(alices.token, at(MINUTE))).not.toBeNull();
    expect(revokeSession(ctxAt(at(0)), bob.id, "not-a-handle")).toBe(false);
    expect(revokeSession(ctxAt(at(0)), bob.id, handle.toUpperCase())).toBe(false);

    expect(revokeSession(ctxAt(at(0)), bob.id, handle)).toBe(true);
    expect(findSession(mine.token, at(MINUTE))).toBeNull();
    expect(findSession(other.token, at(MINUTE))).not.toBeNull();
    expect(revokeSession(ctxAt(at(0)), bob.id, handle)).toBe(false);
    revokeOtherSessions(ctxAt(at(0)), bob.id, null);
  });

  it("revokeOtherSessions keeps the current session and no one else's", () => {
    const current = createSession(ctxAt(at(0)), bob.id);
    const laptop = createSession(ctxAt(at(0)), bob.id);
    const phone = createSession(ctxAt(at(0)), bob.id);
    const alices = createSession(ctxAt(at(0)), alice.id);

    expect(revokeOtherSessions(ctxAt(at(0)), bob.id, current.token)).toBe(2);
    expect(findSession(current.token, at(MINUTE))?.user.id).toBe(bob.id);
    expect(findSession(laptop.token, at(MINUTE))).toBeNull();
    expect(findSession(phone.token, at(MINUTE))).toBeNull();
    expect(findSession(alices.token, at(MINUTE))).not.toBeNull();
    expect(listSessions(bob.id).map((s) => s.idHash)).toEqual([sha256Hex(current.token)]);

    // Without a session to keep, every one ends.
    expect(revokeOtherSessions(ctxAt(at(0)), bob.id, null)).toBe(1);
    expect(findSession(current.token, at(MINUTE))).toBeNull();
    expect(findSession(alices.token, at(MINUTE))).not.toBeNull();
  });

  it("listSessions lists the user's signed-in sessions, most recently used first", () => {
    revokeOtherSessions(ctxAt(at(0)), bob.id, null);
    const older = createSession(ctxAt(at(0)), bob.id);
    const newer = createSession(ctxAt(at(0)), bob.id);
    findSession(newer.token, at(5 * MINUTE));
    expect(listSessions(bob.id).map((s) => s.idHash)).toEqual([
      sha256Hex(newer.token),
      sha256Hex(older.token),
    ]);
  });
});
