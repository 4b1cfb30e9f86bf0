import { CHANNELS, CHANNEL_LABELS, type Channel } from "~/lib/channels";
import {
  DEFINITION_VERSION,
  MAX_DEPTH,
  MAX_CONDITIONS,
  MAX_VALUE_LENGTH,
  ATTRIBUTE_OPERATORS,
  type AttributeOp,
  VALUE_OPS,
  ENGAGEMENT_EVENTS,
  type EngagementEvent,
  OPERATOR_LABELS,
  type SegmentCondition,
  type SegmentNode,
  type ParseResult,
  parseDefinition,
  type SegmentCatalog,
  checkAgainstCatalog,
} from "./segment-definition";

/**
 * The segment builder's side of a definition (segment-definition.ts). The builder works without
 * JavaScript, so every form post carries the whole tree as structured field names: the root is
 * node "r", child i of node p is "p-i" (r-0, r-1-2, ...), and each node's fields are
 * "<node>.<field>" (r.op, r-0.field, r-0.op, r-0.value, ...). A draft is that tree as typed by
 * the person (all strings); definitionFromDraft turns it into a definition, with messages per
 * node for anything wrong. Also the builder's intents (add, remove) and the sentences that
 * describe a definition. Pure, like the definition: safe in the browser bundle.
 */

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

/**
 * The button a builder form was sent with: "save", "delete", or a builder step the builder
 * parses ("add-condition:r-0", "remove:r-1", "update"). Its intents name nodes of the tree, so
 * they are open-ended rather than a fixed map; Enter in a field (no button) means "update".
 */
export function builderButton(entries: FormEntries): string {
  for (const [name, value] of entries) {
    if (name === "intent" && typeof value === "string") return value;
  }
  return "update";
}

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
