import type Database from "better-sqlite3";
import { strToU8, zipSync, type Zippable } from "fflate";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { csvLine, type CsvValue } from "~/lib/csv";
import { suppressionHash } from "../contacts/suppression-hash-value.server";

/**
 * The machine-readable bundle of an access/export request (policy §5): one JSON file
 * with everything and one CSV per section, zipped. Pure functions over a raw connection and a
 * plain subject, so the export worker thread and the tests use the same code. Only rows that
 * belong to the subject are read: their contact rows (by normalised email or E.164 phone), what
 * hangs off those ids, messages and inbound messages addressed to or sent from their own
 * identifiers, and suppressions of their own hashes.
 */

export interface BundleSubject {
  email: string | null;
  phone: string | null;
}

/** One table of the bundle: its rows as plain JSON values, and the CSV columns. */
export interface BundleSection {
  name: string;
  columns: string[];
  rows: Record<string, CsvValue>[];
}

export interface Bundle {
  title: string;
  generatedAt: string;
  sections: BundleSection[];
}

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

function section(name: string, columns: string[], rows: Record<string, CsvValue>[]) {
  return { name, columns, rows };
}

/** The contact ids holding this email or phone in one workspace's file. */
export function matchingContactIds(client: Database.Database, subject: BundleSubject): number[] {
  const rows = client
    .prepare("SELECT id FROM contacts WHERE email = ? OR phone = ? ORDER BY id")
    .all(subject.email ?? null, subject.phone ?? null) as { id: number }[];
  return rows.map((r) => r.id);
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => "?").join(", ");
}

/**
 * Everything one workspace holds about the subject. `suppressionKey` is the workspace's own
 * key (tenant_meta), so their suppression entries are found by their hashes.
 */
export function collectContactBundle(
  client: Database.Database,
  subject: BundleSubject,
  suppressionKey: Buffer,
  now: Date,
): Bundle {
  const ids = matchingContactIds(client, subject);
  const idList = placeholders(ids.length);
  const byIds = <T>(sql: string): T[] =>
    ids.length ? (client.prepare(sql.replace("(:ids)", `(${idList})`)).all(...ids) as T[]) : [];

  type ContactRow = {
    id: number;
    name: string;
    email: string | null;
    phone: string | null;
    country: string | null;
    telegram_chat_id: string | null;
    attributes: string;
    created_at: number;
    updated_at: number;
  };
  const contactRows = byIds<ContactRow>(
    "SELECT id, name, email, phone, country, telegram_chat_id, attributes, created_at, updated_at FROM contacts WHERE id IN (:ids) ORDER BY id",
  );
  const definitions = new Map(
    (
      client.prepare("SELECT key, label, type FROM attribute_definitions").all() as {
        key: string;
        label: string;
        type: string;
      }[]
    ).map((d) => [d.key, d]),
  );
  const attributes: Record<string, CsvValue>[] = [];
  for (const c of contactRows) {
    const values = JSON.parse(c.attributes) as Record<string, CsvValue>;
    for (const [key, value] of Object.entries(values)) {
      const definition = definitions.get(key);
      attributes.push({
        contact_id: c.id,
        key,
        label: definition?.label ?? key,
        type: definition?.type ?? null,
        value,
      });
    }
  }

  // Their own addresses: the messages we sent them and the ones they sent us, also those left
  // from an earlier contact record (contact_id was set null when it was deleted).
  const addresses = [
    subject.email,
    subject.phone,
    ...contactRows.flatMap((c) => [c.email, c.phone, c.telegram_chat_id]),
  ].filter((v): v is string => Boolean(v));
  const unique = [...new Set(addresses)];
  const addressList = placeholders(unique.length);
  const contactClause = ids.length ? `contact_id IN (${idList})` : "0";
  const addressClause = (column: string) => (unique.length ? `${column} IN (${addressList})` : "0");

  const messages = client
    .prepare(
      `SELECT id, contact_id, channel, kind, recipient,
              (SELECT content FROM message_contents WHERE message_id = messages.id) AS content,
              status, error, campaign_id,
              created_at, sent_at, delivered_at, read_at, opened_at, clicked_at, failed_at
         FROM messages WHERE ${contactClause} OR ${addressClause("recipient")}
        ORDER BY created_at, id`,
    )
    .all(...ids, ...unique) as Record<string, number | string | null>[];
  const inbound = client
    .prepare(
      `SELECT id, contact_id, channel, sender, text, at, email_subject, email_message_id,
              email_references FROM inbound_messages
        WHERE ${contactClause} OR ${addressClause("sender")} ORDER BY at, id`,
    )
    .all(...ids, ...unique) as Record<string, number | string | null>[];

  const hashes: string[] = [];
  for (const value of [subject.email, ...contactRows.map((c) => c.email)]) {
    if (value) hashes.push(suppressionHash(suppressionKey, "email", value));
  }
  for (const value of [subject.phone, ...contactRows.map((c) => c.phone)]) {
    if (value) hashes.push(suppressionHash(suppressionKey, "phone", value));
  }
  const uniqueHashes = [...new Set(hashes)];
  const suppressions = uniqueHashes.length
    ? (client
        .prepare(
          `SELECT kind, channel, reason, created_at FROM suppressions
            WHERE hash IN (${placeholders(uniqueHashes.length)}) ORDER BY created_at`,
        )
        .all(...uniqueHashes) as {
        kind: string;
        channel: string;
        reason: string;
        created_at: number;
      }[])
    : [];

  return {
    title: "Your data held by this business on Pleisys Engage",
    generatedAt: now.toISOString(),
    sections: [
      section(
        "contacts",
        ["id", "name", "email", "phone", "country", "telegram_chat_id", "created_at", "updated_at"],
        contactRows.map((c) => ({
          id: c.id,
          name: c.name,
          email: c.email,
          phone: c.phone,
          country: c.country,
          telegram_chat_id: c.telegram_chat_id,
          created_at: iso(c.created_at),
          updated_at: iso(c.updated_at),
        })),
      ),
      section("attributes", ["contact_id", "key", "label", "type", "value"], attributes),
      section(
        "consents",
        ["contact_id", "channel", "status", "source", "at"],
        byIds<{ contact_id: number; channel: string; status: string; source: string; at: number }>(
          "SELECT contact_id, channel, status, source, at FROM consents WHERE contact_id IN (:ids) ORDER BY contact_id, channel",
        ).map((r) => ({ ...r, at: iso(r.at) })),
      ),
      section(
        "suppressions",
        ["kind", "channel", "reason", "created_at"],
        suppressions.map((r) => ({ ...r, created_at: iso(r.created_at) })),
      ),
      section(
        "lists_and_tags",
        ["contact_id", "kind", "name"],
        [
          ...byIds<{ contact_id: number; name: string }>(
            "SELECT lm.contact_id, l.name FROM list_members lm JOIN lists l ON l.id = lm.list_id WHERE lm.contact_id IN (:ids)",
          ).map((r) => ({ ...r, kind: "list" })),
          ...byIds<{ contact_id: number; name: string }>(
            "SELECT ct.contact_id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id IN (:ids)",
          ).map((r) => ({ ...r, kind: "tag" })),
        ],
      ),
      section(
        "messages",
        [
          "id",
          "channel",
          "kind",
          "recipient",
          "status",
          "error",
          "created_at",
          "sent_at",
          "delivered_at",
          "read_at",
          "opened_at",
          "clicked_at",
          "failed_at",
          "content",
        ],
        messages.map((m) => ({
          id: m.id,
          channel: m.channel,
          kind: m.kind,
          recipient: m.recipient,
          status: m.status,
          error: m.error,
          created_at: iso(m.created_at as number),
          sent_at: iso(m.sent_at as number | null),
          delivered_at: iso(m.delivered_at as number | null),
          read_at: iso(m.read_at as number | null),
          opened_at: iso(m.opened_at as number | null),
          clicked_at: iso(m.clicked_at as number | null),
          failed_at: iso(m.failed_at as number | null),
          // A campaign message not yet sent has no content of its own yet.
          content: m.content || null,
        })),
      ),
      section(
        "conversations",
        [
          "id",
          "channel",
          "sender",
          "text",
          "at",
          "email_subject",
          "email_message_id",
          "email_references",
        ],
        inbound.map((m) => ({
          id: m.id,
          channel: m.channel,
          sender: m.sender,
          text: m.text,
          at: iso(m.at as number),
          // Email: what threading our answers needs; the customer's own headers.
          email_subject: m.email_subject,
          email_message_id: m.email_message_id,
          email_references: m.email_references,
        })),
      ),
      ...inboxSections(byIds),
      section(
        "events",
        ["contact_id", "at", "type", "channel", "data"],
        byIds<{
          contact_id: number;
          at: number;
          type: string;
          channel: string | null;
          data: string | null;
        }>(
          "SELECT contact_id, at, type, channel, data FROM contact_events WHERE contact_id IN (:ids) ORDER BY at, id",
        ).map((r) => ({ ...r, at: iso(r.at) })),
      ),
    ],
  };
}

type ByIds = <T>(sql: string) => T[];

/**
 * What the inbox holds about them: their conversations, the notes members wrote in them (without
 * who wrote each: that is the member's data, not theirs), satisfaction answers and AI reply drafts.
 */
function inboxSections(byIds: ByIds): BundleSection[] {
  const threads = byIds<{
    id: number;
    channel: string;
    status: string;
    created_at: number;
    resolved_at: number | null;
  }>(
    "SELECT id, channel, status, created_at, resolved_at FROM conversations WHERE contact_id IN (:ids) ORDER BY created_at, id",
  );
  const notes = byIds<{ conversation_id: number; at: number; body: string }>(
    `SELECT a.conversation_id, a.at, a.body FROM conversation_activity a
       JOIN conversations c ON c.id = a.conversation_id
      WHERE c.contact_id IN (:ids) AND a.kind = 'note' ORDER BY a.at, a.id`,
  );
  const ratings = byIds<{
    conversation_id: number;
    asked_at: number;
    score: number | null;
    answered_at: number | null;
  }>(
    `SELECT r.conversation_id, r.asked_at, r.score, r.answered_at FROM csat_responses r
       JOIN conversations c ON c.id = r.conversation_id
      WHERE c.contact_id IN (:ids) ORDER BY r.asked_at, r.id`,
  );
  const drafts = byIds<{
    conversation_id: number;
    status: string;
    body: string;
    created_at: number;
  }>(
    `SELECT d.conversation_id, d.status, d.body, d.created_at FROM ai_drafts d
       JOIN conversations c ON c.id = d.conversation_id
      WHERE c.contact_id IN (:ids) ORDER BY d.created_at, d.id`,
  );
  return [
    section(
      "inbox_threads",
      ["id", "channel", "status", "created_at", "resolved_at"],
      threads.map((t) => ({
        ...t,
        created_at: iso(t.created_at),
        resolved_at: iso(t.resolved_at),
      })),
    ),
    section(
      "inbox_notes",
      ["conversation_id", "at", "note"],
      notes.map((n) => ({ conversation_id: n.conversation_id, at: iso(n.at), note: n.body })),
    ),
    section(
      "satisfaction_ratings",
      ["conversation_id", "asked_at", "score", "answered_at"],
      ratings.map((r) => ({ ...r, asked_at: iso(r.asked_at), answered_at: iso(r.answered_at) })),
    ),
    section(
      "ai_reply_drafts",
      ["conversation_id", "status", "text", "created_at"],
      drafts.map((d) => ({
        conversation_id: d.conversation_id,
        status: d.status,
        text: d.body,
        created_at: iso(d.created_at),
      })),
    ),
  ];
}

function csvOf(section: BundleSection): string {
  let out = csvLine(section.columns);
  for (const row of section.rows) out += csvLine(section.columns.map((c) => row[c]));
  return out;
}

/** JSON values as they were stored: a message's content is JSON text, so it goes in parsed. */
function jsonRow(row: Record<string, CsvValue>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const key of ["content", "data"]) {
    const value = row[key];
    if (typeof value === "string" && value) {
      try {
        out[key] = JSON.parse(value);
      } catch {
        out[key] = value;
      }
    }
  }
  return out;
}

const README = (bundle: Bundle) =>
  [
    bundle.title,
    `Generated ${bundle.generatedAt}.`,
    "",
    "data.json holds everything; each CSV file holds one section (UTF-8, RFC 4180).",
    ...bundle.sections.map((s) => `- ${s.name}.csv: ${s.rows.length} rows`),
    "",
  ].join("\r\n");

/** Writes the bundle as a zip (written aside and renamed, so a half file is never served). */
export function writeBundleZip(file: string, bundle: Bundle): { bytes: number; rows: number } {
  const json = {
    title: bundle.title,
    generatedAt: bundle.generatedAt,
    ...Object.fromEntries(bundle.sections.map((s) => [s.name, s.rows.map(jsonRow)])),
  };
  const files: Zippable = {
    "README.txt": strToU8(README(bundle)),
    "data.json": strToU8(`${JSON.stringify(json, null, 2)}\n`),
  };
  for (const s of bundle.sections) files[`${s.name}.csv`] = strToU8(csvOf(s));
  const zipped = zipSync(files, { level: 6, mtime: new Date(bundle.generatedAt) });
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const part = `${file}.part`;
  try {
    writeFileSync(part, zipped, { mode: 0o600 });
    renameSync(part, file);
  } catch (error) {
    rmSync(part, { force: true });
    throw error;
  }
  return {
    bytes: zipped.length,
    rows: bundle.sections.reduce((sum, s) => sum + s.rows.length, 0),
  };
}
