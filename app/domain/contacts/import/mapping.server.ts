import { and, eq } from "drizzle-orm";
import { contactImports } from "~/db/schema/tenant";
import { CHANNELS, type Channel } from "~/lib/channels";
import { ValidationError, type FieldErrors } from "~/lib/errors";
import { attributeKeyFromLabel } from "~/lib/slug";
import type { WorkspaceContext } from "../../context";
import {
  auditAttributeCreated,
  checkNewAttributeDefinition,
  insertAttributeDefinitions,
  listAttributeDefinitions,
  RESERVED_ATTRIBUTE_KEYS,
  type AttributeDefinition,
  type AttributeType,
  type NewAttributeDefinition,
} from "../attributes.server";
import {
  auditGroupCreated,
  findOrInsertGroup,
  groupNameProblem,
  listGroups,
} from "../groups.server";
import { parseCsvFormat, type ImportField } from "./csv-format.server";
import { MAX_CONSENT_SOURCE, ON_EXISTING, type OnExisting } from "./record-batches.server";
import { validateMapping } from "./records.server";
import { type StoredImportOptions, type ImportSummary, toSummary, findRow } from "./imports.server";

/**
 * The second step of a CSV import: which column is which field, new attributes, what to do with
 * existing contacts, a list, tags and consent, all checked before anything is stored.
 */

const MAX_TAGS = 10;
/** The mapping value of a column that goes to an attribute created with the import. */
export const NEW_ATTRIBUTE_FIELD = "new_attribute";

/** A list-type attribute needs its values listed, so it is made on the attributes page. */
export const IMPORT_ATTRIBUTE_TYPES = ["text", "number", "date", "boolean"] as const;

export interface NewAttributeInput {
  label: string;
  type: string;
}

export interface ImportSettingsInput {
  /** One field per column (see ImportField), or NEW_ATTRIBUTE_FIELD. */
  mapping: readonly string[];
  /** Per column index mapped to NEW_ATTRIBUTE_FIELD: the attribute to create for it. */
  newAttributes?: Readonly<Record<number, NewAttributeInput>>;
  onExisting: string;
  /** An existing list to add everyone to. */
  listId?: number | null;
  /** Or a new list, created with this name. */
  newListName?: string | null;
  /** Tag names: existing ones are reused (case-insensitively), new ones created. */
  tags?: readonly string[];
  consentChannels?: readonly string[];
  consentSource?: string | null;
}

function fail(message: string, field: string): never {
  throw new ValidationError(message, { [field]: [message] });
}

/**
 * The attributes to create for columns mapped to NEW_ATTRIBUTE_FIELD, checked against each other
 * and the existing ones; the mapping with their `attribute:<key>` fields in place. Problems are
 * field errors next to the column (`column.<i>.label`, `column.<i>.type`).
 */
function planNewAttributes(
  mapping: readonly string[],
  input: ImportSettingsInput["newAttributes"],
  definitions: readonly AttributeDefinition[],
  headers: readonly string[],
): { mapping: string[]; create: NewAttributeDefinition[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const create: NewAttributeDefinition[] = [];
  const columnOfKey = new Map<string, number>();
  const resolved = mapping.map((field, i) => {
    if (field !== NEW_ATTRIBUTE_FIELD) return field;
    const labelField = `column.${i}.label`;
    const typeField = `column.${i}.type`;
    const wanted = input?.[i] ?? { label: "", type: "" };
    if (!(IMPORT_ATTRIBUTE_TYPES as readonly string[]).includes(wanted.type)) {
      errors[typeField] = ["Choose a type from the list."];
    }
    const checked = checkNewAttributeDefinition({ key: "", label: wanted.label, type: "text" });
    if (checked.errors) {
      const key = attributeKeyFromLabel(wanted.label);
      errors[labelField] = [
        checked.errors.label
          ? "Give the new attribute a label of up to 80 characters."
          : RESERVED_ATTRIBUTE_KEYS.has(key)
            ? `“${wanted.label.trim()}” is a built-in contact field. Choose it in the list above, or use another label.`
            : "Use a label with at least one Latin letter or digit, for example “City”.",
      ];
      return "ignore";
    }
    const { key, label } = checked.definition;
    const existing = definitions.find((d) => d.key === key);
    if (existing) {
      errors[labelField] = [
        `There is already an attribute “${existing.label}” (key ${key}). Choose “Attribute: ${existing.label}” in the list instead.`,
      ];
      return "ignore";
    }
    const earlier = columnOfKey.get(key);
    if (earlier !== undefined) {
      errors[labelField] = [
        `Column “${headers[earlier]}” already creates an attribute with the key ${key}. Use another label.`,
      ];
      return "ignore";
    }
    columnOfKey.set(key, i);
    if (!errors[typeField]) {
      create.push({ key, label, type: wanted.type as AttributeType, options: [] });
    }
    return `attribute:${key}`;
  });
  return { mapping: resolved, create, errors };
}

/**
 * Validates and stores the column mapping and the options. Consent is only recorded with a
 * stated source ("signed up on website form"): choosing a channel without one is refused.
 * Everything is checked first; then the new attributes, list and tags are created and the
 * settings stored in one transaction, so a refused form leaves nothing behind.
 */
export function setMapping(
  ctx: WorkspaceContext,
  id: string,
  input: ImportSettingsInput,
): ImportSummary {
  const row = findRow(ctx.db, id);
  if (row.status !== "uploaded") {
    throw new ValidationError("This import has already started; its settings can't change now.");
  }
  const format = parseCsvFormat(row.format);
  const definitions = listAttributeDefinitions(ctx);
  if (input.mapping.length !== format.headers.length) {
    throw new ValidationError("Choose a field for every column of the file.");
  }
  const planned = planNewAttributes(
    input.mapping,
    input.newAttributes,
    definitions,
    format.headers,
  );
  const plannedDefinitions: AttributeDefinition[] = [
    ...definitions,
    ...planned.create.map((d) => ({ ...d, createdAt: ctx.now() })),
  ];
  let mapping: ImportField[];
  try {
    mapping = validateMapping(format.headers, planned.mapping, plannedDefinitions);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const errors = { ...error.fieldErrors, ...planned.errors };
    if (Object.keys(errors).length)
      throw new ValidationError("Check the highlighted columns.", errors);
    throw error;
  }
  if (Object.keys(planned.errors).length) {
    throw new ValidationError("Check the highlighted columns.", planned.errors);
  }

  if (!ON_EXISTING.includes(input.onExisting as OnExisting)) {
    fail("Choose what happens to contacts that already exist.", "onExisting");
  }
  const channels = [...new Set(input.consentChannels ?? [])];
  for (const channel of channels) {
    if (!CHANNELS.includes(channel as Channel)) fail("Choose channels from the list.", "consent");
  }
  const source = (input.consentSource ?? "").trim().replace(/\s+/g, " ");
  if (channels.length > 0 && !source) {
    fail(
      "Say where these people gave their consent, for example “signed up on website form”. Consent without a source cannot be proven, so it is not recorded.",
      "consentSource",
    );
  }
  if (source.length > MAX_CONSENT_SOURCE) {
    fail(`Keep the source under ${MAX_CONSENT_SOURCE} characters.`, "consentSource");
  }
  const tagNames = [
    ...new Map(
      (input.tags ?? [])
        .map((t) => t.trim().replace(/\s+/g, " "))
        .filter(Boolean)
        .map((t) => [t.toLowerCase(), t] as const),
    ).values(),
  ];
  if (tagNames.length > MAX_TAGS) fail(`Add at most ${MAX_TAGS} tags per import.`, "tags");
  for (const name of tagNames) {
    const problem = groupNameProblem("tag", name);
    if (problem) fail(problem, "tags");
  }
  const newList = (input.newListName ?? "").trim();
  if (newList) {
    const problem = groupNameProblem("list", newList);
    if (problem) fail(problem, "newListName");
  } else if (input.listId !== undefined && input.listId !== null) {
    const found = listGroups(ctx, "list", { counts: false }).find((l) => l.id === input.listId);
    if (!found) fail("That list does not exist any more. Choose another.", "listId");
  }

  const { updated, created } = ctx.db.transaction(
    (tx) => {
      const attributes = insertAttributeDefinitions(tx, planned.create, ctx.now());
      const list = newList ? findOrInsertGroup(tx, "list", newList, ctx.now()) : null;
      const tags = tagNames.map((name) => findOrInsertGroup(tx, "tag", name, ctx.now()));
      const options: StoredImportOptions = {
        onExisting: input.onExisting as OnExisting,
        listId: list ? list.id : (input.listId ?? null),
        tagIds: tags.map((t) => t.id),
        consent: channels.length ? { channels: channels as Channel[], source } : null,
        defaultCountry: ctx.workspace.country,
      };
      const stored = tx
        .update(contactImports)
        .set({ mapping: JSON.stringify(mapping), options: JSON.stringify(options) })
        .where(and(eq(contactImports.id, id), eq(contactImports.status, "uploaded")))
        .returning()
        .get();
      if (!stored) {
        throw new ValidationError(
          "This import has already started; its settings can't change now.",
        );
      }
      return {
        updated: stored,
        created: {
          attributes,
          list: list?.created ? list.id : null,
          tags: tags.filter((t) => t.created).map((t) => t.id),
        },
      };
    },
    { behavior: "immediate" },
  );
  for (const definition of created.attributes) auditAttributeCreated(ctx, definition);
  if (created.list !== null) auditGroupCreated(ctx, "list", created.list);
  for (const tagId of created.tags) auditGroupCreated(ctx, "tag", tagId);
  return toSummary(updated);
}
