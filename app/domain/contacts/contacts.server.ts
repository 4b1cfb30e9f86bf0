import type BetterSqlite3 from "better-sqlite3";
import { and, asc, count, desc, eq, lt, or, sql } from "drizzle-orm";
import { getCountryCallingCode, isSupportedCountry, type CountryCode } from "libphonenumber-js/min";
import {
  consents,
  contactEvents,
  contacts,
  contactTags,
  listMembers,
  lists,
  tags,
} from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { CHANNELS, type Channel } from "~/lib/channels";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import {
  indexSubjects,
  releaseContactSubjects,
  subjectHashes,
} from "../privacy/subject-index.server";
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
import {
  listAttributeDefinitions,
  parseStoredAttributes,
  validateAttributes,
  type AttributeDefinition,
  type AttributeValue,
  type AttributeValues,
} from "./attributes.server";
import { suppressionKey } from "./suppression-hash.server";
import {
  isSuppressed,
  suppressContactInTransaction,
  suppressionsFor,
  SUPPRESSION_REASON_LABELS,
  writeConsentChange,
  type ConsentStatus,
  type SuppressionMatch,
} from "./suppressions.server";

/**
 * Contacts (policy §2.3): the people a workspace messages, in the workspace's own file.
 * Normalisation is pure (contact-values.server.ts, shared with the CSV import, re-exported
 * here); every write is one transaction, appends to the contact's timeline and is audited by id
 * only, never with the person's data.
 */

export {
  MAX_NAME,
  nameKeyOf,
  NEED_ONE,
  normaliseContactInput,
  normaliseEmailValue,
  normaliseNameValue,
  normalisePhoneValue,
  type ContactInput,
  type FieldResult,
  type NormalisedContact,
  type NormaliseOptions,
  type NormaliseResult,
} from "./contact-values.server";

/** Sorts after every character a prefix can be followed by, so [q, q + TOP) is "starts with q". */
const TOP = "\u{10FFFF}";

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

export interface ConsentState {
  channel: Channel;
  status: ConsentStatus | null;
  source: string | null;
  at: Date | null;
  /** Suppressions on this channel or on all channels. */
  suppressed: SuppressionMatch[];
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
  const current = db.select().from(consents).where(eq(consents.contactId, id)).all();
  const suppressed = suppressionsFor(db, suppressionKey(db), contact);
  return {
    contact,
    definitions: listAttributeDefinitions(db),
    consents: CHANNELS.map((channel) => {
      const row = current.find((c) => c.channel === channel);
      return {
        channel,
        status: row?.status ?? null,
        source: row?.source ?? null,
        at: row?.at ?? null,
        suppressed: suppressed.filter((s) => s.channel === channel || s.channel === "all"),
      };
    }),
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

/** Per connection: the last count and the database's state it was taken in. */
const contactCounts = new WeakMap<
  BetterSqlite3.Database,
  { version: number; changes: number; n: number }
>();

/**
 * How many contacts the workspace has. Counting a million rows reads a whole index (several ms,
 * and pages from the WAL while an import writes), and the contacts page asks on every view, so
 * the answer is kept until the database changes: data_version moves when another connection
 * (an import worker, another process) commits, total_changes() when this one writes. Never
 * stale, and never kept from inside a transaction, which may still roll back.
 */
export function countContacts(ctx: WorkspaceContext): number {
  const client = ctx.db.$client;
  if (client.inTransaction) return ctx.db.select({ n: count() }).from(contacts).get()?.n ?? 0;
  const [version, changes] = prepared(
    ctx.db,
    "SELECT data_version, total_changes() FROM pragma_data_version",
  )
    .raw()
    .get() as [number, number];
  const known = contactCounts.get(client);
  if (known && known.version === version && known.changes === changes) return known.n;
  const n = ctx.db.select({ n: count() }).from(contacts).get()?.n ?? 0;
  contactCounts.set(client, { version, changes, n });
  return n;
}

// ---------------------------------------------------------------------------------------------
// Listing and search: every query is an index range scan with a LIMIT (fast at 1M contacts).

export type ConsentFilterStatus = ConsentStatus | "none";

export interface ContactFilters {
  tagId?: number;
  listId?: number;
  consent?: { channel: Channel; status: ConsentFilterStatus };
  country?: string;
}

/** Extra per-row data a list page may ask for (the other columns come with every row). */
export type ContactListExtra = "tags" | "lists";

export interface ListContactsOptions {
  /** A prefix of a name, an email address or a phone number. */
  q?: string;
  /** Which of them `q` is; "auto" (the default) tells from the text. */
  field?: SearchField;
  filters?: ContactFilters;
  columns?: readonly string[];
  /** Cursor of the last row of the previous page (Next). */
  after?: string;
  /** Cursor of the first row of the following page (Previous). */
  before?: string;
  limit?: number;
  /** The workspace's country: "98765…" also finds "+9198765…" for IN. */
  defaultCountry: string;
}

export type SearchMode = "all" | "name" | "email" | "phone";

export interface ContactListRow extends Contact {
  tags?: { id: number; name: string }[];
  lists?: { id: number; name: string }[];
}

export interface ContactListPage {
  rows: ContactListRow[];
  next: string | null;
  prev: string | null;
  mode: SearchMode;
}

type KeyColumn = "name_key" | "email" | "phone";

interface Source {
  column: KeyColumn;
  lo: string;
  hi: string;
}

export interface ContactQuery {
  sql: string;
  params: (string | number)[];
}

const SELECT = `c.id, c.name, c.email, c.phone, c.country, c.attributes, c.created_at AS createdAt, c.updated_at AS updatedAt`;

interface RawRow {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  attributes: string;
  createdAt: number;
  updatedAt: number;
  k?: string;
}

const utf8 = (s: string) => Buffer.from(s, "utf8");
/** SQLite's BINARY collation: UTF-8 byte order (JS compares UTF-16 code units). */
function compareText(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(utf8(a), utf8(b));
}

function phonePrefixes(q: string, defaultCountry: string): string[] {
  const digits = q.replace(/\D/g, "");
  if (!digits) return [];
  let candidates: string[];
  if (q.trim().startsWith("+")) candidates = [`+${digits}`];
  else if (digits.startsWith("00")) candidates = [`+${digits.slice(2)}`];
  else {
    candidates = [`+${digits}`];
    if (isSupportedCountry(defaultCountry)) {
      const code = getCountryCallingCode(defaultCountry as CountryCode);
      const national = digits.replace(/^0+/, "");
      candidates.push(`+${code}${national}`);
    }
  }
  const valid = [...new Set(candidates)].filter((c) => /^\+[1-9]\d*$/.test(c) || c === "+");
  // A prefix that extends another finds nothing the shorter one doesn't.
  return valid.filter((c) => !valid.some((o) => o !== c && c.startsWith(o)));
}

const PHONE_LIKE = /^[+\d\s().-]+$/;
/** No spaces, and a character names rarely have but addresses do: "priya.s", "ravi_k", "rahul88". */
const EMAIL_START = /^[\p{L}\p{N}._%+'-]+$/u;
const EMAIL_HINT = /[._%+\d]/;

export const SEARCH_FIELDS = ["auto", "name", "email", "phone"] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

/**
 * Which index range answers a search box query. "auto" reads the text: an "@" or the look of
 * an address means email, digits (with + ( ) - . spaces) mean phone, anything else a name.
 * Each mode is a range of one index, so a page never scans more than it shows.
 */
export function searchSources(
  q: string | undefined,
  defaultCountry: string,
  field: SearchField = "auto",
): { mode: SearchMode; sources: Source[] } {
  const text = (q ?? "").normalize("NFKC").replace(/\s+/g, " ").trimStart().slice(0, 200);
  if (!text.trim()) return { mode: "all", sources: [] };
  const trimmed = text.trim();
  let mode: Exclude<SearchMode, "all">;
  if (field !== "auto") mode = field;
  else if (trimmed.includes("@")) mode = "email";
  else if (PHONE_LIKE.test(trimmed) && /\d/.test(trimmed)) mode = "phone";
  else if (EMAIL_START.test(trimmed) && EMAIL_HINT.test(trimmed)) mode = "email";
  else mode = "name";
  if (mode === "phone") {
    return {
      mode,
      sources: phonePrefixes(trimmed, defaultCountry).map((lo) => ({
        column: "phone" as const,
        lo,
        hi: lo + TOP,
      })),
    };
  }
  // Names keep a trailing space ("ravi " finds "Ravi Kumar", not "Ravindra").
  const lo = mode === "email" ? trimmed.toLowerCase() : text.toLowerCase();
  const column = mode === "email" ? "email" : "name_key";
  return { mode, sources: [{ column, lo, hi: lo + TOP }] };
}

/**
 * The filters as EXISTS / column conditions on `c`. `drivenByKey`: the scan is a range of a
 * search key, and the country condition must not tempt the planner away from it (the unary
 * plus keeps contacts_country_idx out: a country holds most contacts, a prefix few).
 */
function filterSql(
  filters: ContactFilters,
  skip: keyof ContactFilters | null,
  drivenByKey: boolean,
): ContactQuery {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (filters.tagId !== undefined && skip !== "tagId") {
    parts.push(
      "EXISTS (SELECT 1 FROM contact_tags ft WHERE ft.contact_id = c.id AND ft.tag_id = ?)",
    );
    params.push(filters.tagId);
  }
  if (filters.listId !== undefined && skip !== "listId") {
    parts.push(
      "EXISTS (SELECT 1 FROM list_members fl WHERE fl.list_id = ? AND fl.contact_id = c.id)",
    );
    params.push(filters.listId);
  }
  if (filters.consent && skip !== "consent") {
    if (filters.consent.status === "none") {
      parts.push(
        "NOT EXISTS (SELECT 1 FROM consents fc WHERE fc.contact_id = c.id AND fc.channel = ?)",
      );
      params.push(filters.consent.channel);
    } else {
      parts.push(
        "EXISTS (SELECT 1 FROM consents fc WHERE fc.contact_id = c.id AND fc.channel = ? AND fc.status = ?)",
      );
      params.push(filters.consent.channel, filters.consent.status);
    }
  }
  if (filters.country !== undefined && skip !== "country") {
    parts.push(drivenByKey ? "+c.country = ?" : "c.country = ?");
    params.push(filters.country);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(""), params };
}

/**
 * What a list page shows, as one boolean expression over `contacts c` (the same search ranges
 * and filters as the listing), for actions on "every contact matching". Null: nothing can
 * match (a phone search without digits).
 */
export function contactMatchWhere(options: {
  q?: string;
  field?: SearchField;
  filters?: ContactFilters;
  defaultCountry: string;
}): ContactQuery | null {
  const filters = cleanFilters(options.filters);
  const { mode, sources } = searchSources(options.q, options.defaultCountry, options.field);
  if (mode !== "all" && sources.length === 0) return null;
  const params: (string | number)[] = [];
  let where = "1";
  if (mode !== "all") {
    where = `(${sources.map((s) => `(c.${s.column} >= ? AND c.${s.column} < ?)`).join(" OR ")})`;
    for (const s of sources) params.push(s.lo, s.hi);
  }
  const rest = filterSql(filters, null, mode !== "all");
  return { sql: `${where}${rest.sql}`, params: [...params, ...rest.params] };
}

type Cursor = { key: string; id: number };

/**
 * The SQL a listing runs: one statement per index range (two for a phone prefix that may be
 * written with or without the country code),
 * each `LIMIT limit + 1`. Exported for the benchmark and the query-plan tests.
 */
export function buildContactQueries(
  mode: SearchMode,
  sources: readonly Source[],
  filters: ContactFilters,
  page: { direction: "next" | "prev"; cursor: Cursor | null; limit: number },
): ContactQuery[] {
  const { direction, cursor, limit } = page;
  const forward = direction === "next";
  if (mode === "all") {
    // Newest first by id; the most selective membership filter drives the scan through its
    // index, (tag_id, contact_id) or (list_id, contact_id) or (channel, status, contact_id).
    const f = filters;
    let from = "contacts c";
    let idColumn = "c.id";
    let skip: keyof ContactFilters | null = null;
    const params: (string | number)[] = [];
    const where: string[] = [];
    if (f.tagId !== undefined) {
      from = "contact_tags d CROSS JOIN contacts c ON c.id = d.contact_id";
      where.push("d.tag_id = ?");
      params.push(f.tagId);
      idColumn = "d.contact_id";
      skip = "tagId";
    } else if (f.listId !== undefined) {
      from = "list_members d CROSS JOIN contacts c ON c.id = d.contact_id";
      where.push("d.list_id = ?");
      params.push(f.listId);
      idColumn = "d.contact_id";
      skip = "listId";
    } else if (f.consent && f.consent.status !== "none") {
      from = "consents d CROSS JOIN contacts c ON c.id = d.contact_id";
      where.push("d.channel = ? AND d.status = ?");
      params.push(f.consent.channel, f.consent.status);
      idColumn = "d.contact_id";
      skip = "consent";
    }
    if (cursor) {
      where.push(`${idColumn} ${forward ? "<" : ">"} ?`);
      params.push(cursor.id);
    }
    const rest = filterSql(f, skip, false);
    const whereSql = where.length ? ` WHERE ${where.join(" AND ")}` : " WHERE 1";
    return [
      {
        sql: `SELECT ${SELECT} FROM ${from}${whereSql}${rest.sql} ORDER BY ${idColumn} ${forward ? "DESC" : "ASC"} LIMIT ?`,
        params: [...params, ...rest.params, limit + 1],
      },
    ];
  }
  return sources.map((source) => {
    const col = `c.${source.column}`;
    const params: (string | number)[] = [];
    let where: string;
    if (!cursor) {
      where = `${col} >= ? AND ${col} < ?`;
      params.push(source.lo, source.hi);
    } else if (forward) {
      const start = compareText(cursor.key, source.lo) > 0 ? cursor.key : source.lo;
      where = `${col} >= ? AND ${col} < ? AND (${col} > ? OR c.id > ?)`;
      params.push(start, source.hi, cursor.key, cursor.id);
    } else {
      const end = compareText(cursor.key, source.hi) < 0 ? cursor.key : source.hi;
      where = `${col} <= ? AND ${col} >= ? AND ${col} < ? AND (${col} < ? OR c.id < ?)`;
      params.push(end, source.lo, source.hi, cursor.key, cursor.id);
    }
    const rest = filterSql(filters, null, true);
    const order = forward ? "ASC" : "DESC";
    return {
      sql: `SELECT ${SELECT}, ${col} AS k FROM contacts c WHERE ${where}${rest.sql} ORDER BY ${col} ${order}, c.id ${order} LIMIT ?`,
      params: [...params, ...rest.params, limit + 1],
    };
  });
}

const statements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

/** Prepared once per connection and SQL text (a bounded set: modes x filters). */
function prepared(db: TenantDb, text: string): BetterSqlite3.Statement {
  const client = db.$client;
  let cache = statements.get(client);
  if (!cache) {
    cache = new Map();
    statements.set(client, cache);
  }
  let statement = cache.get(text);
  if (!statement) {
    statement = client.prepare(text);
    if (cache.size > 200) cache.clear();
    cache.set(text, statement);
  }
  return statement;
}

function encodeCursor(mode: SearchMode, row: RawRow): string {
  if (mode === "all") return String(row.id);
  return Buffer.from(JSON.stringify([row.k ?? "", row.id]), "utf8").toString("base64url");
}

const BAD_CURSOR = "That page link is no longer valid. Start again from the first page.";

function decodeCursor(mode: SearchMode, value: string): Cursor {
  if (mode === "all") {
    if (/^[1-9]\d{0,14}$/.test(value)) return { key: "", id: Number(value) };
  } else if (value.length <= 1200 && /^[A-Za-z0-9_-]+$/.test(value)) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
      if (
        Array.isArray(parsed) &&
        parsed.length === 2 &&
        typeof parsed[0] === "string" &&
        Number.isSafeInteger(parsed[1])
      ) {
        return { key: parsed[0], id: parsed[1] as number };
      }
    } catch {
      // falls through to the error below
    }
  }
  throw new ValidationError(BAD_CURSOR, { after: [BAD_CURSOR] });
}

function toListRow(row: RawRow): ContactListRow {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    country: row.country,
    attributes: parseStoredAttributes(row.attributes),
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

function runPage(
  db: TenantDb,
  mode: SearchMode,
  sources: readonly Source[],
  filters: ContactFilters,
  direction: "next" | "prev",
  cursor: Cursor | null,
  limit: number,
): RawRow[] {
  const queries = buildContactQueries(mode, sources, filters, { direction, cursor, limit });
  const results = queries.map((q) => prepared(db, q.sql).all(...q.params) as RawRow[]);
  if (results.length === 1) return results[0]!;
  const sign = direction === "next" ? 1 : -1;
  return results
    .flat()
    .sort((a, b) => sign * (compareText(a.k ?? "", b.k ?? "") || a.id - b.id))
    .slice(0, limit + 1);
}

function cleanFilters(filters: ContactFilters | undefined): ContactFilters {
  const f = filters ?? {};
  const out: ContactFilters = {};
  const positive = (n: number | undefined) => n !== undefined && Number.isSafeInteger(n) && n > 0;
  if (f.tagId !== undefined) {
    if (!positive(f.tagId)) throw new ValidationError("Choose a tag from the list.");
    out.tagId = f.tagId;
  }
  if (f.listId !== undefined) {
    if (!positive(f.listId)) throw new ValidationError("Choose a list from the list.");
    out.listId = f.listId;
  }
  if (f.consent) {
    if (
      !(CHANNELS as readonly string[]).includes(f.consent.channel) ||
      !["granted", "withdrawn", "none"].includes(f.consent.status)
    ) {
      throw new ValidationError("Choose a consent channel and status from the lists.");
    }
    out.consent = f.consent;
  }
  if (f.country !== undefined) {
    if (!/^[A-Z]{2}$/.test(f.country)) throw new ValidationError("Choose a country from the list.");
    out.country = f.country;
  }
  return out;
}

/**
 * One page of contacts: newest first, or, with a search, in order of the matched name, email
 * or phone. Keyset pagination (`after` for Next, `before` for Previous) keeps every page an
 * index range scan, however deep.
 */
export function listContacts(ctx: WorkspaceContext, options: ListContactsOptions): ContactListPage {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 200);
  const filters = cleanFilters(options.filters);
  const { mode, sources } = searchSources(options.q, options.defaultCountry, options.field);
  if (mode !== "all" && sources.length === 0) return { rows: [], next: null, prev: null, mode };
  const db = ctx.db;
  let raw: RawRow[];
  let next: string | null = null;
  let prev: string | null = null;
  const before = options.before ? decodeCursor(mode, options.before) : null;
  const after = !before && options.after ? decodeCursor(mode, options.after) : null;
  if (before) {
    const back = runPage(db, mode, sources, filters, "prev", before, limit);
    if (back.length > limit) {
      raw = back.slice(0, limit).reverse();
      prev = encodeCursor(mode, raw[0]!);
      next = raw.length ? encodeCursor(mode, raw[raw.length - 1]!) : null;
    } else {
      // Back at the start: show a full first page rather than a short one.
      raw = runPage(db, mode, sources, filters, "next", null, limit);
      if (raw.length > limit) {
        raw = raw.slice(0, limit);
        next = encodeCursor(mode, raw[raw.length - 1]!);
      }
    }
  } else {
    raw = runPage(db, mode, sources, filters, "next", after, limit);
    if (raw.length > limit) {
      raw = raw.slice(0, limit);
      next = encodeCursor(mode, raw[raw.length - 1]!);
    }
    if (after && raw.length) prev = encodeCursor(mode, raw[0]!);
  }
  const rows = raw.map(toListRow);
  const columns = new Set(options.columns ?? []);
  if (rows.length && (columns.has("tags") || columns.has("lists"))) {
    // One statement whatever the page size: the ids travel as a JSON array.
    const ids = JSON.stringify(rows.map((r) => r.id));
    const byId = new Map(rows.map((r) => [r.id, r]));
    if (columns.has("tags")) {
      for (const r of rows) r.tags = [];
      const found = prepared(
        db,
        `SELECT ct.contact_id AS contactId, t.id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
      ).all(ids) as { contactId: number; id: number; name: string }[];
      for (const t of found) byId.get(t.contactId)!.tags!.push({ id: t.id, name: t.name });
    }
    if (columns.has("lists")) {
      for (const r of rows) r.lists = [];
      const found = prepared(
        db,
        `SELECT lm.contact_id AS contactId, l.id, l.name FROM list_members lm JOIN lists l ON l.id = lm.list_id WHERE lm.contact_id IN (SELECT value FROM json_each(?)) ORDER BY l.name`,
      ).all(ids) as { contactId: number; id: number; name: string }[];
      for (const l of found) byId.get(l.contactId)!.lists!.push({ id: l.id, name: l.name });
    }
  }
  return { rows, next, prev, mode };
}

// ---------------------------------------------------------------------------------------------
// Writing

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

type Tx = Parameters<Parameters<TenantDb["transaction"]>[0]>[0];

function assertUnique(
  tx: Tx,
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
export function ensureSecureDelete(db: TenantDb): void {
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

export function createContact(
  ctx: WorkspaceContext,
  input: ContactInput,
  options: { defaultCountry: string },
): Contact {
  const definitions = listAttributeDefinitions(ctx.db);
  const value = checked(
    normaliseContactInput(input, { defaultCountry: options.defaultCountry, definitions }),
  );
  ensureSecureDelete(ctx.db);
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

export function updateContact(
  ctx: WorkspaceContext,
  id: number,
  patch: ContactPatch,
  options: { defaultCountry: string },
): Contact {
  const definitions = listAttributeDefinitions(ctx.db);
  const errors: FieldErrors = {};
  const name = patch.name !== undefined ? normaliseNameValue(patch.name) : null;
  if (name && !name.ok) errors.name = [name.reason];
  const email = patch.email !== undefined ? normaliseEmailValue(patch.email) : null;
  if (email && !email.ok) errors.email = [email.reason];
  const phone =
    patch.phone !== undefined ? normalisePhoneValue(patch.phone, options.defaultCountry) : null;
  if (phone && !phone.ok) errors.phone = [phone.reason];
  const attributes = validateAttributes(patch.attributes, definitions);
  if (!attributes.ok) Object.assign(errors, attributes.errors);
  if (Object.keys(errors).length)
    throw new ValidationError("Check the highlighted fields.", errors);
  ensureSecureDelete(ctx.db);
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
  ensureSecureDelete(ctx.db);
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
  ensureSecureDelete(ctx.db);
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
      const result = suppressContactInTransaction(tx, key, contact, "erasure", "all", now);
      tx.delete(contacts).where(eq(contacts.id, id)).run();
      return { added: result.added, contact };
    },
    { behavior: "immediate" },
  );
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

// ---------------------------------------------------------------------------------------------
// Consent

const MAX_SOURCE = 200;
const CHANNEL_NEEDS: Record<Channel, "email" | "phone" | null> = {
  email: "email",
  whatsapp: "phone",
  sms: "phone",
  telegram: null,
};

/**
 * Grants or withdraws consent on one channel. Granting needs a source in the tenant's words
 * ("signed up on website form") and is refused for people on the suppression list. Every
 * change appends a consent.granted / consent.withdrawn event with its source.
 */
export function setConsent(
  ctx: WorkspaceContext,
  contactId: number,
  channel: string,
  status: string,
  source: string | null | undefined,
): { changed: boolean } {
  if (!(CHANNELS as readonly string[]).includes(channel)) {
    throw new ValidationError("Choose a channel from the list.", {
      channel: ["Choose a channel from the list."],
    });
  }
  if (status !== "granted" && status !== "withdrawn") {
    throw new ValidationError("Choose granted or withdrawn.", {
      status: ["Choose granted or withdrawn."],
    });
  }
  const ch = channel as Channel;
  let text = (source ?? "").trim().replace(/\s+/g, " ");
  if (text.length > MAX_SOURCE) {
    const message = `Keep the source under ${MAX_SOURCE} characters.`;
    throw new ValidationError(message, { source: [message] });
  }
  if (status === "granted" && !text) {
    const message =
      "Say where this consent came from, for example “signed up on website form”. Consent without a source cannot be proven.";
    throw new ValidationError(message, { source: [message] });
  }
  if (!text) text = "Withdrawn in the dashboard";
  const key = suppressionKey(ctx.db);
  const now = ctx.now();
  const changed = ctx.db.transaction(
    (tx) => {
      const contact = tx
        .select({ id: contacts.id, email: contacts.email, phone: contacts.phone })
        .from(contacts)
        .where(eq(contacts.id, contactId))
        .get();
      if (!contact) throw new NotFoundError("Contact", contactId);
      if (status === "granted") {
        const needs = CHANNEL_NEEDS[ch];
        if (needs && !contact[needs]) {
          throw new ValidationError(
            `This contact has no ${needs === "email" ? "email address" : "phone number"}, so there is nothing to send ${ch === "email" ? "email" : ch === "sms" ? "SMS" : "WhatsApp messages"} to. Add one first.`,
          );
        }
        if (isSuppressed(tx, key, contact, ch)) {
          const reasons = suppressionsFor(tx, key, contact)
            .filter((s) => s.channel === ch || s.channel === "all")
            .map((s) => SUPPRESSION_REASON_LABELS[s.reason].toLowerCase());
          throw new ValidationError(
            `Consent cannot be granted: this person is on the suppression list for this channel (${[...new Set(reasons)].join(", ")}). They must not be messaged there.`,
          );
        }
      }
      return writeConsentChange(tx, {
        contactId,
        channel: ch,
        status,
        source: text,
        at: now,
      });
    },
    { behavior: "immediate" },
  );
  if (changed) {
    recordAudit(ctx, {
      action: "contact.consent_changed",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { channel: ch, status },
    });
  }
  return { changed };
}

// ---------------------------------------------------------------------------------------------
// Timeline

export interface TimelineEvent {
  id: number;
  at: Date;
  type: string;
  channel: Channel | null;
  data: Record<string, unknown>;
}

/** Newest first; `before` is the cursor from the previous page ("<at>.<id>"). */
export function listContactTimeline(
  ctx: WorkspaceContext,
  contactId: number,
  options: { before?: string; limit?: number } = {},
): { events: TimelineEvent[]; next: string | null } {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  let cursor: { at: number; id: number } | null = null;
  if (options.before) {
    const match = /^(\d{1,15})\.(\d{1,15})$/.exec(options.before);
    if (!match) throw new ValidationError(BAD_CURSOR);
    cursor = { at: Number(match[1]), id: Number(match[2]) };
  }
  const rows = ctx.db
    .select()
    .from(contactEvents)
    .where(
      and(
        eq(contactEvents.contactId, contactId),
        cursor
          ? or(
              lt(contactEvents.at, new Date(cursor.at)),
              and(eq(contactEvents.at, new Date(cursor.at)), lt(contactEvents.id, cursor.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(contactEvents.at), desc(contactEvents.id))
    .limit(limit + 1)
    .all();
  const more = rows.length > limit;
  const events = rows.slice(0, limit).map((r) => {
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = r.data ? JSON.parse(r.data) : {};
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        data = parsed as Record<string, unknown>;
      }
    } catch {
      data = {};
    }
    return { id: r.id, at: r.at, type: r.type, channel: r.channel, data };
  });
  const last = events[events.length - 1];
  return { events, next: more && last ? `${last.at.getTime()}.${last.id}` : null };
}

// ---------------------------------------------------------------------------------------------
// Tags and lists

const MAX_GROUP_NAME = 60;

function cleanGroupName(what: "tag" | "list", input: string): string {
  const name = input.trim().replace(/\s+/g, " ");
  if (!name || name.length > MAX_GROUP_NAME) {
    const message = `Give the ${what} a name of up to ${MAX_GROUP_NAME} characters.`;
    throw new ValidationError(message, { name: [message] });
  }
  return name;
}

export interface Group {
  id: number;
  name: string;
  contacts: number;
  createdAt: Date;
}

function duplicateName(what: "tag" | "list", name: string): never {
  const message = `There is already a ${what} called “${name}”.`;
  throw new ValidationError(message, { name: [message] });
}

/** By name; `counts: false` skips counting members (for filter menus). */
export function listTags(ctx: WorkspaceContext, options: { counts?: boolean } = {}): Group[] {
  const counts = new Map(
    options.counts === false
      ? []
      : ctx.db
          .select({ id: contactTags.tagId, n: count() })
          .from(contactTags)
          .groupBy(contactTags.tagId)
          .all()
          .map((r) => [r.id, r.n]),
  );
  return ctx.db
    .select()
    .from(tags)
    .orderBy(sql`lower(${tags.name})`)
    .all()
    .map((t) => ({ ...t, contacts: counts.get(t.id) ?? 0 }));
}

/** By name; `counts: false` skips counting members (for filter menus). */
export function listLists(ctx: WorkspaceContext, options: { counts?: boolean } = {}): Group[] {
  const counts = new Map(
    options.counts === false
      ? []
      : ctx.db
          .select({ id: listMembers.listId, n: count() })
          .from(listMembers)
          .groupBy(listMembers.listId)
          .all()
          .map((r) => [r.id, r.n]),
  );
  return ctx.db
    .select()
    .from(lists)
    .orderBy(sql`lower(${lists.name})`)
    .all()
    .map((l) => ({ ...l, contacts: counts.get(l.id) ?? 0 }));
}

/** Tags and lists are the same kind of thing to manage: a named group of contacts. */
export type GroupKind = "tag" | "list";
// Both tables have the same columns (id, name, createdAt); one code path manages either.
const GROUP_TABLES = { tag: tags, list: lists as unknown as typeof tags } as const;
const GROUP_LABELS = { tag: "Tag", list: "List" } as const;

function findGroupByName(tx: TenantDb | Tx, kind: GroupKind, name: string) {
  const table = GROUP_TABLES[kind];
  return tx
    .select()
    .from(table)
    .where(sql`lower(${table.name}) = lower(${name})`)
    .get();
}

function createGroup(ctx: WorkspaceContext, kind: GroupKind, input: string) {
  const name = cleanGroupName(kind, input);
  const table = GROUP_TABLES[kind];
  const row = ctx.db.transaction(
    (tx) => {
      if (findGroupByName(tx, kind, name)) duplicateName(kind, name);
      return tx.insert(table).values({ name, createdAt: ctx.now() }).returning().get();
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: `${kind}.created`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id: row.id },
  });
  return { id: row.id, name: row.name };
}

/**
 * For a form that creates several things at once (the import's options): a tag or list name
 * checked as createTag/createList check it, without storing anything. Null when it is fine.
 */
export function groupNameProblem(kind: GroupKind, input: string): string | null {
  try {
    cleanGroupName(kind, input);
    return null;
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
}

/**
 * Inside the caller's transaction: the tag or list with this name (any case), inserted when
 * there is none. The caller audits the created ones after its transaction commits.
 */
export function findOrInsertGroup(
  tx: Tx,
  kind: GroupKind,
  input: string,
  now: Date,
): { id: number; name: string; created: boolean } {
  const name = cleanGroupName(kind, input);
  const found = findGroupByName(tx, kind, name);
  if (found) return { id: found.id, name: found.name, created: false };
  const row = tx.insert(GROUP_TABLES[kind]).values({ name, createdAt: now }).returning().get();
  return { id: row.id, name: row.name, created: true };
}

export function auditGroupCreated(ctx: WorkspaceContext, kind: GroupKind, id: number): void {
  recordAudit(ctx, {
    action: `${kind}.created`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id },
  });
}

function renameGroup(ctx: WorkspaceContext, kind: GroupKind, id: number, input: string): void {
  const name = cleanGroupName(kind, input);
  const table = GROUP_TABLES[kind];
  ctx.db.transaction(
    (tx) => {
      const existing = findGroupByName(tx, kind, name);
      if (existing && existing.id !== id) duplicateName(kind, name);
      const done = tx.update(table).set({ name }).where(eq(table.id, id)).run();
      if (done.changes === 0) throw new NotFoundError(GROUP_LABELS[kind], id);
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: `${kind}.renamed`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id },
  });
}

function deleteGroup(ctx: WorkspaceContext, kind: GroupKind, id: number): void {
  const table = GROUP_TABLES[kind];
  const done = ctx.db.delete(table).where(eq(table.id, id)).run();
  if (done.changes === 0) throw new NotFoundError(GROUP_LABELS[kind], id);
  recordAudit(ctx, {
    action: `${kind}.deleted`,
    workspaceId: ctx.workspaceId,
    target: { type: kind, id },
  });
}

export const createTag = (ctx: WorkspaceContext, name: string) => createGroup(ctx, "tag", name);
export const renameTag = (ctx: WorkspaceContext, id: number, name: string) =>
  renameGroup(ctx, "tag", id, name);
export const deleteTag = (ctx: WorkspaceContext, id: number) => deleteGroup(ctx, "tag", id);
export const createList = (ctx: WorkspaceContext, name: string) => createGroup(ctx, "list", name);
export const renameList = (ctx: WorkspaceContext, id: number, name: string) =>
  renameGroup(ctx, "list", id, name);
export const deleteList = (ctx: WorkspaceContext, id: number) => deleteGroup(ctx, "list", id);

function requireContact(tx: Tx, id: number): void {
  const found = tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, id)).get();
  if (!found) throw new NotFoundError("Contact", id);
}

/** The tag called `tagName` (in any case), created when it is new. */
export function ensureTag(ctx: WorkspaceContext, tagName: string): { id: number; name: string } {
  const name = cleanGroupName("tag", tagName);
  return ctx.db.transaction(
    (tx) => {
      const tag =
        findGroupByName(tx, "tag", name) ??
        tx.insert(tags).values({ name, createdAt: ctx.now() }).returning().get();
      return { id: tag.id, name: tag.name };
    },
    { behavior: "immediate" },
  );
}

/** The existing tag called `tagName` (in any case), or a clear error naming it. */
export function findTag(ctx: WorkspaceContext, tagName: string): { id: number; name: string } {
  const name = cleanGroupName("tag", tagName);
  const tag = findGroupByName(ctx.db, "tag", name);
  if (!tag) {
    const message = `There is no tag called “${name}”.`;
    throw new ValidationError(message, { tag: [message] });
  }
  return { id: tag.id, name: tag.name };
}

/** Tags a contact by tag name, creating the tag when it is new. */
export function tagContact(
  ctx: WorkspaceContext,
  contactId: number,
  tagName: string,
): { tagId: number; added: boolean } {
  const name = cleanGroupName("tag", tagName);
  const now = ctx.now();
  const result = ctx.db.transaction(
    (tx) => {
      requireContact(tx, contactId);
      const tag =
        findGroupByName(tx, "tag", name) ??
        tx.insert(tags).values({ name, createdAt: now }).returning().get();
      const added =
        tx.insert(contactTags).values({ contactId, tagId: tag.id }).onConflictDoNothing().run()
          .changes > 0;
      if (added) {
        tx.insert(contactEvents)
          .values({
            contactId,
            at: now,
            type: "tag.added",
            data: JSON.stringify({ tag: tag.name }),
          })
          .run();
      }
      return { tagId: tag.id, added };
    },
    { behavior: "immediate" },
  );
  if (result.added) {
    recordAudit(ctx, {
      action: "contact.updated",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { tagAdded: result.tagId },
    });
  }
  return result;
}

export function untagContact(ctx: WorkspaceContext, contactId: number, tagId: number): void {
  const now = ctx.now();
  const removed = ctx.db.transaction(
    (tx) => {
      requireContact(tx, contactId);
      const tag = tx.select().from(tags).where(eq(tags.id, tagId)).get();
      const done = tx
        .delete(contactTags)
        .where(and(eq(contactTags.contactId, contactId), eq(contactTags.tagId, tagId)))
        .run();
      if (done.changes && tag) {
        tx.insert(contactEvents)
          .values({
            contactId,
            at: now,
            type: "tag.removed",
            data: JSON.stringify({ tag: tag.name }),
          })
          .run();
      }
      return done.changes > 0;
    },
    { behavior: "immediate" },
  );
  if (removed) {
    recordAudit(ctx, {
      action: "contact.updated",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { tagRemoved: tagId },
    });
  }
}

export function addContactToList(
  ctx: WorkspaceContext,
  contactId: number,
  listId: number,
): boolean {
  const now = ctx.now();
  const added = ctx.db.transaction(
    (tx) => {
      requireContact(tx, contactId);
      const list = tx.select().from(lists).where(eq(lists.id, listId)).get();
      if (!list) {
        throw new ValidationError("That list does not exist any more.", {
          listId: ["Choose a list from the list."],
        });
      }
      const done = tx
        .insert(listMembers)
        .values({ listId, contactId, addedAt: now })
        .onConflictDoNothing()
        .run();
      if (done.changes) {
        tx.insert(contactEvents)
          .values({
            contactId,
            at: now,
            type: "list.added",
            data: JSON.stringify({ list: list.name }),
          })
          .run();
      }
      return done.changes > 0;
    },
    { behavior: "immediate" },
  );
  if (added) {
    recordAudit(ctx, {
      action: "contact.updated",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { listAdded: listId },
    });
  }
  return added;
}

export function removeContactFromList(
  ctx: WorkspaceContext,
  contactId: number,
  listId: number,
): void {
  const now = ctx.now();
  const removed = ctx.db.transaction(
    (tx) => {
      requireContact(tx, contactId);
      const list = tx.select().from(lists).where(eq(lists.id, listId)).get();
      const done = tx
        .delete(listMembers)
        .where(and(eq(listMembers.listId, listId), eq(listMembers.contactId, contactId)))
        .run();
      if (done.changes && list) {
        tx.insert(contactEvents)
          .values({
            contactId,
            at: now,
            type: "list.removed",
            data: JSON.stringify({ list: list.name }),
          })
          .run();
      }
      return done.changes > 0;
    },
    { behavior: "immediate" },
  );
  if (removed) {
    recordAudit(ctx, {
      action: "contact.updated",
      workspaceId: ctx.workspaceId,
      target: { type: "contact", id: contactId },
      details: { listRemoved: listId },
    });
  }
}
