import { regexes } from "zod/v4/core";
import type { FieldErrors } from "~/lib/errors";
import { normalisePhone } from "~/lib/phone";
import {
  validateAttributes,
  type AttributeDefinition,
  type AttributeValue,
} from "./attribute-values.server";

/**
 * A contact's values as typed or imported, to their stored form. Pure and free of database code
 * (the import's parsing thread calls it for every row and loads little); the contact form
 * (contacts.server.ts) and the CSV import both use it.
 */

export const MAX_NAME = 200;
const MAX_EMAIL = 254;
const EMAIL = regexes.email;

export interface ContactInput {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  attributes?: Readonly<Record<string, unknown>> | null;
}

export interface NormalisedContact {
  name: string;
  /** The search form of the name: NFKC, lower-cased, single spaces. */
  nameKey: string;
  email: string | null;
  phone: string | null;
  /** ISO country of the phone number. */
  country: string | null;
  /** Validated values; the keys given with an empty value are null ("clear"). */
  attributes: Record<string, AttributeValue | null>;
}

export type NormaliseResult =
  { ok: true; value: NormalisedContact } | { ok: false; errors: FieldErrors };

export interface NormaliseOptions {
  /** The workspace's country, for numbers written without a country code. */
  defaultCountry: string;
  definitions: readonly AttributeDefinition[];
}

/**
 * Whitespace that `.replace(/\s+/g, " ").trim()` would change: any but a single inner space.
 * Most names have none, and the import normalises millions of them.
 */
const UNTIDY_SPACE = /[^\S ]|\s\s|^\s|\s$/;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export function nameKeyOf(name: string): string {
  // NFKC leaves ASCII as it is.
  const lower = (isAscii(name) ? name : name.normalize("NFKC")).toLowerCase();
  return UNTIDY_SPACE.test(lower) ? lower.replace(/\s+/g, " ").trim() : lower;
}

export type FieldResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Trimmed, validated, lower-cased; empty is null. */
export function normaliseEmailValue(input: string | null | undefined): FieldResult<string | null> {
  const raw = input?.trim() ?? "";
  if (!raw) return { ok: true, value: null };
  if (raw.length > MAX_EMAIL) return { ok: false, reason: "That email address is too long." };
  if (!EMAIL.test(raw)) {
    return { ok: false, reason: "Enter a valid email address, like name@example.com." };
  }
  return { ok: true, value: raw.toLowerCase() };
}

/** E.164 with the workspace's default country; empty is null. */
export function normalisePhoneValue(
  input: string | null | undefined,
  defaultCountry: string,
): FieldResult<{ e164: string; country: string | null } | null> {
  const raw = input?.trim() ?? "";
  if (!raw) return { ok: true, value: null };
  const result = normalisePhone(raw, defaultCountry);
  return result.ok
    ? { ok: true, value: { e164: result.e164, country: result.country } }
    : { ok: false, reason: result.reason };
}

export function normaliseNameValue(input: string | null | undefined): FieldResult<string> {
  const trimmed = (input ?? "").trim();
  const name = UNTIDY_SPACE.test(trimmed) ? trimmed.replace(/\s+/g, " ") : trimmed;
  if (name.length > MAX_NAME) {
    return { ok: false, reason: `The name is too long (at most ${MAX_NAME} characters).` };
  }
  return { ok: true, value: name };
}

export const NEED_ONE = "Give an email address or a phone number (or both).";

/**
 * A contact as typed or imported, to the stored form: email trimmed and lower-cased, phone in
 * E.164, name and its search key, attributes validated and coerced. Every problem is a field
 * error with a reason; nothing is silently dropped.
 */
export function normaliseContactInput(
  input: ContactInput,
  options: NormaliseOptions,
): NormaliseResult {
  let errors: FieldErrors | null = null;
  const fail = (field: string, reason: string) => {
    errors ??= {};
    (errors[field] ??= []).push(reason);
  };
  const name = normaliseNameValue(input.name);
  if (!name.ok) fail("name", name.reason);
  const email = normaliseEmailValue(input.email);
  if (!email.ok) fail("email", email.reason);
  const phone = normalisePhoneValue(input.phone, options.defaultCountry);
  if (!phone.ok) fail("phone", phone.reason);
  if (email.ok && phone.ok && !email.value && !phone.value) {
    fail("email", NEED_ONE);
    fail("phone", NEED_ONE);
  }
  const attributes = validateAttributes(input.attributes, options.definitions);
  if (!attributes.ok) {
    for (const [field, reasons] of Object.entries(attributes.errors)) {
      for (const reason of reasons) fail(field, reason);
    }
  }
  if (errors || !name.ok || !email.ok || !phone.ok || !attributes.ok) {
    return { ok: false, errors: errors ?? {} };
  }
  return {
    ok: true,
    value: {
      name: name.value,
      nameKey: nameKeyOf(name.value),
      email: email.value,
      phone: phone.value?.e164 ?? null,
      country: phone.value?.country ?? null,
      attributes: attributes.values,
    },
  };
}
