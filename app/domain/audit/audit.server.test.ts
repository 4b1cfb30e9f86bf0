import { asc, eq } from "drizzle-orm";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { closeControlDb, controlDbPath, getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import type { SystemContext } from "../context";
import { GENESIS_HASH, recordAudit, verifyAuditChain } from "./audit.server";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const DAY = 24 * 60 * 60 * 1000;

function userContext(at: Date, request?: SystemContext["request"]): SystemContext {
  return { actor: { type: "user", id: "usr_1" }, now: () => at, request };
}

function rows() {
  return getControlDb().select().from(auditLog).orderBy(asc(auditLog.id)).all();
}

/** The raw connection, for what an attacker with file access (not our code) would run. */
function raw() {
  return getControlDb().$client;
}

/** The row hash recomputed here, independently of the module, so the format is pinned. */
function expectedHash(row: ReturnType<typeof rows>[number]): string {
  const canonical = JSON.stringify([
    row.at.getTime(),
    row.actorType,
    row.actorId,
    row.workspaceId,
    row.action,
    row.targetType,
    row.targetId,
    row.ip,
    row.userAgent,
    row.details,
  ]);
  return createHash("sha256").update(`${row.prevHash}\n${canonical}`).digest("hex");
}

/** `years` calendar years before now, shifted by `days`. */
function yearsAgo(years: number, days = 0): Date {
  const at = new Date();
  at.setUTCFullYear(at.getUTCFullYear() - years);
  return new Date(at.getTime() + days * DAY);
}

function recordSome(count: number, at: (i: number) => Date = () => new Date()): void {
  for (let i = 0; i < count; i++) {
    recordAudit(userContext(at(i)), { action: `test.event_${i + 1}`, details: { n: i + 1 } });
  }
}

beforeEach(() => {
  // A fresh control db per test: audit rows cannot be deleted, and some tests drop triggers.
  closeControlDb();
  for (const suffix of ["", "-wal", "-shm"]) rmSync(controlDbPath() + suffix, { force: true });
});

describe("recordAudit", () => {
  it("appends rows chained from GENESIS_HASH, each hash covering the row", () => {
    expect(GENESIS_HASH).toBe("0".repeat(64));
    const at = new Date("2031-01-02T03:04:05.678Z");
    const first = recordAudit(userContext(at, { ip: "203.0.113.9", userAgent: "Browser/1.0" }), {
      action: "contact.updated",
      workspaceId: "ws_aaaaaaaaaaaaaaaa",
      target: { type: "contact", id: 42 },
      details: { field: "name" },
    });
    const second = recordAudit(
      { actor: { type: "cli" }, now: () => new Date(at.getTime() + 1) },
      { action: "system.backup_created" },
    );
    const third = recordAudit(
      { actor: { type: "system", id: "retention" }, now: () => new Date(at.getTime() + 2) },
      { action: "system.purged", details: { contacts: 3 } },
    );

    const stored = rows();
    expect(stored).toEqual([first, second, third]);
    expect(first).toEqual({
      id: first.id,
      at,
      actorType: "user",
      actorId: "usr_1",
      workspaceId: "ws_aaaaaaaaaaaaaaaa",
      action: "contact.updated",
      targetType: "contact",
      targetId: "42",
      ip: "203.0.113.9",
      userAgent: "Browser/1.0",
      details: '{"field":"name"}',
      prevHash: GENESIS_HASH,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(second).toMatchObject({
      actorType: "cli",
      actorId: null,
      workspaceId: null,
      targetType: null,
      targetId: null,
      ip: null,
      userAgent: null,
      details: null,
      prevHash: first.hash,
    });
    expect(third).toMatchObject({
      actorType: "system",
      actorId: "retention",
      prevHash: second.hash,
    });
    for (const row of stored) expect(row.hash).toBe(expectedHash(row));
    expect(new Set(stored.map((r) => r.hash)).size).toBe(3);
  });

  it("cuts a long user agent to 512 characters", () => {
    const row = recordAudit(userContext(new Date(), { userAgent: "x".repeat(2000) }), {
      action: "auth.login",
    });
    expect(row.userAgent).toBe("x".repeat(512));
    expect(rows()[0]!.userAgent).toBe("x".repeat(512));
  });

  it("redacts secrets at any depth, by key, and keeps everything else", () => {
    const at = new Date("2031-05-06T07:08:09.000Z");
    const details = {
      email: "ana@example.com",
      role: "admin",
      count: 2,
      enabled: false,
      nothing: null,
      tags: ["a", "b"],
      when: at,
      // Passwords.
      password: "hunter2",
      newPassword: "hunter3",
      passwordHash: "$2b$12$abc",
      passphrase: "open sesame",
      // Tokens and secrets.
      token: "tok_1",
      accessToken: "at_1",
      refreshToken: "rt_1",
      clientSecret: "cs_1",
      TOTP_SECRET: "JBSWY3DPEHPK3PXP",
      // API keys, however spelt.
      apiKey: "sk_live_1",
      api_key: "sk_live_2",
      APIKEY: "sk_live_3",
      "x-api-key": "sk_live_4",
      // One-time and recovery codes.
      otp: "123456",
      verificationCode: "654321",
      recoveryCodes: ["aaaa-bbbb", "cccc-dddd"],
      // Nested objects and arrays of objects are walked too.
      integration: { provider: "ses", credentials: { accessKeyId: "AKIA1", secretAccessKey: "s" } },
      channels: [{ kind: "telegram", botToken: "123:abc", chatId: 7 }],
    };

    const row = recordAudit(userContext(at), { action: "settings.changed", details });

    const stored = JSON.parse(rows()[0]!.details!) as Record<string, unknown>;
    expect(JSON.parse(row.details!)).toEqual(stored);
    const R = "[redacted]";
    expect(stored).toEqual({
      email: "ana@example.com",
      role: "admin",
      count: 2,
      enabled: false,
      nothing: null,
      tags: ["a", "b"],
      when: "2031-05-06T07:08:09.000Z",
      password: R,
      newPassword: R,
      passwordHash: R,
      passphrase: R,
      token: R,
      accessToken: R,
      refreshToken: R,
      clientSecret: R,
      TOTP_SECRET: R,
      apiKey: R,
      api_key: R,
      APIKEY: R,
      "x-api-key": R,
      otp: R,
      verificationCode: R,
      recoveryCodes: R,
      integration: { provider: "ses", credentials: { accessKeyId: "AKIA1", secretAccessKey: R } },
      channels: [{ kind: "telegram", botToken: R, chatId: 7 }],
    });
    // No secret value made it into the stored row in any form.
    const text = rows()[0]!.details!;
    for (const secret of ["hunter", "tok_1", "sk_live", "123456", "aaaa-bbbb", "123:abc", "JBSW"]) {
      expect(text).not.toContain(secret);
    }
    // The caller's object is left as it was.
    expect(details.password).toBe("hunter2");
    expect(details.channels[0]!.botToken).toBe("123:abc");
  });
});

describe("verifyAuditChain", () => {
  it("accepts an empty log and an intact chain", () => {
    expect(verifyAuditChain()).toEqual({ rows: 0, ok: true });
    recordSome(5);
    expect(verifyAuditChain()).toEqual({ rows: 5, ok: true });
  });

  it("names the first row whose content was changed", () => {
    recordSome(4);
    raw().exec("DROP TRIGGER audit_log_no_update");
    raw().prepare(`UPDATE audit_log SET details = '{"n":99}' WHERE id = 2`).run();

    expect(verifyAuditChain()).toEqual({
      rows: 2,
      ok: false,
      brokenAt: 2,
      reason: "row content does not match its hash",
    });
  });

  it("notices a changed row whose hash was recomputed, at the next row", () => {
    recordSome(4);
    raw().exec("DROP TRIGGER audit_log_no_update");
    const db = getControlDb();
    const target = rows()[1]!;
    const forged = { ...target, details: '{"n":99}' };
    db.update(auditLog)
      .set({ details: forged.details, hash: expectedHash(forged) })
      .where(eq(auditLog.id, target.id))
      .run();

    expect(verifyAuditChain()).toEqual({
      rows: 3,
      ok: false,
      brokenAt: 3,
      reason: "previous row missing or changed",
    });
  });

  it("accepts a log whose oldest rows were removed by retention, not a gap in the middle", () => {
    const old = yearsAgo(8);
    recordSome(3, (i) => new Date(old.getTime() + i * DAY));
    recordSome(2);

    raw().prepare("DELETE FROM audit_log WHERE id = 1").run();
    expect(verifyAuditChain()).toEqual({ rows: 4, ok: true });

    raw().prepare("DELETE FROM audit_log WHERE id = 3").run();
    expect(verifyAuditChain()).toEqual({
      rows: 2,
      ok: false,
      brokenAt: 4,
      reason: "previous row missing or changed",
    });
  });
});

describe("audit_log triggers", () => {
  it("refuse any UPDATE, from raw SQL or drizzle", () => {
    recordSome(2);
    const before = rows();

    expect(() =>
      raw().prepare(`UPDATE audit_log SET details = '{"n":99}' WHERE id = 1`).run(),
    ).toThrow(/audit_log is append-only/);
    expect(() => raw().prepare("UPDATE audit_log SET at = 0").run()).toThrow(/append-only/);
    expect(() =>
      getControlDb().update(auditLog).set({ action: "other" }).where(eq(auditLog.id, 2)).run(),
    ).toThrow(/append-only/);

    expect(rows()).toEqual(before);
    expect(verifyAuditChain()).toEqual({ rows: 2, ok: true });
  });

  it("refuse to DELETE a row younger than 7 years", () => {
    recordSome(1);
    recordSome(1, () => yearsAgo(7, 1)); // one day short of 7 years
    const before = rows();

    expect(() => raw().prepare("DELETE FROM audit_log WHERE id = 1").run()).toThrow(
      /audit_log rows are kept for 7 years/,
    );
    expect(() => raw().prepare("DELETE FROM audit_log WHERE id = 2").run()).toThrow(
      /kept for 7 years/,
    );
    expect(() => getControlDb().delete(auditLog).run()).toThrow(/kept for 7 years/);

    expect(rows()).toEqual(before);
  });

  it("allow DELETE of a row older than 7 years", () => {
    recordSome(1, () => yearsAgo(7, -1)); // one day past 7 years
    recordSome(1, () => yearsAgo(9));
    recordSome(1);

    const deleted = raw().prepare("DELETE FROM audit_log WHERE id IN (1, 2)").run();

    expect(deleted.changes).toBe(2);
    expect(rows().map((r) => r.id)).toEqual([3]);
  });
});
