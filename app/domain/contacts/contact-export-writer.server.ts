import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { TenantDb } from "~/db/tenants.server";
import { CHANNELS } from "~/lib/channels";
import { csvLine, type CsvValue } from "~/lib/csv";
import {
  formatAttributeValue,
  listAttributeDefinitions,
  parseStoredAttributes,
} from "./attributes.server";
import type { CompiledWhere } from "../segments/compile.server";

/**
 * Writes contacts matching a compiled WHERE as CSV, streaming rows from SQLite to the file in
 * chunks, so memory stays flat at any size. Runs in the export worker thread (on the worker's
 * own connection) and in the CLI. Every cell goes through csvCell, which neutralises
 * spreadsheet formulas (= + - @ tab CR get a leading ').
 *
 * Columns: the contact's own fields, tags and lists ("; "-separated), per-channel consent
 * (status, source, time) and one column per custom attribute, named by its key, so the file
 * can be imported again as it is.
 */

export const BASE_COLUMNS = [
  "id",
  "name",
  "email",
  "phone",
  "country",
  "tags",
  "lists",
  "created_at",
  "updated_at",
] as const;

export function consentColumns(): string[] {
  return CHANNELS.flatMap((ch) => [`${ch}_consent`, `${ch}_consent_source`, `${ch}_consent_at`]);
}

const UNIT = "\u001f";
const RECORD = "\u001e";
const CHUNK_BYTES = 256 * 1024;

export interface WriteResult {
  rows: number;
  bytes: number;
}

function iso(ms: number | null | undefined): string {
  return typeof ms === "number" ? new Date(ms).toISOString() : "";
}

/**
 * Writes the file at `path` (via `<path>.part`, renamed when complete, so a half-written file
 * is never served). `onProgress` is called every 10,000 rows.
 */
export function writeContactsCsv(
  db: TenantDb,
  where: CompiledWhere,
  path: string,
  onProgress?: (rows: number) => void,
): WriteResult {
  const definitions = listAttributeDefinitions({ db });
  const reserved = new Set<string>([...BASE_COLUMNS, ...consentColumns()]);
  const attributeHeaders = definitions.map((d) =>
    reserved.has(d.key) ? `attribute_${d.key}` : d.key,
  );
  const header = [...BASE_COLUMNS, ...consentColumns(), ...attributeHeaders];

  const statement = db.$client
    .prepare(
      `SELECT c.id, c.name, c.email, c.phone, c.country,
              (SELECT group_concat(t.name, '; ' ORDER BY lower(t.name)) FROM contact_tags ct
                 JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id) AS tags,
              (SELECT group_concat(l.name, '; ' ORDER BY lower(l.name)) FROM list_members lm
                 JOIN lists l ON l.id = lm.list_id WHERE lm.contact_id = c.id) AS lists,
              c.created_at, c.updated_at,
              (SELECT group_concat(cs.channel || char(31) || cs.status || char(31) || cs.at
                                   || char(31) || cs.source, char(30))
                 FROM consents cs WHERE cs.contact_id = c.id) AS consents,
              c.attributes
         FROM contacts c WHERE ${where.sql} ORDER BY c.id`,
    )
    .raw(true);

  const partial = `${path}.part`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(partial, "w", 0o600);
  let rows = 0;
  let bytes = 0;
  let buffer = csvLine(header);
  const flush = () => {
    if (!buffer) return;
    const data = Buffer.from(buffer, "utf8");
    writeSync(fd, data);
    bytes += data.length;
    buffer = "";
  };
  try {
    // A UTF-8 byte order mark, so spreadsheet apps read names in any script correctly.
    writeSync(fd, "\ufeff");
    bytes += 3;
    for (const raw of statement.iterate(...where.params) as Iterable<unknown[]>) {
      const [id, name, email, phone, country, tagNames, listNames, created, updated] = raw;
      const consentText = raw[9] as string | null;
      const attributesJson = raw[10] as string;
      const consent = new Map<string, string[]>();
      if (consentText) {
        for (const record of consentText.split(RECORD)) {
          const [channel, status, at, ...source] = record.split(UNIT);
          consent.set(channel!, [status ?? "", iso(Number(at)), source.join(UNIT)]);
        }
      }
      const values = parseStoredAttributes(attributesJson);
      const cells: CsvValue[] = [
        id as number,
        name as string,
        email as string | null,
        phone as string | null,
        country as string | null,
        tagNames as string | null,
        listNames as string | null,
        iso(created as number),
        iso(updated as number),
      ];
      for (const channel of CHANNELS) {
        const c = consent.get(channel);
        cells.push(c?.[0] ?? "", c?.[2] ?? "", c?.[1] ?? "");
      }
      for (const d of definitions) cells.push(formatAttributeValue(values[d.key]));
      buffer += csvLine(cells);
      rows += 1;
      if (buffer.length >= CHUNK_BYTES) flush();
      if (onProgress && rows % 10_000 === 0) onProgress(rows);
    }
    flush();
    closeSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
  renameSync(partial, path);
  return { rows, bytes };
}
