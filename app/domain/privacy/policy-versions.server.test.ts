import { and, eq, lte } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, policyAcceptances, policyVersions, users } from "~/db/schema/control";
import { listFileMailbox } from "~/emails/transport.server";
import { ForbiddenError, NotFoundError, ValidationError } from "~/lib/errors";
import { inlineText } from "~/lib/safe-markdown";
import { createUserByOperator } from "../admin/admin.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import {
  acceptanceCounts,
  getPolicyVersion,
  listPolicyVersions,
  policyNoticeFor,
  POLICY_MAX_BYTES,
  PolicyPublishError,
  publishPolicy,
  recordAcceptance,
  sendPolicyNotices,
  upcomingVersion,
  versionInForce,
} from "./policy-versions.server";

process.env.BASE_URL = "https://engage.test";

const T0 = new Date("2030-03-01T10:00:00.000Z");
const DAY = 24 * 60 * 60 * 1000;
const day = (offset: number) => new Date(T0.getTime() + offset * DAY).toISOString().slice(0, 10);
const atDay = (offset: number) => new Date(Date.parse(`${day(offset)}T00:00:00.000Z`));
const cli = (now: Date = T0): SystemContext => ({ actor: { type: "cli" }, now: () => now });

const NEW_POLICY = "# Privacy Policy\n\n## 1. Introduction\n\nVersion two of the policy.\n";

let seq = 0;
/** A user row as sign-up leaves it, with a chosen status and creation time. */
function insertUser(
  status: "active" | "suspended" | "closed",
  createdAt: Date,
  policyVersion = "1",
): { id: string; email: string } {
  seq += 1;
  const id = `usr_policy${String(seq).padStart(6, "0")}`;
  const email = `policy-${seq}-${status}@example.com`;
  getControlDb()
    .insert(users)
    .values({
      id,
      email,
      name: `Person ${seq}`,
      emailVerifiedAt: createdAt,
      ageConfirmedAt: createdAt,
      policyVersion,
      policyAcceptedAt: createdAt,
      status,
      closedAt: status === "closed" ? createdAt : null,
      createdAt,
    })
    .run();
  return { id, email };
}

async function policyMailRecipients(): Promise<string[]> {
  const { items } = await listFileMailbox({ limit: 10_000, offset: 0 });
  return items
    .filter((m) => /privacy policy changes on/.test(m.subject))
    .map((m) => m.to.toLowerCase())
    .sort();
}

/** Active accounts created at or before `at`, in id order. */
function activeAt(at: Date): { id: string; email: string }[] {
  return getControlDb()
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.status, "active"), lte(users.createdAt, at)))
    .orderBy(users.id)
    .all();
}

let legacy: { id: string; email: string };

beforeAll(() => {
  // An account from before versioned policies: policy_version held the shipped file's name.
  legacy = insertUser("active", new Date("2026-07-01T00:00:00Z"), "2026-06-10");
});

describe("version 1, the shipped policy", () => {
  it("is stored on first use and moves older accounts onto it", () => {
    const versions = listPolicyVersions();
    expect(versions.map((v) => [v.version, v.effectiveDate])).toEqual([[1, "2026-06-10"]]);
    const row = getControlDb().select().from(users).where(eq(users.id, legacy.id)).get()!;
    expect(row.policyVersion).toBe("1");
    const accepted = getControlDb()
      .select()
      .from(policyAcceptances)
      .where(eq(policyAcceptances.userId, legacy.id))
      .all();
    expect(accepted).toEqual([
      { userId: legacy.id, version: 1, acceptedAt: new Date("2026-07-01T00:00:00Z") },
    ]);
  });

  it("is in force, renders the plain-text layout, and carries the sub-processors table", () => {
    expect(versionInForce(T0)).toMatchObject({ version: 1, effectiveDate: "2026-06-10" });
    expect(upcomingVersion(T0)).toBeUndefined();
    const doc = getPolicyVersion(1);
    const headings = doc.blocks.filter((b) => b.kind === "heading");
    expect(headings.map((h) => inlineText(h.content))).toContain("9. Changes to This Policy");
    // §4's sub-processors table, shown on /privacy with the rest of the policy.
    const table = doc.blocks.find((b) => b.kind === "table")!;
    expect(table.header.map(inlineText)).toEqual(["Provider", "Purpose", "Data transferred"]);
    expect(table.rows.map((r) => inlineText(r[0]!))).toEqual([
      "Meta (WhatsApp Cloud API)",
      "AWS SES",
      "Stripe",
      "Razorpay",
      "Anthropic",
      "Hostinger VPS",
    ]);
  });

  it("answers unknown versions with NotFoundError", () => {
    expect(() => getPolicyVersion(99)).toThrow(NotFoundError);
    expect(() => getPolicyVersion(Number.NaN)).toThrow(NotFoundError);
  });
});

describe("publishPolicy", () => {
  it("refuses an effective date 13 days ahead, with the reason, and stores nothing", () => {
    let error: unknown;
    try {
      publishPolicy(cli(), { markdown: NEW_POLICY, effectiveDate: day(13) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PolicyPublishError);
    const problems = (error as PolicyPublishError).fieldErrors.effectiveDate!.join(" ");
    expect(problems).toContain("at least 14 days after today (2030-03-01, UTC)");
    expect(problems).toContain(`${day(14)} or later`);
    expect(listPolicyVersions()).toHaveLength(1);
  });

  it("measures the 14 days in UTC calendar days, whatever the time of day", () => {
    const lateEvening = new Date("2030-03-01T23:59:59.000Z");
    expect(() =>
      publishPolicy(cli(lateEvening), { markdown: NEW_POLICY, effectiveDate: "2030-03-14" }),
    ).toThrow(/at least 14 days/);
    expect(listPolicyVersions()).toHaveLength(1);
  });

  it("refuses empty, oversized or badly dated text", () => {
    const refuse = (markdown: string, effectiveDate: string) => {
      try {
        publishPolicy(cli(), { markdown, effectiveDate });
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).fieldErrors;
      }
      throw new Error("published");
    };
    expect(refuse("  \n ", day(20)).markdown).toEqual([
      "The policy text is empty: write or upload the new version.",
    ]);
    expect(refuse("x".repeat(POLICY_MAX_BYTES + 1), day(20)).markdown?.[0]).toMatch(/too long/);
    expect(refuse(NEW_POLICY, "2030-02-30").effectiveDate?.[0]).toMatch(/YYYY-MM-DD/);
    expect(refuse(NEW_POLICY, "1 April 2030").effectiveDate?.[0]).toMatch(/YYYY-MM-DD/);
    expect(listPolicyVersions()).toHaveLength(1);
  });

  it("refuses someone who is not a platform admin", async () => {
    const person = insertUser("active", T0);
    const asUser: SystemContext = { actor: { type: "user", id: person.id }, now: () => T0 };
    expect(() => publishPolicy(asUser, { markdown: NEW_POLICY, effectiveDate: day(20) })).toThrow(
      ForbiddenError,
    );
    const asFakeAdmin: SystemContext = { actor: { type: "admin", id: person.id }, now: () => T0 };
    expect(() =>
      publishPolicy(asFakeAdmin, { markdown: NEW_POLICY, effectiveDate: day(20) }),
    ).toThrow(ForbiddenError);
    expect(listPolicyVersions()).toHaveLength(1);
  });

  it("accepts 14 days ahead from a platform admin, audited, as version 2", async () => {
    const admin = await createUserByOperator(cli(new Date(T0.getTime() - DAY)), {
      email: "policy-admin@example.com",
      name: "Policy Admin",
      password: "granite harbour violin 42",
      platformAdmin: true,
    });
    const ctx: SystemContext = { actor: { type: "admin", id: admin.id }, now: () => T0 };
    const published = publishPolicy(ctx, { markdown: NEW_POLICY, effectiveDate: day(14) });
    expect(published).toMatchObject({ version: 2, effectiveDate: day(14), notified: 0 });
    expect(listPolicyVersions()[0]).toMatchObject({
      version: 2,
      publishedBy: "policy-admin@example.com",
    });
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "policy.published"), eq(auditLog.targetId, "2")))
      .get();
    expect(audit).toMatchObject({ actorType: "admin", actorId: admin.id });
    expect(upcomingVersion(T0)).toMatchObject({ version: 2, effectiveDate: day(14) });
    expect(versionInForce(T0).version).toBe(1);
  });

  it("refuses an effective date that is not after the latest version's", () => {
    expect(() => publishPolicy(cli(), { markdown: NEW_POLICY, effectiveDate: day(14) })).toThrow(
      `The effective date must be after ${day(14)}, when version 2 takes effect.`,
    );
    expect(listPolicyVersions()).toHaveLength(2);
  });
});

describe("sendPolicyNotices", () => {
  it("emails every active account that existed at publishing, and no one else, once", async () => {
    const before = new Date(T0.getTime() - DAY);
    const active = [insertUser("active", before), insertUser("active", before)];
    insertUser("closed", before);
    insertUser("suspended", before);
    // Signs up after publishing: accepts the policy in force, sees the banner, gets no mail.
    insertUser("active", new Date(T0.getTime() + 1000));
    const expected = activeAt(T0)
      .map((u) => u.email)
      .sort();
    expect(expected).toEqual(expect.arrayContaining(active.map((u) => u.email)));

    const later = cli(new Date(T0.getTime() + 60_000));
    const report = await sendPolicyNotices(later, { batchSize: 2 });
    expect(report).toMatchObject({ versions: 1, sent: expected.length, failed: 0 });
    expect(report.unfinished).toBe(false);
    expect(await policyMailRecipients()).toEqual(expected);
    expect(listPolicyVersions()[0]!.notified).toBe(expected.length);

    // Done: a second run sends nothing more.
    const again = await sendPolicyNotices(later, { batchSize: 2 });
    expect(again).toMatchObject({ versions: 0, sent: 0 });
    expect(await policyMailRecipients()).toEqual(expected);
  });

  it("resumes after the last recorded batch instead of starting again", async () => {
    const ctx = cli();
    const v3 = publishPolicy(ctx, { markdown: NEW_POLICY, effectiveDate: day(30) });
    const everyone = activeAt(v3.publishedAt);
    // As if a run had mailed the first two and then died.
    recordAudit(ctx, {
      action: "policy.notice_batch",
      target: { type: "policy_version", id: v3.version },
      details: { through: everyone[1]!.id, sent: 2, failed: 0 },
    });
    const mailedBefore = (await policyMailRecipients()).length;
    const report = await sendPolicyNotices(cli(new Date(T0.getTime() + 60_000)));
    expect(report.sent).toBe(everyone.length - 2);
    expect((await policyMailRecipients()).length).toBe(mailedBefore + everyone.length - 2);
  });

  it("sends nothing for a version whose date has come", async () => {
    const report = await sendPolicyNotices(cli(atDay(40)));
    expect(report).toMatchObject({ versions: 0, sent: 0 });
  });
});

describe("banner and acceptance", () => {
  it("shows the upcoming version until its date, and not after", () => {
    expect(policyNoticeFor(legacy.id, T0)).toEqual({ version: 2, effectiveDate: day(14) });
    expect(policyNoticeFor(legacy.id, new Date(atDay(14).getTime() - 1))).toEqual({
      version: 2,
      effectiveDate: day(14),
    });
    // From its effective date version 2 is in force; version 3 is announced next.
    expect(versionInForce(atDay(14)).version).toBe(2);
    expect(policyNoticeFor(legacy.id, atDay(14))).toEqual({ version: 3, effectiveDate: day(30) });
    expect(policyNoticeFor(legacy.id, atDay(30))).toBeUndefined();
    expect(versionInForce(atDay(30)).version).toBe(3);
  });

  it("stops showing for a user who acknowledged it, and records the acceptance", () => {
    const other = insertUser("active", T0);
    recordAcceptance(cli(), legacy.id, 2);
    recordAcceptance(cli(), legacy.id, 2); // idempotent
    expect(policyNoticeFor(legacy.id, T0)).toEqual({ version: 3, effectiveDate: day(30) });
    recordAcceptance(cli(), legacy.id, 3);
    expect(policyNoticeFor(legacy.id, T0)).toBeUndefined();
    expect(policyNoticeFor(other.id, T0)).toEqual({ version: 2, effectiveDate: day(14) });

    const row = getControlDb().select().from(users).where(eq(users.id, legacy.id)).get()!;
    expect(row.policyVersion).toBe("3");
    expect(row.policyAcceptedAt).toEqual(T0);
    const versions = getControlDb()
      .select({ version: policyAcceptances.version })
      .from(policyAcceptances)
      .where(eq(policyAcceptances.userId, legacy.id))
      .all()
      .map((r) => r.version)
      .sort();
    expect(versions).toEqual([1, 2, 3]);
    expect(acceptanceCounts().byVersion.get(3)).toBe(1);
  });

  it("refuses versions that are unknown or no longer in force", () => {
    expect(() => recordAcceptance(cli(), legacy.id, 99)).toThrow(NotFoundError);
    expect(() => recordAcceptance(cli(atDay(14)), legacy.id, 1)).toThrow(ValidationError);
  });

  it("records at sign-up the version in force that day", async () => {
    const user = await createUserByOperator(cli(atDay(15)), {
      email: "signed-up-later@example.com",
      name: "Later",
      password: "copper lantern meadow 77",
    });
    expect(user.policyVersion).toBe("2");
    const rows = getControlDb()
      .select({ version: policyAcceptances.version })
      .from(policyAcceptances)
      .where(eq(policyAcceptances.userId, user.id))
      .all();
    expect(rows).toEqual([{ version: 2 }]);
    // policy_versions is untouched by reads: still three versions.
    expect(getControlDb().select().from(policyVersions).all()).toHaveLength(3);
  });
});
