import { CHANNELS, type Channel } from "~/lib/channels";
import { suppressionHash } from "../suppression-hash-value.server";

/**
 * What both import threads and the main thread share, kept free of heavy imports so the
 * writing thread loads little: the import's options, the packed form in which rows travel from
 * the parsing thread to the writing thread, and suppression matching.
 */

export const ON_EXISTING = ["update", "skip", "create"] as const;
/**
 * What happens to a row whose email or phone already belongs to a contact (including one created
 * by an earlier row of the same file):
 * - update: the row's non-empty values are written to the contact, list/tags/consent applied;
 * - skip: the contact is left exactly as it is;
 * - create: new contacts only; existing ones keep their data but are added to the list and tags.
 */
export type OnExisting = (typeof ON_EXISTING)[number];

export const ON_EXISTING_LABELS: Record<OnExisting, string> = {
  update: "Update them with the values in the file",
  skip: "Skip them: leave existing contacts exactly as they are",
  create: "Create new contacts only: existing ones keep their data, but join the list and tags",
};

export interface ImportOptions {
  onExisting: OnExisting;
  listId: number | null;
  tagIds: number[];
  /** Consent granted on these channels, with the tenant's stated source; null: none. */
  consent: { channels: Channel[]; source: string } | null;
}

export const MAX_CONSENT_SOURCE = 200;

export function parseImportOptions(json: string | null): ImportOptions {
  const value = JSON.parse(json ?? "null") as Partial<ImportOptions> | null;
  if (!value || !ON_EXISTING.includes(value.onExisting as OnExisting)) {
    throw new Error("The import's stored options are not readable.");
  }
  const consent = value.consent;
  return {
    onExisting: value.onExisting as OnExisting,
    listId: typeof value.listId === "number" ? value.listId : null,
    tagIds: Array.isArray(value.tagIds) ? value.tagIds.filter((t) => typeof t === "number") : [],
    consent:
      consent && Array.isArray(consent.channels) && typeof consent.source === "string"
        ? {
            channels: consent.channels.filter((c): c is Channel => CHANNELS.includes(c)),
            source: consent.source,
          }
        : null,
  };
}

export interface ImportedRow {
  email: string | null;
  phone: string | null;
  country: string | null;
  name: string;
  nameKey: string;
  /** JSON object of the non-empty attribute values, or null when the row sets none. */
  attributes: string | null;
  /** The row's own tag names, one per line, or null when it names none. */
  tags: string | null;
}

// ---------------------------------------------------------------------------------------------
// Suppression matching (keyed hashes, see suppression-hash.server.ts)

/** Whether a row's email or phone is among `hashes` (suppression hashes of this workspace). */
export function suppressionMatcher(key: Buffer, hashes: ReadonlySet<string>) {
  return (row: { email: string | null; phone: string | null }): boolean =>
    (row.email !== null && hashes.has(suppressionHash(key, "email", row.email))) ||
    (row.phone !== null && hashes.has(suppressionHash(key, "phone", row.phone)));
}

// ---------------------------------------------------------------------------------------------
// Batches: how rows travel from the parsing thread to the writing thread

/** Values per row in RowBatch.rows. */
export const ROW_STRIDE = 9;

export interface RowBatch {
  type: "batch";
  seq: number;
  /**
   * Flat: row number, email, phone, country, name, nameKey, attributes JSON, suppressed (0/1),
   * tag names.
   */
  rows: (string | number | null)[];
  /** Flat: row number, column, reason. */
  errors: (string | number)[];
  /** Rows with at least one error. */
  errorRows: number;
  /** Flat: row number, column, reason, for values left out of rows that were kept. */
  warnings: (string | number)[];
  /** Kept rows with at least one value left out. */
  warningRows: number;
  /** Data records consumed so far in the file (blank and error rows included). */
  rowsDone: number;
  bytesDone: number;
}

export function packRow(
  out: (string | number | null)[],
  rowNumber: number,
  row: ImportedRow,
  suppressed: boolean,
): void {
  out.push(
    rowNumber,
    row.email,
    row.phone,
    row.country,
    row.name,
    row.nameKey,
    row.attributes,
    suppressed ? 1 : 0,
    row.tags,
  );
}
