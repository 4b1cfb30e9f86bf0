import { asc, count, eq, sql } from "drizzle-orm";
import {
  ATTRIBUTE_TYPES,
  attributeDefinitions,
  contacts,
  type AttributeType,
} from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { attributeKeyFromLabel } from "~/lib/slug";
import { recordAudit } from "../audit/audit.server";
import type { TenantContext, WorkspaceContext } from "../context";
import type { AttributeDefinition } from "./attribute-values.server";

export {
  coerceAttributeValue,
  formatAttributeValue,
  isCalendarDate,
  MAX_TEXT_VALUE,
  parseStoredAttributes,
  validateAttributes,
  type AttributeDefinition,
  type AttributesResult,
  type AttributeValue,
  type AttributeValues,
} from "./attribute-values.server";

/**
 * Custom attribute definitions (text, number, date, boolean, one-of list) and, re-exported from
 * attribute-values.server.ts, the one validator every write of `contacts.attributes` goes
 * through: forms, the API and the CSV import.
 */

export const ATTRIBUTE_KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_ATTRIBUTE_DEFINITIONS = 100;
export const MAX_CHOICE_OPTIONS = 100;
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

type DefinitionRow = typeof attributeDefinitions.$inferSelect;

function toDefinition(row: DefinitionRow): AttributeDefinition {
  let options: string[] = [];
  if (row.type === "choice" && row.options) {
    const parsed: unknown = JSON.parse(row.options);
    if (Array.isArray(parsed)) options = parsed.filter((o): o is string => typeof o === "string");
  }
  return { key: row.key, label: row.label, type: row.type, options, createdAt: row.createdAt };
}

export function listAttributeDefinitions({ db }: TenantContext): AttributeDefinition[] {
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

type Tx = Parameters<Parameters<TenantDb["transaction"]>[0]>[0];

/** A new definition's fields, checked and cleaned, not yet stored. */
export interface NewAttributeDefinition {
  key: string;
  label: string;
  type: AttributeType;
  options: string[];
}

/**
 * Checks a new definition without writing anything: field errors are keyed key, label, type and
 * options. An empty key is made from the label (as the form does while the label is typed).
 * Whether the key is already taken is checked when it is stored.
 */
export function checkNewAttributeDefinition(
  input: AttributeDefinitionInput,
):
  { definition: NewAttributeDefinition; errors: null } | { definition: null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const key = input.key.trim() || attributeKeyFromLabel(input.label);
  if (!key) {
    errors.key = [
      "Enter a key: lower-case letters, digits and underscores, starting with a letter (e.g. city or plan_tier).",
    ];
  } else if (!ATTRIBUTE_KEY_PATTERN.test(key)) {
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
  if (Object.keys(errors).length) return { definition: null, errors };
  return { definition: { key, label, type: type!, options }, errors: null };
}

/**
 * Stores checked definitions inside the caller's transaction (opened "immediate", so the check
 * for a taken key and the insert see the same data). A taken key or the workspace's limit throws
 * a ValidationError, which rolls the caller's whole transaction back.
 */
export function insertAttributeDefinitions(
  tx: Tx,
  definitions: readonly NewAttributeDefinition[],
  now: Date,
): AttributeDefinition[] {
  if (definitions.length === 0) return [];
  const total = tx.select({ n: count() }).from(attributeDefinitions).get()?.n ?? 0;
  if (total + definitions.length > MAX_ATTRIBUTE_DEFINITIONS) {
    throw new ValidationError(
      `A workspace can have at most ${MAX_ATTRIBUTE_DEFINITIONS} attributes. Delete one you no longer use first.`,
    );
  }
  return definitions.map((d) => {
    const existing = tx
      .select({ key: attributeDefinitions.key })
      .from(attributeDefinitions)
      .where(eq(attributeDefinitions.key, d.key))
      .get();
    if (existing) fail({ key: [`There is already an attribute with the key “${d.key}”.`] });
    const row = tx
      .insert(attributeDefinitions)
      .values({
        key: d.key,
        label: d.label,
        type: d.type,
        options: d.type === "choice" ? JSON.stringify(d.options) : null,
        createdAt: now,
      })
      .returning()
      .get();
    return toDefinition(row);
  });
}

/** The audit entry of a stored definition (recorded after its transaction committed). */
export function auditAttributeCreated(ctx: WorkspaceContext, definition: AttributeDefinition) {
  recordAudit(ctx, {
    action: "contact_attribute.created",
    workspaceId: ctx.workspaceId,
    target: { type: "contact_attribute", id: definition.key },
    details: { type: definition.type, options: definition.options.length },
  });
}

/** An empty key is made from the label (as the form does while the label is typed). */
export function createAttributeDefinition(
  ctx: WorkspaceContext,
  input: AttributeDefinitionInput,
): AttributeDefinition {
  const checked = checkNewAttributeDefinition(input);
  if (checked.errors) fail(checked.errors);
  const [definition] = ctx.db.transaction(
    (tx) => insertAttributeDefinitions(tx, [checked.definition], ctx.now()),
    { behavior: "immediate" },
  );
  auditAttributeCreated(ctx, definition!);
  return definition!;
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
