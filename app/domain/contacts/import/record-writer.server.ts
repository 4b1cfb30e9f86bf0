import type Database from "better-sqlite3";
import type { Channel } from "~/lib/channels";
import {
  ROW_STRIDE,
  suppressionMatcher,
  type ImportOptions,
  type RowBatch,
} from "./record-batches.server";

/**
 * The writing half of an import, on the import worker's own connection: rows already
 * normalised by the parsing thread are matched against existing contacts (by email or phone),
 * created, updated or skipped, joined to the list and tags, given consent, and counted, with
 * prepared statements in large transactions. Progress and rejected rows are written in the same
 * transaction as the rows they describe, so after a crash the committed counts, the rejected
 * rows and the contacts always agree, and the import resumes exactly where it stopped.
 */

export interface ImportCounts {
  rowsDone: number;
  bytesDone: number;
  imported: number;
  updated: number;
  skipped: number;
  suppressed: number;
  errors: number;
  /** Rows kept without a value that could not be used. */
  warnings: number;
}

export const ZERO_COUNTS: ImportCounts = {
  rowsDone: 0,
  bytesDone: 0,
  imported: 0,
  updated: 0,
  skipped: 0,
  suppressed: 0,
  errors: 0,
  warnings: 0,
};

export interface WriterSetup {
  /** The import thread's own connection to the workspace's file. */
  client: Database.Database;
  importId: string;
  options: ImportOptions;
  /** Who started the import, for the contacts' timeline ("user", "cli", "system"). */
  actorType: string;
  suppressionKey: Buffer;
  /** Suppressions up to this rowid were checked by the parsing thread; later ones here. */
  suppressionsCheckedUpTo: number;
  now?: () => number;
}

interface ExistingContact {
  id: number;
  email: string | null;
  phone: string | null;
  name: string;
  name_key: string;
  country: string | null;
  attributes: string;
}

/** Channels that need an address of the contact to mean anything. */
const CHANNEL_NEEDS: Record<Channel, "email" | "phone" | null> = {
  email: "email",
  whatsapp: "phone",
  sms: "phone",
  telegram: null,
};

const AMBIGUOUS =
  "The email address belongs to one contact and the phone number to another. Fix one of them in the file, or merge the two contacts first.";

function parseAttributes(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

export class ImportWriter {
  private readonly client: Database.Database;
  private readonly importId: string;
  private readonly options: ImportOptions;
  private readonly now: () => number;
  private readonly updatedPrefix: string;
  private readonly listName: string | null;
  private readonly tagNames = new Map<number, string>();
  /** Tags named in rows, by lower-case name; cleared on rollback (a new tag may be undone). */
  private readonly rowTags = new Map<string, number>();
  private readonly consentData: string | null;
  private readonly key: Buffer;
  private checkedUpTo: number;
  private lateHashes = new Set<string>();
  private lateMatch: ((row: { email: string | null; phone: string | null }) => boolean) | null =
    null;

  /**
   * Emails and phones that updates replaced: once committed, the privacy index lets go of
   * those no contact holds any more (the write thread does, after the import).
   */
  readonly released: { email: string | null; phone: string | null }[] = [];

  /** What the database holds (the last commit). */
  committed: ImportCounts;
  /** Committed plus what the open transaction has written. */
  current: ImportCounts;
  private inTransaction = false;

  private readonly st: {
    begin: Database.Statement;
    commit: Database.Statement;
    rollback: Database.Statement;
    insert: Database.Statement;
    byEmail: Database.Statement;
    byPhone: Database.Statement;
    update: Database.Statement;
    updateAttributes: Database.Statement;
    event: Database.Statement;
    listMember: Database.Statement;
    contactTag: Database.Statement;
    tagInsert: Database.Statement;
    tagByName: Database.Statement;
    consentOf: Database.Statement;
    consentInsert: Database.Statement;
    error: Database.Statement;
    warning: Database.Statement;
    progress: Database.Statement;
    finish: Database.Statement;
    status: Database.Statement;
    maxSuppression: Database.Statement;
    suppressionsAfter: Database.Statement;
  };

  constructor(setup: WriterSetup) {
    this.client = setup.client;
    this.importId = setup.importId;
    this.options = setup.options;
    this.now = setup.now ?? Date.now;
    this.key = setup.suppressionKey;
    this.checkedUpTo = setup.suppressionsCheckedUpTo;
    const c = this.client;
    this.st = {
      begin: c.prepare("BEGIN IMMEDIATE"),
      commit: c.prepare("COMMIT"),
      rollback: c.prepare("ROLLBACK"),
      insert: c.prepare(
        `INSERT INTO contacts (email, phone, name, name_key, country, attributes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      byEmail: c.prepare(
        "SELECT id, email, phone, name, name_key, country, attributes FROM contacts WHERE email = ?",
      ),
      byPhone: c.prepare(
        "SELECT id, email, phone, name, name_key, country, attributes FROM contacts WHERE phone = ?",
      ),
      update: c.prepare(
        `UPDATE contacts SET email = ?, phone = ?, country = ?, name = ?, name_key = ?, attributes = ?,
         updated_at = ? WHERE id = ?`,
      ),
      updateAttributes: c.prepare(
        "UPDATE contacts SET attributes = ?, updated_at = ? WHERE id = ?",
      ),
      event: c.prepare(
        "INSERT INTO contact_events (contact_id, at, type, channel, data) VALUES (?, ?, ?, ?, ?)",
      ),
      listMember: c.prepare(
        "INSERT INTO list_members (list_id, contact_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      ),
      contactTag: c.prepare(
        "INSERT INTO contact_tags (contact_id, tag_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
      ),
      tagInsert: c.prepare(
        "INSERT INTO tags (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
      ),
      tagByName: c.prepare("SELECT id FROM tags WHERE lower(name) = lower(?)").pluck(),
      consentOf: c
        .prepare("SELECT status FROM consents WHERE contact_id = ? AND channel = ?")
        .pluck(),
      consentInsert: c.prepare(
        "INSERT INTO consents (contact_id, channel, status, source, at) VALUES (?, ?, 'granted', ?, ?) ON CONFLICT DO NOTHING",
      ),
      error: c.prepare(
        'INSERT INTO contact_import_errors (import_id, "row", "column", reason) VALUES (?, ?, ?, ?)',
      ),
      warning: c.prepare(
        'INSERT INTO contact_import_warnings (import_id, "row", "column", reason) VALUES (?, ?, ?, ?)',
      ),
      progress: c.prepare(
        `UPDATE contact_imports SET rows_done = ?, bytes_done = ?, imported = ?, updated = ?,
         skipped = ?, suppressed = ?, errors = ?, warnings = ? WHERE id = ?`,
      ),
      finish: c.prepare(
        "UPDATE contact_imports SET status = ?, error = ?, finished_at = ? WHERE id = ?",
      ),
      status: c.prepare("SELECT status FROM contact_imports WHERE id = ?").pluck(),
      maxSuppression: c.prepare("SELECT coalesce(max(rowid), 0) FROM suppressions").pluck(),
      suppressionsAfter: c.prepare("SELECT rowid, hash FROM suppressions WHERE rowid > ?").raw(),
    };

    const row = c
      .prepare(
        `SELECT rows_done, bytes_done, imported, updated, skipped, suppressed, errors, warnings
         FROM contact_imports WHERE id = ?`,
      )
      .raw()
      .get(this.importId) as number[] | undefined;
    if (!row) throw new Error("The import no longer exists.");
    const [rowsDone, bytesDone, imported, updated, skipped, suppressed, errors, warnings] = row as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    this.committed = {
      rowsDone,
      bytesDone,
      imported,
      updated,
      skipped,
      suppressed,
      errors,
      warnings,
    };
    this.current = { ...this.committed };

    this.updatedPrefix = `{"import":${JSON.stringify(this.importId)},`;
    const list =
      this.options.listId === null
        ? undefined
        : (c.prepare("SELECT name FROM lists WHERE id = ?").pluck().get(this.options.listId) as
            string | undefined);
    this.listName = list ?? null;
    for (const id of this.options.tagIds) {
      const name = c.prepare("SELECT name FROM tags WHERE id = ?").pluck().get(id) as
        string | undefined;
      if (name !== undefined) this.tagNames.set(id, name);
    }
    this.consentData = this.options.consent
      ? JSON.stringify({
          source: this.options.consent.source,
          previous: null,
          import: this.importId,
        })
      : null;
  }

  /** The import's status as stored (another process may have asked to cancel it). */
  storedStatus(): string | undefined {
    return this.st.status.get(this.importId) as string | undefined;
  }

  begin(): void {
    if (this.inTransaction) return;
    this.st.begin.run();
    this.inTransaction = true;
    this.refreshSuppressions();
  }

  get open(): boolean {
    return this.inTransaction;
  }

  /** Suppressions added since the import started are checked here (the parser has the rest). */
  private refreshSuppressions(): void {
    const max = this.st.maxSuppression.get() as number;
    if (max <= this.checkedUpTo) return;
    for (const [rowid, hash] of this.st.suppressionsAfter.iterate(this.checkedUpTo) as Iterable<
      [number, string]
    >) {
      this.lateHashes.add(hash);
      if (rowid > this.checkedUpTo) this.checkedUpTo = rowid;
    }
    this.lateMatch = suppressionMatcher(this.key, this.lateHashes);
  }

  /** Writes one batch inside the open transaction. */
  write(batch: RowBatch): void {
    if (!this.inTransaction) this.begin();
    const now = this.now();
    const counts = this.current;
    const rows = batch.rows;
    const { onExisting } = this.options;
    for (let i = 0; i < rows.length; i += ROW_STRIDE) {
      const rowNumber = rows[i] as number;
      const email = rows[i + 1] as string | null;
      const phone = rows[i + 2] as string | null;
      const country = rows[i + 3] as string | null;
      const name = rows[i + 4] as string;
      const nameKey = rows[i + 5] as string;
      const attributes = rows[i + 6] as string | null;
      const rowTags = rows[i + 8] as string | null;
      if (rows[i + 7] === 1 || (this.lateMatch !== null && this.lateMatch({ email, phone }))) {
        counts.suppressed++;
        continue;
      }
      const inserted = this.st.insert.run(
        email,
        phone,
        name,
        nameKey,
        country,
        attributes ?? "{}",
        now,
        now,
      );
      if (inserted.changes === 1) {
        // No "contact.created" event per contact: it would cost a quarter of the import's
        // speed, and the contact's created_at says the same.
        const id = Number(inserted.lastInsertRowid);
        this.addToGroups(id, now, rowTags);
        this.grantConsent(id, email, phone, now, true);
        counts.imported++;
        continue;
      }
      // The email or the phone is already a contact's (maybe from an earlier row of this file).
      const byEmail = email === null ? undefined : (this.st.byEmail.get(email) as ExistingContact);
      // Phones are unique: when the email's contact has this phone, it is the phone's contact too.
      const byPhone =
        phone === null
          ? undefined
          : byEmail !== undefined && byEmail.phone === phone
            ? byEmail
            : (this.st.byPhone.get(phone) as ExistingContact);
      if (byEmail && byPhone && byEmail.id !== byPhone.id) {
        if (onExisting === "skip") counts.skipped++;
        else this.reject(rowNumber, "Email / Phone", AMBIGUOUS);
        continue;
      }
      const existing = byEmail ?? byPhone;
      if (!existing) {
        // Not a duplicate after all: another constraint refused the row.
        this.reject(rowNumber, "", "The row could not be saved. Check its values.");
        continue;
      }
      if (onExisting === "skip") {
        counts.skipped++;
        continue;
      }
      if (onExisting === "create") {
        this.addToGroups(existing.id, now, rowTags);
        counts.skipped++;
        continue;
      }
      const changed = this.updateContact(
        existing,
        { email, phone, country, name, nameKey, attributes },
        now,
      );
      const grouped = this.addToGroups(existing.id, now, rowTags);
      const consented = this.grantConsent(
        existing.id,
        email ?? existing.email,
        phone ?? existing.phone,
        now,
        false,
      );
      if (changed || grouped || consented) counts.updated++;
      else counts.skipped++;
    }
    const errors = batch.errors;
    for (let i = 0; i < errors.length; i += 3) {
      this.st.error.run(this.importId, errors[i], errors[i + 1], errors[i + 2]);
    }
    counts.errors += batch.errorRows;
    const warnings = batch.warnings;
    for (let i = 0; i < warnings.length; i += 3) {
      this.st.warning.run(this.importId, warnings[i], warnings[i + 1], warnings[i + 2]);
    }
    counts.warnings += batch.warningRows;
    counts.rowsDone = batch.rowsDone;
    counts.bytesDone = batch.bytesDone;
  }

  private reject(rowNumber: number, column: string, reason: string): void {
    this.st.error.run(this.importId, rowNumber, column, reason);
    this.current.errors++;
  }

  /** The row's non-empty values over the contact's; true when anything changed. */
  private updateContact(
    existing: ExistingContact,
    row: {
      email: string | null;
      phone: string | null;
      country: string | null;
      name: string;
      nameKey: string;
      attributes: string | null;
    },
    now: number,
  ): boolean {
    const fields: string[] = [];
    const email = row.email ?? existing.email;
    if (email !== existing.email) fields.push("email");
    const phone = row.phone ?? existing.phone;
    const country = row.phone !== null ? row.country : existing.country;
    if (phone !== existing.phone) fields.push("phone");
    const name = row.name !== "" ? row.name : existing.name;
    const nameKey = row.name !== "" ? row.nameKey : existing.name_key;
    if (name !== existing.name) fields.push("name");
    let attributes = existing.attributes;
    const changedAttributes: string[] = [];
    if (row.attributes !== null) {
      const stored = parseAttributes(existing.attributes);
      const incoming = JSON.parse(row.attributes) as Record<string, unknown>;
      for (const key in incoming) {
        if (stored[key] !== incoming[key]) {
          changedAttributes.push(key);
          stored[key] = incoming[key];
        }
      }
      if (changedAttributes.length) attributes = JSON.stringify(stored);
    }
    if (fields.length === 0 && changedAttributes.length === 0) return false;
    if (
      email === existing.email &&
      phone === existing.phone &&
      country === existing.country &&
      name === existing.name &&
      nameKey === existing.name_key
    ) {
      // Same row either way; but SQLite rewrites the entry of every index whose column is in
      // the SET list, changed or not, so a re-imported person (new attributes only) costs four
      // index rewrites on random pages less this way.
      this.st.updateAttributes.run(attributes, now, existing.id);
    } else {
      this.st.update.run(email, phone, country, name, nameKey, attributes, now, existing.id);
      const oldEmail = email !== existing.email ? existing.email : null;
      const oldPhone = phone !== existing.phone ? existing.phone : null;
      if (oldEmail !== null || oldPhone !== null) {
        this.released.push({ email: oldEmail, phone: oldPhone });
      }
    }
    this.st.event.run(
      existing.id,
      now,
      "contact.updated",
      null,
      `${this.updatedPrefix}"fields":${JSON.stringify(fields)},"attributes":${JSON.stringify(changedAttributes)}}`,
    );
    return true;
  }

  private addToGroups(contactId: number, now: number, rowTags: string | null): boolean {
    let added = false;
    if (this.listName !== null) {
      if (this.st.listMember.run(this.options.listId, contactId, now).changes) {
        this.st.event.run(
          contactId,
          now,
          "list.added",
          null,
          JSON.stringify({ list: this.listName }),
        );
        added = true;
      }
    }
    for (const [tagId, tagName] of this.tagNames) {
      if (this.st.contactTag.run(contactId, tagId).changes) {
        this.st.event.run(contactId, now, "tag.added", null, JSON.stringify({ tag: tagName }));
        added = true;
      }
    }
    if (rowTags !== null) {
      for (const tagName of rowTags.split("\n")) {
        const tagId = this.rowTagId(tagName, now);
        if (this.st.contactTag.run(contactId, tagId).changes) {
          this.st.event.run(contactId, now, "tag.added", null, JSON.stringify({ tag: tagName }));
          added = true;
        }
      }
    }
    return added;
  }

  /** A tag named in a row: the workspace's tag of that name (any case), made when new. */
  private rowTagId(name: string, now: number): number {
    const key = name.toLowerCase();
    let id = this.rowTags.get(key);
    if (id === undefined) {
      this.st.tagInsert.run(name, now);
      id = this.st.tagByName.get(name) as number;
      this.rowTags.set(key, id);
    }
    return id;
  }

  /**
   * Consent the file's source vouches for, on channels the contact can be reached on. A channel
   * with a consent already recorded keeps it: an import never overrides a withdrawal (and
   * suppressed people never get here).
   */
  private grantConsent(
    contactId: number,
    email: string | null,
    phone: string | null,
    now: number,
    isNew: boolean,
  ): boolean {
    const consent = this.options.consent;
    if (!consent) return false;
    let granted = false;
    for (const channel of consent.channels) {
      const needs = CHANNEL_NEEDS[channel];
      if ((needs === "email" && email === null) || (needs === "phone" && phone === null)) continue;
      if (!isNew && this.st.consentOf.get(contactId, channel) !== undefined) continue;
      if (this.st.consentInsert.run(contactId, channel, consent.source, now).changes) {
        this.st.event.run(contactId, now, "consent.granted", channel, this.consentData);
        granted = true;
      }
    }
    return granted;
  }

  /** Writes the progress row and commits: everything counted so far is now durable. */
  commit(): void {
    if (!this.inTransaction) return;
    const c = this.current;
    this.st.progress.run(
      c.rowsDone,
      c.bytesDone,
      c.imported,
      c.updated,
      c.skipped,
      c.suppressed,
      c.errors,
      c.warnings,
      this.importId,
    );
    this.st.commit.run();
    this.inTransaction = false;
    this.committed = { ...c };
  }

  /** Drops what the open transaction wrote; counts go back to the last commit. */
  rollback(): void {
    if (this.inTransaction) {
      this.st.rollback.run();
      this.inTransaction = false;
    }
    this.rowTags.clear();
    this.current = { ...this.committed };
  }

  /** Commits what is pending and records the final status. */
  finish(status: "completed" | "cancelled" | "failed", error: string | null = null): void {
    this.begin();
    this.st.finish.run(status, error, this.now(), this.importId);
    this.commit();
  }
}
