import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { thrown } from "../../../tests/support/errors";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import {
  createAttributeDefinition,
  deleteAttributeDefinition,
  coerceAttributeValue,
  formatAttributeValue,
  isCalendarDate,
  listAttributeDefinitions,
  updateAttributeDefinition,
  validateAttributes,
  type AttributeDefinition,
} from "./attributes.server";
import { createContact, getContact, updateContact } from "./contacts.server";

process.env.BASE_URL = "https://engage.test";

const NOW = new Date("2030-04-01T08:00:00.000Z");
let ctx: WorkspaceContext;

const def = (
  key: string,
  type: AttributeDefinition["type"],
  options: string[] = [],
): AttributeDefinition => ({ key, label: key.toUpperCase(), type, options, createdAt: NOW });

const DEFS = [
  def("city", "text"),
  def("score", "number"),
  def("born", "date"),
  def("vip", "boolean"),
  def("plan", "choice", ["Free", "Pro", "Enterprise"]),
];

beforeAll(async () => {
  ctx = await makeWorkspace("attributes-co", {
    name: "Attributes Co",
    request: { ip: "203.0.113.7" },
    now: () => NOW,
    createdAt: () => NOW,
  });
});

describe("validateAttributes", () => {
  it.each([
    ["score", "42", 42],
    ["score", " -3.5 ", -3.5],
    ["score", "1,234,567.5", 1234567.5],
    ["score", "2e3", 2000],
    ["score", 7, 7],
    ["born", "2024-02-29", "2024-02-29"],
    ["vip", "yes", true],
    ["vip", "NO", false],
    ["vip", "true", true],
    ["vip", "0", false],
    ["vip", "1", true],
    ["vip", false, false],
    ["plan", "Pro", "Pro"],
    ["plan", "enterprise", "Enterprise"],
    ["city", "  Pune ", "Pune"],
    ["city", "", null],
    ["score", "  ", null],
  ])("%s = %j is stored as %j", (key, raw, stored) => {
    expect(validateAttributes({ [key]: raw }, DEFS)).toEqual({
      ok: true,
      values: { [key]: stored },
    });
  });

  it.each([
    ["score", "12abc", /SCORE must be a number/],
    ["score", "1,2", /number/],
    ["score", "NaN", /number/],
    ["born", "2023-02-29", /YYYY-MM-DD/],
    ["born", "29/02/2024", /YYYY-MM-DD/],
    ["born", "2024-13-01", /YYYY-MM-DD/],
    ["vip", "maybe", /yes or no/],
    ["plan", "Gold", /one of: Free, Pro, Enterprise/],
    ["city", "x".repeat(1001), /too long/],
  ])("refuses %s = %j", (key, raw, message) => {
    const result = validateAttributes({ [key]: raw }, DEFS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[`attributes.${key}`]?.[0]).toMatch(message);
  });

  it("refuses unknown keys and reports each bad field", () => {
    const result = validateAttributes({ colour: "red", score: "x", city: "Goa" }, DEFS);
    expect(result).toEqual({
      ok: false,
      errors: {
        "attributes.colour": [expect.stringMatching(/not an attribute/)],
        "attributes.score": [expect.stringMatching(/number/)],
      },
    });
  });

  it("formats values for display", () => {
    expect(formatAttributeValue(true)).toBe("Yes");
    expect(formatAttributeValue(3.5)).toBe("3.5");
    expect(formatAttributeValue(undefined)).toBe("");
  });
});

describe("isCalendarDate", () => {
  it("agrees with Date.UTC for every four-digit year, month and day", () => {
    const byDate = (y: number, m: number, d: number) =>
      m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
    const wrong: string[] = [];
    for (let y = 0; y <= 9999; y++) {
      for (let m = 0; m <= 13; m++) {
        for (const d of [0, 1, 28, 29, 30, 31, 32]) {
          if (isCalendarDate(y, m, d) !== byDate(y, m, d)) wrong.push(`${y}-${m}-${d}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("date values", () => {
  it("are read as the YYYY-MM-DD pattern with Date.UTC's calendar, on generated text", () => {
    const definition: AttributeDefinition = {
      key: "d",
      label: "D",
      type: "date",
      options: [],
      createdAt: new Date(0),
    };
    const byDate = (raw: string) => {
      const text = raw.trim();
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      if (!m) return false;
      const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
      return mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
    };
    const pieces = ["0", "1", "2", "9", "-", " ", "٣", "/"];
    let state = 3;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const inputs = ["2024-02-29", "2023-02-29", "0000-02-29", "1900-02-29", " 2024-12-31 "];
    for (let i = 0; i < 50_000; i++) {
      let text = `${1000 + Math.floor(random() * 9000)}-${String(Math.floor(random() * 14)).padStart(2, "0")}-${String(Math.floor(random() * 33)).padStart(2, "0")}`;
      if (random() < 0.3) {
        const at = Math.floor(random() * text.length);
        text =
          text.slice(0, at) + pieces[Math.floor(random() * pieces.length)]! + text.slice(at + 1);
      }
      inputs.push(text);
    }
    for (const input of inputs) {
      expect(coerceAttributeValue(definition, input).ok, input).toBe(byDate(input));
    }
  });
});

describe("attribute definitions", () => {
  it("creates with a valid key, label, type and options; audited", () => {
    const plan = createAttributeDefinition(ctx, {
      key: "plan_tier",
      label: " Plan  tier ",
      type: "choice",
      options: ["Free", " Pro ", "", "Enterprise"],
    });
    expect(plan).toMatchObject({
      key: "plan_tier",
      label: "Plan tier",
      type: "choice",
      options: ["Free", "Pro", "Enterprise"],
    });
    createAttributeDefinition(ctx, { key: "city", label: "City", type: "text" });
    expect(listAttributeDefinitions(ctx).map((d) => d.key)).toEqual(["city", "plan_tier"]);
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.workspaceId, ctx.workspaceId),
          eq(auditLog.action, "contact_attribute.created"),
        ),
      )
      .all();
    expect(audit.map((a) => a.targetId).sort()).toEqual(["city", "plan_tier"]);
  });

  it.each([
    ["City", /lower-case/],
    ["1city", /lower-case/],
    ["a".repeat(41), /lower-case/],
    ["with-dash", /lower-case/],
    ["email", /built-in/],
  ])("refuses the key %j", (key, message) => {
    const error = thrown(() => createAttributeDefinition(ctx, { key, label: "X", type: "text" }));
    expect((error as ValidationError).fieldErrors.key?.[0]).toMatch(message);
  });

  it("refuses duplicates, unknown types, and choices without options", () => {
    const dup = thrown(() =>
      createAttributeDefinition(ctx, { key: "city", label: "C", type: "text" }),
    );
    expect((dup as ValidationError).fieldErrors.key?.[0]).toMatch(/already/);
    const type = thrown(() =>
      createAttributeDefinition(ctx, { key: "t", label: "T", type: "json" }),
    );
    expect((type as ValidationError).fieldErrors.type).toBeDefined();
    const noOptions = thrown(() =>
      createAttributeDefinition(ctx, { key: "size", label: "Size", type: "choice", options: [] }),
    );
    expect((noOptions as ValidationError).fieldErrors.options?.[0]).toMatch(/allowed values/);
    const twice = thrown(() =>
      createAttributeDefinition(ctx, {
        key: "size",
        label: "Size",
        type: "choice",
        options: ["S", "s"],
      }),
    );
    expect((twice as ValidationError).fieldErrors.options?.[0]).toMatch(/twice/);
  });

  it("updates label and options but not the type", () => {
    const updated = updateAttributeDefinition(ctx, "plan_tier", {
      label: "Plan",
      options: ["Free", "Pro", "Enterprise", "Team"],
    });
    expect(updated).toMatchObject({ label: "Plan", type: "choice" });
    expect(updated.options).toContain("Team");
    expect(thrown(() => updateAttributeDefinition(ctx, "nope", { label: "x" }))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it("every contact write is validated against the current definitions", () => {
    const c = createContact(ctx, {
      email: "typed@example.com",
      attributes: { plan_tier: "team", city: "Goa" },
    });
    expect(c.attributes).toEqual({ plan_tier: "Team", city: "Goa" });
    const error = thrown(() => updateContact(ctx, c.id, { attributes: { plan_tier: "Gold" } }));
    expect((error as ValidationError).fieldErrors["attributes.plan_tier"]).toBeDefined();
    expect(
      thrown(() =>
        createContact(ctx, { email: "other@example.com", attributes: { undefined_key: "1" } }),
      ),
    ).toBeInstanceOf(ValidationError);
  });

  it("deleting a definition removes its values from every contact, in one step", () => {
    const c = createContact(ctx, {
      email: "values@example.com",
      attributes: { city: "Kochi", plan_tier: "Pro" },
    });
    expect(deleteAttributeDefinition(ctx, "city")).toEqual({ valuesCleared: 2 });
    expect(getContact(ctx, c.id).attributes).toEqual({ plan_tier: "Pro" });
    expect(listAttributeDefinitions(ctx).map((d) => d.key)).toEqual(["plan_tier"]);
    // A new "city" of another type starts clean.
    createAttributeDefinition(ctx, { key: "city", label: "City code", type: "number" });
    expect(getContact(ctx, c.id).attributes).toEqual({ plan_tier: "Pro" });
    expect(thrown(() => deleteAttributeDefinition(ctx, "gone"))).toBeInstanceOf(NotFoundError);
  });
});
