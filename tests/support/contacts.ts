import { sql } from "drizzle-orm";
import {
  attributeDefinitions,
  consents,
  contactEvents,
  contacts,
  contactTags,
  listMembers,
  lists,
  tags,
} from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import type { Channel } from "~/lib/channels";

/**
 * Direct inserts into a workspace's own file, for tests that need exact data (ids, creation
 * times, events the delivery engine will write later) without going through the contact
 * pages. The rows are what the contacts domain would store: normalised email and E.164 phone,
 * attributes as JSON with numbers and booleans typed and dates as YYYY-MM-DD.
 */

export interface SeedContact {
  name?: string;
  email?: string | null;
  phone?: string | null;
  country?: string | null;
  attributes?: Record<string, string | number | boolean>;
  createdAt?: Date;
}

export function insertContact(db: TenantDb, input: SeedContact): number {
  const at = input.createdAt ?? new Date();
  const name = input.name ?? "";
  return db
    .insert(contacts)
    .values({
      name,
      nameKey: name.toLowerCase(),
      email: input.email ?? null,
      phone: input.phone ?? null,
      country: input.country ?? null,
      attributes: JSON.stringify(input.attributes ?? {}),
      createdAt: at,
      updatedAt: at,
    })
    .returning({ id: contacts.id })
    .get().id;
}

export function defineAttribute(
  db: TenantDb,
  key: string,
  type: "text" | "number" | "date" | "boolean" | "choice",
  options: string[] = [],
  label = key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()),
): void {
  db.insert(attributeDefinitions)
    .values({
      key,
      label,
      type,
      options: type === "choice" ? JSON.stringify(options) : null,
      createdAt: new Date(),
    })
    .run();
}

export function tagId(db: TenantDb, name: string): number {
  const found = db
    .select({ id: tags.id })
    .from(tags)
    .where(sql`lower(${tags.name}) = lower(${name})`)
    .get();
  return found?.id ?? db.insert(tags).values({ name, createdAt: new Date() }).returning().get().id;
}

export function listId(db: TenantDb, name: string): number {
  const found = db
    .select({ id: lists.id })
    .from(lists)
    .where(sql`lower(${lists.name}) = lower(${name})`)
    .get();
  return found?.id ?? db.insert(lists).values({ name, createdAt: new Date() }).returning().get().id;
}

export function tagContact(db: TenantDb, contactId: number, tag: string): void {
  db.insert(contactTags)
    .values({ contactId, tagId: tagId(db, tag) })
    .onConflictDoNothing()
    .run();
}

export function addToList(db: TenantDb, contactId: number, list: string): void {
  db.insert(listMembers)
    .values({ contactId, listId: listId(db, list), addedAt: new Date() })
    .onConflictDoNothing()
    .run();
}

export function giveConsent(
  db: TenantDb,
  contactId: number,
  channel: Channel,
  status: "granted" | "withdrawn",
  source = "signed up on website form",
  at = new Date(),
): void {
  db.insert(consents)
    .values({ contactId, channel, status, source, at })
    .onConflictDoUpdate({
      target: [consents.contactId, consents.channel],
      set: { status, source, at },
    })
    .run();
}

export function addEvent(
  db: TenantDb,
  contactId: number,
  type: string,
  at: Date,
  channel: Channel | null = null,
): void {
  db.insert(contactEvents).values({ contactId, type, at, channel }).run();
}
