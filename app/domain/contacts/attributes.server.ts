import { asc, count, eq, sql } from "drizzle-orm";
import {
  ATTRIBUTE_TYPES,
  attributeDefinitions,
  contacts,
  type AttributeType,
} from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";

/**
 * Custom attribute definitions (text, number, date, boolean, one-of list) and the one validator
 * every write of `contacts.attributes` goes through: forms, the API and the CSV import.
 */

export const ATTRIBUTE_KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_ATTRIBUTE_DEFINITIONS = 100;
export const MAX_CHOICE_OPTIONS = 100;
export const MAX_TEXT_VALUE = 1000;
const MAX_LABEL = 80;
const MAX_OPTION = 100;

/** Keys that would be confused with a contact's own fields (in imports, exports and segments). */
export const RESERVED_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set([
  "id",
  "email",
  "phone",
  "name",
  "country",
  "tags",
  "lists",
  "consent",
  "created_at",
  "updated_at",
]);

export const ATTRIBUTE_TYPE_LABELS: Record<AttributeType, string> = {
  text: "Text",
  number: "Number",
  date: "Date",
  boolean: "Yes / no",
  choice: "One of a list",
};

export { ATTRIBUTE_TYPES, type AttributeType };

export interface AttributeDefinition {
  key: string;
  label: string;
  type: AttributeType;
  /** For "choice": the allowed values; empty otherwise. */
  options: string[];
  createdAt: Date;
}

/** A stored value: numbers and booleans keep their JSON type, dates are "YYYY-MM-DD". */
export type AttributeValue = string | number | boolean;

export type AttributeValues = Record<string, AttributeValue>;

type DefinitionRow = typeof attributeDefinitions.$inferSelect;

function toDefinition(row: DefinitionRow): AttributeDefinition {
  let options: string[] = [];
  if (row.type === "choice" && row.options) {
    const parsed: unknown = JSON.parse(row.options);
    if (Array.isArray(parsed)) options = parsed.filter((o): o is string => typeof o === "string");
  }
  return { key: row.key, label: row.label, type: row.type, options, createdAt: row.createdAt };
}

export function listAttributeDefinitions(db: TenantDb): AttributeDefinition[] {
  return db
    .select()
    .from(attributeDefinitions)
    .orderBy(asc(attributeDefinitions.createdAt), asc(attributeDefinitions.key))
    .all()
    .map(toDefinition);
}

export function getAttributeDefinition(db: TenantDb, key: string): AttributeDefinition {
  const row = ATTRIBUTE_KEY_PATTERN.test(key)
    ? db.select().from(attributeDefinitions).where(eq(attributeDefinitions.key, key)).get()
    : undefined;
  if (!row) throw new NotFoundError("Attribute", key);
  return toDefinition(row);
}

// ---------------------------------------------------------------------------------------------
// Validation of values

export type AttributesResult =
  | {
      ok: true;
      /** Validated values; null means "clear this attribute". */
      values: Record<string, AttributeValue | null>;
    }
  | { ok: false; errors: FieldErrors };

const definitionIndexes = new WeakMap<
  readonly AttributeDefinition[],
  Map<string, AttributeDefinition>
>();

function indexOf(definitions: readonly AttributeDefinition[]): Map<string, AttributeDefinition> {
  let index = definitionIndexes.get(definitions);
  if (!index) {
    index = new Map(definitions.map((d) => [d.key, d]));
    definitionIndexes.set(definitions, index);
  }
  return index;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const GROUPED_NUMBER = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TRUE_WORDS = new Set(["yes", "true", "1", "y"]);
const FALSE_WORDS = new Set(["no", "false", "0", "n"]);

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}

/** One value to its stored form, or an error message (never the value itself). */
export function coerceAttributeValue(
  definition: AttributeDefinition,
  raw: unknown,
): { ok: true; value: AttributeValue | null } | { ok: false; reason: string } {
  if (raw === undefined || raw === null) return { ok: true, value: null };
  if (typeof raw === "string" && raw.trim() === "") return { ok: true, value: null };
  const label = definition.label;
  switch (definition.type) {
    case "text": {
      if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
        return { ok: false, reason: `${label} must be text.` };
      }
      const text = String(raw).trim();
      if (text.length > MAX_TEXT_VALUE) {
        return {
          ok: false,
          reason: `${label} is too long (at most ${MAX_TEXT_VALUE} characters).`,
        };
      }
      return { ok: true, value: text };
    }
    case "number": {
      if (typeof raw === "number") {
        return Number.isFinite(raw)
          ? { ok: true, value: raw }
          : { ok: false, reason: `${label} must be a number.` };
      }
      if (typeof raw !== "string") return { ok: false, reason: `${label} must be a number.` };
      const text = raw.trim();
      const plain = NUMBER.test(text)
        ? text
        : GROUPED_NUMBER.test(text)
          ? text.replace(/,/g, "")
          : null;
      const value = plain === null ? NaN : Number(plain);
      if (!Number.isFinite(value)) {
        return { ok: false, reason: `${label} must be a number, like 42 or 3.5.` };
      }
      return { ok: true, value };
    }
    case "date": {
      const text = typeof raw === "string" ? raw.trim() : "";
      const match = ISO_DATE.exec(text);
      if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
        return { ok: false, reason: `${label} must be a date written as YYYY-MM-DD.` };
      }
      return { ok: true, value: text };
    }
    case "boolean": {
      if (typeof raw === "boolean") return { ok: true, value: raw };
      const word = typeof raw === "number" || typeof raw === "string" ? String(raw).trim() : "";
      const lower = word.toLowerCase();
      if (TRUE_WORDS.has(lower)) return { ok: true, value: true };
      if (FALSE_WORDS.has(lower)) return { ok: true, value: false };
      return { ok: false, reason: `${label} must be yes or no (or true/false, 1/0).` };
    }
    case "choice": {
      const text = typeof raw === "string" || typeof raw === "number" ? String(raw).trim() : "";
      if (definition.options.includes(text)) return { ok: true, value: text };
      const lower = text.toLowerCase();
      const found = definition.options.find((o) => o.toLowerCase() === lower);
      if (found !== undefined) return { ok: true, value: found };
      const shown = definition.options.slice(0, 10).join(", ");
      const more = definition.options.length > 10 ? ", …" : "";
      return { ok: false, reason: `${label} must be one of: ${shown}${more}.` };
    }
  }
}

/**
 * Checks values against the definitions: unknown keys are refused, strings are coerced to the
 * attribute's type. Errors are keyed `attributes.<key>`, as the forms name their fields. Pure
 * and allocation-light: the CSV import calls it for every row.
 */
export function validateAttributes(
  values: Readonly<Record<string, unknown>> | null | undefined,
  definitions: readonly AttributeDefinition[],
): AttributesResult {
  const out: Record<string, AttributeValue | null> = {};
  if (!values) return { ok: true, values: out };
  const index = indexOf(definitions);
  let errors: FieldErrors | null = null;
  for (const key of Object.keys(values)) {
    const definition = index.get(key);
    if (!definition) {
      errors ??= {};
      errors[`attributes.${key}`] = [
        `“${key.slice(0, 40)}” is not an attribute of this workspace. Define it on the attributes page first.`,
      ];
      continue;
    }
    const result = coerceAttributeValue(definition, values[key]);
    if (result.ok) out[key] = result.value;
    else {
      errors ??= {};
      errors[`attributes.${key}`] = [result.reason];
    }
  }
  return errors ? { ok: false, errors } : { ok: true, values: out };
}

/** Values as stored in a contact row, keeping only keys that are still defined. */
export function parseStoredAttributes(
  json: string | null | undefined,
  definitions?: readonly AttributeDefinition[],
): AttributeValues {
  if (!json) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return {};
  const index = definitions ? indexOf(definitions) : null;
  const out: AttributeValues = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (index && !index.has(key)) continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      out[key] = value;
    }
  }
  return out;
}

/** How a stored value reads on a page or in a CSV cell. */
export function formatAttributeValue(value: AttributeValue | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Definitions CRUD

export interface AttributeDefinitionInput {
  key: string;
  label: string;
  type: string;
  options?: readonly string[] | null;
}

function cleanLabel(label: string, errors: FieldErrors): string {
  const clean = label.trim().replace(/\s+/g, " ");
  if (!clean || clean.length > MAX_LABEL) {
    errors.label = [`Give the attribute a label of up to ${MAX_LABEL} characters.`];
  }
  return clean;
}

function cleanOptions(
  type: AttributeType,
  options: readonly string[] | null | undefined,
  errors: FieldErrors,
): string[] {
  if (type !== "choice") return [];
  const seen = new Set<string>();
  const clean: string[] = [];
  for (const option of options ?? []) {
    const value = option.trim().replace(/\s+/g, " ");
    if (!value) continue;
    if (value.length > MAX_OPTION) {
      errors.options = [`Each option can be at most ${MAX_OPTION} characters.`];
      return [];
    }
    const lower = value.toLowerCase();
    if (seen.has(lower)) {
      errors.options = [`“${value}” is listed twice. Each option must be different.`];
      return [];
    }
    seen.add(lower);
    clean.push(value);
  }
  if (clean.length === 0) errors.options = ["List the allowed values, one per line."];
  else if (clean.length > MAX_CHOICE_OPTIONS) {
    errors.options = [`A list can have at most ${MAX_CHOICE_OPTIONS} options.`];
  }
  return clean;
}

function fail(errors: FieldErrors): never {
  throw new ValidationError("Check the highlighted fields.", errors);
}

export function createAttributeDefinition(
  ctx: WorkspaceContext,
  input: AttributeDefinitionInput,
): AttributeDefinition {
  const errors: FieldErrors = {};
  const key = input.key.trim();
  if (!ATTRIBUTE_KEY_PATTERN.test(key)) {
    errors.key = [
      "Use 1–40 lower-case letters, digits and underscores, starting with a letter (e.g. city or plan_tier).",
    ];
  } else if (RESERVED_ATTRIBUTE_KEYS.has(key)) {
    errors.key = [`“${key}” is a built-in contact field. Choose another key.`];
  }
  const label = cleanLabel(input.label, errors);
  const type = (ATTRIBUTE_TYPES as readonly string[]).includes(input.type)
    ? (input.type as AttributeType)
    : null;
  if (!type) errors.type = ["Choose a type from the list."];
  const options = type ? cleanOptions(type, input.options, errors) : [];
  if (Object.keys(errors).length) fail(errors);

  const row = ctx.db.transaction(
    (tx) => {
      const existing = tx
        .select({ key: attributeDefinitions.key })
        .from(attributeDefinitions)
        .where(eq(attributeDefinitions.key, key))
        .get();
      if (existing) fail({ key: [`There is already an attribute with the key “${key}”.`] });
      const total = tx.select({ n: count() }).from(attributeDefinitions).get()?.n ?? 0;
      if (total >= MAX_ATTRIBUTE_DEFINITIONS) {
        throw new ValidationError(
          `A workspace can have at most ${MAX_ATTRIBUTE_DEFINITIONS} attributes. Delete one you no longer use first.`,
        );
      }
      return tx
        .insert(attributeDefinitions)
        .values({
          key,
          label,
          type: type!,
          options: type === "choice" ? JSON.stringify(options) : null,
          createdAt: ctx.now(),
        })
        .returning()
        .get();
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: "contact_attribute.created",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_attribute", id: key },
    details: { type, options: options.length },
  });
  return toDefinition(row);
}

/** Label and options can change; the key and type cannot (stored values depend on them). */
export function updateAttributeDefinition(
  ctx: WorkspaceContext,
  key: string,
  input: { label: string; options?: readonly string[] | null },
): AttributeDefinition {
  const current = getAttributeDefinition(ctx.db, key);
  const errors: FieldErrors = {};
  const label = cleanLabel(input.label, errors);
  const options = cleanOptions(current.type, input.options, errors);
  if (Object.keys(errors).length) fail(errors);
  const row = ctx.db
    .update(attributeDefinitions)
    .set({ label, options: current.type === "choice" ? JSON.stringify(options) : null })
    .where(eq(attributeDefinitions.key, key))
    .returning()
    .get();
  if (!row) throw new NotFoundError("Attribute", key);
  recordAudit(ctx, {
    action: "contact_attribute.updated",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_attribute", id: key },
    details: { options: options.length },
  });
  return toDefinition(row);
}

/**
 * Deletes a definition and, in the same transaction, its values from every contact, so a later
 * attribute with the same key never inherits stale values of another type.
 */
export function deleteAttributeDefinition(
  ctx: WorkspaceContext,
  key: string,
): { valuesCleared: number } {
  getAttributeDefinition(ctx.db, key);
  const path = `$.${key}`;
  const cleared = ctx.db.transaction(
    (tx) => {
      const result = tx
        .update(contacts)
        .set({ attributes: sql`json_remove(${contacts.attributes}, ${path})` })
        .where(sql`json_type(${contacts.attributes}, ${path}) IS NOT NULL`)
        .run();
      tx.delete(attributeDefinitions).where(eq(attributeDefinitions.key, key)).run();
      return result.changes;
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: "contact_attribute.deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_attribute", id: key },
    details: { valuesCleared: cleared },
  });
  return { valuesCleared: cleared };
}
