/**
 * Segment definitions: the filter tree a segment is made of, shared by the server (which
 * compiles it to SQL in segments.server.ts) and the builder page (which renders and edits it).
 * Pure: no server imports, no database; safe in the browser bundle.
 *
 * A definition is a root group { op: "and" | "or", conditions } whose conditions are
 * conditions or nested groups, at most MAX_DEPTH groups deep (the root counts as one).
 *
 * The builder works without JavaScript, so every form post carries the whole tree as
 * structured field names: the root is node "r", child i of node p is "p-i" (r-0, r-1-2, ...),
 * and each node's fields are "<node>.<field>" (r.op, r-0.field, r-0.op, r-0.value, ...).
 * A draft is that tree as typed by the person (all strings); definitionFromDraft turns it into
 * a definition, with messages per node for anything wrong.
 */
import { z } from "zod";
import { ATTRIBUTE_TYPES, type AttributeType } from "~/lib/attribute-types";
import { CHANNELS, CHANNEL_LABELS, type Channel } from "~/lib/channels";

export const DEFINITION_VERSION = 1;
/** Groups nest at most this deep, the root group included. */
export const MAX_DEPTH = 3;
/** Conditions in one segment, all groups together. */
export const MAX_CONDITIONS = 50;
export const MAX_DAYS = 36_500;
export const MAX_VALUE_LENGTH = 500;

export { ATTRIBUTE_TYPES, type AttributeType };

// ---------------------------------------------------------------------------------------------
// Operators

export const ATTRIBUTE_OPERATORS = {
  text: ["equals", "contains", "starts_with", "is_set", "not_set"],
  number: ["eq", "ne", "lt", "lte", "gt", "gte", "is_set", "not_set"],
  date: ["before", "after", "within_days", "is_set", "not_set"],
  boolean: ["is_true", "is_false", "is_set", "not_set"],
  choice: ["is", "is_not", "is_set", "not_set"],
} as const satisfies Record<AttributeType, readonly string[]>;

export const ATTRIBUTE_OPS = [
  "equals",
  "contains",
  "starts_with",
  "eq",
  "ne",
  "lt",
  "lte",
  "gt",
  "gte",
  "before",
  "after",
  "within_days",
  "is_true",
  "is_false",
  "is",
  "is_not",
  "is_set",
  "not_set",
] as const;
export type AttributeOp = (typeof ATTRIBUTE_OPS)[number];

/** Attribute operators that compare with a value. */
const VALUE_OPS: readonly AttributeOp[] = [
  "equals",
  "contains",
  "starts_with",
  "eq",
  "ne",
  "lt",
  "lte",
  "gt",
  "gte",
  "before",
  "after",
  "is",
  "is_not",
];

export const CONTACT_FIELDS = ["email", "phone", "name"] as const;
export const ENGAGEMENT_EVENTS = ["received", "opened", "clicked", "replied"] as const;
export type EngagementEvent = (typeof ENGAGEMENT_EVENTS)[number];

/** The contact_events types each engagement condition looks for (written by delivery). */
export const ENGAGEMENT_EVENT_TYPES: Record<EngagementEvent, readonly string[]> = {
  received: ["message.delivered", "message.sent"],
  opened: ["message.opened"],
  clicked: ["message.clicked"],
  replied: ["message.replied"],
};

export const OPERATOR_LABELS: Record<string, string> = {
  equals: "equals",
  contains: "contains",
  starts_with: "starts with",
  eq: "=",
  ne: "≠",
  lt: "<",
  lte: "≤",
  gt: ">",
  gte: "≥",
  before: "is before",
  after: "is after",
  within_days: "is in the last N days",
  is_true: "is true",
  is_false: "is false",
  is: "is",
  is_not: "is not",
  is_set: "has a value",
  not_set: "has no value",
  has: "has",
  has_not: "does not have",
  in: "is in",
  not_in: "is not in",
  granted: "granted",
  withdrawn: "withdrawn",
  none: "never given",
  not_within_days: "not in the last N days",
};

// ---------------------------------------------------------------------------------------------
// Schema

const Days = z
  .number({ error: "Enter a number of days." })
  .int("Enter a whole number of days.")
  .min(1, "Enter at least 1 day.")
  .max(MAX_DAYS, `Enter at most ${MAX_DAYS} days.`);

export function isCalendarDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return (
    y >= 1900 &&
    y <= 9999 &&
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d
  );
}

const Day = z
  .string({ error: "Enter a date as YYYY-MM-DD." })
  .refine(isCalendarDay, "Enter a date as YYYY-MM-DD, for example 2026-06-01.");

const Id = z
  .number({ error: "Choose one from the list." })
  .int("Choose one from the list.")
  .positive("Choose one from the list.");

/**
 * Attribute keys as the attributes page allows them (lower-case letters, digits, underscores).
 * They go into a JSON path, which is bound as a parameter and quoted anyway.
 */
export const AttributeKey = z
  .string({ error: "Choose an attribute." })
  .min(1, "Choose an attribute.")
  .regex(/^[a-z][a-z0-9_]{0,39}$/, "That is not an attribute of this workspace.");

const Channel = z.enum(CHANNELS, { error: "Choose a channel from the list." });

export const AttributeCondition = z
  .object({
    type: z.literal("attribute"),
    key: AttributeKey,
    op: z.enum(ATTRIBUTE_OPS, { error: "Choose a comparison from the list." }),
    value: z
      .union([z.string().max(MAX_VALUE_LENGTH, "Use at most 500 characters."), z.number()])
      .optional(),
    days: Days.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (VALUE_OPS.includes(c.op)) {
      if (c.value === undefined || (typeof c.value === "string" && c.value.trim() === "")) {
        ctx.addIssue({
          code: "custom",
          path: ["value"],
          message: "Enter a value to compare with.",
        });
      } else if (typeof c.value === "number" && !Number.isFinite(c.value)) {
        ctx.addIssue({ code: "custom", path: ["value"], message: "Enter a number." });
      }
    }
    if (c.op === "within_days" && c.days === undefined) {
      ctx.addIssue({ code: "custom", path: ["days"], message: "Enter a number of days." });
    }
  });

export const FieldCondition = z
  .object({
    type: z.literal("field"),
    field: z.enum(CONTACT_FIELDS, { error: "Choose email, phone or name." }),
    op: z.enum(["is_set", "not_set"], { error: "Choose a comparison from the list." }),
  })
  .strict();

export const TagCondition = z
  .object({
    type: z.literal("tag"),
    op: z.enum(["has", "has_not"], { error: "Choose a comparison from the list." }),
    tagId: Id,
  })
  .strict();

export const ListCondition = z
  .object({
    type: z.literal("list"),
    op: z.enum(["in", "not_in"], { error: "Choose a comparison from the list." }),
    listId: Id,
  })
  .strict();

export const ConsentCondition = z
  .object({
    type: z.literal("consent"),
    channel: Channel,
    op: z.enum(["granted", "withdrawn", "none"], { error: "Choose a consent status." }),
  })
  .strict();

export const CreatedCondition = z
  .object({
    type: z.literal("created"),
    op: z.enum(["within_days", "before", "after"], { error: "Choose a comparison." }),
    days: Days.optional(),
    date: Day.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.op === "within_days" && c.days === undefined) {
      ctx.addIssue({ code: "custom", path: ["days"], message: "Enter a number of days." });
    }
    if (c.op !== "within_days" && c.date === undefined) {
      ctx.addIssue({ code: "custom", path: ["date"], message: "Enter a date as YYYY-MM-DD." });
    }
  });

export const CountryCondition = z
  .object({
    type: z.literal("country"),
    op: z.enum(["is", "is_not"], { error: "Choose a comparison." }),
    country: z
      .string({ error: "Choose a country." })
      .regex(/^[A-Z]{2}$/, "Choose a country from the list."),
  })
  .strict();

export const EngagementCondition = z
  .object({
    type: z.literal("engagement"),
    event: z.enum(ENGAGEMENT_EVENTS, { error: "Choose received, opened, clicked or replied." }),
    op: z.enum(["within_days", "not_within_days"], { error: "Choose a comparison." }),
    days: Days,
    channel: Channel.optional(),
  })
  .strict();

export type AttributeConditionT = z.infer<typeof AttributeCondition>;
export type SegmentCondition =
  | AttributeConditionT
  | z.infer<typeof FieldCondition>
  | z.infer<typeof TagCondition>
  | z.infer<typeof ListCondition>
  | z.infer<typeof ConsentCondition>
  | z.infer<typeof CreatedCondition>
  | z.infer<typeof CountryCondition>
  | z.infer<typeof EngagementCondition>;

export interface SegmentGroup {
  type: "group";
  op: "and" | "or";
  conditions: SegmentNode[];
}
export type SegmentNode = SegmentCondition | SegmentGroup;

export interface SegmentDefinition {
  version: typeof DEFINITION_VERSION;
  op: "and" | "or";
  conditions: SegmentNode[];
}

const GroupOp = z.enum(["and", "or"], {
  error: "Choose whether all or any conditions must match.",
});

const Group = z
  .object({
    type: z.literal("group"),
    op: GroupOp,
    conditions: z
      .array(z.lazy((): z.ZodType<SegmentNode> => Node))
      .max(MAX_CONDITIONS, "Too many conditions in one group."),
  })
  .strict();

const Node: z.ZodType<SegmentNode> = z.discriminatedUnion(
  "type",
  [
    AttributeCondition,
    FieldCondition,
    TagCondition,
    ListCondition,
    ConsentCondition,
    CreatedCondition,
    CountryCondition,
    EngagementCondition,
    Group,
  ],
  { error: "Choose what this condition filters on." },
);

function measure(nodes: SegmentNode[], depth: number): { conditions: number; depth: number } {
  let conditions = 0;
  let deepest = depth;
  for (const node of nodes) {
    if (node.type === "group") {
      const inner = measure(node.conditions, depth + 1);
      conditions += inner.conditions;
      deepest = Math.max(deepest, inner.depth);
    } else {
      conditions += 1;
    }
  }
  return { conditions, depth: deepest };
}

export const SegmentDefinitionSchema: z.ZodType<SegmentDefinition> = z
  .object({
    version: z.literal(DEFINITION_VERSION).default(DEFINITION_VERSION),
    op: GroupOp,
    conditions: z.array(Node).max(MAX_CONDITIONS, "Too many conditions in one group."),
  })
  .strict()
  .superRefine((d, ctx) => {
    const size = measure(d.conditions, 1);
    if (size.depth > MAX_DEPTH) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `Groups can be nested at most ${MAX_DEPTH} levels deep.`,
      });
    }
    if (size.conditions > MAX_CONDITIONS) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `A segment can have at most ${MAX_CONDITIONS} conditions.`,
      });
    }
  }) as z.ZodType<SegmentDefinition>;

/** Everyone: the definition of a new segment. */
export function emptyDefinition(): SegmentDefinition {
  return { version: DEFINITION_VERSION, op: "and", conditions: [] };
}

/** Messages by node id ("r", "r-0", "r-1-2"). */
export type NodeErrors = Record<string, string[]>;

function addError(errors: NodeErrors, id: string, message: string): void {
  const list = (errors[id] ??= []);
  if (!list.includes(message)) list.push(message);
}

/** The node id for a zod issue path: ["conditions", 1, "conditions", 0, "value"] -> "r-1-0". */
export function nodeIdForPath(path: readonly PropertyKey[]): string {
  let id = "r";
  for (let i = 0; i < path.length; i++) {
    if (path[i] === "conditions" && typeof path[i + 1] === "number") {
      id += `-${path[i + 1] as number}`;
      i++;
    }
  }
  return id;
}

export type ParseResult =
  { ok: true; definition: SegmentDefinition } | { ok: false; errors: NodeErrors; message: string };

/** How deep a raw value nests, stopping early: a forged tree must not overflow the stack. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  let level: unknown[] = [value];
  while (level.length > 0 && deepest <= limit) {
    deepest += 1;
    const next: unknown[] = [];
    for (const item of level) {
      if (item && typeof item === "object") next.push(...Object.values(item).slice(0, 1000));
    }
    level = next;
  }
  return deepest;
}

/** Validates a definition's shape (not the workspace's attributes, tags and lists). */
export function parseDefinition(input: unknown): ParseResult {
  // Each group adds two levels (the group object and its conditions array).
  if (nestingDepth(input, 4 * MAX_DEPTH + 4) > 4 * MAX_DEPTH + 3) {
    const message = `Groups can be nested at most ${MAX_DEPTH} levels deep.`;
    return { ok: false, errors: { r: [message] }, message };
  }
  const result = SegmentDefinitionSchema.safeParse(input);
  if (result.success) return { ok: true, definition: result.data };
  const errors: NodeErrors = {};
  for (const issue of result.error.issues)
    addError(errors, nodeIdForPath(issue.path), issue.message);
  return { ok: false, errors, message: summarise(errors) };
}

/** Parses stored or posted JSON text; bad JSON is a validation failure, not an exception. */
export function parseDefinitionJson(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      errors: { r: ["The segment definition is not valid JSON."] },
      message: "The segment definition is not valid JSON.",
    };
  }
  return parseDefinition(value);
}

function summarise(errors: NodeErrors): string {
  const all = Object.values(errors).flat();
  if (all.length === 1) return all[0]!;
  return `The segment has ${all.length} problems: ${all.slice(0, 3).join(" ")}${all.length > 3 ? " …" : ""}`;
}

// ---------------------------------------------------------------------------------------------
// Catalog checks: the workspace's attribute definitions, tags and lists

export interface CatalogAttribute {
  key: string;
  label: string;
  type: AttributeType;
  options: string[];
}

export interface SegmentCatalog {
  attributes: CatalogAttribute[];
  tags: { id: number; name: string }[];
  lists: { id: number; name: string }[];
}

function walkConditions(
  nodes: SegmentNode[],
  id: string,
  visit: (condition: SegmentCondition, id: string) => SegmentCondition,
): SegmentNode[] {
  return nodes.map((node, i) => {
    const childId = `${id}-${i}`;
    if (node.type === "group") {
      return { ...node, conditions: walkConditions(node.conditions, childId, visit) };
    }
    return visit(node, childId);
  });
}

/**
 * Checks a (shape-valid) definition against the workspace: attributes must exist and be
 * compared in a way their type allows, with a value of that type; tags and lists must exist.
 * Number values given as text ("42") become numbers. Returns the normalised definition, or
 * messages by node id.
 */
export function checkAgainstCatalog(
  definition: SegmentDefinition,
  catalog: SegmentCatalog,
): ParseResult {
  const errors: NodeErrors = {};
  const attributes = new Map(catalog.attributes.map((a) => [a.key, a]));
  const tagIds = new Set(catalog.tags.map((t) => t.id));
  const listIds = new Set(catalog.lists.map((l) => l.id));

  const conditions = walkConditions(definition.conditions, "r", (condition, id) => {
    switch (condition.type) {
      case "attribute": {
        const attribute = attributes.get(condition.key);
        if (!attribute) {
          addError(errors, id, `There is no attribute “${condition.key}” in this workspace.`);
          return condition;
        }
        const allowed = ATTRIBUTE_OPERATORS[attribute.type] as readonly string[];
        if (!allowed.includes(condition.op)) {
          const labels = allowed.map((op) => `“${OPERATOR_LABELS[op]}”`).join(", ");
          addError(
            errors,
            id,
            `“${attribute.label}” is a ${attribute.type} attribute: compare it with ${labels}.`,
          );
          return condition;
        }
        if (!VALUE_OPS.includes(condition.op)) return { ...condition, value: undefined };
        const raw = condition.value;
        switch (attribute.type) {
          case "number": {
            const text = typeof raw === "number" ? String(raw) : (raw ?? "").trim();
            const value = Number(text);
            if (text === "" || !Number.isFinite(value)) {
              addError(errors, id, `“${attribute.label}” is a number attribute: enter a number.`);
              return condition;
            }
            return { ...condition, value };
          }
          case "date": {
            const text = String(raw ?? "").trim();
            if (!isCalendarDay(text)) {
              addError(
                errors,
                id,
                `“${attribute.label}” is a date attribute: enter a date as YYYY-MM-DD.`,
              );
              return condition;
            }
            return { ...condition, value: text };
          }
          case "choice": {
            const text = String(raw ?? "").trim();
            // Stored values are the canonical option; the comparison is exact.
            const option = attribute.options.find((o) => o.toLowerCase() === text.toLowerCase());
            if (option === undefined) {
              const shown = attribute.options.slice(0, 10).join(", ");
              const more = attribute.options.length > 10 ? ", …" : "";
              addError(
                errors,
                id,
                `“${text}” is not one of the choices for “${attribute.label}”: ${shown}${more}.`,
              );
              return condition;
            }
            return { ...condition, value: option };
          }
          default:
            return { ...condition, value: String(raw ?? "").trim() };
        }
      }
      case "tag":
        if (!tagIds.has(condition.tagId)) addError(errors, id, "That tag no longer exists.");
        return condition;
      case "list":
        if (!listIds.has(condition.listId)) addError(errors, id, "That list no longer exists.");
        return condition;
      default:
        return condition;
    }
  });
  if (Object.keys(errors).length > 0) return { ok: false, errors, message: summarise(errors) };
  return { ok: true, definition: { ...definition, conditions } };
}

// ---------------------------------------------------------------------------------------------
// Drafts: the tree as the builder form carries it

export interface DraftCondition {
  kind: "condition";
  /** "attribute:<key>", "email", "phone", "name", "tag", "list", "consent", "created", "country", "engagement". */
  field: string;
  op: string;
  value: string;
  days: string;
  date: string;
  channel: string;
  tag: string;
  list: string;
  country: string;
  event: string;
}
export interface DraftGroup {
  kind: "group";
  op: string;
  children: DraftNode[];
}
export type DraftNode = DraftCondition | DraftGroup;

const CONDITION_FIELDS = [
  "field",
  "op",
  "value",
  "days",
  "date",
  "channel",
  "tag",
  "list",
  "country",
  "event",
] as const;

export const SIMPLE_FIELDS = [
  "email",
  "phone",
  "name",
  "tag",
  "list",
  "consent",
  "created",
  "country",
  "engagement",
] as const;

export const FIELD_LABELS: Record<(typeof SIMPLE_FIELDS)[number], string> = {
  email: "Email address",
  phone: "Phone number",
  name: "Name",
  tag: "Tag",
  list: "List",
  consent: "Consent",
  created: "Created",
  country: "Country (from phone)",
  engagement: "Engagement",
};

export function blankCondition(overrides: Partial<DraftCondition> = {}): DraftCondition {
  return {
    kind: "condition",
    field: "consent",
    op: "granted",
    value: "",
    days: "30",
    date: "",
    channel: "email",
    tag: "",
    list: "",
    country: "",
    event: "opened",
    ...overrides,
  };
}

export function draftFromDefinition(definition: {
  op: string;
  conditions: SegmentNode[];
}): DraftGroup {
  return {
    kind: "group",
    op: definition.op,
    children: definition.conditions.map((node): DraftNode => {
      if (node.type === "group") return draftFromDefinition(node);
      switch (node.type) {
        case "attribute":
          return blankCondition({
            field: `attribute:${node.key}`,
            op: node.op,
            value: node.value === undefined ? "" : String(node.value),
            days: node.days === undefined ? "30" : String(node.days),
          });
        case "field":
          return blankCondition({ field: node.field, op: node.op });
        case "tag":
          return blankCondition({ field: "tag", op: node.op, tag: String(node.tagId) });
        case "list":
          return blankCondition({ field: "list", op: node.op, list: String(node.listId) });
        case "consent":
          return blankCondition({ field: "consent", op: node.op, channel: node.channel });
        case "created":
          return blankCondition({
            field: "created",
            op: node.op,
            days: node.days === undefined ? "30" : String(node.days),
            date: node.date ?? "",
          });
        case "country":
          return blankCondition({ field: "country", op: node.op, country: node.country });
        case "engagement":
          return blankCondition({
            field: "engagement",
            op: node.op,
            event: node.event,
            days: String(node.days),
            channel: node.channel ?? "",
          });
      }
    }),
  };
}

/** A form's entries, from FormData or URLSearchParams. */
export type FormEntries = Iterable<[string, FormDataEntryValue]>;

const NODE_ID = /^r(?:-(\d{1,3}))*$/;
const MAX_FORM_NODES = 200;

/**
 * Rebuilds the tree from the builder's field names. Nodes are ordered by their index; gaps (a
 * removed node) close up. Unknown or malformed names are ignored; the tree is capped so a
 * forged post can't make it huge.
 */
export function draftFromForm(entries: FormEntries): DraftGroup {
  type Building = { fields: Record<string, string>; children: Map<number, Building> };
  const root: Building = { fields: {}, children: new Map() };
  let nodes = 0;
  for (const [name, raw] of entries) {
    if (typeof raw !== "string") continue;
    const dot = name.indexOf(".");
    if (dot < 0) continue;
    const id = name.slice(0, dot);
    const field = name.slice(dot + 1);
    if (!NODE_ID.test(id) || !(CONDITION_FIELDS as readonly string[]).includes(field)) continue;
    const indexes = id.split("-").slice(1).map(Number);
    if (indexes.length > MAX_DEPTH + 1) continue;
    let node: Building | null = root;
    for (const index of indexes) {
      let child: Building | undefined = node.children.get(index);
      if (!child) {
        if (++nodes > MAX_FORM_NODES) {
          node = null;
          break;
        }
        child = { fields: {}, children: new Map() };
        node.children.set(index, child);
      }
      node = child;
    }
    if (node) node.fields[field] = raw.slice(0, MAX_VALUE_LENGTH + 100);
  }
  const build = (node: Building, isRoot: boolean): DraftGroup | DraftCondition => {
    const children = [...node.children.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    if (isRoot || node.fields.field === "group") {
      return {
        kind: "group",
        op: node.fields.op ?? "and",
        children: children.map((c) => build(c, false)),
      };
    }
    const condition = blankCondition({ field: "", op: "" });
    for (const field of CONDITION_FIELDS) {
      if (node.fields[field] !== undefined) condition[field] = node.fields[field];
    }
    return condition;
  };
  return build(root, true) as DraftGroup;
}

/** The form fields for a draft, as the builder renders them (used by tests and the count fetch). */
export function draftToEntries(draft: DraftGroup, id = "r"): [string, string][] {
  const out: [string, string][] = [[`${id}.op`, draft.op]];
  if (id !== "r") out.push([`${id}.field`, "group"]);
  draft.children.forEach((child, i) => {
    const childId = `${id}-${i}`;
    if (child.kind === "group") out.push(...draftToEntries(child, childId));
    else for (const field of CONDITION_FIELDS) out.push([`${childId}.${field}`, child[field]]);
  });
  return out;
}

/** The operators a field offers, in display order. */
export function operatorsForField(field: string, catalog: SegmentCatalog): readonly string[] {
  if (field.startsWith("attribute:")) {
    const attribute = catalog.attributes.find((a) => a.key === field.slice("attribute:".length));
    return attribute ? ATTRIBUTE_OPERATORS[attribute.type] : [];
  }
  switch (field) {
    case "email":
    case "phone":
    case "name":
      return ["is_set", "not_set"];
    case "tag":
      return ["has", "has_not"];
    case "list":
      return ["in", "not_in"];
    case "consent":
      return ["granted", "withdrawn", "none"];
    case "created":
      return ["within_days", "before", "after"];
    case "country":
      return ["is", "is_not"];
    case "engagement":
      return ["within_days", "not_within_days"];
    default:
      return [];
  }
}

/** The choices for "what to filter on", attributes first. */
export function fieldOptions(catalog: SegmentCatalog): { value: string; label: string }[] {
  return [
    ...catalog.attributes.map((a) => ({ value: `attribute:${a.key}`, label: a.label })),
    ...SIMPLE_FIELDS.map((f) => ({ value: f, label: FIELD_LABELS[f] })),
  ];
}

/**
 * Makes a draft consistent after an edit: a condition whose field changed gets that field's
 * first operator, and pickers get a sensible first choice. Nothing the person typed is lost.
 */
export function normaliseDraft(draft: DraftGroup, catalog: SegmentCatalog): DraftGroup {
  return {
    kind: "group",
    op: draft.op === "or" ? "or" : "and",
    children: draft.children.map((child): DraftNode => {
      if (child.kind === "group") return normaliseDraft(child, catalog);
      const next = { ...child };
      const ops = operatorsForField(next.field, catalog);
      if (ops.length > 0 && !ops.includes(next.op)) next.op = ops[0]!;
      if (next.field === "tag" && !next.tag && catalog.tags[0])
        next.tag = String(catalog.tags[0].id);
      if (next.field === "list" && !next.list && catalog.lists[0]) {
        next.list = String(catalog.lists[0].id);
      }
      if (next.field === "consent" && !(CHANNELS as readonly string[]).includes(next.channel)) {
        next.channel = "email";
      }
      if (
        next.field === "engagement" &&
        !(ENGAGEMENT_EVENTS as readonly string[]).includes(next.event)
      ) {
        next.event = "opened";
      }
      return next;
    }),
  };
}

function wholeNumber(text: string): number | undefined {
  return /^\s*\d{1,9}\s*$/.test(text) ? Number(text) : undefined;
}

function conditionFromDraft(draft: DraftCondition): unknown {
  const field = draft.field;
  if (field.startsWith("attribute:")) {
    const days = wholeNumber(draft.days);
    return {
      type: "attribute",
      key: field.slice("attribute:".length),
      op: draft.op,
      ...(draft.op === "within_days"
        ? { days: days ?? Number.NaN }
        : VALUE_OPS.includes(draft.op as AttributeOp)
          ? { value: draft.value }
          : {}),
    };
  }
  switch (field) {
    case "email":
    case "phone":
    case "name":
      return { type: "field", field, op: draft.op };
    case "tag":
      return { type: "tag", op: draft.op, tagId: wholeNumber(draft.tag) ?? Number.NaN };
    case "list":
      return { type: "list", op: draft.op, listId: wholeNumber(draft.list) ?? Number.NaN };
    case "consent":
      return { type: "consent", channel: draft.channel, op: draft.op };
    case "created":
      return draft.op === "within_days"
        ? { type: "created", op: draft.op, days: wholeNumber(draft.days) ?? Number.NaN }
        : { type: "created", op: draft.op, date: draft.date.trim() };
    case "country":
      return { type: "country", op: draft.op, country: draft.country.trim().toUpperCase() };
    case "engagement":
      return {
        type: "engagement",
        event: draft.event,
        op: draft.op,
        days: wholeNumber(draft.days) ?? Number.NaN,
        ...(draft.channel ? { channel: draft.channel } : {}),
      };
    default:
      return { type: field || "unknown" };
  }
}

function groupFromDraft(draft: DraftGroup): { op: string; conditions: unknown[] } {
  return {
    op: draft.op,
    conditions: draft.children.map((child) =>
      child.kind === "group"
        ? { type: "group", ...groupFromDraft(child) }
        : conditionFromDraft(child),
    ),
  };
}

/** Turns a draft into a checked definition, or messages by node id. */
export function definitionFromDraft(draft: DraftGroup, catalog: SegmentCatalog): ParseResult {
  const parsed = parseDefinition({ version: DEFINITION_VERSION, ...groupFromDraft(draft) });
  if (!parsed.ok) return parsed;
  return checkAgainstCatalog(parsed.definition, catalog);
}

// ---------------------------------------------------------------------------------------------
// Builder intents: add a condition or group, remove a node

export type BuilderIntent =
  | { type: "add-condition"; group: string }
  | { type: "add-group"; group: string }
  | { type: "remove"; node: string }
  | { type: "update" };

export function parseIntent(text: string): BuilderIntent | null {
  if (text === "update" || text === "count" || text === "save") return { type: "update" };
  const m = /^(add-condition|add-group|remove):(r(?:-\d{1,3})*)$/.exec(text);
  if (!m) return null;
  if (m[1] === "remove") return { type: "remove", node: m[2]! };
  return { type: m[1] as "add-condition" | "add-group", group: m[2]! };
}

function depthOf(id: string): number {
  return id.split("-").length;
}

function locate(
  draft: DraftGroup,
  id: string,
): { parent: DraftGroup | null; node: DraftNode; index: number } | null {
  const indexes = id.split("-").slice(1).map(Number);
  let parent: DraftGroup | null = null;
  let node: DraftNode = draft;
  let index = -1;
  for (const i of indexes) {
    if (node.kind !== "group") return null;
    const child: DraftNode | undefined = node.children[i];
    if (!child) return null;
    parent = node;
    node = child;
    index = i;
  }
  return { parent, node, index };
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function countConditions(group: DraftGroup): number {
  return group.children.reduce(
    (n, child) => n + (child.kind === "group" ? countConditions(child) : 1),
    0,
  );
}

/**
 * Applies a builder button to the draft. Returns the new draft, or a message when the button
 * points at something that isn't there or would break a limit.
 */
export function applyIntent(
  draft: DraftGroup,
  intent: BuilderIntent,
  seed: Partial<DraftCondition> = {},
): { draft: DraftGroup } | { error: string } {
  if (intent.type === "update") return { draft };
  const next = clone(draft);
  if (intent.type === "remove") {
    if (intent.node === "r") return { error: "The top group can't be removed." };
    const found = locate(next, intent.node);
    if (!found?.parent)
      return { error: "That condition is no longer there. Check the segment and try again." };
    found.parent.children.splice(found.index, 1);
    return { draft: next };
  }
  const found = locate(next, intent.group);
  if (!found || found.node.kind !== "group") {
    return { error: "That group is no longer there. Check the segment and try again." };
  }
  if (countConditions(next) >= MAX_CONDITIONS) {
    return { error: `A segment can have at most ${MAX_CONDITIONS} conditions.` };
  }
  if (intent.type === "add-group") {
    if (depthOf(intent.group) >= MAX_DEPTH) {
      return { error: `Groups can be nested at most ${MAX_DEPTH} levels deep.` };
    }
    found.node.children.push({ kind: "group", op: "or", children: [blankCondition(seed)] });
  } else {
    found.node.children.push(blankCondition(seed));
  }
  return { draft: next };
}

// ---------------------------------------------------------------------------------------------
// Descriptions

function nameOf(list: { id: number; name: string }[], id: number, what: string): string {
  return list.find((x) => x.id === id)?.name ?? `(deleted ${what})`;
}

/** One condition in words, e.g. "City equals “Mumbai”". */
export function describeCondition(condition: SegmentCondition, catalog: SegmentCatalog): string {
  const op = (o: string) => OPERATOR_LABELS[o] ?? o;
  switch (condition.type) {
    case "attribute": {
      const label = catalog.attributes.find((a) => a.key === condition.key)?.label ?? condition.key;
      if (condition.op === "within_days") return `${label} is in the last ${condition.days} days`;
      if (!VALUE_OPS.includes(condition.op)) return `${label} ${op(condition.op)}`;
      return `${label} ${op(condition.op)} “${condition.value}”`;
    }
    case "field":
      return `${FIELD_LABELS[condition.field]} ${op(condition.op)}`;
    case "tag":
      return `${op(condition.op)} tag “${nameOf(catalog.tags, condition.tagId, "tag")}”`.replace(
        /^./,
        (c) => c.toUpperCase(),
      );
    case "list":
      return `${op(condition.op)} list “${nameOf(catalog.lists, condition.listId, "list")}”`.replace(
        /^./,
        (c) => c.toUpperCase(),
      );
    case "consent":
      return `${CHANNEL_LABELS[condition.channel as Channel]} consent ${op(condition.op)}`;
    case "created":
      return condition.op === "within_days"
        ? `Created in the last ${condition.days} days`
        : `Created ${condition.op} ${condition.date}`;
    case "country":
      return `Country ${op(condition.op)} ${condition.country}`;
    case "engagement": {
      const on = condition.channel ? ` on ${CHANNEL_LABELS[condition.channel]}` : "";
      const what = `${condition.event}${condition.event === "replied" ? " to" : ""} a message`;
      const text = `${what}${on} in the last ${condition.days} days`;
      return condition.op === "not_within_days"
        ? `Has not ${text}`
        : text.replace(/^./, (c) => c.toUpperCase());
    }
  }
}

/** The whole definition in words, for lists and audit-free summaries. */
export function describeDefinition(
  definition: { op: string; conditions: SegmentNode[] },
  catalog: SegmentCatalog,
): string {
  if (definition.conditions.length === 0) return "All contacts";
  const joiner = definition.op === "or" ? " or " : " and ";
  return definition.conditions
    .map((node) =>
      node.type === "group"
        ? `(${describeDefinition(node, catalog)})`
        : describeCondition(node, catalog),
    )
    .join(joiner);
}

// ---------------------------------------------------------------------------------------------
// What the builder offers

export const ENGAGEMENT_LABELS: Record<EngagementEvent, string> = {
  received: "received a message",
  opened: "opened a message",
  clicked: "clicked a link",
  replied: "replied",
};

/** The builder's choices as plain data (the builder component imports nothing server-side). */
export function builderChoices(
  catalog: SegmentCatalog,
  countries: { value: string; label: string }[],
) {
  const fields = fieldOptions(catalog);
  const label = (op: string) => ({ value: op, label: OPERATOR_LABELS[op] ?? op });
  return {
    fields,
    operators: Object.fromEntries(
      fields.map((f) => [f.value, operatorsForField(f.value, catalog).map(label)]),
    ),
    valueOps: [...VALUE_OPS],
    attributes: Object.fromEntries(
      catalog.attributes.map((a) => [`attribute:${a.key}`, { type: a.type, options: a.options }]),
    ),
    tags: catalog.tags.map((t) => ({ value: String(t.id), label: t.name })),
    lists: catalog.lists.map((l) => ({ value: String(l.id), label: l.name })),
    channels: CHANNELS.map((c) => ({ value: c, label: CHANNEL_LABELS[c] })),
    countries,
    events: ENGAGEMENT_EVENTS.map((e) => ({ value: e, label: ENGAGEMENT_LABELS[e] })),
    maxDepth: MAX_DEPTH,
  };
}
