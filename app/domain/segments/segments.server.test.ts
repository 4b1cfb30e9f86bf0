import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { ValidationError } from "~/lib/errors";
import {
  addEvent,
  addToList,
  defineAttribute,
  giveConsent,
  insertContact,
  listId,
  tagContact,
  tagId,
} from "../../../tests/support/contacts";
import type { WorkspaceContext } from "../context";
import { compileSegment, SegmentValidationError, startOfDayIn } from "./compile.server";
import {
  countSavedSegment,
  countSavedSegments,
  countSegment,
  createSegment,
  deleteSegment,
  findSegmentByName,
  getSegment,
  listSegments,
  loadSegmentCatalog,
  prepareSegment,
  previewSegment,
  segmentContactIds,
  updateSegment,
} from "./segments.server";

/**
 * The segment compiler and saved segments on a real tenant file: six contacts whose every
 * attribute, tag, list, consent, creation time and event is known, so each operator is checked
 * against the exact ids it must return.
 */

const T0 = Date.parse("2030-03-01T09:00:00.000Z"); // 14:30 in Asia/Kolkata
const DAY = 86_400_000;
let ctx: WorkspaceContext;
let other: WorkspaceContext;
const id: Record<"asha" | "bilal" | "chen" | "dev" | "esha" | "farid", number> = {
  asha: 0,
  bilal: 0,
  chen: 0,
  dev: 0,
  esha: 0,
  farid: 0,
};
let diwali = 0;
let vipTag = 0;
let newsletter = 0;

async function workspaceContext(slug: string): Promise<WorkspaceContext> {
  return makeWorkspace(slug, {
    name: slug,
    request: { ip: "203.0.113.9" },
    createdAt: () => new Date(T0),
    now: () => new Date(T0),
  });
}

beforeAll(async () => {
  ctx = await workspaceContext("segments-co");
  other = await workspaceContext("segments-other");
  const db = ctx.db;
  defineAttribute(db, "city", "text");
  defineAttribute(db, "age", "number");
  defineAttribute(db, "renewal", "date");
  defineAttribute(db, "vip", "boolean", [], "VIP");
  defineAttribute(db, "plan", "choice", ["Free", "Pro"]);

  id.asha = insertContact(db, {
    name: "Asha Rao",
    email: "asha@example.com",
    phone: "+919876543210",
    country: "IN",
    attributes: { city: "Mumbai", age: 30, renewal: "2030-02-20", vip: true, plan: "Pro" },
    createdAt: new Date(T0 - 2 * DAY),
  });
  id.bilal = insertContact(db, {
    name: "Bilal Khan",
    email: "bilal@example.com",
    attributes: { city: "mumbai", age: 45, plan: "Free" },
    createdAt: new Date(T0 - 40 * DAY),
  });
  id.chen = insertContact(db, {
    name: "Chen Wei",
    phone: "+6591234567",
    country: "SG",
    attributes: { city: "Singapore", age: 17, vip: false, renewal: "2030-04-01" },
    createdAt: new Date(T0 - 400 * DAY),
  });
  id.dev = insertContact(db, {
    name: "Dev Patel",
    email: "dev@example.com",
    phone: "+447700900123",
    country: "GB",
    attributes: { city: "Navi Mumbai", age: 60 },
    // 01:30 on 16 January in Kolkata, still 15 January in UTC.
    createdAt: new Date(Date.parse("2030-01-15T20:00:00.000Z")),
  });
  id.esha = insertContact(db, {
    name: "",
    email: "esha@example.com",
    createdAt: new Date(T0 - 3_600_000),
  });
  id.farid = insertContact(db, {
    name: "Farid",
    phone: "+919800000006",
    country: "IN",
    attributes: { city: "Pune", age: 0 },
    createdAt: new Date(T0 - 10 * DAY),
  });

  tagContact(db, id.asha, "Diwali");
  tagContact(db, id.dev, "Diwali");
  tagContact(db, id.bilal, "VIP");
  diwali = tagId(db, "Diwali");
  vipTag = tagId(db, "VIP");
  addToList(db, id.asha, "Newsletter");
  addToList(db, id.chen, "Newsletter");
  newsletter = listId(db, "Newsletter");
  listId(db, "Empty list");

  giveConsent(db, id.asha, "whatsapp", "granted");
  giveConsent(db, id.asha, "email", "granted");
  giveConsent(db, id.bilal, "email", "withdrawn");
  giveConsent(db, id.chen, "whatsapp", "withdrawn");
  giveConsent(db, id.dev, "sms", "granted");
  giveConsent(db, id.farid, "whatsapp", "granted");

  addEvent(db, id.asha, "message.delivered", new Date(T0 - DAY), "whatsapp");
  addEvent(db, id.asha, "message.opened", new Date(T0 - DAY), "email");
  addEvent(db, id.bilal, "message.clicked", new Date(T0 - 20 * DAY), "email");
  addEvent(db, id.chen, "message.replied", new Date(T0 - 5 * DAY), "whatsapp");
  addEvent(db, id.dev, "message.sent", new Date(T0 - 100 * DAY), "sms");
  // Not engagement: a consent change is on the timeline too.
  addEvent(db, id.esha, "consent.granted", new Date(T0 - DAY), "email");

  // The other workspace has a contact that would match everything; it must never appear.
  defineAttribute(other.db, "city", "text");
  insertContact(other.db, {
    name: "Outsider",
    email: "outsider@example.com",
    attributes: { city: "Mumbai" },
    createdAt: new Date(T0 - DAY),
  });
}, 60_000);

function matches(conditions: unknown[], op: "and" | "or" = "and", c = ctx): number[] {
  const { where } = prepareSegment(c, { version: 1, op, conditions });
  return (
    c.db.$client
      .prepare(`SELECT c.id FROM contacts c WHERE ${where.sql} ORDER BY c.id`)
      .pluck()
      .all(...where.params) as number[]
  ).map((n) => n);
}

const ids = (...names: (keyof typeof id)[]) => names.map((n) => id[n]).sort((a, b) => a - b);
const attr = (key: string, op: string, value?: unknown, days?: number) => ({
  type: "attribute",
  key,
  op,
  ...(value !== undefined ? { value } : {}),
  ...(days !== undefined ? { days } : {}),
});

describe("attribute comparisons", () => {
  it("text: equals (any case), contains, starts with, has / has no value", () => {
    expect(matches([attr("city", "equals", "MUMBAI")])).toEqual(ids("asha", "bilal"));
    expect(matches([attr("city", "contains", "mumbai")])).toEqual(ids("asha", "bilal", "dev"));
    expect(matches([attr("city", "starts_with", "Navi")])).toEqual(ids("dev"));
    expect(matches([attr("city", "is_set")])).toEqual(ids("asha", "bilal", "chen", "dev", "farid"));
    expect(matches([attr("city", "not_set")])).toEqual(ids("esha"));
  });

  it("number: = ≠ < ≤ > ≥ (≠ includes contacts without a value)", () => {
    expect(matches([attr("age", "eq", 30)])).toEqual(ids("asha"));
    expect(matches([attr("age", "ne", 30)])).toEqual(ids("bilal", "chen", "dev", "esha", "farid"));
    expect(matches([attr("age", "lt", 18)])).toEqual(ids("chen", "farid"));
    expect(matches([attr("age", "lte", 17)])).toEqual(ids("chen", "farid"));
    expect(matches([attr("age", "gt", 45)])).toEqual(ids("dev"));
    expect(matches([attr("age", "gte", "45")])).toEqual(ids("bilal", "dev"));
    expect(matches([attr("age", "is_set")])).toContain(id.farid); // 0 is a value
  });

  it("date: before, after and within the last N days, by calendar day", () => {
    expect(matches([attr("renewal", "before", "2030-03-01")])).toEqual(ids("asha"));
    expect(matches([attr("renewal", "before", "2030-02-20")])).toEqual([]);
    expect(matches([attr("renewal", "after", "2030-02-20")])).toEqual(ids("chen"));
    expect(matches([attr("renewal", "after", "2030-02-19")])).toEqual(ids("asha", "chen"));
    expect(matches([attr("renewal", "within_days", undefined, 30)])).toEqual(ids("asha"));
    expect(matches([attr("renewal", "within_days", undefined, 5)])).toEqual([]);
  });

  it("boolean: is true, is false", () => {
    expect(matches([attr("vip", "is_true")])).toEqual(ids("asha"));
    expect(matches([attr("vip", "is_false")])).toEqual(ids("chen"));
  });

  it("choice: is, is not (is not includes contacts without a value)", () => {
    expect(matches([attr("plan", "is", "Pro")])).toEqual(ids("asha"));
    expect(matches([attr("plan", "is_not", "Pro")])).toEqual(
      ids("bilal", "chen", "dev", "esha", "farid"),
    );
  });
});

describe("contact fields, tags, lists, consent, created, country", () => {
  it("email / phone / name has a value or not", () => {
    const field = (f: string, op: string) => ({ type: "field", field: f, op });
    expect(matches([field("email", "is_set")])).toEqual(ids("asha", "bilal", "dev", "esha"));
    expect(matches([field("phone", "not_set")])).toEqual(ids("bilal", "esha"));
    expect(matches([field("name", "not_set")])).toEqual(ids("esha"));
  });

  it("tag has / has not", () => {
    expect(matches([{ type: "tag", op: "has", tagId: diwali }])).toEqual(ids("asha", "dev"));
    expect(matches([{ type: "tag", op: "has_not", tagId: diwali }])).toEqual(
      ids("bilal", "chen", "esha", "farid"),
    );
    expect(matches([{ type: "tag", op: "has", tagId: vipTag }])).toEqual(ids("bilal"));
  });

  it("list in / not in", () => {
    expect(matches([{ type: "list", op: "in", listId: newsletter }])).toEqual(ids("asha", "chen"));
    expect(matches([{ type: "list", op: "not_in", listId: newsletter }])).toEqual(
      ids("bilal", "dev", "esha", "farid"),
    );
  });

  it("consent per channel: granted, withdrawn, never given", () => {
    const consent = (channel: string, op: string) => ({ type: "consent", channel, op });
    expect(matches([consent("whatsapp", "granted")])).toEqual(ids("asha", "farid"));
    expect(matches([consent("whatsapp", "withdrawn")])).toEqual(ids("chen"));
    expect(matches([consent("whatsapp", "none")])).toEqual(ids("bilal", "dev", "esha"));
    expect(matches([consent("email", "withdrawn")])).toEqual(ids("bilal"));
    expect(matches([consent("email", "none")])).toEqual(ids("chen", "dev", "esha", "farid"));
    expect(matches([consent("sms", "granted")])).toEqual(ids("dev"));
    expect(matches([consent("telegram", "granted")])).toEqual([]);
  });

  it("created within N days, before and after a day in the workspace's time zone", () => {
    expect(matches([{ type: "created", op: "within_days", days: 7 }])).toEqual(ids("asha", "esha"));
    expect(matches([{ type: "created", op: "within_days", days: 10 }])).toEqual(
      ids("asha", "esha", "farid"),
    );
    // Dev was created at 01:30 on 16 January in Kolkata (20:00 on the 15th in UTC).
    expect(matches([{ type: "created", op: "before", date: "2030-01-16" }])).toEqual(ids("chen"));
    expect(matches([{ type: "created", op: "after", date: "2030-01-15" }])).toEqual(
      ids("asha", "bilal", "dev", "esha", "farid"),
    );
    const utc = { ...ctx, workspace: { ...ctx.workspace, timeZone: "UTC" } };
    expect(matches([{ type: "created", op: "before", date: "2030-01-16" }], "and", utc)).toEqual(
      ids("chen", "dev"),
    );
    expect(startOfDayIn("2030-01-16", "Asia/Kolkata")).toBe(Date.parse("2030-01-15T18:30:00Z"));
  });

  it("country from the phone number: is, is not (is not includes contacts without a phone)", () => {
    expect(matches([{ type: "country", op: "is", country: "IN" }])).toEqual(ids("asha", "farid"));
    expect(matches([{ type: "country", op: "is_not", country: "IN" }])).toEqual(
      ids("bilal", "chen", "dev", "esha"),
    );
  });
});

describe("engagement from the contact timeline", () => {
  const engaged = (event: string, days: number, op = "within_days", channel?: string) => ({
    type: "engagement",
    event,
    op,
    days,
    ...(channel ? { channel } : {}),
  });

  it("received (delivered or sent), opened, clicked, replied within N days", () => {
    expect(matches([engaged("received", 7)])).toEqual(ids("asha"));
    expect(matches([engaged("received", 200)])).toEqual(ids("asha", "dev"));
    expect(matches([engaged("opened", 7)])).toEqual(ids("asha"));
    expect(matches([engaged("clicked", 30)])).toEqual(ids("bilal"));
    expect(matches([engaged("clicked", 10)])).toEqual([]);
    expect(matches([engaged("replied", 7)])).toEqual(ids("chen"));
  });

  it("on one channel only, and the negative form", () => {
    expect(matches([engaged("replied", 7, "within_days", "whatsapp")])).toEqual(ids("chen"));
    expect(matches([engaged("replied", 7, "within_days", "email")])).toEqual([]);
    expect(matches([engaged("opened", 7, "not_within_days")])).toEqual(
      ids("bilal", "chen", "dev", "esha", "farid"),
    );
  });
});

describe("groups", () => {
  it("AND of a condition and a nested OR", () => {
    expect(
      matches([
        { type: "consent", channel: "whatsapp", op: "granted" },
        {
          type: "group",
          op: "or",
          conditions: [attr("city", "equals", "Mumbai"), { type: "tag", op: "has", tagId: diwali }],
        },
      ]),
    ).toEqual(ids("asha"));
  });

  it("OR at the top with an AND group, three levels deep", () => {
    expect(
      matches(
        [
          { type: "country", op: "is", country: "SG" },
          {
            type: "group",
            op: "and",
            conditions: [
              attr("age", "gte", 45),
              {
                type: "group",
                op: "or",
                conditions: [
                  { type: "tag", op: "has", tagId: diwali },
                  { type: "consent", channel: "email", op: "withdrawn" },
                ],
              },
            ],
          },
        ],
        "or",
      ),
    ).toEqual(ids("bilal", "chen", "dev"));
  });

  it("no conditions is everyone in this workspace; an empty nested group changes nothing", () => {
    expect(matches([])).toEqual(ids("asha", "bilal", "chen", "dev", "esha", "farid"));
    expect(
      matches([
        { type: "group", op: "or", conditions: [] },
        { type: "tag", op: "has", tagId: diwali },
      ]),
    ).toEqual(ids("asha", "dev"));
    expect(countSegment(ctx, { op: "and", conditions: [] })).toBe(6);
    expect(countSegment(other, { op: "and", conditions: [] })).toBe(1);
  });
});

describe("parameters, never SQL text", () => {
  const hostile = "x' OR 1=1 --";

  it("a hostile value matches nothing and never appears in the SQL", () => {
    const conditions = [
      attr("city", "equals", hostile),
      attr("city", "contains", hostile),
      attr("city", "starts_with", `'); DROP TABLE contacts; --`),
    ];
    for (const condition of conditions) {
      expect(matches([condition])).toEqual([]);
      const { where } = prepareSegment(ctx, { op: "and", conditions: [condition] });
      expect(where.sql).not.toContain("OR 1=1");
      expect(where.sql).not.toContain("DROP");
      expect(where.sql).not.toContain("'x");
    }
    expect(countSegment(ctx, { op: "or", conditions })).toBe(0);
    expect(ctx.db.$client.prepare("SELECT count(*) FROM contacts").pluck().get()).toBe(6);
  });

  it("LIKE wildcards in a value are literal", () => {
    expect(matches([attr("city", "contains", "%")])).toEqual([]);
    expect(matches([attr("city", "starts_with", "_")])).toEqual([]);
    expect(matches([attr("city", "contains", "umba")])).toEqual(ids("asha", "bilal", "dev"));
  });

  it("the attribute key travels as a bound JSON path too", () => {
    const compiled = compileSegment(
      { version: 1, op: "and", conditions: [{ type: "attribute", key: "city", op: "is_set" }] },
      { now: new Date(T0), timeZone: "UTC", attributeTypes: new Map([["city", "text"]]) },
    );
    expect(compiled.sql).toBe("coalesce(json_extract(c.attributes, ?), '') <> ''");
    expect(compiled.params).toEqual(['$."city"']);
  });
});

describe("validation against the workspace", () => {
  function problem(definition: unknown): SegmentValidationError {
    try {
      countSegment(ctx, definition);
    } catch (error) {
      if (error instanceof SegmentValidationError) return error;
      throw error;
    }
    throw new Error("expected a validation error");
  }

  it("names an unknown attribute", () => {
    const error = problem({ op: "and", conditions: [attr("shoe_size", "eq", 42)] });
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.status).toBe(400);
    expect(error.message).toBe("There is no attribute “shoe_size” in this workspace.");
    expect(error.fieldErrors["r-0"]).toEqual([error.message]);
  });

  it("explains a wrong type", () => {
    expect(problem({ op: "and", conditions: [attr("age", "gt", "old")] }).message).toBe(
      "“Age” is a number attribute: enter a number.",
    );
    expect(problem({ op: "and", conditions: [attr("vip", "equals", "yes")] }).message).toMatch(
      /^“VIP” is a boolean attribute: compare it with “is true”, “is false”/,
    );
  });

  it("refuses a deleted tag and malformed input", () => {
    expect(
      problem({ op: "and", conditions: [{ type: "tag", op: "has", tagId: 999 }] }).message,
    ).toBe("That tag no longer exists.");
    expect(problem("not a definition").status).toBe(400);
    expect(problem({ op: "xor", conditions: [] }).message).toBe(
      "Choose whether all or any conditions must match.",
    );
  });

  it("the catalog lists the workspace's attributes, tags and lists", () => {
    const catalog = loadSegmentCatalog(ctx);
    expect(catalog.attributes.map((a) => `${a.key}:${a.type}`).sort()).toEqual([
      "age:number",
      "city:text",
      "plan:choice",
      "renewal:date",
      "vip:boolean",
    ]);
    expect(catalog.tags.map((t) => t.name)).toEqual(["Diwali", "VIP"]);
    expect(catalog.lists.map((l) => l.name)).toEqual(["Empty list", "Newsletter"]);
  });
});

describe("preview and iteration", () => {
  it("previews the newest matching contacts", () => {
    const rows = previewSegment(ctx, { op: "and", conditions: [] }, 2);
    expect(rows.map((r) => r.id)).toEqual([id.farid, id.esha]);
    expect(rows[0]).toMatchObject({ name: "Farid", phone: "+919800000006", country: "IN" });
  });

  it("walks a saved segment's ids in ascending order, as a snapshot", () => {
    const saved = createSegment(ctx, {
      name: "Everyone but Chen",
      definition: { op: "and", conditions: [{ type: "country", op: "is_not", country: "SG" }] },
    });
    const walk = segmentContactIds(ctx, saved.id);
    expect(walk.next().value).toBe(id.asha);
    // Writing between ids is fine (no statement is left open), and doesn't move the snapshot.
    const extra = insertContact(ctx.db, { name: "Late", email: "late@example.com" });
    expect([...walk]).toEqual(ids("bilal", "dev", "esha", "farid"));
    ctx.db.$client.prepare("DELETE FROM contacts WHERE id = ?").run(extra);
    deleteSegment(ctx, saved.id);
  });
});

describe("saved segments", () => {
  function auditActions(workspaceId: string): { action: string; details: string | null }[] {
    return getControlDb()
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.workspaceId, workspaceId)))
      .all()
      .filter((r) => r.action.startsWith("segment."));
  }

  it("creates, renames, updates, lists and deletes, each audited without values", () => {
    const created = createSegment(ctx, {
      name: "  Mumbai   WhatsApp ",
      definition: {
        op: "and",
        conditions: [
          { type: "consent", channel: "whatsapp", op: "granted" },
          attr("city", "equals", "Mumbai"),
        ],
      },
    });
    expect(created.name).toBe("Mumbai WhatsApp");
    expect(getSegment(ctx, created.id).definition.conditions).toHaveLength(2);
    expect(findSegmentByName(ctx, "mumbai whatsapp")?.id).toBe(created.id);
    expect(countSavedSegment(ctx, created.id)).toBe(1);

    const updated = updateSegment(ctx, created.id, {
      name: "Mumbai",
      definition: { op: "and", conditions: [attr("city", "equals", "Mumbai")] },
    });
    expect(updated.name).toBe("Mumbai");
    // The count cache is keyed by the segment's version: the new definition counts afresh.
    expect(countSavedSegment(ctx, created.id)).toBe(2);
    expect(listSegments(ctx).map((s) => s.name)).toContain("Mumbai");

    deleteSegment(ctx, created.id);
    expect(() => getSegment(ctx, created.id)).toThrow(/Segment \d+ not found/);
    const actions = auditActions(ctx.workspaceId);
    expect(actions.map((a) => a.action)).toEqual(
      expect.arrayContaining(["segment.created", "segment.updated", "segment.deleted"]),
    );
    for (const a of actions) expect(a.details ?? "").not.toContain("Mumbai");
  });

  it("refuses a duplicate name, an empty name and an invalid definition", () => {
    const first = createSegment(ctx, {
      name: "Pro plan",
      definition: { op: "and", conditions: [] },
    });
    expect(() =>
      createSegment(ctx, { name: "PRO PLAN", definition: { op: "and", conditions: [] } }),
    ).toThrow("There is already a segment called “Pro plan”. Choose another name.");
    expect(() =>
      createSegment(ctx, { name: "   ", definition: { op: "and", conditions: [] } }),
    ).toThrow("Give the segment a name.");
    expect(() =>
      updateSegment(ctx, first.id, {
        name: "Pro plan",
        definition: { op: "and", conditions: [attr("plan", "is", "Gold")] },
      }),
    ).toThrow(SegmentValidationError);
    expect(() =>
      updateSegment(ctx, 9999, { name: "x", definition: { op: "and", conditions: [] } }),
    ).toThrow(/not found/);
    deleteSegment(ctx, first.id);
  });

  it("counts saved segments within a time budget, and flags broken ones", () => {
    const a = createSegment(ctx, {
      name: "Diwali",
      definition: { op: "and", conditions: [{ type: "tag", op: "has", tagId: diwali }] },
    });
    const b = createSegment(ctx, {
      name: "VIP tag",
      definition: { op: "and", conditions: [{ type: "tag", op: "has", tagId: vipTag }] },
    });
    ctx.db.$client.prepare("DELETE FROM tags WHERE id = ?").run(vipTag);
    const counts = countSavedSegments(ctx, listSegments(ctx));
    expect(counts.get(a.id)).toMatchObject({ count: 2, problem: null });
    expect(counts.get(b.id)).toMatchObject({ count: null, problem: "That tag no longer exists." });
    expect(() => [...segmentContactIds(ctx, b.id)]).toThrow("That tag no longer exists.");
    const none = countSavedSegments(ctx, [getSegment(ctx, a.id)], -1);
    // A fresh cached count is reused even when the budget is spent.
    expect(none.get(a.id)?.count).toBe(2);
  });

  it("keeps each workspace's segments in its own file", () => {
    createSegment(other, { name: "Theirs", definition: { op: "and", conditions: [] } });
    expect(listSegments(ctx).map((s) => s.name)).not.toContain("Theirs");
    expect(findSegmentByName(ctx, "Theirs")).toBeUndefined();
  });
});
