import type { AttributeType } from "~/db/schema/tenant";
import type { FieldErrors } from "~/lib/errors";

/**
 * Custom attribute values: their types and the one validator every write of
 * `contacts.attributes` goes through (forms, the API and the CSV import). Pure and free of
 * database code, so the import's parsing thread loads little; attributes.server.ts (the
 * definitions) re-exports all of it.
 */

export const MAX_TEXT_VALUE = 1000;

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
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const TRUE_WORDS = new Set(["yes", "true", "1", "y"]);
const FALSE_WORDS = new Set(["no", "false", "0", "n"]);

/** The number written by `count` ASCII digits at `from`. */
function digitsAt(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether the day exists in that month, as Date.UTC reckons it (which reads years 0-99 as
 * 1900-1999): arithmetic instead of a Date per value, for imports (tests compare the two).
 */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const y = year >= 0 && year <= 99 ? 1900 + year : year;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return day <= (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!);
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
      // The digits are read in place (no match array: imports check millions of dates).
      if (
        !ISO_DATE.test(text) ||
        !isCalendarDate(digitsAt(text, 0, 4), digitsAt(text, 5, 2), digitsAt(text, 8, 2))
      ) {
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
