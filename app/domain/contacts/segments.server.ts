import { asc, eq, sql } from "drizzle-orm";
import { lists, SEGMENT_VERSION, segments, tags } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { formatDateTime } from "~/lib/format";
import { randomToken } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { listAttributeDefinitions } from "./attributes.server";
import { getCountries } from "libphonenumber-js/min";
import { startOfZonedDay, zoneOffsetMs } from "~/lib/time-zone";
import {
  applyIntent,
  checkAgainstCatalog,
  definitionFromDraft,
  DEFINITION_VERSION,
  draftFromForm,
  normaliseDraft,
  parseIntent,
  type BuilderIntent,
  type DraftGroup,
  type FormEntries,
  ENGAGEMENT_EVENT_TYPES,
  parseDefinition,
  parseDefinitionJson,
  type AttributeConditionT,
  type AttributeType,
  type NodeErrors,
  type SegmentCatalog,
  type SegmentCondition,
  type SegmentDefinition,
  type SegmentNode,
} from "./segment-definition";

/**
 * Segments: a definition (segment-definition.ts) compiled to one parameterised WHERE over
 * `contacts c`. Every value is a bound parameter, never SQL text. Membership conditions are
 * `c.id [NOT] IN (subquery)` over an index (contact_tags_tag_idx, list_members PK,
 * consents_channel_status_idx, contact_events_type_idx); created date and country use their
 * contacts indexes; attributes are read with json_extract. At 1M contacts a
 * two-condition count takes well under a second (npm run bench -- segment).
 */

if (SEGMENT_VERSION !== DEFINITION_VERSION) {
  throw new Error("segment-definition.ts and the segments table disagree on the version");
}

const DAY_MS = 86_400_000;

/** A workspace context that also knows the workspace's time zone (for calendar dates). */
export interface SegmentContext extends WorkspaceContext {
  /** IANA zone for "before/after <date>" and "today"; UTC when not given. */
  timeZone?: string;
}

/** Thrown for a definition that doesn't fit this workspace; messages are keyed by node id. */
export class SegmentValidationError extends ValidationError {
  constructor(message: string, errors: NodeErrors) {
    super(message, errors);
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar days in a time zone

/** The instant a calendar day ("YYYY-MM-DD", plus `addDays`) starts in `timeZone`. */
export function startOfDayIn(day: string, timeZone: string, addDays = 0): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return startOfZonedDay(y, m, d + addDays, timeZone);
}

/** The calendar day of `instant` in `timeZone`, plus `addDays`, as YYYY-MM-DD. */
export function dayIn(instant: number, timeZone: string, addDays = 0): string {
  const local = new Date(instant + zoneOffsetMs(instant, timeZone));
  local.setUTCDate(local.getUTCDate() + addDays);
  return local.toISOString().slice(0, 10);
}

function nextDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

function validZone(timeZone: string | undefined): string {
  if (!timeZone) return "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return timeZone;
  } catch {
    return "UTC";
  }
}

// ---------------------------------------------------------------------------------------------
// Compiling

export type SqlParam = string | number;

export interface CompiledWhere {
  /** A boolean SQL expression over `contacts c`, with `?` placeholders. */
  sql: string;
  params: SqlParam[];
}

export interface CompileOptions {
  now: Date;
  timeZone: string;
  /** Attribute key -> type, from the workspace's definitions. */
  attributeTypes: ReadonlyMap<string, AttributeType>;
}

/** LIKE pattern text with its wildcards escaped (ESCAPE '\'). */
function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function attributeSql(
  condition: AttributeConditionT,
  type: AttributeType,
  options: CompileOptions,
): CompiledWhere {
  // The key is part of a bound JSON path, quoted, so any valid key is safe.
  const path = `$."${condition.key}"`;
  const expr = "json_extract(c.attributes, ?)";
  const value = condition.value;
  const one = (op: string, v: SqlParam): CompiledWhere => ({
    sql: `${expr} ${op} ?`,
    params: [path, v],
  });
  switch (condition.op) {
    case "is_set":
      return { sql: `coalesce(${expr}, '') <> ''`, params: [path] };
    case "not_set":
      return { sql: `coalesce(${expr}, '') = ''`, params: [path] };
    case "equals":
      return { sql: `${expr} = ? COLLATE NOCASE`, params: [path, String(value)] };
    case "contains":
      return {
        sql: `${expr} LIKE ? ESCAPE '\\'`,
        params: [path, `%${likeEscape(String(value))}%`],
      };
    case "starts_with":
      return {
        sql: `${expr} LIKE ? ESCAPE '\\'`,
        params: [path, `${likeEscape(String(value))}%`],
      };
    case "eq":
      return one("=", Number(value));
    case "ne":
      // Contacts without a value are "not equal" too.
      return one("IS NOT", Number(value));
    case "lt":
      return one("<", Number(value));
    case "lte":
      return one("<=", Number(value));
    case "gt":
      return one(">", Number(value));
    case "gte":
      return one(">=", Number(value));
    case "before":
      return one("<", String(value));
    case "after":
      return one(">=", nextDay(String(value)));
    case "within_days": {
      const now = options.now.getTime();
      return {
        sql: `(${expr} >= ? AND ${expr} < ?)`,
        params: [
          path,
          dayIn(now, options.timeZone, -(condition.days ?? 0)),
          path,
          dayIn(now, options.timeZone, 1),
        ],
      };
    }
    case "is_true":
      return { sql: `${expr} IN (1, 'true')`, params: [path] };
    case "is_false":
      return { sql: `${expr} IN (0, 'false')`, params: [path] };
    case "is":
      return type === "choice"
        ? one("=", String(value))
        : { sql: `${expr} = ? COLLATE NOCASE`, params: [path, String(value)] };
    case "is_not":
      // Contacts without a value are "not" it too.
      return one("IS NOT", String(value));
  }
}

/**
 * Membership in an indexed table as `c.id [NOT] IN (SELECT contact_id ...)`. SQLite builds the
 * subquery's ids once (sorted) and then either walks them by rowid or checks each contact
 * against them; both stay fast at 1M contacts. A correlated EXISTS looks simpler but lets the
 * planner scan a small index of contacts in a random id order and probe the membership index
 * once per contact, which was 5–10x slower in the segment bench.
 */
function member(positive: boolean, subquery: string, params: SqlParam[]): CompiledWhere {
  return { sql: `c.id ${positive ? "IN" : "NOT IN"} (${subquery})`, params };
}

function conditionSql(condition: SegmentCondition, options: CompileOptions): CompiledWhere {
  switch (condition.type) {
    case "attribute": {
      const type = options.attributeTypes.get(condition.key);
      if (!type) {
        throw new SegmentValidationError(
          `There is no attribute “${condition.key}” in this workspace.`,
          {},
        );
      }
      return attributeSql(condition, type, options);
    }
    case "field": {
      const column = { email: "c.email", phone: "c.phone", name: "c.name" }[condition.field];
      return {
        sql:
          condition.op === "is_set"
            ? `coalesce(${column}, '') <> ''`
            : `coalesce(${column}, '') = ''`,
        params: [],
      };
    }
    case "tag":
      return member(
        condition.op === "has",
        "SELECT ct.contact_id FROM contact_tags ct WHERE ct.tag_id = ?",
        [condition.tagId],
      );
    case "list":
      return member(
        condition.op === "in",
        "SELECT lm.contact_id FROM list_members lm WHERE lm.list_id = ?",
        [condition.listId],
      );
    case "consent":
      return condition.op === "none"
        ? member(false, "SELECT cs.contact_id FROM consents cs WHERE cs.channel = ?", [
            condition.channel,
          ])
        : member(
            true,
            "SELECT cs.contact_id FROM consents cs WHERE cs.channel = ? AND cs.status = ?",
            [condition.channel, condition.op],
          );
    case "created":
      if (condition.op === "within_days") {
        return {
          sql: "c.created_at >= ?",
          params: [options.now.getTime() - (condition.days ?? 0) * DAY_MS],
        };
      }
      return condition.op === "before"
        ? { sql: "c.created_at < ?", params: [startOfDayIn(condition.date!, options.timeZone)] }
        : {
            sql: "c.created_at >= ?",
            params: [startOfDayIn(condition.date!, options.timeZone, 1)],
          };
    case "country":
      return condition.op === "is"
        ? { sql: "c.country = ?", params: [condition.country] }
        : { sql: "c.country IS NOT ?", params: [condition.country] };
    case "engagement": {
      const types = ENGAGEMENT_EVENT_TYPES[condition.event];
      const since = options.now.getTime() - condition.days * DAY_MS;
      const channel = condition.channel ? " AND ev.channel = ?" : "";
      return member(
        condition.op === "within_days",
        `SELECT ev.contact_id FROM contact_events ev WHERE ev.type IN (${types.map(() => "?").join(", ")}) AND ev.at >= ?${channel}`,
        [...types, since, ...(condition.channel ? [condition.channel] : [])],
      );
    }
  }
}

function groupSql(
  op: "and" | "or",
  nodes: SegmentNode[],
  options: CompileOptions,
): CompiledWhere | null {
  const parts: CompiledWhere[] = [];
  for (const node of nodes) {
    const part =
      node.type === "group"
        ? groupSql(node.op, node.conditions, options)
        : conditionSql(node, options);
    // An empty nested group has no effect either way.
    if (part) parts.push(part);
  }
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0]!;
  return {
    sql: `(${parts.map((p) => p.sql).join(op === "or" ? " OR " : " AND ")})`,
    params: parts.flatMap((p) => p.params),
  };
}

/**
 * The definition as one WHERE expression over `contacts c`. A definition without conditions
 * matches every contact. Values only ever travel as parameters.
 */
export function compileSegment(
  definition: SegmentDefinition,
  options: CompileOptions,
): CompiledWhere {
  return groupSql(definition.op, definition.conditions, options) ?? { sql: "1", params: [] };
}

// ---------------------------------------------------------------------------------------------
// Validation against the workspace

/** The workspace's attributes, tags and lists: what a definition may refer to. */
export function loadSegmentCatalog(db: TenantDb): SegmentCatalog {
  return {
    attributes: listAttributeDefinitions(db).map((d) => ({
      key: d.key,
      label: d.label,
      type: d.type,
      options: d.options,
    })),
    tags: db
      .select({ id: tags.id, name: tags.name })
      .from(tags)
      .orderBy(sql`lower(${tags.name})`)
      .all(),
    lists: db
      .select({ id: lists.id, name: lists.name })
      .from(lists)
      .orderBy(sql`lower(${lists.name})`)
      .all(),
  };
}

export interface PreparedSegment {
  definition: SegmentDefinition;
  where: CompiledWhere;
}

/**
 * Parses (when given raw input), checks against the workspace and compiles. Throws
 * SegmentValidationError with a clear message for anything wrong: unknown attribute, an
 * operator the attribute's type doesn't have, a value of the wrong type, a deleted tag or list.
 */
export function prepareSegment(
  ctx: SegmentContext,
  input: unknown,
  catalog: SegmentCatalog = loadSegmentCatalog(ctx.db),
): PreparedSegment {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new SegmentValidationError(parsed.message, parsed.errors);
  const checked = checkAgainstCatalog(parsed.definition, catalog);
  if (!checked.ok) throw new SegmentValidationError(checked.message, checked.errors);
  const where = compileSegment(checked.definition, {
    now: ctx.now(),
    timeZone: validZone(ctx.timeZone ?? ctx.workspace.timeZone),
    attributeTypes: new Map(catalog.attributes.map((a) => [a.key, a.type])),
  });
  return { definition: checked.definition, where };
}

// ---------------------------------------------------------------------------------------------
// Counting, previewing, iterating

export function countWhere(db: TenantDb, where: CompiledWhere): number {
  return db.$client
    .prepare(`SELECT count(*) FROM contacts c WHERE ${where.sql}`)
    .pluck()
    .get(...where.params) as number;
}

/** How many contacts match the definition now. */
export function countSegment(ctx: SegmentContext, definition: unknown): number {
  return countWhere(ctx.db, prepareSegment(ctx, definition).where);
}

export interface SegmentPreviewRow {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  createdAt: Date;
}

/** The newest `limit` matching contacts (for the builder's preview). */
export function previewSegment(
  ctx: SegmentContext,
  definition: unknown,
  limit = 10,
): SegmentPreviewRow[] {
  const { where } = prepareSegment(ctx, definition);
  return previewWhere(ctx.db, where, Math.min(Math.max(Math.trunc(limit) || 10, 1), 100));
}

function previewWhere(db: TenantDb, where: CompiledWhere, limit: number): SegmentPreviewRow[] {
  const rows = db.$client
    .prepare(
      `SELECT c.id, c.name, c.email, c.phone, c.country, c.created_at AS createdAt
         FROM contacts c WHERE ${where.sql} ORDER BY c.id DESC LIMIT ?`,
    )
    .all(...where.params, limit) as (Omit<SegmentPreviewRow, "createdAt"> & {
    createdAt: number;
  })[];
  return rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt) }));
}

/**
 * Matching contact ids in ascending order, as a snapshot taken by one query (the audience as it
 * is now; later changes don't move it). The ids are held in a compact typed array (8 bytes per
 * contact) and handed out one by one, so the caller may write to the same database between
 * them: no statement stays open while it does. One query matters: each run of the compiled
 * WHERE builds its membership lists once, so reading in keyset batches would rebuild them for
 * every batch.
 */
export function* iterateSegmentIds(
  db: TenantDb,
  where: CompiledWhere,
): Generator<number, void, undefined> {
  const statement = db.$client
    .prepare(`SELECT c.id FROM contacts c WHERE ${where.sql} ORDER BY c.id`)
    .pluck();
  let ids = new Float64Array(1024);
  let length = 0;
  for (const id of statement.iterate(...where.params) as Iterable<number>) {
    if (length === ids.length) {
      const bigger = new Float64Array(ids.length * 2);
      bigger.set(ids);
      ids = bigger;
    }
    ids[length++] = id;
  }
  for (let i = 0; i < length; i++) yield ids[i]!;
}

/** The ids of a saved segment's contacts, for campaigns. */
export function* segmentContactIds(
  ctx: SegmentContext,
  segmentId: number,
): Generator<number, void, undefined> {
  const segment = getSegment(ctx, segmentId);
  const { where } = prepareSavedSegment(ctx, segment);
  yield* iterateSegmentIds(ctx.db, where);
}

// ---------------------------------------------------------------------------------------------
// Saved segments

export const MAX_SEGMENT_NAME = 100;

export interface Segment {
  id: number;
  name: string;
  definition: SegmentDefinition;
  /** Set when the stored definition can't be read (it then matches nobody until fixed). */
  problem: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type SegmentRow = typeof segments.$inferSelect;
type Tx = Parameters<Parameters<TenantDb["transaction"]>[0]>[0];

function toSegment(row: SegmentRow): Segment {
  const parsed = parseDefinitionJson(row.definition);
  return {
    id: row.id,
    name: row.name,
    definition: parsed.ok
      ? parsed.definition
      : { version: DEFINITION_VERSION, op: "and", conditions: [] },
    problem: parsed.ok ? null : parsed.message,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Prepares a saved segment; a stored definition that can't be read is an error, never "everyone". */
export function prepareSavedSegment(
  ctx: SegmentContext,
  segment: Segment,
  catalog?: SegmentCatalog,
): PreparedSegment {
  if (segment.problem) {
    throw new SegmentValidationError(
      `The segment “${segment.name}” can't be used: ${segment.problem}`,
      { r: [segment.problem] },
    );
  }
  return prepareSegment(ctx, segment.definition, catalog);
}

export function listSegments(ctx: WorkspaceContext): Segment[] {
  return ctx.db
    .select()
    .from(segments)
    .orderBy(sql`lower(${segments.name})`, asc(segments.id))
    .all()
    .map(toSegment);
}

export function getSegment(ctx: WorkspaceContext, id: number): Segment {
  const row = ctx.db.select().from(segments).where(eq(segments.id, id)).get();
  if (!row) throw new NotFoundError("Segment", id);
  return toSegment(row);
}

function findRowByName(db: TenantDb | Tx, name: string): SegmentRow | undefined {
  return db
    .select()
    .from(segments)
    .where(sql`lower(${segments.name}) = lower(${name.trim()})`)
    .get();
}

/** A saved segment by name, ignoring case (the CLI's --segment NAME). */
export function findSegmentByName(ctx: WorkspaceContext, name: string): Segment | undefined {
  const row = findRowByName(ctx.db, name);
  return row ? toSegment(row) : undefined;
}

function cleanName(input: string): string {
  const name = input.trim().replace(/\s+/g, " ");
  if (!name) {
    throw new ValidationError("Give the segment a name.", { name: ["Give the segment a name."] });
  }
  if (name.length > MAX_SEGMENT_NAME) {
    const message = `Use at most ${MAX_SEGMENT_NAME} characters for the name.`;
    throw new ValidationError(message, { name: [message] });
  }
  return name;
}

function assertNameFree(db: TenantDb | Tx, name: string, self: number | null): void {
  const other = findRowByName(db, name);
  if (other && other.id !== self) {
    const message = `There is already a segment called “${other.name}”. Choose another name.`;
    throw new ValidationError(message, { name: [message] });
  }
}

function conditionCount(nodes: SegmentNode[]): number {
  return nodes.reduce(
    (n, node) => n + (node.type === "group" ? conditionCount(node.conditions) : 1),
    0,
  );
}

export interface SegmentInput {
  name: string;
  definition: unknown;
}

export function createSegment(ctx: SegmentContext, input: SegmentInput): Segment {
  const name = cleanName(input.name);
  const { definition } = prepareSegment(ctx, input.definition);
  const now = ctx.now();
  const row = ctx.db.transaction(
    (tx) => {
      assertNameFree(tx, name, null);
      return tx
        .insert(segments)
        .values({ name, definition: JSON.stringify(definition), createdAt: now, updatedAt: now })
        .returning()
        .get();
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: "segment.created",
    workspaceId: ctx.workspaceId,
    target: { type: "segment", id: row.id },
    details: { conditions: conditionCount(definition.conditions) },
  });
  return toSegment(row);
}

export function updateSegment(ctx: SegmentContext, id: number, input: SegmentInput): Segment {
  const name = cleanName(input.name);
  const { definition } = prepareSegment(ctx, input.definition);
  const row = ctx.db.transaction(
    (tx) => {
      const current = tx
        .select({ id: segments.id })
        .from(segments)
        .where(eq(segments.id, id))
        .get();
      if (!current) throw new NotFoundError("Segment", id);
      assertNameFree(tx, name, id);
      return tx
        .update(segments)
        .set({ name, definition: JSON.stringify(definition), updatedAt: ctx.now() })
        .where(eq(segments.id, id))
        .returning()
        .get()!;
    },
    { behavior: "immediate" },
  );
  forgetCount(ctx.workspaceId, id);
  recordAudit(ctx, {
    action: "segment.updated",
    workspaceId: ctx.workspaceId,
    target: { type: "segment", id },
    details: { conditions: conditionCount(definition.conditions) },
  });
  return toSegment(row);
}

export function deleteSegment(ctx: WorkspaceContext, id: number): void {
  const done = ctx.db.delete(segments).where(eq(segments.id, id)).run();
  if (done.changes === 0) throw new NotFoundError("Segment", id);
  forgetCount(ctx.workspaceId, id);
  recordAudit(ctx, {
    action: "segment.deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "segment", id },
  });
}

// ---------------------------------------------------------------------------------------------
// Counts for the segment list: cached briefly, computed within a time budget

const COUNT_TTL_MS = 60_000;
const MAX_CACHED_COUNTS = 2000;
const countCache = new Map<string, { count: number; at: number }>();

function cacheKey(workspaceId: string, segment: { id: number; updatedAt: Date }): string {
  return `${workspaceId}:${segment.id}:${segment.updatedAt.getTime()}`;
}

function forgetCount(workspaceId: string, id: number): void {
  const prefix = `${workspaceId}:${id}:`;
  for (const key of countCache.keys()) if (key.startsWith(prefix)) countCache.delete(key);
}

export interface SegmentCount {
  /** null: not counted within the budget (the page fetches it lazily), or not valid. */
  count: number | null;
  /** Why it can't be counted (a deleted tag, an attribute that no longer exists). */
  problem: string | null;
  countedAt: Date | null;
}

/**
 * Counts for a list of saved segments: fresh cached counts (under a minute old) are reused,
 * the rest are counted until `budgetMs` is spent; whatever is left is null, for the page to
 * fetch one by one.
 */
export function countSavedSegments(
  ctx: SegmentContext,
  list: Segment[],
  budgetMs = 400,
): Map<number, SegmentCount> {
  const out = new Map<number, SegmentCount>();
  const started = Date.now();
  const catalog = loadSegmentCatalog(ctx.db);
  for (const segment of list) {
    const key = cacheKey(ctx.workspaceId, segment);
    const cached = countCache.get(key);
    if (cached && Date.now() - cached.at < COUNT_TTL_MS) {
      out.set(segment.id, { count: cached.count, problem: null, countedAt: new Date(cached.at) });
      continue;
    }
    let prepared: PreparedSegment;
    try {
      prepared = prepareSavedSegment(ctx, segment, catalog);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      out.set(segment.id, { count: null, problem: error.message, countedAt: null });
      continue;
    }
    if (Date.now() - started > budgetMs) {
      out.set(segment.id, { count: null, problem: null, countedAt: null });
      continue;
    }
    const count = countWhere(ctx.db, prepared.where);
    rememberCount(ctx.workspaceId, segment, count);
    out.set(segment.id, { count, problem: null, countedAt: new Date() });
  }
  return out;
}

function rememberCount(workspaceId: string, segment: Segment, count: number): void {
  if (countCache.size >= MAX_CACHED_COUNTS) {
    const oldest = countCache.keys().next().value;
    if (oldest !== undefined) countCache.delete(oldest);
  }
  countCache.set(cacheKey(workspaceId, segment), { count, at: Date.now() });
}

/** One saved segment's count, through the same short-lived cache. */
export function countSavedSegment(ctx: SegmentContext, segmentId: number): number {
  const segment = getSegment(ctx, segmentId);
  const key = cacheKey(ctx.workspaceId, segment);
  const cached = countCache.get(key);
  if (cached && Date.now() - cached.at < COUNT_TTL_MS) return cached.count;
  const count = countWhere(ctx.db, prepareSavedSegment(ctx, segment).where);
  rememberCount(ctx.workspaceId, segment, count);
  return count;
}

// ---------------------------------------------------------------------------------------------
// The builder page: a draft from the form, the intent applied, validated, counted

export interface BuilderState {
  draft: DraftGroup;
  errors: NodeErrors;
  message: string | null;
  count: number | null;
  preview: SegmentPreviewRow[];
  definition: SegmentDefinition | null;
}

/**
 * Validates a draft against the workspace and, when it is valid, counts it and previews the
 * newest matches. Problems come back per node, never as exceptions.
 */
export function evaluateBuilder(
  ctx: SegmentContext,
  draft: DraftGroup,
  catalog: SegmentCatalog,
  options: { preview?: number } = {},
): BuilderState {
  const normalised = normaliseDraft(draft, catalog);
  const parsed = definitionFromDraft(normalised, catalog);
  if (!parsed.ok) {
    return {
      draft: normalised,
      errors: parsed.errors,
      message: parsed.message,
      count: null,
      preview: [],
      definition: null,
    };
  }
  const { where } = prepareSegment(ctx, parsed.definition, catalog);
  return {
    draft: normalised,
    errors: {},
    message: null,
    count: countWhere(ctx.db, where),
    preview: options.preview ? previewWhere(ctx.db, where, options.preview) : [],
    definition: parsed.definition,
  };
}

/**
 * One builder form post: the tree from the structured fields, the button's intent applied
 * (add a condition or group, remove a node), then evaluated. A forged or stale intent is a
 * ValidationError with a clear message.
 */
export function builderFromForm(
  ctx: SegmentContext,
  entries: FormEntries,
  intentText: string,
  catalog: SegmentCatalog = loadSegmentCatalog(ctx.db),
  options: { preview?: number } = {},
): { intent: BuilderIntent; state: BuilderState } {
  const intent = parseIntent(intentText);
  if (!intent) throw new ValidationError("This form asked for something the page does not do.");
  const draft = draftFromForm(entries);
  // A new condition starts complete (email consent granted), so adding one never shows an error.
  const applied = applyIntent(draft, intent);
  if ("error" in applied) {
    const state = evaluateBuilder(ctx, draft, catalog, options);
    return { intent, state: { ...state, message: applied.error } };
  }
  return { intent, state: evaluateBuilder(ctx, applied.draft, catalog, options) };
}

/** Countries for the builder's country picker, by English name. */
export function countryOptions(): { value: string; label: string }[] {
  const names = new Intl.DisplayNames(["en"], { type: "region" });
  return getCountries()
    .map((code) => ({ value: code, label: `${names.of(code) ?? code} (${code})` }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** The builder state as a page renders it: plain data, times in the workspace's zone. */
export function builderView(state: BuilderState, timeZone: string) {
  return {
    draft: state.draft,
    errors: state.errors,
    message: state.message,
    count: state.count,
    preview: state.preview.map((r) => ({
      id: r.id,
      name: r.name,
      email: r.email,
      phone: r.phone,
      created: formatDateTime(r.createdAt, timeZone),
    })),
    /** New on every answer, so the form's inputs take the server's values. */
    revision: randomToken(6),
  };
}
