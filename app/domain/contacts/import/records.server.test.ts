import { describe, expect, test } from "vitest";
import { csvLine, stripFormulaGuard } from "~/lib/csv";
import type { AttributeDefinition } from "../attributes.server";
import { normaliseContactInput, normalisePhoneValue } from "../contact-values.server";
import type { ImportField } from "./csv-format.server";
import {
  compileRowPlan,
  normaliseImportRow,
  type RowError,
  type RowPlan,
  type RowResult,
} from "./records.server";

/**
 * normaliseImportRow is normaliseContactInput unrolled for speed. The reference below is the
 * straightforward version (a row to normaliseContactInput's input, its result back to a row);
 * both must agree on every row, values and reasons alike. On top of the contact form, an import
 * keeps a row whose only problem is an unusable email beside a usable phone (or the reverse):
 * the reference asks the form again without that value and reports it as a warning.
 */
function reference(cells: readonly string[], plan: RowPlan): RowResult {
  const whole = referenceWhole(cells, plan);
  if (whole.kind !== "error") return whole;
  const fields = new Set(
    whole.errors.map((e) =>
      e.column === plan.columnOf.get("email")
        ? "email"
        : e.column === plan.columnOf.get("phone")
          ? "phone"
          : "other",
    ),
  );
  if (fields.size !== 1 || fields.has("other")) return whole;
  const without = [...cells];
  without[fields.has("email") ? plan.email : plan.phone] = "";
  const kept = referenceWhole(without, plan);
  return kept.kind === "row" ? { ...kept, warnings: whole.errors } : whole;
}

function referenceWhole(cells: readonly string[], plan: RowPlan): RowResult {
  const cell = (index: number) => (index >= 0 ? stripFormulaGuard(cells[index] ?? "") : "");
  if (cells.every((c) => c.trim() === "")) return { kind: "blank" };
  for (let i = plan.headers.length; i < cells.length; i++) {
    if (cells[i]!.trim() !== "") {
      return {
        kind: "error",
        errors: [
          {
            column: `Column ${i + 1}`,
            reason: `This row has ${cells.length} values but the header names ${plan.headers.length} columns. A value probably contains the delimiter without quotes around it.`,
          },
        ],
      };
    }
  }
  const rawEmail = cell(plan.email);
  const rawPhone = cell(plan.phone);
  if (rawEmail.trim() === "" && rawPhone.trim() === "") {
    const columns = [plan.columnOf.get("email"), plan.columnOf.get("phone")].filter(Boolean);
    return {
      kind: "error",
      errors: [
        {
          column: columns.join(" / "),
          reason: "The row has neither an email address nor a phone number.",
        },
      ],
    };
  }
  let phone = rawPhone;
  const trimmed = rawPhone.trim();
  if (trimmed.length <= 40 && /^[+\d\s().-]+$/.test(trimmed)) {
    const digits = trimmed.replace(/[\s().-]/g, "");
    if (digits) phone = digits;
  }
  let name: string;
  if (plan.name >= 0) name = cell(plan.name);
  else {
    const first = cell(plan.firstName).trim();
    const last = cell(plan.lastName).trim();
    name = first && last ? `${first} ${last}` : first || last;
  }
  let attributes: Record<string, string> | null = null;
  if (plan.attributes.length) {
    attributes = {};
    for (const a of plan.attributes) attributes[a.key] = cell(a.index);
  }
  const result = normaliseContactInput({ email: rawEmail, phone, name, attributes }, plan.options);
  if (!result.ok) {
    const errors: RowError[] = [];
    for (const [field, reasons] of Object.entries(result.errors)) {
      let reason = reasons[0] ?? "This value is not valid.";
      if (field === "phone" && phone !== rawPhone) {
        const original = normalisePhoneValue(rawPhone, plan.options.defaultCountry);
        if (!original.ok) reason = original.reason;
      }
      errors.push({ column: plan.columnOf.get(field) ?? field, reason });
    }
    return { kind: "error", errors };
  }
  const stored: Record<string, unknown> = {};
  let any = false;
  for (const [key, v] of Object.entries(result.value.attributes)) {
    if (v !== null && v !== undefined) {
      stored[key] = v;
      any = true;
    }
  }
  const v = result.value;
  return {
    kind: "row",
    row: {
      email: v.email,
      phone: v.phone,
      country: v.country,
      name: v.name,
      nameKey: v.nameKey,
      attributes: any ? JSON.stringify(stored) : null,
      tags: null,
    },
    warnings: null,
  };
}

let state = 2024;
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

const definition = (d: Partial<AttributeDefinition> & Pick<AttributeDefinition, "key" | "type">) =>
  ({
    id: 1,
    label: d.key.toUpperCase(),
    options: [],
    createdAt: new Date(0),
    ...d,
  }) as AttributeDefinition;

const DEFINITIONS: AttributeDefinition[] = [
  definition({ key: "city", type: "text" }),
  definition({ key: "plan", type: "choice", options: ["Free", "Gold", "Platinum"] }),
  definition({ key: "signup_date", type: "date" }),
  definition({ key: "score", type: "number" }),
  definition({ key: "vip", type: "boolean" }),
];

const VALUES: Record<string, string[]> = {
  email: [
    "a@example.com",
    "  Priya.S@Gmail.COM ",
    "name@",
    "a@b",
    "",
    "   ",
    "x".repeat(250) + "@e.com",
  ],
  phone: [
    "98765 43210",
    "+91 (987) 654-3210",
    "0091-98765-43210",
    "09876543210",
    "919876543210",
    "+1 (415) 555-2671",
    "+44 7911 123456",
    "12345",
    "--",
    "call me",
    "",
    "  ",
    "+91 98765 43210 ext 12",
    "９８７６５４３２１０",
  ],
  name: [
    "Priya Sharma",
    "  RAHUL   Verma ",
    "अनन्या शर्मा",
    "",
    "Ｆｕｌｌ\u00a0Width",
    "x".repeat(201),
  ],
  first_name: ["Priya", " ", "", "Ｒａｈｕｌ"],
  last_name: ["Sharma", "", "  Nair "],
  "attribute:city": ["Mumbai", "  Pune ", "", "x".repeat(1001)],
  "attribute:plan": ["gold", "GOLD", "Free", "Silver", ""],
  "attribute:signup_date": [
    "2024-02-29",
    "2023-02-29",
    "2024-13-01",
    "yesterday",
    "",
    "0000-02-29",
  ],
  "attribute:score": ["45.6", "1,234.5", "n/a", "-3e2", ""],
  "attribute:vip": ["yes", "No", "1", "maybe", ""],
  "attribute:gone": ["anything", ""],
  ignore: ["whatever", ""],
};

function randomMapping(): ImportField[] {
  const fields: ImportField[] = [];
  if (random() < 0.8) fields.push("email");
  if (random() < 0.8 || fields.length === 0) fields.push("phone");
  const names = random();
  if (names < 0.6) fields.push("name");
  else if (names < 0.9) fields.push("first_name", "last_name");
  else if (names < 0.95) fields.push("last_name");
  for (const key of ["city", "plan", "signup_date", "score", "vip", "gone"]) {
    if (random() < 0.5) fields.push(`attribute:${key}`);
  }
  if (random() < 0.2) fields.push("ignore");
  return fields.sort(() => random() - 0.5);
}

describe("normaliseImportRow", () => {
  test("agrees with normaliseContactInput on generated rows, values and reasons", () => {
    let rows = 0;
    let errors = 0;
    for (let m = 0; m < 200; m++) {
      const mapping = randomMapping();
      const headers = mapping.map((f, i) => `${f} ${i}`);
      const plan = compileRowPlan({
        headers,
        mapping,
        definitions: DEFINITIONS,
        defaultCountry: pick(["IN", "IN", "US", "GB"]),
      });
      for (let r = 0; r < 300; r++) {
        const cells = mapping.map((f) => pick(VALUES[f] ?? [""]));
        const extra = random();
        if (extra < 0.05) cells.push(pick(["", " ", "spill"]));
        if (extra > 0.97) cells.length = Math.floor(random() * cells.length);
        const expected = reference(cells, plan);
        expect(normaliseImportRow(cells, plan), JSON.stringify({ mapping, cells })).toEqual(
          expected,
        );
        rows++;
        if (expected.kind === "error") errors++;
      }
    }
    expect(rows).toBe(60_000);
    // Both kinds were exercised.
    expect(errors).toBeGreaterThan(10_000);
    expect(rows - errors).toBeGreaterThan(3_000);
    // 60,000 rows through both versions: well past the default timeout on a busy machine.
  }, 120_000);
});

describe("rows with one unusable address", () => {
  const plan = compileRowPlan({
    headers: ["Name", "Email", "Phone"],
    mapping: ["name", "email", "phone"],
    definitions: DEFINITIONS,
    defaultCountry: "IN",
  });

  test("a usable phone keeps the row; the email is left out with a warning", () => {
    expect(normaliseImportRow(["Asha", "asha@", "98765 43210"], plan)).toEqual({
      kind: "row",
      row: expect.objectContaining({ name: "Asha", email: null, phone: "+919876543210" }),
      warnings: [{ column: "Email", reason: expect.stringContaining("valid email") }],
    });
  });

  test("a usable email keeps the row; the phone is left out with a warning", () => {
    expect(normaliseImportRow(["Ravi", "ravi@example.in", "12345"], plan)).toEqual({
      kind: "row",
      row: expect.objectContaining({ email: "ravi@example.in", phone: null, country: null }),
      warnings: [{ column: "Phone", reason: expect.any(String) }],
    });
  });

  test("neither usable, or only one given and that one unusable: the row is rejected", () => {
    expect(normaliseImportRow(["A", "a@", "12345"], plan).kind).toBe("error");
    expect(normaliseImportRow(["A", "a@", ""], plan).kind).toBe("error");
    expect(normaliseImportRow(["A", "", "12345"], plan).kind).toBe("error");
  });

  test("a row with another error is rejected whole, with every reason", () => {
    const result = normaliseImportRow(["x".repeat(201), "a@", "98765 43210"], plan);
    expect(result.kind).toBe("error");
    expect(result.kind === "error" && result.errors.map((e) => e.column)).toEqual([
      "Name",
      "Email",
    ]);
  });
});

describe("our own export read back", () => {
  test("the apostrophe the export put before = + - @ is removed, nothing else", () => {
    const plan = compileRowPlan({
      headers: ["name", "email", "phone", "city"],
      mapping: ["name", "email", "phone", "attribute:city"],
      definitions: DEFINITIONS,
      defaultCountry: "IN",
    });
    // What the export writes for these values, read back as cells (no quoting needed here).
    const line = csvLine(["=Asha", "asha@example.in", "+919876543210", "'twas Pune"]);
    const cells = line.trimEnd().split(",");
    expect(cells).toEqual(["'=Asha", "asha@example.in", "'+919876543210", "'twas Pune"]);
    expect(normaliseImportRow(cells, plan)).toEqual({
      kind: "row",
      row: expect.objectContaining({
        name: "=Asha",
        phone: "+919876543210",
        attributes: JSON.stringify({ city: "'twas Pune" }),
      }),
      warnings: null,
    });
  });

  test("stripFormulaGuard only strips before a formula start", () => {
    expect(stripFormulaGuard("'=1+1")).toBe("=1+1");
    expect(stripFormulaGuard("'-5")).toBe("-5");
    expect(stripFormulaGuard("'@x")).toBe("@x");
    expect(stripFormulaGuard("'\tx")).toBe("\tx");
    expect(stripFormulaGuard("'hello")).toBe("'hello");
    expect(stripFormulaGuard("'")).toBe("'");
    expect(stripFormulaGuard("''=x")).toBe("''=x");
    expect(stripFormulaGuard("=x")).toBe("=x");
  });
});

describe("a column of tags", () => {
  test("split on ; or , tidied, each name once; a name too long is left out with a warning", () => {
    const plan = compileRowPlan({
      headers: ["Phone", "Tags"],
      mapping: ["phone", "tags"],
      definitions: DEFINITIONS,
      defaultCountry: "IN",
    });
    expect(normaliseImportRow(["98765 43210", " vip;  Morning   crowd, VIP ;;"], plan)).toEqual({
      kind: "row",
      row: expect.objectContaining({ tags: "vip\nMorning crowd" }),
      warnings: null,
    });
    expect(normaliseImportRow(["98765 43210", ""], plan)).toMatchObject({ row: { tags: null } });
    const long = "x".repeat(61);
    expect(normaliseImportRow(["98765 43210", `ok;${long}`], plan)).toEqual({
      kind: "row",
      row: expect.objectContaining({ tags: "ok" }),
      warnings: [{ column: "Tags", reason: expect.stringContaining("longer than 60") }],
    });
  });
});
