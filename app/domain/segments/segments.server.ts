import { asc, eq, sql } from "drizzle-orm";
import { lists, SEGMENT_VERSION, segments, tags } from "~/db/schema/tenant";
import type { TenantDb, TenantTx } from "~/db/tenants.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { TenantContext, WorkspaceContext } from "../context";
import { listAttributeDefinitions } from "../contacts/attributes.server";
import {
  checkAgainstCatalog,
  DEFINITION_VERSION,
  parseDefinition,
  parseDefinitionJson,
  type SegmentCatalog,
  type SegmentDefinition,
  type SegmentNode,
} from "./segment-definition";
import {
  SegmentValidationError,
  validZone,
  type CompiledWhere,
  compileSegment,
} from "./compile.server";

/**
 * Segments: saved definitions (segment-definition.ts), checked against the workspace's
 * attributes, tags and lists, compiled (compile.server.ts) and counted, previewed or walked.
 * At 1M contacts a two-condition count takes well under a second (npm run bench -- segment).
 */

if (SEGMENT_VERSION !== DEFINITION_VERSION) {
  throw new Error("segment-definition.ts and the segments table disagree on the version");
}

// ---------------------------------------------------------------------------------------------
// Validation against the workspace

/** The workspace's attributes, tags and lists: what a definition may refer to. */
export function loadSegmentCatalog({ db }: TenantContext): SegmentCatalog {
  return {
    attributes: listAttributeDefinitions({ db }).map((d) => ({
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
  ctx: WorkspaceContext,
  input: unknown,
  catalog: SegmentCatalog = loadSegmentCatalog(ctx),
): PreparedSegment {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new SegmentValidationError(parsed.message, parsed.errors);
  const checked = checkAgainstCatalog(parsed.definition, catalog);
  if (!checked.ok) throw new SegmentValidationError(checked.message, checked.errors);
  const where = compileSegment(checked.definition, {
    now: ctx.now(),
    timeZone: validZone(ctx.workspace.timeZone),
    attributeTypes: new Map(catalog.attributes.map((a) => [a.key, a.type])),
  });
  return { definition: checked.definition, where };
}

// ---------------------------------------------------------------------------------------------
// Counting, previewing, iterating

export function countWhere({ db }: TenantContext, where: CompiledWhere): number {
  return db.$client
    .prepare(`SELECT count(*) FROM contacts c WHERE ${where.sql}`)
    .pluck()
    .get(...where.params) as number;
}

/** How many contacts match the definition now. */
export function countSegment(ctx: WorkspaceContext, definition: unknown): number {
  return countWhere(ctx, prepareSegment(ctx, definition).where);
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
  ctx: WorkspaceContext,
  definition: unknown,
  limit = 10,
): SegmentPreviewRow[] {
  const { where } = prepareSegment(ctx, definition);
  return previewWhere(ctx.db, where, Math.min(Math.max(Math.trunc(limit) || 10, 1), 100));
}

export function previewWhere(
  db: TenantDb,
  where: CompiledWhere,
  limit: number,
): SegmentPreviewRow[] {
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
  ctx: WorkspaceContext,
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
  ctx: WorkspaceContext,
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

function findRowByName(db: TenantDb | TenantTx, name: string): SegmentRow | undefined {
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

function assertNameFree(db: TenantDb | TenantTx, name: string, self: number | null): void {
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

export function createSegment(ctx: WorkspaceContext, input: SegmentInput): Segment {
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

export function updateSegment(ctx: WorkspaceContext, id: number, input: SegmentInput): Segment {
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
  ctx: WorkspaceContext,
  list: Segment[],
  budgetMs = 400,
): Map<number, SegmentCount> {
  const out = new Map<number, SegmentCount>();
  const started = Date.now();
  const catalog = loadSegmentCatalog(ctx);
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
    const count = countWhere(ctx, prepared.where);
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
export function countSavedSegment(ctx: WorkspaceContext, segmentId: number): number {
  const segment = getSegment(ctx, segmentId);
  const key = cacheKey(ctx.workspaceId, segment);
  const cached = countCache.get(key);
  if (cached && Date.now() - cached.at < COUNT_TTL_MS) return cached.count;
  const count = countWhere(ctx, prepareSavedSegment(ctx, segment).where);
  rememberCount(ctx.workspaceId, segment, count);
  return count;
}
