import { stripFormulaGuard } from "~/lib/csv";
import { ValidationError, type FieldErrors } from "~/lib/errors";
import {
  coerceAttributeValue,
  validateAttributes,
  type AttributeDefinition,
  type AttributeValue,
} from "../attribute-values.server";
import {
  nameKeyOf,
  NEED_ONE,
  normaliseEmailValue,
  normaliseNameValue,
  normalisePhoneValue,
  type NormaliseOptions,
} from "../contact-values.server";
import { CONTACT_FIELD_LABELS, type ImportField } from "./csv-format.server";
import type { ImportedRow } from "./record-batches.server";

/**
 * One CSV row to a contact, exactly as the contact form would store it (the contacts domain's
 * normaliseContactInput, step by step from the same field normalisers, without its per-row
 * objects), plus what the import needs around it: which column feeds which field, and reasons
 * named after the file's own column headers. Pure: no database, no I/O.
 */

// ---------------------------------------------------------------------------------------------
// Mapping

export function isAttributeField(field: string): field is `attribute:${string}` {
  return field.startsWith("attribute:");
}

export function fieldLabel(field: ImportField, definitions: readonly AttributeDefinition[]) {
  if (isAttributeField(field)) {
    const key = field.slice("attribute:".length);
    return definitions.find((d) => d.key === key)?.label ?? key;
  }
  return CONTACT_FIELD_LABELS[field];
}

/**
 * Checks a mapping chosen in the form (or guessed for the CLI): one field per column, known
 * fields only, each of email / phone / name / first / last / attribute at most once, email or
 * phone present, and a full name not mixed with first/last names.
 */
export function validateMapping(
  headers: readonly string[],
  mapping: readonly string[],
  definitions: readonly AttributeDefinition[],
): ImportField[] {
  const errors: FieldErrors = {};
  if (mapping.length !== headers.length) {
    throw new ValidationError("Choose a field for every column of the file.");
  }
  const keys = new Set(definitions.map((d) => d.key));
  const seen = new Map<string, number>();
  mapping.forEach((field, index) => {
    const name = `column.${index}`;
    const known =
      field === "ignore" ||
      field in CONTACT_FIELD_LABELS ||
      (isAttributeField(field) && keys.has(field.slice("attribute:".length)));
    if (!known) {
      errors[name] = ["Choose a field from the list."];
      return;
    }
    if (field === "ignore") return;
    const earlier = seen.get(field);
    if (earlier !== undefined) {
      errors[name] = [
        `“${headers[earlier]}” already goes to ${fieldLabel(field as ImportField, definitions)}. Choose another field or “Don't import”.`,
      ];
      return;
    }
    seen.set(field, index);
  });
  if (Object.keys(errors).length) {
    throw new ValidationError("Check the highlighted columns.", errors);
  }
  if (!seen.has("email") && !seen.has("phone")) {
    throw new ValidationError(
      "Choose the column with email addresses or the one with phone numbers: every contact needs one of them.",
    );
  }
  if (seen.has("name") && (seen.has("first_name") || seen.has("last_name"))) {
    throw new ValidationError(
      "Choose either a full-name column or first- and last-name columns, not both.",
    );
  }
  return mapping as ImportField[];
}

export interface RowPlan {
  headers: readonly string[];
  email: number;
  phone: number;
  name: number;
  firstName: number;
  lastName: number;
  /** The column of per-row tag names, or -1. */
  tags: number;
  /** Mapped attribute columns; `definition` null when the key is not (or no longer) defined. */
  attributes: { index: number; key: string; definition: AttributeDefinition | null }[];
  options: NormaliseOptions;
  /** Column header per error field name (email, phone, name, attributes.<key>). */
  columnOf: Map<string, string>;
}

export function compileRowPlan(input: {
  headers: readonly string[];
  mapping: readonly ImportField[];
  definitions: readonly AttributeDefinition[];
  defaultCountry: string;
}): RowPlan {
  const at = (field: ImportField) => input.mapping.indexOf(field);
  const attributes = input.mapping.flatMap((field, index) => {
    if (!isAttributeField(field)) return [];
    const key = field.slice("attribute:".length);
    return [{ index, key, definition: input.definitions.find((d) => d.key === key) ?? null }];
  });
  const plan: RowPlan = {
    headers: input.headers,
    email: at("email"),
    phone: at("phone"),
    name: at("name"),
    firstName: at("first_name"),
    lastName: at("last_name"),
    tags: at("tags"),
    attributes,
    options: { defaultCountry: input.defaultCountry, definitions: input.definitions },
    columnOf: new Map(),
  };
  const header = (i: number) => input.headers[i] ?? `Column ${i + 1}`;
  if (plan.email >= 0) plan.columnOf.set("email", header(plan.email));
  if (plan.phone >= 0) plan.columnOf.set("phone", header(plan.phone));
  const nameColumn = plan.name >= 0 ? plan.name : plan.firstName >= 0 ? plan.firstName : -1;
  if (nameColumn >= 0) plan.columnOf.set("name", header(nameColumn));
  for (const a of attributes) plan.columnOf.set(`attributes.${a.key}`, header(a.index));
  if (plan.tags >= 0) plan.columnOf.set("tags", header(plan.tags));
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Rows

export type RowError = { column: string; reason: string };

/** `warnings`: values left out of an imported row (an unusable email beside a usable phone…). */
export type RowResult =
  | { kind: "row"; row: ImportedRow; warnings: RowError[] | null }
  | { kind: "error"; errors: RowError[] }
  | { kind: "blank" };

/** Written the way people write numbers: digits with + ( ) - . and spaces, nothing else. */
const PLAIN_PHONE = /^[+\d\s().-]+$/;
const PHONE_PUNCTUATION = /[\s().-]/g;
const MAX_PHONE_INPUT = 40;

/** A cell as written, less the apostrophe our own exports put before = + - @ (see csvCell). */
const cell = (cells: readonly string[], index: number) =>
  index >= 0 ? stripFormulaGuard(cells[index] ?? "") : "";

/** A row error named after the file's column. */
function fail(errors: RowError[] | null, plan: RowPlan, field: string, reason: string) {
  const list = errors ?? [];
  list.push({ column: plan.columnOf.get(field) ?? field, reason });
  return list;
}

/** As for tags made by hand (contacts' cleanGroupName). */
export const MAX_TAG_NAME = 60;

/**
 * A cell of tag names, separated by ; or , (our export writes "; "): spaces tidied, the same
 * name twice (in any case) kept once, names too long set apart.
 */
export function parseRowTags(text: string): { names: string[]; tooLong: string[] } {
  const names = new Map<string, string>();
  const tooLong: string[] = [];
  for (const part of text.split(/[;,]/)) {
    const name = part.trim().replace(/\s+/g, " ");
    if (!name) continue;
    if (name.length > MAX_TAG_NAME) tooLong.push(name);
    else if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name);
  }
  return { names: [...names.values()], tooLong };
}

/**
 * One data row to the stored form of a contact, or its errors with the column they are in.
 * Phone punctuation is dropped before libphonenumber sees the number: the result is the same
 * (import tests compare both on many generated forms) and parsing is about a third faster.
 *
 * The steps and their order are normaliseContactInput's (name, email, phone, the need for one
 * of them, attributes in column order), so values and reasons are the contact form's; this runs
 * for every row of a file, so it avoids that function's intermediate objects.
 * records.server.test.ts compares the two on many generated rows.
 */
export function normaliseImportRow(cells: readonly string[], plan: RowPlan): RowResult {
  let blank = true;
  for (let i = 0; i < cells.length; i++) {
    if (cells[i]!.trim() !== "") {
      blank = false;
      break;
    }
  }
  if (blank) return { kind: "blank" };

  if (cells.length > plan.headers.length) {
    for (let i = plan.headers.length; i < cells.length; i++) {
      if (cells[i]!.trim() !== "") {
        return {
          kind: "error",
          errors: [
            {
              column: `Column ${i + 1}`,
              reason: `This row has ${cells.length} values but the header names ${plan.headers.length} columns. A value probably contains the delimiter without quotes around it.`,
            },
          ],
        };
      }
    }
  }

  const rawEmail = cell(cells, plan.email);
  const rawPhone = cell(cells, plan.phone);
  const trimmedPhone = rawPhone.trim();
  if (trimmedPhone === "" && rawEmail.trim() === "") {
    const columns = [plan.columnOf.get("email"), plan.columnOf.get("phone")].filter(Boolean);
    return {
      kind: "error",
      errors: [
        {
          column: columns.join(" / "),
          reason: "The row has neither an email address nor a phone number.",
        },
      ],
    };
  }
  let phoneInput = rawPhone;
  if (trimmedPhone.length <= MAX_PHONE_INPUT && PLAIN_PHONE.test(trimmedPhone)) {
    const digits = trimmedPhone.replace(PHONE_PUNCTUATION, "");
    // Punctuation alone ("--") stays as written, to be reported as not a number.
    if (digits) phoneInput = digits;
  }

  let rawName: string;
  if (plan.name >= 0) rawName = cell(cells, plan.name);
  else {
    const first = cell(cells, plan.firstName).trim();
    const last = cell(cells, plan.lastName).trim();
    rawName = first && last ? `${first} ${last}` : first || last;
  }

  // normaliseContactInput's checks, in its order. (No closure here: one per row is measurable.)
  // `fatal`: an error that rejects the row. An unusable email beside a usable phone (or the
  // reverse) is not: the contact is imported without it and the error becomes a warning.
  let errors: RowError[] | null = null;
  let fatal = false;
  const name = normaliseNameValue(rawName);
  if (!name.ok) {
    errors = fail(errors, plan, "name", name.reason);
    fatal = true;
  }
  const email = normaliseEmailValue(rawEmail);
  const phone = normalisePhoneValue(phoneInput, plan.options.defaultCountry);
  if (!email.ok) {
    errors = fail(errors, plan, "email", email.reason);
    if (!phone.ok || phone.value === null) fatal = true;
  }
  if (!phone.ok) {
    let reason = phone.reason;
    if (phoneInput !== rawPhone) {
      // The reason quotes the number as written in the file, not the stripped form.
      const original = normalisePhoneValue(rawPhone, plan.options.defaultCountry);
      if (!original.ok) reason = original.reason;
    }
    errors = fail(errors, plan, "phone", reason);
    if (!email.ok || email.value === null) fatal = true;
  }
  if (email.ok && phone.ok && !email.value && !phone.value) {
    errors = fail(errors, plan, "email", NEED_ONE);
    errors = fail(errors, plan, "phone", NEED_ONE);
    fatal = true;
  }
  let json: string | null = null;
  if (plan.attributes.length) {
    let values: Record<string, AttributeValue> | null = null;
    for (const a of plan.attributes) {
      const raw = cell(cells, a.index);
      if (a.definition === null) {
        // Not an attribute of this workspace (any more): validateAttributes says so.
        const checked = validateAttributes({ [a.key]: raw }, plan.options.definitions);
        if (!checked.ok) {
          for (const [field, reasons] of Object.entries(checked.errors)) {
            errors = fail(errors, plan, field, reasons[0]!);
            fatal = true;
          }
        }
        continue;
      }
      const result = coerceAttributeValue(a.definition, raw);
      if (!result.ok) {
        errors = fail(errors, plan, `attributes.${a.key}`, result.reason);
        fatal = true;
      } else if (result.value !== null && !fatal) (values ??= {})[a.key] = result.value;
    }
    if (values !== null) json = JSON.stringify(values);
  }
  if (fatal || !name.ok) return { kind: "error", errors: errors ?? [] };
  let tags: string | null = null;
  if (plan.tags >= 0) {
    const parsed = parseRowTags(cell(cells, plan.tags));
    if (parsed.names.length) tags = parsed.names.join("\n");
    for (const long of parsed.tooLong) {
      errors = fail(
        errors,
        plan,
        "tags",
        `The tag “${long.slice(0, 20)}…” is longer than ${MAX_TAG_NAME} characters, so it was left out.`,
      );
    }
  }
  return {
    kind: "row",
    row: {
      email: email.ok ? email.value : null,
      phone: phone.ok ? (phone.value?.e164 ?? null) : null,
      country: phone.ok ? (phone.value?.country ?? null) : null,
      name: name.value,
      nameKey: nameKeyOf(name.value),
      attributes: json,
      tags,
    },
    warnings: errors,
  };
}
