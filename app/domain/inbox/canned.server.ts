import { asc, eq, like } from "drizzle-orm";
import { z } from "zod";
import { cannedResponses } from "~/db/schema/tenant-inbox";
import { NotFoundError, validationErrorFromIssues, ValidationError } from "~/lib/errors";
import { listAttributeDefinitions } from "../contacts/attributes.server";
import { getContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import {
  contactValues,
  formatTemplateError,
  knownVariables,
  parseTemplate,
  promptLabel,
  renderTemplate,
  unknownVariableMessage,
  validateVariables,
  type TemplateValues,
} from "../templates/personalise";
import { AttachmentRefusedError } from "./attachment-types.server";
import {
  attachmentsByIds,
  deleteAttachment,
  storeAttachment,
  type Attachment,
} from "./attachments.server";

/**
 * Canned responses: reusable replies typed as "/shortcut" in the composer. The body uses the
 * personalisation language of templates ({{ first_name | default: "there" }}, also written
 * {{ contact.first_name }}), plus {{ prompt: Order number }} for values typed per use.
 */

export const MAX_CANNED_BODY = 4096;
export const MAX_CANNED_ATTACHMENTS = 10;

export interface CannedResponse {
  id: number;
  shortcut: string;
  title: string;
  body: string;
  attachments: Attachment[];
  /** The prompts the body asks for, in order. */
  prompts: string[];
  createdAt: Date;
  updatedAt: Date;
}

export const CannedInput = z.object({
  shortcut: z
    .string({ error: "Enter a shortcut." })
    .trim()
    .toLowerCase()
    .regex(
      /^[a-z0-9-]{1,30}$/,
      "Use 1 to 30 lower-case letters, digits or hyphens, e.g. refund-policy.",
    ),
  title: z
    .string({ error: "Enter a title." })
    .trim()
    .min(1, "Enter a title.")
    .max(80, "Use at most 80 characters."),
  body: z
    .string({ error: "Enter the text." })
    .trim()
    .min(1, "Enter the text.")
    .max(MAX_CANNED_BODY, `Use at most ${MAX_CANNED_BODY.toLocaleString("en-US")} characters.`),
  attachmentIds: z
    .array(z.string())
    .max(MAX_CANNED_ATTACHMENTS, `Attach at most ${MAX_CANNED_ATTACHMENTS} files.`)
    .default([]),
});
export type CannedInput = z.input<typeof CannedInput>;

type Row = typeof cannedResponses.$inferSelect;

function storedIds(row: Row): string[] {
  try {
    const ids: unknown = JSON.parse(row.attachmentIds);
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function promptsOf(body: string): string[] {
  const parsed = parseTemplate(body);
  if (!parsed.ok) return [];
  return parsed.variables.flatMap((v) => {
    const label = promptLabel(v);
    return label === null ? [] : [label];
  });
}

function toCanned(ctx: WorkspaceContext, row: Row): CannedResponse {
  return {
    id: row.id,
    shortcut: row.shortcut,
    title: row.title,
    body: row.body,
    attachments: attachmentsByIds(ctx, storedIds(row)),
    prompts: promptsOf(row.body),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The variables a body may use: contact fields and attributes, also as contact.<name>. */
function checkBody(ctx: WorkspaceContext, body: string): void {
  const parsed = parseTemplate(body);
  if (!parsed.ok) {
    throw new ValidationError(formatTemplateError(parsed.errors[0]!), {
      body: parsed.errors.map(formatTemplateError),
    });
  }
  const known = knownVariables(listAttributeDefinitions(ctx).map((d) => d.key));
  for (const name of [...known]) known.add(`contact.${name}`);
  const unknown = validateVariables(
    parsed.variables.filter((v) => promptLabel(v) === null),
    known,
  );
  if (unknown.length > 0) {
    throw new ValidationError(unknownVariableMessage(unknown[0]!), {
      body: unknown.map(unknownVariableMessage),
    });
  }
}

function parseInput(ctx: WorkspaceContext, input: CannedInput) {
  const parsed = CannedInput.safeParse(input);
  if (!parsed.success) throw validationErrorFromIssues(parsed.error.issues);
  const value = parsed.data;
  checkBody(ctx, value.body);
  const found = attachmentsByIds(ctx, value.attachmentIds);
  if (found.length !== new Set(value.attachmentIds).size) {
    throw new ValidationError("One of the attachments is no longer there: upload it again.", {
      attachmentIds: ["One of the attachments is no longer there: upload it again."],
    });
  }
  return { ...value, attachmentIds: found.map((a) => a.id) };
}

function duplicate(shortcut: string): ValidationError {
  const message = `The shortcut /${shortcut} is already used by another canned response.`;
  return new ValidationError(message, { shortcut: [message] });
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "SQLITE_CONSTRAINT_UNIQUE";
}

export function listCannedResponses(ctx: WorkspaceContext): CannedResponse[] {
  return ctx.db
    .select()
    .from(cannedResponses)
    .orderBy(asc(cannedResponses.shortcut))
    .all()
    .map((row) => toCanned(ctx, row));
}

export function getCannedResponse(ctx: WorkspaceContext, id: number): CannedResponse {
  const row = ctx.db.select().from(cannedResponses).where(eq(cannedResponses.id, id)).get();
  if (!row) throw new NotFoundError("Canned response");
  return toCanned(ctx, row);
}

/** For the composer's "/" search: responses whose shortcut starts with the prefix (max 10). */
export function findCannedByShortcut(ctx: WorkspaceContext, prefix: string): CannedResponse[] {
  const clean = prefix.trim().replace(/^\//, "").toLowerCase();
  if (!/^[a-z0-9-]{0,30}$/.test(clean)) return [];
  return ctx.db
    .select()
    .from(cannedResponses)
    .where(like(cannedResponses.shortcut, `${clean}%`))
    .orderBy(asc(cannedResponses.shortcut))
    .limit(10)
    .all()
    .map((row) => toCanned(ctx, row));
}

export function createCannedResponse(ctx: WorkspaceContext, input: CannedInput): CannedResponse {
  const value = parseInput(ctx, input);
  const now = ctx.now();
  try {
    const row = ctx.db
      .insert(cannedResponses)
      .values({
        shortcut: value.shortcut,
        title: value.title,
        body: value.body,
        attachmentIds: JSON.stringify(value.attachmentIds),
        createdBy: ctx.actor.type === "user" ? ctx.actor.id : null,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    return toCanned(ctx, row);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(value.shortcut);
    throw error;
  }
}

/** Replaces a response; attachments it no longer lists are deleted (they belong to it alone). */
export function updateCannedResponse(
  ctx: WorkspaceContext,
  id: number,
  input: CannedInput,
): CannedResponse {
  const before = getCannedResponse(ctx, id);
  const value = parseInput(ctx, input);
  let row: Row | undefined;
  try {
    row = ctx.db
      .update(cannedResponses)
      .set({
        shortcut: value.shortcut,
        title: value.title,
        body: value.body,
        attachmentIds: JSON.stringify(value.attachmentIds),
        updatedAt: ctx.now(),
      })
      .where(eq(cannedResponses.id, id))
      .returning()
      .get();
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate(value.shortcut);
    throw error;
  }
  if (!row) throw new NotFoundError("Canned response");
  for (const old of before.attachments) {
    if (!value.attachmentIds.includes(old.id)) deleteAttachment(ctx, old.id);
  }
  return toCanned(ctx, row);
}

export function deleteCannedResponse(ctx: WorkspaceContext, id: number): CannedResponse {
  const before = getCannedResponse(ctx, id);
  ctx.db.delete(cannedResponses).where(eq(cannedResponses.id, id)).run();
  for (const attachment of before.attachments) deleteAttachment(ctx, attachment.id);
  return before;
}

export interface CannedForm {
  /** Absent: a new response. */
  id?: number;
  shortcut: string;
  title: string;
  body: string;
  /** Attachments it already has and keeps. */
  keepAttachmentIds: string[];
  /** Files uploaded with the form, added after the kept ones. */
  files: { filename: string; bytes: Uint8Array }[];
}

/**
 * The settings page's save: stores the uploaded files, then creates or updates the response.
 * Nothing stays half-way: a refused file or form deletes the files stored for it.
 */
export function saveCannedResponse(ctx: WorkspaceContext, form: CannedForm): CannedResponse {
  const stored: Attachment[] = [];
  try {
    const createdBy = ctx.actor.type === "user" ? ctx.actor.id : null;
    for (const file of form.files) {
      try {
        stored.push(storeAttachment(ctx, { ...file, createdBy }));
      } catch (error) {
        if (error instanceof AttachmentRefusedError) {
          throw new ValidationError(error.message, { files: [error.message] });
        }
        throw error;
      }
    }
    const input = {
      shortcut: form.shortcut,
      title: form.title,
      body: form.body,
      attachmentIds: [...form.keepAttachmentIds, ...stored.map((a) => a.id)],
    };
    return form.id === undefined
      ? createCannedResponse(ctx, input)
      : updateCannedResponse(ctx, form.id, input);
  } catch (error) {
    for (const attachment of stored) deleteAttachment(ctx, attachment.id);
    throw error;
  }
}

export interface RenderedCanned {
  /** The bodies, filled in, joined by a blank line. */
  text: string;
  /** Every response's attachments, in order. */
  attachments: Attachment[];
  /** Prompts that still have no value (the composer asks for them); none: ready to send. */
  prompts: string[];
}

/** The values for a contact, under both `first_name` and `contact.first_name`. */
function valuesFor(ctx: WorkspaceContext, contactId: number): TemplateValues {
  const values = contactValues(getContact(ctx, contactId));
  for (const [key, value] of Object.entries(values)) values[`contact.${key}`] = value;
  return values;
}

/**
 * Fills in one or more canned responses for a contact, stacked into one message. Prompt values
 * are matched by label; a prompt without a value renders empty and is listed in `prompts`.
 */
export function renderCannedResponses(
  ctx: WorkspaceContext,
  contactId: number,
  cannedIds: number[],
  promptValues: Record<string, string>,
): RenderedCanned {
  const values = valuesFor(ctx, contactId);
  const missing: string[] = [];
  for (const [label, value] of Object.entries(promptValues)) {
    values[`prompt:${label.trim()}`] = value;
  }
  const texts: string[] = [];
  const attachments: Attachment[] = [];
  for (const id of cannedIds) {
    const canned = getCannedResponse(ctx, id);
    const parsed = parseTemplate(canned.body);
    if (!parsed.ok) throw new ValidationError(formatTemplateError(parsed.errors[0]!));
    for (const variable of parsed.variables) {
      const label = promptLabel(variable);
      const given = values[variable];
      if (
        label !== null &&
        (typeof given !== "string" || !given.trim()) &&
        !missing.includes(label)
      ) {
        missing.push(label);
      }
    }
    texts.push(renderTemplate(parsed, values).trim());
    attachments.push(...canned.attachments);
  }
  return { text: texts.join("\n\n"), attachments, prompts: missing };
}
