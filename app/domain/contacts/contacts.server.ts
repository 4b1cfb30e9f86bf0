import type BetterSqlite3 from "better-sqlite3";
import { and, asc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import {
  contactEvents,
  contacts,
  contactTags,
  inboundMessages,
  listMembers,
  lists,
  tags,
} from "~/db/schema/tenant";
import { attachments } from "~/db/schema/tenant-inbox";
import type { TenantTx } from "~/db/tenants.server";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import { recordAudit } from "../audit/audit.server";
import { removeAttachmentFiles } from "../inbox/attachments.server";
import type { TenantContext, WorkspaceContext } from "../context";
import {
  indexSubjects,
  releaseContactSubjects,
  subjectHashes,
} from "../privacy/subject-index.server";
import {
  listAttributeDefinitions,
  parseStoredAttributes,
  validateAttributes,
  type AttributeDefinition,
  type AttributeValue,
  type AttributeValues,
} from "./attributes.server";
import { consentStates, type ConsentState } from "./consent.server";
import {
  nameKeyOf,
  NEED_ONE,
  normaliseContactInput,
  normaliseEmailValue,
  normaliseNameValue,
  normalisePhoneValue,
  type ContactInput,
  type NormalisedContact,
  type NormaliseResult,
} from "./contact-values.server";
import { suppressionKey } from "./suppression-hash.server";
import {
  suppressContactInTransaction,
  suppressionsFor,
  type SuppressionMatch,
} from "./suppressions.server";

/**
 * Contacts (policy §2.3): the people a workspace messages, in the workspace's own file. The
 * record itself: read, create, edit, delete, erase. Normalisation is pure and shared with the
 * CSV import (contact-values.server.ts); finding contacts is search.server.ts, their timeline
 * timeline.server.ts, tags and lists groups.server.ts, consent consent.server.ts. Every write is
 * one transaction, appends to the contact's timeline and is audited by id only, never with the
 * person's data.
 */

// ---------------------------------------------------------------------------------------------
// Reading

export interface Contact {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  attributes: AttributeValues;
  createdAt: Date;
  updatedAt: Date;
}

type ContactRowDb = typeof contacts.$inferSelect;

function toContact(row: ContactRowDb, definitions?: readonly AttributeDefinition[]): Contact {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    country: row.country,
    attributes: parseStoredAttributes(row.attributes, definitions),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function getContact(ctx: WorkspaceContext, id: number): Contact {
  const row = ctx.db.select().from(contacts).where(eq(contacts.id, id)).get();
  if (!row) throw new NotFoundError("Contact", id);
  return toContact(row);
}

export interface ContactDetails {
  contact: Contact;
  definitions: AttributeDefinition[];
  consents: ConsentState[];
  tags: { id: number; name: string }[];
  lists: { id: number; name: string; addedAt: Date }[];
  suppressions: SuppressionMatch[];
}

/** Everything the contact page shows except the timeline. */
export function getContactDetails(ctx: WorkspaceContext, id: number): ContactDetails {
  const contact = getContact(ctx, id);
  const db = ctx.db;
  const suppressed = suppressionsFor(db, suppressionKey(db), contact);
  return {
    contact,
    definitions: listAttributeDefinitions({ db }),
    consents: consentStates(ctx, id, suppressed),
    tags: db
      .select({ id: tags.id, name: tags.name })
      .from(contactTags)
      .innerJoin(tags, eq(tags.id, contactTags.tagId))
      .where(eq(contactTags.contactId, id))
      .orderBy(asc(tags.name))
      .all(),
    lists: db
      .select({ id: lists.id, name: lists.name, addedAt: listMembers.addedAt })
      .from(listMembers)
      .innerJoin(lists, eq(lists.id, listMembers.listId))
      .where(eq(listMembers.contactId, id))
      .orderBy(asc(lists.name))
      .all(),
    suppressions: suppressed,
  };
}

/** Thrown when an email or phone number already belongs to another contact. */
export class DuplicateContactError extends ValidationError {
  readonly field: "email" | "phone";
  readonly existingId: number;
  constructor(field: "email" | "phone", existingId: number) {
    const what = field === "email" ? "email address" : "phone number";
    const message = `Another contact (#${existingId}) already has this ${what}.`;
    super(message, { [field]: [message] });
    this.field = field;
    this.existingId = existingId;
  }
}

function assertUnique(
  tx: TenantTx,
  values: { email: string | null; phone: string | null },
  self: number | null,
): void {
  for (const field of ["email", "phone"] as const) {
    const value = values[field];
    if (!value) continue;
    const column = field === "email" ? contacts.email : contacts.phone;
    const other = tx
      .select({ id: contacts.id })
      .from(contacts)
      .where(
        self === null ? eq(column, value) : and(eq(column, value), sql`${contacts.id} <> ${self}`),
      )
      .get();
    if (other) throw new DuplicateContactError(field, other.id);
  }
}

const secured = new WeakSet<BetterSqlite3.Database>();

/**
 * Deleted and overwritten personal data must not linger in free space of the tenant file
 * (an erased person leaves only a hash): SQLite zeroes it with secure_delete. Per connection.
 */
export function ensureSecureDelete({ db }: TenantContext): void {
  const client = db.$client;
  if (secured.has(client)) return;
  client.pragma("secure_delete = ON");
  secured.add(client);
}

/** Moves the WAL into the file and truncates it, so old page images go with it. Best effort. */
export function flushWal(ctx: WorkspaceContext): void {
  try {
    const [result] = ctx.db.$client.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
    if (result?.busy) {
      logger.warn({ workspaceId: ctx.workspaceId }, "WAL checkpoint after a deletion was busy");
    }
  } catch (error) {
    logger.warn({ err: error, workspaceId: ctx.workspaceId }, "WAL checkpoint failed");
  }
}

function checked(result: NormaliseResult): NormalisedContact {
  if (!result.ok) throw new ValidationError("Check the highlighted fields.", result.errors);
  return result.value;
}

function withoutNulls(values: Record<string, AttributeValue | null>): AttributeValues {
  const out: AttributeValues = {};
  for (const [key, value] of Object.entries(values)) if (value !== null) out[key] = value;
  return out;
}

function actorKind(ctx: WorkspaceContext): string {
  return ctx.actor.type;
}

/** Phone numbers written without a country code are read as the workspace's country's. */
export function createContact(ctx: WorkspaceContext, input: ContactInput): Contact {
  const definitions = listAttributeDefinitions(ctx);
  const value = checked(
    normaliseContactInput(input, { defaultCountry: ctx.workspace.country, definitions }),
  );
  ensureSecureDelete(ctx);
  const now = ctx.now();
  const row = ctx.db.transaction(
    (tx) => {
      assertUnique(tx, value, null);
      const inserted = tx
        .insert(contacts)
        .values({
          name: value.name,
          nameKey: value.nameKey,
          email: value.email,
          phone: value.phone,
          country: value.country,
          attributes: JSON.stringify(withoutNulls(value.attributes)),
          createdAt: now,
          updatedAt: now,
        })
        .returning()
        .get();
      tx.insert(contactEvents)
        .values({
          contactId: inserted.id,
          at: now,
          type: "contact.created",
          data: JSON.stringify({ by: actorKind(ctx) }),
        })
        .run();
      // Indexed before the commit, as the last step: the privacy index must never miss a
      // workspace holding someone; if the commit failed, the entry is a harmless extra.
      indexSubjects(ctx.workspaceId, subjectHashes(inserted));
      return inserted;
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: "contact.created",
    workspaceId: ctx.workspaceId,
    target: { type: "contact", id: row.id },
  });
  return toContact(row, definitions);
}

/** Fields left undefined stay as they are; an empty email or phone removes it. */
export interface ContactPatch {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  /** Merged into the stored values; an empty value clears that attribute. */
  attributes?: Readonly<Record<string, unknown>> | null;
}

export function updateContact(ctx: WorkspaceContext, id: number, patch: ContactPatch): Contact {
  const definitions = listAttributeDefinitions(ctx);
  const errors: FieldErrors = {};
  const name = patch.name !== undefined ? normaliseNameValue(patch.name) : null;
  if (name && !name.ok) errors.name = [name.reason];
  const email = patch.email !== undefined ? normaliseEmailValue(patch.email) : null;
  if (email && !email.ok) errors.email = [email.reason];
  const phone =
    patch.phone !== undefined ? normalisePhoneValue(patch.phone, ctx.workspace.country) : null;
  if (phone && !phone.ok) errors.phone = [phone.reason];
  const attributes = validateAttributes(patch.attributes, definitions);
  if (!attributes.ok) Object.assign(errors, attributes.errors);
  if (Object.keys(errors).length)
    throw new ValidationError("Check the highlighted fields.", errors);
  ensureSecureDelete(ctx);
  const now = ctx.now();

  const result = ctx.db.transaction(
    (tx) => {
      const current = tx.select().from(contacts).where(eq(contacts.id, id)).get();
      if (!current) throw new NotFoundError("Contact", id);
      const next = {
        name: name?.ok ? name.value : current.name,
        email: email?.ok ? email.value : current.email,
        phone: phone?.ok ? (phone.value?.e164 ?? null) : current.phone,
        country: phone?.ok ? (phone.value?.country ?? null) : current.country,
      };
      if (!next.email && !next.phone) {
        throw new ValidationError(NEED_ONE, { email: [NEED_ONE], phone: [NEED_ONE] });
      }
      const stored = parseStoredAttributes(current.attributes, definitions);
      const merged: AttributeValues = { ...stored };
      if (attributes.ok) {
        for (const [key, value] of Object.entries(attributes.values)) {
          if (value === null) delete merged[key];
          else merged[key] = value;
        }
      }
      const attributesJson = JSON.stringify(merged);
      const changed: string[] = [];
      if (next.name !== current.name) changed.push("name");
      if (next.email !== current.email) changed.push("email");
      if (next.phone !== current.phone) changed.push("phone");
      const before = parseStoredAttributes(current.attributes);
      const attributeKeys = new Set([...Object.keys(before), ...Object.keys(merged)]);
      const changedAttributes = [...attributeKeys].filter((k) => before[k] !== merged[k]);
      if (changed.length === 0 && changedAttributes.length === 0) {
        return { row: current, changed, changedAttributes };
      }
      assertUnique(tx, next, id);
      const row = tx
        .update(contacts)
        .set({
          ...next,
          nameKey: nameKeyOf(next.name),
          attributes: attributesJson,
          updatedAt: now,
        })
        .where(eq(contacts.id, id))
        .returning()
        .get();
      tx.insert(contactEvents)
        .values({
          contactId: id,
          at: now,
          type: "contact.updated",
          data: JSON.stringify({ fields: changed, attributes: changedAttributes }),
        })
        .run();
      // New addresses are indexed before the commit, old ones released after it (below).
      const emailChanged = next.email !== current.email;
      const phoneChanged = next.phone !== current.phone;
      indexSubjects(
        ctx.workspaceId,
        subjectHashes({
          email: emailChanged ? next.email : null,
          phone: phoneChanged ? next.phone : null,
        }),
      );
      const released = {
        email: emailChanged ? current.email : null,
        phone: phoneChanged ? current.phone : null,
      };
      return { row, changed, changedAttributes, released };
    },
    { behavior: "immediate" },
  );
  if (result.released) releaseContactSubjects(ctx.db.$client, ctx.workspaceId, [result.released]);
  if (result.changed.length || result.changedAttributes.length) {
    recordAudit(ctx, {
      action: "contact.updated",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id },
      details: { fields: result.changed, attributes: result.changedAttributes },
    });
  }
  return toContact(result.row, definitions);
}

/**
 * Deletes the contact with its consents, tags, list memberships and timeline (foreign keys
 * cascade), then overwrites what was freed and flushes the WAL.
 */
export function deleteContact(ctx: WorkspaceContext, id: number): void {
  ensureSecureDelete(ctx);
  const deleted = ctx.db
    .delete(contacts)
    .where(eq(contacts.id, id))
    .returning({ id: contacts.id, email: contacts.email, phone: contacts.phone })
    .get();
  if (!deleted) throw new NotFoundError("Contact", id);
  // Unindexed only now that the deletion has committed (never a moment of a missed holder).
  releaseContactSubjects(ctx.db.$client, ctx.workspaceId, [deleted]);
  flushWal(ctx);
  recordAudit(ctx, {
    action: "contact.deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "contact", id },
  });
}

/**
 * Erasure (right to be forgotten): the person's email and phone go on the suppression list
 * for every channel as keyed hashes, and the contact is deleted, in one transaction. Nothing
 * readable is left in the tenant file, yet a later import cannot re-add them.
 */
export function eraseContact(ctx: WorkspaceContext, id: number): void {
  ensureSecureDelete(ctx);
  const key = suppressionKey(ctx.db);
  const now = ctx.now();
  const erased = ctx.db.transaction(
    (tx) => {
      const contact = tx
        .select({ id: contacts.id, email: contacts.email, phone: contacts.phone })
        .from(contacts)
        .where(eq(contacts.id, id))
        .get();
      if (!contact) throw new NotFoundError("Contact", id);
      // Media they sent: read before their inbound rows go with the contact.
      const media = tx
        .select({ id: inboundMessages.attachmentId })
        .from(inboundMessages)
        .where(and(eq(inboundMessages.contactId, id), isNotNull(inboundMessages.attachmentId)))
        .all()
        .map((r) => r.id!);
      const result = suppressContactInTransaction(tx, key, contact, "erasure", "all", now);
      tx.delete(contacts).where(eq(contacts.id, id)).run();
      if (media.length > 0) tx.delete(attachments).where(inArray(attachments.id, media)).run();
      return { added: result.added, contact, media };
    },
    { behavior: "immediate" },
  );
  removeAttachmentFiles(ctx.workspaceId, erased.media);
  releaseContactSubjects(ctx.db.$client, ctx.workspaceId, [erased.contact]);
  flushWal(ctx);
  recordAudit(ctx, {
    action: "suppression.added",
    workspaceId: ctx.workspaceId,
    target: { type: "contact", id },
    details: { reason: "erasure", channel: "all", entries: erased.added },
  });
  recordAudit(ctx, {
    action: "contact.deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "contact", id },
    details: { erased: true },
  });
}
