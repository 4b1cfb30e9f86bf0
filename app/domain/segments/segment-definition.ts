/**
 * Segment definitions: the filter tree a segment is made of, shared by the server (which
 * compiles it to SQL in compile.server.ts) and the builder page (which renders and edits it,
 * through segment-draft.ts). Pure: no server imports, no database; safe in the browser bundle.
 *
 * A definition is a root group { op: "and" | "or", conditions } whose conditions are
 * conditions or nested groups, at most MAX_DEPTH groups deep (the root counts as one).
 */
import { z } from "zod";
import { ATTRIBUTE_TYPES, type AttributeType } from "~/lib/attribute-types";
import { CHANNELS, type Channel } from "~/lib/channels";

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
export const VALUE_OPS: readonly AttributeOp[] = [
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
