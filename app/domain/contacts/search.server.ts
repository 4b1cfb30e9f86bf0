import type BetterSqlite3 from "better-sqlite3";
import { count } from "drizzle-orm";
import { getCountryCallingCode, isSupportedCountry, type CountryCode } from "libphonenumber-js/min";
import { contacts } from "~/db/schema/tenant";
import { cachedStatement } from "~/db/statements.server";
import type { TenantDb } from "~/db/tenants.server";
import { CHANNELS, type Channel } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { parseStoredAttributes } from "./attributes.server";
import type { Contact } from "./contacts.server";
import type { ConsentStatus } from "./suppressions.server";

/**
 * Finding contacts: the count, the list pages with their search box and filters, and the same
 * search as one WHERE for actions on "every contact matching". Every query is an index range
 * scan with a LIMIT, so a page stays fast at a million contacts.
 */

/** Sorts after every character a prefix can be followed by, so [q, q + TOP) is "starts with q". */
const TOP = "\u{10FFFF}";

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
  const [version, changes] = cachedStatement(
    client,
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

/** The search and filters of a list page, as an action on "every contact matching" reads them. */
export interface ContactMatch {
  q?: string;
  field?: SearchField;
  filters?: ContactFilters;
}

/**
 * What a list page shows, as one boolean expression over `contacts c` (the same search ranges
 * and filters as the listing), for actions on "every contact matching". Null: nothing can
 * match (a phone search without digits).
 */
export function contactMatchWhere(ctx: WorkspaceContext, match: ContactMatch): ContactQuery | null {
  const filters = cleanFilters(match.filters);
  const { mode, sources } = searchSources(match.q, ctx.workspace.country, match.field);
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

function encodeCursor(mode: SearchMode, row: RawRow): string {
  if (mode === "all") return String(row.id);
  return Buffer.from(JSON.stringify([row.k ?? "", row.id]), "utf8").toString("base64url");
}

export const BAD_CURSOR = "That page link is no longer valid. Start again from the first page.";

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
  const results = queries.map(
    (q) => cachedStatement(db.$client, q.sql).all(...q.params) as RawRow[],
  );
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
  // The workspace's country: "98765…" also finds "+9198765…" for IN.
  const { mode, sources } = searchSources(options.q, ctx.workspace.country, options.field);
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
      const found = cachedStatement(
        db.$client,
        `SELECT ct.contact_id AS contactId, t.id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
      ).all(ids) as { contactId: number; id: number; name: string }[];
      for (const t of found) byId.get(t.contactId)!.tags!.push({ id: t.id, name: t.name });
    }
    if (columns.has("lists")) {
      for (const r of rows) r.lists = [];
      const found = cachedStatement(
        db.$client,
        `SELECT lm.contact_id AS contactId, l.id, l.name FROM list_members lm JOIN lists l ON l.id = lm.list_id WHERE lm.contact_id IN (SELECT value FROM json_each(?)) ORDER BY l.name`,
      ).all(ids) as { contactId: number; id: number; name: string }[];
      for (const l of found) byId.get(l.contactId)!.lists!.push({ id: l.id, name: l.name });
    }
  }
  return { rows, next, prev, mode };
}
