import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { thrown } from "../../../tests/support/errors";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { suppressions } from "~/db/schema/tenant";
import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { createContact, getContactDetails } from "./contacts.server";
import { setConsent } from "./consent.server";
import { suppressionHash, suppressionKey } from "./suppression-hash.server";
import {
  addSuppression,
  findSuppressions,
  isSuppressed,
  listSuppressions,
  removeSuppression,
  suppressContact,
} from "./suppressions.server";

process.env.BASE_URL = "https://engage.test";

let clock = Date.parse("2030-06-01T08:00:00.000Z");
let ctx: WorkspaceContext;
let otherCtx: WorkspaceContext;

async function workspace(slug: string): Promise<WorkspaceContext> {
  return makeWorkspace(slug, {
    name: slug,
    request: { ip: "203.0.113.8" },
    createdAt: () => new Date(clock),
    now: () => {
      clock += 60_000;
      return new Date(clock);
    },
  });
}

beforeAll(async () => {
  ctx = await workspace("suppress-co");
  otherCtx = await workspace("suppress-other");
});

describe("manual suppressions", () => {
  it("stores only a keyed hash of the normalised email or phone", () => {
    const byEmail = addSuppression(ctx, { identifier: "  Blocked@Example.COM ", channel: "all" });
    expect(byEmail).toEqual({ kind: "email", added: true, contactId: null });
    const byPhone = addSuppression(ctx, { identifier: "0091 98765-00000", channel: "sms" });
    expect(byPhone).toMatchObject({ kind: "phone", added: true });

    const rows = ctx.db.select().from(suppressions).all();
    expect(rows).toHaveLength(2);
    const stored = JSON.stringify(rows);
    expect(stored).not.toMatch(/blocked|example|98765/i);
    const key = suppressionKey(ctx.db);
    expect(rows.map((r) => r.hash).sort()).toEqual(
      [
        suppressionHash(key, "email", "blocked@example.com"),
        suppressionHash(key, "phone", "+919876500000"),
      ].sort(),
    );
    expect(rows.every((r) => r.reason === "manual")).toBe(true);
    // Adding it again changes nothing.
    expect(addSuppression(ctx, { identifier: "blocked@example.com", channel: "all" })).toEqual({
      kind: "email",
      added: false,
      contactId: null,
    });
  });

  it("the same person is not suppressed in another workspace (hashes are keyed per workspace)", () => {
    const key = suppressionKey(otherCtx.db);
    expect(isSuppressed(otherCtx.db, key, { email: "blocked@example.com" }, "email")).toBe(false);
    expect(suppressionKey(otherCtx.db).equals(suppressionKey(ctx.db))).toBe(false);
  });

  it("applies per channel, with 'all' covering every channel", () => {
    const key = suppressionKey(ctx.db);
    const email = "blocked@example.com";
    const phone = "+919876500000";
    for (const channel of ["email", "whatsapp", "sms", "telegram"] as const) {
      expect(isSuppressed(ctx.db, key, { email }, channel)).toBe(true);
    }
    expect(isSuppressed(ctx.db, key, { phone }, "sms")).toBe(true);
    expect(isSuppressed(ctx.db, key, { phone }, "whatsapp")).toBe(false);
    expect(isSuppressed(ctx.db, key, { email: "free@example.com", phone }, "sms")).toBe(true);
    expect(isSuppressed(ctx.db, key, {}, "sms")).toBe(false);
  });

  it("refuses bad input with a clear message", () => {
    const bad = thrown(() => addSuppression(ctx, { identifier: "not an email@", channel: "all" }));
    expect((bad as ValidationError).fieldErrors.identifier?.[0]).toMatch(/valid email/);
    const badPhone = thrown(() => addSuppression(ctx, { identifier: "12", channel: "all" }));
    expect((badPhone as ValidationError).fieldErrors.identifier?.[0]).toMatch(/phone/);
    const badChannel = thrown(() =>
      addSuppression(ctx, { identifier: "x@example.com", channel: "pigeon" }),
    );
    expect((badChannel as ValidationError).fieldErrors.channel).toBeDefined();
    expect(thrown(() => addSuppression(ctx, { identifier: " ", channel: "all" }))).toBeInstanceOf(
      ValidationError,
    );
  });

  it("withdraws a matching contact's consent and blocks granting it again", () => {
    const c = createContact(ctx, { email: "fan@example.com", phone: "98111 00000" });
    setConsent(ctx, c.id, "email", "granted", "Website form");
    setConsent(ctx, c.id, "whatsapp", "granted", "Website form");
    const result = addSuppression(ctx, { identifier: "FAN@example.com", channel: "email" });
    expect(result).toEqual({ kind: "email", added: true, contactId: c.id });
    const details = getContactDetails(ctx, c.id);
    expect(details.consents.find((s) => s.channel === "email")).toMatchObject({
      status: "withdrawn",
      source: "Suppressed: added by hand",
    });
    expect(details.consents.find((s) => s.channel === "whatsapp")?.status).toBe("granted");
    expect(details.suppressions).toMatchObject([
      { kind: "email", channel: "email", reason: "manual" },
    ]);
    expect(thrown(() => setConsent(ctx, c.id, "email", "granted", "Form")).message).toMatch(
      /suppression list.*added by hand/,
    );
  });

  it("lists newest first with a fingerprint, pages, and finds by typed identifier", () => {
    for (let i = 0; i < 5; i++) {
      addSuppression(ctx, { identifier: `page${i}@example.com`, channel: "email" });
    }
    const first = listSuppressions(ctx, { limit: 4 });
    expect(first.total).toBe(8);
    expect(first.rows).toHaveLength(4);
    expect(first.rows[0]!.fingerprint).toBe(first.rows[0]!.hash.slice(0, 10));
    const second = listSuppressions(ctx, { limit: 4, after: first.next! });
    expect(second.rows).toHaveLength(4);
    expect(second.next).toBeNull();
    const all = [...first.rows, ...second.rows];
    expect(all.map((r) => r.seq)).toEqual([...all.map((r) => r.seq)].sort((a, b) => b - a));
    expect(all.map((r) => r.createdAt.getTime())).toEqual(
      [...all.map((r) => r.createdAt.getTime())].sort((a, b) => b - a),
    );

    const found = findSuppressions(ctx, "+91 98765 00000");
    expect(found).toMatchObject({ kind: "phone", rows: [{ channel: "sms", reason: "manual" }] });
    expect(findSuppressions(ctx, "nobody@example.com").rows).toEqual([]);
  });
});

describe("removing suppressions", () => {
  it("removes manual entries, audited", () => {
    const { rows } = findSuppressions(ctx, "page0@example.com");
    removeSuppression(ctx, { hash: rows[0]!.hash, channel: "email" });
    expect(findSuppressions(ctx, "page0@example.com").rows).toEqual([]);
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "suppression.removed")),
      )
      .all();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).not.toContain("page0");
  });

  it("keeps unsubscribes, bounces, complaints and erasures", () => {
    const c = createContact(ctx, { email: "left@example.com" });
    setConsent(ctx, c.id, "email", "granted", "Form");
    const result = suppressContact(ctx, c, "unsubscribe", "email");
    expect(result).toEqual({ added: 1, withdrawn: ["email"] });
    const { rows } = findSuppressions(ctx, "left@example.com");
    const error = thrown(() => removeSuppression(ctx, { hash: rows[0]!.hash, channel: "email" }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/Only entries added by hand/);
    expect(findSuppressions(ctx, "left@example.com").rows).toHaveLength(1);
    expect(
      thrown(() => removeSuppression(ctx, { hash: "not-a-hash", channel: "email" })).message,
    ).toMatch(/not on the suppression list/);
    const timeline = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "suppression.added")),
      )
      .all();
    expect(timeline.map((a) => a.details).join()).not.toMatch(/left@|fan@|blocked@/);
  });
});
