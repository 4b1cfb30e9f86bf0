import { ValidationError } from "~/lib/errors";
import { startOfZonedDay, zoneOffsetMs } from "~/lib/time-zone";
import {
  ENGAGEMENT_EVENT_TYPES,
  type AttributeConditionT,
  type AttributeType,
  type NodeErrors,
  type SegmentCondition,
  type SegmentDefinition,
  type SegmentNode,
} from "./segment-definition";

/**
 * A segment definition (segment-definition.ts) compiled to one parameterised WHERE over
 * `contacts c`. Every value is a bound parameter, never SQL text. Membership conditions are
 * `c.id [NOT] IN (subquery)` over an index (contact_tags_tag_idx, list_members PK,
 * consents_channel_status_idx, contact_events_type_idx); created date and country use their
 * contacts indexes; attributes are read with json_extract. Calendar dates are days in the
 * workspace's time zone.
 */

const DAY_MS = 86_400_000;

/** Thrown for a definition that doesn't fit this workspace; messages are keyed by node id. */
export class SegmentValidationError extends ValidationError {
  constructor(message: string, errors: NodeErrors) {
    super(message, errors);
  }
}

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

export function validZone(timeZone: string | undefined): string {
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
