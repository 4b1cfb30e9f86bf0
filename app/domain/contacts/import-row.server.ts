import { ValidationError, type FieldErrors } from "~/lib/errors";
import type { AttributeDefinition } from "./attributes.server";
import {
  normaliseContactInput,
  normalisePhoneValue,
  type NormaliseOptions,
} from "./contacts.server";
import { CONTACT_FIELD_LABELS, type ImportField } from "./csv-format.server";
import type { ImportedRow } from "./import-batch.server";

/**
 * One CSV row to a contact, exactly as the contact form would store it (the contacts domain's
 * normaliseContactInput), plus what the import needs around it: which column feeds which field,
 * and reasons named after the file's own column headers. Pure: no database, no I/O.
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
  attributes: { index: number; key: string }[];
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
  const attributes = input.mapping.flatMap((field, index) =>
    isAttributeField(field) ? [{ index, key: field.slice("attribute:".length) }] : [],
  );
  const plan: RowPlan = {
    headers: input.headers,
    email: at("email"),
    phone: at("phone"),
    name: at("name"),
    firstName: at("first_name"),
    lastName: at("last_name"),
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
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Rows

export type RowError = { column: string; reason: string };

export type RowResult =
  { kind: "row"; row: ImportedRow } | { kind: "error"; errors: RowError[] } | { kind: "blank" };

/** Written the way people write numbers: digits with + ( ) - . and spaces, nothing else. */
const PLAIN_PHONE = /^[+\d\s().-]+$/;
const PHONE_PUNCTUATION = /[\s().-]/g;
const MAX_PHONE_INPUT = 40;

const cell = (cells: readonly string[], index: number) => (index >= 0 ? (cells[index] ?? "") : "");

/**
 * One data row to the stored form of a contact, or its errors with the column they are in.
 * Phone punctuation is dropped before libphonenumber sees the number: the result is the same
 * (import tests compare both on many generated forms) and parsing is about a third faster.
 */
export function normaliseImportRow(cells: readonly string[], plan: RowPlan): RowResult {
  let blank = true;
  for (const c of cells) {
    if (c.trim() !== "") {
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
  if (rawEmail.trim() === "" && rawPhone.trim() === "") {
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
  const trimmedPhone = rawPhone.trim();
  let phone = rawPhone;
  if (trimmedPhone.length <= MAX_PHONE_INPUT && PLAIN_PHONE.test(trimmedPhone)) {
    const digits = trimmedPhone.replace(PHONE_PUNCTUATION, "");
    // Punctuation alone ("--") stays as written, to be reported as not a number.
    if (digits) phone = digits;
  }

  let name: string;
  if (plan.name >= 0) name = cell(cells, plan.name);
  else {
    const first = cell(cells, plan.firstName).trim();
    const last = cell(cells, plan.lastName).trim();
    name = first && last ? `${first} ${last}` : first || last;
  }

  let attributes: Record<string, string> | null = null;
  if (plan.attributes.length) {
    attributes = {};
    for (const a of plan.attributes) attributes[a.key] = cell(cells, a.index);
  }

  const result = normaliseContactInput({ email: rawEmail, phone, name, attributes }, plan.options);
  if (!result.ok) {
    const errors: RowError[] = [];
    for (const [field, reasons] of Object.entries(result.errors)) {
      let reason = reasons[0] ?? "This value is not valid.";
      if (field === "phone" && phone !== rawPhone) {
        // The reason quotes the number as written in the file, not the stripped form.
        const original = normalisePhoneValue(rawPhone, plan.options.defaultCountry);
        if (!original.ok) reason = original.reason;
      }
      errors.push({ column: plan.columnOf.get(field) ?? field, reason });
    }
    return { kind: "error", errors };
  }
  const value = result.value;
  let attributes_: Record<string, unknown> | null = null;
  for (const key in value.attributes) {
    const v = value.attributes[key];
    if (v !== null && v !== undefined) (attributes_ ??= {})[key] = v;
  }
  return {
    kind: "row",
    row: {
      email: value.email,
      phone: value.phone,
      country: value.country,
      name: value.name,
      nameKey: value.nameKey,
      attributes: attributes_ ? JSON.stringify(attributes_) : null,
    },
  };
}
