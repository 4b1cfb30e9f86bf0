import { describe, expect, it } from "vitest";
import {
  applyIntent,
  blankCondition,
  definitionFromDraft,
  describeDefinition,
  draftFromDefinition,
  draftFromForm,
  draftToEntries,
  normaliseDraft,
  operatorsForField,
  parseIntent,
  type DraftGroup,
} from "./segment-draft";
import {
  ATTRIBUTE_OPERATORS,
  checkAgainstCatalog,
  emptyDefinition,
  MAX_CONDITIONS,
  nodeIdForPath,
  parseDefinition,
  parseDefinitionJson,
  type SegmentCatalog,
  type SegmentDefinition,
} from "./segment-definition";

const catalog: SegmentCatalog = {
  attributes: [
    { key: "city", label: "City", type: "text", options: [] },
    { key: "age", label: "Age", type: "number", options: [] },
    { key: "renewal", label: "Renewal", type: "date", options: [] },
    { key: "vip", label: "VIP", type: "boolean", options: [] },
    { key: "plan", label: "Plan", type: "choice", options: ["Free", "Pro"] },
  ],
  tags: [{ id: 3, name: "Diwali 2025" }],
  lists: [{ id: 7, name: "Newsletter" }],
};

function def(conditions: unknown[], op = "and"): unknown {
  return { version: 1, op, conditions };
}

function ok(input: unknown): SegmentDefinition {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new Error(`expected valid: ${parsed.message}`);
  return parsed.definition;
}

function errorsOf(input: unknown): Record<string, string[]> {
  const parsed = parseDefinition(input);
  if (parsed.ok) throw new Error("expected invalid");
  return parsed.errors;
}

describe("definition schema", () => {
  it("accepts every kind of condition", () => {
    const d = ok(
      def([
        { type: "attribute", key: "city", op: "equals", value: "Mumbai" },
        { type: "attribute", key: "age", op: "gte", value: 18 },
        { type: "attribute", key: "renewal", op: "within_days", days: 30 },
        { type: "attribute", key: "vip", op: "is_true" },
        { type: "field", field: "email", op: "is_set" },
        { type: "tag", op: "has_not", tagId: 3 },
        { type: "list", op: "in", listId: 7 },
        { type: "consent", channel: "whatsapp", op: "none" },
        { type: "created", op: "before", date: "2026-01-31" },
        { type: "created", op: "within_days", days: 7 },
        { type: "country", op: "is_not", country: "IN" },
        { type: "engagement", event: "clicked", op: "within_days", days: 14, channel: "email" },
        { type: "group", op: "or", conditions: [] },
      ]),
    );
    expect(d.conditions).toHaveLength(13);
    expect(d.version).toBe(1);
  });

  it("defaults the version and the empty definition matches everyone", () => {
    expect(ok({ op: "or", conditions: [] }).version).toBe(1);
    expect(emptyDefinition()).toEqual({ version: 1, op: "and", conditions: [] });
  });

  it("refuses unknown kinds, operators and extra keys with a message on the node", () => {
    expect(errorsOf(def([{ type: "wizardry" }]))["r-0"]).toEqual([
      "Choose what this condition filters on.",
    ]);
    expect(errorsOf(def([{ type: "tag", op: "likes", tagId: 1 }]))["r-0"]).toEqual([
      "Choose a comparison from the list.",
    ]);
    expect(errorsOf(def([{ type: "tag", op: "has", tagId: 1, sql: "1=1" }]))["r-0"]![0]).toMatch(
      /sql/,
    );
    expect(errorsOf(def([{ type: "consent", channel: "fax", op: "granted" }]))["r-0"]).toEqual([
      "Choose a channel from the list.",
    ]);
    expect(errorsOf(def([{ type: "country", op: "is", country: "india" }]))["r-0"]).toEqual([
      "Choose a country from the list.",
    ]);
  });

  it("requires values, days and dates where the operator needs them", () => {
    expect(errorsOf(def([{ type: "attribute", key: "city", op: "equals" }]))["r-0"]).toEqual([
      "Enter a value to compare with.",
    ]);
    expect(
      errorsOf(def([{ type: "attribute", key: "city", op: "contains", value: "  " }]))["r-0"],
    ).toEqual(["Enter a value to compare with."]);
    expect(errorsOf(def([{ type: "created", op: "after" }]))["r-0"]).toEqual([
      "Enter a date as YYYY-MM-DD.",
    ]);
    expect(errorsOf(def([{ type: "created", op: "after", date: "2026-02-30" }]))["r-0"]).toEqual([
      "Enter a date as YYYY-MM-DD, for example 2026-06-01.",
    ]);
    expect(
      errorsOf(def([{ type: "engagement", event: "opened", op: "within_days", days: 0 }]))["r-0"],
    ).toEqual(["Enter at least 1 day."]);
    expect(
      errorsOf(def([{ type: "engagement", event: "opened", op: "within_days", days: 1.5 }]))["r-0"],
    ).toEqual(["Enter a whole number of days."]);
  });

  it("nests groups three levels deep and no deeper", () => {
    const three = def([
      { type: "group", op: "or", conditions: [{ type: "group", op: "and", conditions: [] }] },
    ]);
    expect(ok(three).conditions).toHaveLength(1);
    const four = def([
      {
        type: "group",
        op: "or",
        conditions: [
          { type: "group", op: "and", conditions: [{ type: "group", op: "or", conditions: [] }] },
        ],
      },
    ]);
    expect(errorsOf(four).r).toEqual(["Groups can be nested at most 3 levels deep."]);
  });

  it("refuses absurdly deep or large input without throwing", () => {
    let deep: unknown = { type: "group", op: "and", conditions: [] };
    for (let i = 0; i < 5000; i++) deep = { type: "group", op: "and", conditions: [deep] };
    expect(errorsOf(def([deep])).r).toEqual(["Groups can be nested at most 3 levels deep."]);
    const many = Array.from({ length: MAX_CONDITIONS + 1 }, () => ({
      type: "field",
      field: "email",
      op: "is_set",
    }));
    expect(parseDefinition(def(many)).ok).toBe(false);
    const split = def([
      { type: "group", op: "and", conditions: many.slice(0, 30) },
      { type: "group", op: "and", conditions: many.slice(30) },
    ]);
    expect(errorsOf(split).r).toEqual([`A segment can have at most ${MAX_CONDITIONS} conditions.`]);
  });

  it("reads stored JSON, and bad JSON is a message rather than an exception", () => {
    expect(parseDefinitionJson('{"op":"and","conditions":[]}').ok).toBe(true);
    const bad = parseDefinitionJson("{nope");
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toBe("The segment definition is not valid JSON.");
  });

  it("maps issue paths to node ids", () => {
    expect(nodeIdForPath([])).toBe("r");
    expect(nodeIdForPath(["conditions", 2, "value"])).toBe("r-2");
    expect(nodeIdForPath(["conditions", 1, "conditions", 0, "days"])).toBe("r-1-0");
  });
});

describe("checks against the workspace", () => {
  it("refuses an unknown attribute by name", () => {
    const d = ok(def([{ type: "attribute", key: "shoe_size", op: "is_set" }]));
    const checked = checkAgainstCatalog(d, catalog);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.errors["r-0"]).toEqual([
        "There is no attribute “shoe_size” in this workspace.",
      ]);
    }
  });

  it("refuses an operator the attribute's type doesn't have, naming the ones it has", () => {
    const d = ok(def([{ type: "attribute", key: "age", op: "contains", value: "4" }]));
    const checked = checkAgainstCatalog(d, catalog);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.errors["r-0"]![0]).toMatch(
        /^“Age” is a number attribute: compare it with “=”/,
      );
    }
  });

  it("refuses values of the wrong type and normalises the right ones", () => {
    const wrong = checkAgainstCatalog(
      ok(
        def([
          { type: "attribute", key: "age", op: "gt", value: "forty" },
          { type: "attribute", key: "renewal", op: "before", value: "31/01/2026" },
          { type: "attribute", key: "plan", op: "is", value: "Gold" },
        ]),
      ),
      catalog,
    );
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) {
      expect(wrong.errors["r-0"]).toEqual(["“Age” is a number attribute: enter a number."]);
      expect(wrong.errors["r-1"]).toEqual([
        "“Renewal” is a date attribute: enter a date as YYYY-MM-DD.",
      ]);
      expect(wrong.errors["r-2"]).toEqual([
        "“Gold” is not one of the choices for “Plan”: Free, Pro.",
      ]);
    }
    const right = checkAgainstCatalog(
      ok(
        def([
          { type: "attribute", key: "age", op: "gt", value: " 40 " },
          { type: "attribute", key: "plan", op: "is", value: "pro" },
          { type: "attribute", key: "city", op: "equals", value: " Mumbai " },
        ]),
      ),
      catalog,
    );
    expect(right.ok).toBe(true);
    if (right.ok) {
      expect(right.definition.conditions).toEqual([
        { type: "attribute", key: "age", op: "gt", value: 40 },
        { type: "attribute", key: "plan", op: "is", value: "Pro" },
        { type: "attribute", key: "city", op: "equals", value: "Mumbai" },
      ]);
    }
  });

  it("refuses tags and lists that no longer exist", () => {
    const checked = checkAgainstCatalog(
      ok(
        def([
          { type: "tag", op: "has", tagId: 99 },
          { type: "group", op: "or", conditions: [{ type: "list", op: "in", listId: 98 }] },
        ]),
      ),
      catalog,
    );
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.errors["r-0"]).toEqual(["That tag no longer exists."]);
      expect(checked.errors["r-1-0"]).toEqual(["That list no longer exists."]);
    }
  });

  it("offers each attribute type its own operators", () => {
    expect(operatorsForField("attribute:city", catalog)).toEqual(ATTRIBUTE_OPERATORS.text);
    expect(operatorsForField("attribute:age", catalog)).toContain("lte");
    expect(operatorsForField("attribute:vip", catalog)).toEqual([
      "is_true",
      "is_false",
      "is_set",
      "not_set",
    ]);
    expect(operatorsForField("attribute:plan", catalog)).toContain("is_not");
    expect(operatorsForField("attribute:nope", catalog)).toEqual([]);
    expect(operatorsForField("consent", catalog)).toEqual(["granted", "withdrawn", "none"]);
  });
});

describe("drafts: the builder form without JavaScript", () => {
  const definition = ok(
    def([
      { type: "consent", channel: "whatsapp", op: "granted" },
      {
        type: "group",
        op: "or",
        conditions: [
          { type: "attribute", key: "city", op: "equals", value: "Mumbai" },
          { type: "tag", op: "has", tagId: 3 },
        ],
      },
      { type: "engagement", event: "replied", op: "not_within_days", days: 90 },
    ]),
  );

  it("round-trips a definition through form fields", () => {
    const entries = draftToEntries(draftFromDefinition(definition));
    expect(entries).toContainEqual(["r.op", "and"]);
    expect(entries).toContainEqual(["r-1.field", "group"]);
    expect(entries).toContainEqual(["r-1-0.field", "attribute:city"]);
    expect(entries).toContainEqual(["r-1-0.value", "Mumbai"]);
    const back = definitionFromDraft(draftFromForm(entries), catalog);
    expect(back).toEqual({ ok: true, definition });
  });

  it("orders nodes by index, closes gaps and ignores stray fields", () => {
    const form = new URLSearchParams([
      ["r.op", "or"],
      ["r-5.field", "email"],
      ["r-5.op", "is_set"],
      ["r-2.field", "phone"],
      ["r-2.op", "not_set"],
      ["r-2.bogus", "x"],
      ["x-1.field", "name"],
      ["intent", "update"],
      ["name", "My segment"],
    ]);
    const parsed = definitionFromDraft(draftFromForm(form), catalog);
    expect(parsed).toEqual({
      ok: true,
      definition: {
        version: 1,
        op: "or",
        conditions: [
          { type: "field", field: "phone", op: "not_set" },
          { type: "field", field: "email", op: "is_set" },
        ],
      },
    });
  });

  it("reports problems per node", () => {
    const form = new URLSearchParams([
      ["r.op", "and"],
      ["r-0.field", "attribute:age"],
      ["r-0.op", "gt"],
      ["r-0.value", "lots"],
      ["r-1.field", "created"],
      ["r-1.op", "within_days"],
      ["r-1.days", "-3"],
    ]);
    const parsed = definitionFromDraft(draftFromForm(form), catalog);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.errors["r-1"]).toEqual(["Enter a number of days."]);
    }
    // Shape first, then the workspace: once days is fixed the attribute problem shows.
    form.set("r-1.days", "3");
    const again = definitionFromDraft(draftFromForm(form), catalog);
    expect(again.ok).toBe(false);
    if (!again.ok)
      expect(again.errors["r-0"]).toEqual(["“Age” is a number attribute: enter a number."]);
  });

  it("gives a changed field a valid operator", () => {
    const draft: DraftGroup = {
      kind: "group",
      op: "and",
      children: [blankCondition({ field: "tag", op: "granted", tag: "" })],
    };
    const normalised = normaliseDraft(draft, catalog);
    expect(normalised.children[0]).toMatchObject({ field: "tag", op: "has", tag: "3" });
  });

  it("adds conditions and groups, removes nodes, and keeps the limits", () => {
    let draft = draftFromDefinition(definition);
    const added = applyIntent(draft, { type: "add-condition", group: "r-1" });
    expect("draft" in added).toBe(true);
    if ("draft" in added) {
      const group = added.draft.children[1];
      expect(group?.kind === "group" && group.children.length).toBe(3);
      draft = added.draft;
    }
    const grouped = applyIntent(draft, { type: "add-group", group: "r-1" });
    expect("draft" in grouped).toBe(true);
    if ("draft" in grouped) draft = grouped.draft;
    expect(applyIntent(draft, { type: "add-group", group: "r-1-3" })).toEqual({
      error: "Groups can be nested at most 3 levels deep.",
    });
    const removed = applyIntent(draft, { type: "remove", node: "r-0" });
    expect("draft" in removed && removed.draft.children).toHaveLength(2);
    expect(applyIntent(draft, { type: "remove", node: "r" })).toEqual({
      error: "The top group can't be removed.",
    });
    expect(applyIntent(draft, { type: "remove", node: "r-9" })).toHaveProperty("error");
    expect(applyIntent(draft, { type: "add-condition", group: "r-0" })).toHaveProperty("error");
  });

  it("parses builder intents and nothing else", () => {
    expect(parseIntent("add-condition:r")).toEqual({ type: "add-condition", group: "r" });
    expect(parseIntent("add-group:r-1")).toEqual({ type: "add-group", group: "r-1" });
    expect(parseIntent("remove:r-1-2")).toEqual({ type: "remove", node: "r-1-2" });
    expect(parseIntent("update")).toEqual({ type: "update" });
    expect(parseIntent("remove:../etc")).toBeNull();
    expect(parseIntent("drop table")).toBeNull();
  });

  it("describes a definition in words", () => {
    expect(describeDefinition(definition, catalog)).toBe(
      "WhatsApp consent granted and (City equals “Mumbai” or Has tag “Diwali 2025”) and Has not replied to a message in the last 90 days",
    );
    expect(describeDefinition(emptyDefinition(), catalog)).toBe("All contacts");
  });
});
