import { and, count, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { consents, contactEvents, contacts, suppressions } from "~/db/schema/tenant";
import type { SuppressionReason } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { CHANNELS, type Channel } from "~/lib/channels";
import { emailSchema } from "~/lib/email-address";
import { ValidationError } from "~/lib/errors";
import { normalisePhone } from "~/lib/phone";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { suppressionHash, suppressionKey } from "./suppression-hash.server";

/**
 * The suppression list: people who must not be messaged, kept only as keyed hashes of their
 * normalised email or phone, and the one place consent rows change, so that every
 * change, wherever it comes from, is also a contact event.
 */

export type SuppressionChannel = Channel | "all";
export const SUPPRESSION_CHANNELS: readonly SuppressionChannel[] = [...CHANNELS, "all"];
export type { SuppressionReason };

export const SUPPRESSION_REASON_LABELS: Record<SuppressionReason, string> = {
  unsubscribe: "Unsubscribed",
  erasure: "Erased (privacy request)",
  bounce: "Bounced",
  complaint: "Complaint",
  manual: "Added by hand",
};

type Tx = Parameters<Parameters<TenantDb["transaction"]>[0]>[0];
/** A database handle or an open transaction on it. */
export type TenantWriter = TenantDb | Tx;

export type ConsentStatus = "granted" | "withdrawn";

export interface ConsentChange {
  contactId: number;
  channel: Channel;
  status: ConsentStatus;
  source: string;
  at: Date;
}

/**
 * Sets one contact's consent on one channel and appends the matching "consent.granted" /
 * "consent.withdrawn" event. Call inside the caller's transaction. Returns false when nothing
 * changed (same status and source), in which case nothing is written.
 */
export function writeConsentChange(tx: TenantWriter, change: ConsentChange): boolean {
  const current = tx
    .select({ status: consents.status, source: consents.source })
    .from(consents)
    .where(and(eq(consents.contactId, change.contactId), eq(consents.channel, change.channel)))
    .get();
  if (current && current.status === change.status && current.source === change.source) {
    return false;
  }
  tx.insert(consents)
    .values(change)
    .onConflictDoUpdate({
      target: [consents.contactId, consents.channel],
      set: { status: change.status, source: change.source, at: change.at },
    })
    .run();
  tx.insert(contactEvents)
    .values({
      contactId: change.contactId,
      at: change.at,
      type: `consent.${change.status}`,
      channel: change.channel,
      data: JSON.stringify({ source: change.source, previous: current?.status ?? null }),
    })
    .run();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Lookups

export interface Identifiers {
  email?: string | null;
  phone?: string | null;
}

function hashesOf(key: Buffer, ids: Identifiers): string[] {
  const hashes: string[] = [];
  if (ids.email) hashes.push(suppressionHash(key, "email", ids.email));
  if (ids.phone) hashes.push(suppressionHash(key, "phone", ids.phone));
  return hashes;
}

/**
 * Whether a person (by normalised email and/or E.164 phone) must not be messaged on `channel`:
 * a suppression on that channel or on "all" for either identifier counts. One primary-key
 * lookup per identifier, cheap enough to call per imported row.
 */
export function isSuppressed(
  db: TenantWriter,
  key: Buffer,
  ids: Identifiers,
  channel: SuppressionChannel,
): boolean {
  const hashes = hashesOf(key, ids);
  if (hashes.length === 0) return false;
  const channels = channel === "all" ? SUPPRESSION_CHANNELS : [channel, "all" as const];
  const found = db
    .select({ one: sql<number>`1` })
    .from(suppressions)
    .where(and(inArray(suppressions.hash, hashes), inArray(suppressions.channel, channels)))
    .limit(1)
    .get();
  return Boolean(found);
}

export interface SuppressionMatch {
  kind: "email" | "phone";
  channel: SuppressionChannel;
  reason: SuppressionReason;
  createdAt: Date;
}

/** Every suppression that applies to this person, for the contact page. */
export function suppressionsFor(
  db: TenantWriter,
  key: Buffer,
  ids: Identifiers,
): SuppressionMatch[] {
  const hashes = hashesOf(key, ids);
  if (hashes.length === 0) return [];
  return db
    .select({
      kind: suppressions.kind,
      channel: suppressions.channel,
      reason: suppressions.reason,
      createdAt: suppressions.createdAt,
    })
    .from(suppressions)
    .where(inArray(suppressions.hash, hashes))
    .all();
}

// ---------------------------------------------------------------------------------------------
// Suppressing

function withdrawalSource(reason: SuppressionReason): string {
  return `Suppressed: ${SUPPRESSION_REASON_LABELS[reason].toLowerCase()}`;
}

/**
 * Inserts the hashes and withdraws the matching consent, inside the caller's transaction (for
 * callers that must do more in the same transaction, like erasure). `contact.id` null: a person
 * who is not a contact (yet).
 */
export function suppressContactInTransaction(
  tx: TenantWriter,
  key: Buffer,
  contact: { id: number | null; email: string | null; phone: string | null },
  reason: SuppressionReason,
  channel: SuppressionChannel,
  at: Date,
): { added: number; withdrawn: Channel[] } {
  let added = 0;
  for (const kind of ["email", "phone"] as const) {
    const value = contact[kind];
    if (!value) continue;
    const result = tx
      .insert(suppressions)
      .values({ hash: suppressionHash(key, kind, value), kind, channel, reason, createdAt: at })
      .onConflictDoNothing()
      .run();
    added += result.changes;
  }
  const withdrawn: Channel[] = [];
  if (contact.id !== null) {
    const granted = tx
      .select({ channel: consents.channel })
      .from(consents)
      .where(
        and(
          eq(consents.contactId, contact.id),
          eq(consents.status, "granted"),
          channel === "all" ? undefined : eq(consents.channel, channel),
        ),
      )
      .all();
    for (const row of granted) {
      writeConsentChange(tx, {
        contactId: contact.id,
        channel: row.channel,
        status: "withdrawn",
        source: withdrawalSource(reason),
        at,
      });
      withdrawn.push(row.channel);
    }
    tx.insert(contactEvents)
      .values({
        contactId: contact.id,
        at,
        type: "contact.suppressed",
        channel: channel === "all" ? null : channel,
        data: JSON.stringify({ reason, channel }),
      })
      .run();
  }
  return { added, withdrawn };
}

function assertChannel(channel: string): asserts channel is SuppressionChannel {
  if (!(SUPPRESSION_CHANNELS as readonly string[]).includes(channel)) {
    throw new ValidationError("Choose a channel from the list, or “all channels”.", {
      channel: ["Choose a channel from the list, or “all channels”."],
    });
  }
}

/**
 * Puts a contact's email and phone on the suppression list for `channel` ("all" for every
 * channel) and withdraws their consent there, in one transaction. Audited without the
 * identifiers themselves.
 */
export function suppressContact(
  ctx: WorkspaceContext,
  contact: { id: number; email: string | null; phone: string | null },
  reason: SuppressionReason,
  channel: SuppressionChannel,
): { added: number; withdrawn: Channel[] } {
  assertChannel(channel);
  const key = suppressionKey(ctx.db);
  const at = ctx.now();
  const result = ctx.db.transaction(
    (tx) => suppressContactInTransaction(tx, key, contact, reason, channel, at),
    {
      behavior: "immediate",
    },
  );
  recordAudit(ctx, {
    action: "suppression.added",
    workspaceId: ctx.workspaceId,
    target: { type: "contact", id: contact.id },
    details: { reason, channel, entries: result.added, consentWithdrawn: result.withdrawn },
  });
  return result;
}

export type ParsedIdentifier = { kind: "email"; value: string } | { kind: "phone"; value: string };

/** An email address or phone number typed by a person, normalised as contacts are. */
export function parseIdentifier(input: string, defaultCountry: string): ParsedIdentifier {
  const raw = input.trim();
  if (!raw) {
    const message = "Enter an email address or a phone number.";
    throw new ValidationError(message, { identifier: [message] });
  }
  if (raw.includes("@")) {
    const parsed = emailSchema.safeParse(raw);
    if (!parsed.success) {
      const message = "Enter a valid email address, like name@example.com.";
      throw new ValidationError(message, { identifier: [message] });
    }
    return { kind: "email", value: parsed.data };
  }
  const phone = normalisePhone(raw, defaultCountry);
  if (!phone.ok) throw new ValidationError(phone.reason, { identifier: [phone.reason] });
  return { kind: "phone", value: phone.e164 };
}

/**
 * Suppresses an email address or phone number by hand (reason "manual"). A contact who has it
 * loses their consent on that channel too. Adding what is already there changes nothing.
 */
export function addSuppression(
  ctx: WorkspaceContext,
  input: { identifier: string; channel: string },
): { kind: "email" | "phone"; added: boolean; contactId: number | null } {
  const channel = input.channel;
  assertChannel(channel);
  const id = parseIdentifier(input.identifier, ctx.workspace.country);
  const key = suppressionKey(ctx.db);
  const at = ctx.now();
  const result = ctx.db.transaction(
    (tx) => {
      const column = id.kind === "email" ? contacts.email : contacts.phone;
      const contact = tx
        .select({ id: contacts.id })
        .from(contacts)
        .where(eq(column, id.value))
        .get();
      const { added } = suppressContactInTransaction(
        tx,
        key,
        {
          id: contact?.id ?? null,
          email: id.kind === "email" ? id.value : null,
          phone: id.kind === "phone" ? id.value : null,
        },
        "manual",
        channel,
        at,
      );
      return { added: added > 0, contactId: contact?.id ?? null };
    },
    { behavior: "immediate" },
  );
  if (result.added) {
    recordAudit(ctx, {
      action: "suppression.added",
      workspaceId: ctx.workspaceId,
      target: result.contactId ? { type: "contact", id: result.contactId } : undefined,
      details: { reason: "manual", channel, kind: id.kind },
    });
  }
  return { kind: id.kind, ...result };
}

const HASH = /^[A-Za-z0-9_-]{43}$/;

/**
 * Removes a manual suppression. Unsubscribes, bounces, complaints and erasures are the
 * person's own choice or the law's and stay.
 */
export function removeSuppression(
  ctx: WorkspaceContext,
  input: { hash: string; channel: string },
): void {
  assertChannel(input.channel);
  const channel = input.channel;
  const where = and(eq(suppressions.hash, input.hash), eq(suppressions.channel, channel));
  const row = HASH.test(input.hash)
    ? ctx.db.select().from(suppressions).where(where).get()
    : undefined;
  if (!row) {
    throw new ValidationError(
      "That entry is not on the suppression list (it may already be removed).",
    );
  }
  if (row.reason !== "manual") {
    throw new ValidationError(
      `Only entries added by hand can be removed. This one is “${SUPPRESSION_REASON_LABELS[row.reason]}”: it records the person's own choice or a delivery failure and must stay.`,
    );
  }
  ctx.db.delete(suppressions).where(where).run();
  recordAudit(ctx, {
    action: "suppression.removed",
    workspaceId: ctx.workspaceId,
    target: { type: "suppression", id: row.hash.slice(0, 10) },
    details: { reason: row.reason, channel, kind: row.kind },
  });
}

// ---------------------------------------------------------------------------------------------
// Listing

export interface SuppressionRow {
  /** Insertion order, for keyset paging. */
  seq: number;
  hash: string;
  /** The first characters of the hash: enough to tell entries apart, nothing about the person. */
  fingerprint: string;
  kind: "email" | "phone";
  channel: SuppressionChannel;
  reason: SuppressionReason;
  createdAt: Date;
}

const rowid = sql<number>`${suppressions}.rowid`;

/** Newest first, `limit` at a time; `after` is the `seq` of the last row of the previous page. */
export function listSuppressions(
  ctx: WorkspaceContext,
  options: { after?: number; limit?: number } = {},
): { rows: SuppressionRow[]; next: number | null; total: number } {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  const rows = ctx.db
    .select({
      seq: rowid,
      hash: suppressions.hash,
      kind: suppressions.kind,
      channel: suppressions.channel,
      reason: suppressions.reason,
      createdAt: suppressions.createdAt,
    })
    .from(suppressions)
    .where(options.after ? lt(rowid, options.after) : undefined)
    .orderBy(desc(rowid))
    .limit(limit + 1)
    .all();
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map((r) => ({ ...r, fingerprint: r.hash.slice(0, 10) }));
  const total = ctx.db.select({ n: count() }).from(suppressions).get()?.n ?? 0;
  return { rows: page, next: more ? page[page.length - 1]!.seq : null, total };
}

/** One entry by its hash and channel (for a removal confirmation), or null. */
export function getSuppression(
  ctx: WorkspaceContext,
  hash: string,
  channel: string,
): SuppressionRow | null {
  if (!HASH.test(hash) || !(SUPPRESSION_CHANNELS as readonly string[]).includes(channel)) {
    return null;
  }
  const row = ctx.db
    .select({
      seq: rowid,
      hash: suppressions.hash,
      kind: suppressions.kind,
      channel: suppressions.channel,
      reason: suppressions.reason,
      createdAt: suppressions.createdAt,
    })
    .from(suppressions)
    .where(
      and(eq(suppressions.hash, hash), eq(suppressions.channel, channel as SuppressionChannel)),
    )
    .get();
  return row ? { ...row, fingerprint: row.hash.slice(0, 10) } : null;
}

/** The entries for one typed email address or phone number ("is this person suppressed?"). */
export function findSuppressions(
  ctx: WorkspaceContext,
  identifier: string,
): { kind: "email" | "phone"; rows: SuppressionRow[] } {
  const id = parseIdentifier(identifier, ctx.workspace.country);
  const hash = suppressionHash(suppressionKey(ctx.db), id.kind, id.value);
  const rows = ctx.db
    .select({
      seq: rowid,
      hash: suppressions.hash,
      kind: suppressions.kind,
      channel: suppressions.channel,
      reason: suppressions.reason,
      createdAt: suppressions.createdAt,
    })
    .from(suppressions)
    .where(eq(suppressions.hash, hash))
    .all()
    .map((r) => ({ ...r, fingerprint: r.hash.slice(0, 10) }));
  return { kind: id.kind, rows };
}
