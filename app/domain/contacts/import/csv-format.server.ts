import { parse, type CsvError } from "csv-parse";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { ValidationError } from "~/lib/errors";
import type { AttributeDefinition } from "../attributes.server";
import { CsvSplitter } from "./csv-split.server";

/**
 * What a CSV upload looks like before anything is imported: its text encoding, its delimiter,
 * its header row and the first rows, read from the head of the file only. Also the one place
 * that turns the whole file into records (for the import worker), with the same settings, so
 * the preview and the import never disagree about what a row is.
 */

export const CSV_ENCODINGS = ["utf-8", "utf-16le", "utf-16be", "windows-1252"] as const;
export type CsvEncoding = (typeof CSV_ENCODINGS)[number];

export const CSV_DELIMITERS = [",", ";", "\t", "|"] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

export const DELIMITER_LABELS: Record<CsvDelimiter, string> = {
  ",": "comma",
  ";": "semicolon",
  "\t": "tab",
  "|": "vertical bar",
};

export const ENCODING_LABELS: Record<CsvEncoding, string> = {
  "utf-8": "UTF-8",
  "utf-16le": "UTF-16 (little-endian)",
  "utf-16be": "UTF-16 (big-endian)",
  "windows-1252": "Windows-1252 (Western European)",
};

/** Stored with the import (contact_imports.format). */
export interface CsvFormat {
  encoding: CsvEncoding;
  /** Bytes of byte-order mark at the start of the file (0, 2 or 3). */
  bomBytes: number;
  delimiter: CsvDelimiter;
  headers: string[];
  /** From the sample's average row length; for the progress bar before the import starts. */
  estimatedRows: number;
}

export interface CsvSniff extends CsvFormat {
  /** Up to PREVIEW_ROWS data rows, cells as text. */
  preview: string[][];
}

export const PREVIEW_ROWS = 10;
/** Header cells longer than this are cut: a header is a label, not data. */
const MAX_HEADER = 120;
const MAX_COLUMNS = 500;
/** One record may not be larger than this: protects memory from a quote that never closes. */
export const MAX_RECORD_BYTES = 1024 * 1024;
const FIRST_SAMPLE = 64 * 1024;
const LARGE_SAMPLE = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Encoding

const UTF8_BOM = [0xef, 0xbb, 0xbf];

function startsWith(buf: Uint8Array, bytes: number[]): boolean {
  return bytes.every((b, i) => buf[i] === b);
}

/** Cuts an incomplete UTF-8 sequence off the end of a sample that stops mid-file. */
function completeUtf8(buf: Buffer): Buffer {
  let end = buf.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  for (let i = 1; i <= 4 && end - i >= 0; i++) {
    const byte = buf[end - i]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (needed > i) end -= i;
    break;
  }
  return buf.subarray(0, end);
}

function isValidUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

const NOT_CSV =
  "This file is not a CSV text file. In your spreadsheet, choose File › Save as (or Download) › CSV, and upload that file.";

/**
 * The file's text encoding from its first bytes: a byte-order mark decides (UTF-8, UTF-16 LE or
 * BE); without one, a NUL in every other byte means UTF-16, valid UTF-8 means UTF-8, and
 * anything else is read as Windows-1252 (what Excel on Windows writes for "CSV"). Other binary
 * files (spreadsheets, PDFs, images) are refused with a message saying what to do.
 */
export function detectEncoding(
  head: Buffer,
  complete: boolean,
): { encoding: CsvEncoding; bomBytes: number } {
  if (startsWith(head, UTF8_BOM)) return { encoding: "utf-8", bomBytes: 3 };
  if (startsWith(head, [0xff, 0xfe])) return { encoding: "utf-16le", bomBytes: 2 };
  if (startsWith(head, [0xfe, 0xff])) return { encoding: "utf-16be", bomBytes: 2 };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    throw new ValidationError(
      "This looks like an Excel workbook or another zipped file, not a CSV file. In Excel, choose File › Save as › CSV UTF-8, and upload that file.",
    );
  }
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0])) {
    throw new ValidationError(
      "This looks like an old Excel (.xls) workbook, not a CSV file. In Excel, choose File › Save as › CSV UTF-8, and upload that file.",
    );
  }
  const probe = head.subarray(0, 4096);
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < probe.length; i++) {
    if (probe[i] === 0) {
      if (i % 2 === 0) evenNul++;
      else oddNul++;
    }
  }
  const pairs = Math.floor(probe.length / 2);
  if (pairs > 0 && oddNul > pairs * 0.3 && evenNul < pairs * 0.05) {
    return { encoding: "utf-16le", bomBytes: 0 };
  }
  if (pairs > 0 && evenNul > pairs * 0.3 && oddNul < pairs * 0.05) {
    return { encoding: "utf-16be", bomBytes: 0 };
  }
  if (evenNul + oddNul > 0) throw new ValidationError(NOT_CSV);
  const text = complete ? head : completeUtf8(head);
  if (isValidUtf8(text)) return { encoding: "utf-8", bomBytes: 0 };
  // Control characters other than tab/CR/LF are not text in any single-byte code page either.
  let control = 0;
  for (const byte of probe) if (byte < 0x09 || (byte > 0x0d && byte < 0x20)) control++;
  if (control > probe.length * 0.01) throw new ValidationError(NOT_CSV);
  return { encoding: "windows-1252", bomBytes: 0 };
}

/** Bytes of the file (after its BOM) to UTF-8, chunk by chunk, for encodings other than UTF-8. */
class ToUtf8 extends Transform {
  private readonly decoder: TextDecoder;
  constructor(encoding: Exclude<CsvEncoding, "utf-8">) {
    super({ decodeStrings: true });
    this.decoder = new TextDecoder(encoding);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const text = this.decoder.decode(chunk, { stream: true });
    done(null, text ? Buffer.from(text, "utf8") : undefined);
  }
  override _flush(done: TransformCallback): void {
    const text = this.decoder.decode();
    done(null, text ? Buffer.from(text, "utf8") : undefined);
  }
}

function decodeSample(sample: Buffer, format: { encoding: CsvEncoding; bomBytes: number }) {
  const body = sample.subarray(format.bomBytes);
  if (format.encoding === "utf-8") return body.toString("utf8");
  return new TextDecoder(format.encoding).decode(body);
}

// ---------------------------------------------------------------------------------------------
// Delimiter

/**
 * Which of comma, semicolon, tab and vertical bar separates the fields: each is counted outside
 * quotes on every line of the sample, and the winner is the one that appears on the header line
 * and the same number of times on most lines (ties go to the one appearing most often, then to
 * the order comma, semicolon, tab, bar). A file with one column is read as comma-separated.
 */
export function detectDelimiter(text: string, maxLines = 50): CsvDelimiter {
  const counts = new Map<CsvDelimiter, number[]>(CSV_DELIMITERS.map((d) => [d, []]));
  let current = new Map<CsvDelimiter, number>();
  let inQuotes = false;
  let lineHasText = false;
  let lines = 0;
  const endLine = () => {
    if (lineHasText) {
      for (const d of CSV_DELIMITERS) counts.get(d)!.push(current.get(d) ?? 0);
      lines++;
    }
    current = new Map();
    lineHasText = false;
  };
  for (let i = 0; i < text.length && lines < maxLines; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      // A doubled quote inside quotes is an escaped quote and leaves the quoted field open.
      if (inQuotes && text[i + 1] === '"') i++;
      else inQuotes = !inQuotes;
      lineHasText = true;
      continue;
    }
    if (inQuotes) continue;
    if (ch === "\n" || ch === "\r") {
      endLine();
      if (ch === "\r" && text[i + 1] === "\n") i++;
      continue;
    }
    if (ch !== " ") lineHasText = true;
    if (ch === "," || ch === ";" || ch === "\t" || ch === "|") {
      current.set(ch, (current.get(ch) ?? 0) + 1);
    }
  }
  // The last line may be cut off by the sample: count it only when it is the only line.
  if (lines === 0) endLine();
  let best: { delimiter: CsvDelimiter; score: number; total: number } | null = null;
  for (const delimiter of CSV_DELIMITERS) {
    const perLine = counts.get(delimiter)!;
    const header = perLine[0] ?? 0;
    if (header === 0) continue;
    const same = perLine.filter((n) => n === header).length;
    const score = same / perLine.length;
    const total = perLine.reduce((a, b) => a + b, 0);
    if (!best || score > best.score || (score === best.score && total > best.total)) {
      best = { delimiter, score, total };
    }
  }
  return best?.delimiter ?? ",";
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** The csv-parse settings every reader of an import file uses. */
export function csvParseOptions(delimiter: CsvDelimiter) {
  return {
    delimiter,
    // Missing trailing cells are empty; extra cells are checked row by row.
    relax_column_count: true,
    // A quote inside an unquoted field (5'10") is text, as spreadsheets write it.
    relax_quotes: true,
    // Blank lines are rows too, so row numbers match what a spreadsheet shows.
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_BYTES,
  };
}

/** A csv-parse error as a sentence for people, with the line where it happened. */
export function describeCsvError(error: unknown): string {
  const err = error as Partial<CsvError> & { lines?: number; message?: string };
  const line = typeof err.lines === "number" ? ` (line ${err.lines} of the file)` : "";
  switch (err.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return `A quoted field is never closed${line}: a double quote (") is missing. Fix the quotes in the file and import it again.`;
    case "CSV_INVALID_CLOSING_QUOTE":
      return `A quoted field is followed by other text${line}. Inside a quoted field, a double quote must be written twice (""). Fix the file and import it again.`;
    case "CSV_MAX_RECORD_SIZE":
      return `A row is longer than 1 MB${line}; usually a double quote (") that is never closed. Fix the file and import it again.`;
    default:
      return `The file could not be read as CSV${line}. Check that it is a CSV file and import it again.`;
  }
}

function cleanHeader(raw: string, index: number): string {
  const text = raw
    .replace(/^\uFEFF/, "")
    .trim()
    .replace(/\s+/g, " ")
    .slice(0, MAX_HEADER);
  return text || `Column ${index + 1}`;
}

function isBlank(record: readonly string[]): boolean {
  for (const cell of record) if (cell.trim() !== "") return false;
  return true;
}

/**
 * Reads format, headers and preview from the head of a file. `complete` says whether the sample
 * is the whole file (then nothing is cut off at its end). Pure, for tests and for sniffCsvFile.
 */
export async function sniffCsvSample(
  sample: Buffer,
  options: { complete: boolean; fileBytes?: number },
): Promise<CsvSniff> {
  const fileBytes = options.fileBytes ?? sample.length;
  const { encoding, bomBytes } = detectEncoding(sample, options.complete);
  const text = decodeSample(sample, { encoding, bomBytes });
  if (!text.trim()) throw new ValidationError("The file is empty. Upload a CSV file with rows.");
  const delimiter = detectDelimiter(text);
  // A complete sample is read whole (it is at most 1 MB) so the row count is exact.
  const limit = options.complete ? Infinity : PREVIEW_ROWS + 6;
  const records: string[][] = [];
  let failure: unknown = null;
  let hitLimit = false;
  try {
    const parser = Readable.from([text]).pipe(parse(csvParseOptions(delimiter)));
    for await (const record of parser as AsyncIterable<string[]>) {
      records.push(record);
      if (records.length >= limit) {
        hitLimit = true;
        break;
      }
    }
  } catch (error) {
    failure = error;
  }
  if (failure) {
    // A sample cut in the middle of a quoted field looks like an unclosed quote; anything
    // else, or an unclosed quote in the whole file, is a real problem with the file.
    const cutOff =
      !options.complete && (failure as Partial<CsvError>).code === "CSV_QUOTE_NOT_CLOSED";
    if (!cutOff || records.length < 2) throw new ValidationError(describeCsvError(failure));
  } else if (!options.complete && !hitLimit && records.length > 1) {
    // The sample stops mid-file: its last row may be cut off.
    records.pop();
  }
  // Leading blank lines before the header are common in hand-made files.
  while (records.length && isBlank(records[0]!)) records.shift();
  const header = records.shift();
  if (!header || isBlank(header)) {
    throw new ValidationError(
      "The file has no header row. The first row must name the columns, like Name, Email, Phone.",
    );
  }
  if (header.length > MAX_COLUMNS) {
    throw new ValidationError(`The file has ${header.length} columns; at most ${MAX_COLUMNS}.`);
  }
  const headers = header.map(cleanHeader);
  while (records.length && isBlank(records[records.length - 1]!)) records.pop();
  const preview = records.slice(0, PREVIEW_ROWS);
  let estimatedRows = records.length;
  if (!options.complete && preview.length > 0) {
    const chars = (r: string[]) => r.reduce((sum, cell) => sum + cell.length + 1, 0);
    const bytesPerChar = text.length ? (sample.length - bomBytes) / text.length : 1;
    const rowBytes =
      (preview.reduce((sum, r) => sum + chars(r), 0) / preview.length) * bytesPerChar;
    const dataBytes = fileBytes - bomBytes - chars(header) * bytesPerChar;
    estimatedRows = Math.max(preview.length, Math.round(dataBytes / Math.max(1, rowBytes)));
  }
  return { encoding, bomBytes, delimiter, headers, preview, estimatedRows };
}

/** Format, headers and preview of a file on disk, reading at most 1 MB of it. */
export async function sniffCsvFile(path: string): Promise<CsvSniff> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new ValidationError("The file is empty. Upload a CSV file with rows.");
    let length = Math.min(size, FIRST_SAMPLE);
    for (;;) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      const sample = buffer.subarray(0, bytesRead);
      const complete = bytesRead >= size;
      const sniff = await sniffCsvSample(sample, { complete, fileBytes: size });
      // Enough rows for the preview, or nothing more to read: done.
      if (complete || sniff.preview.length >= PREVIEW_ROWS || length >= LARGE_SAMPLE) return sniff;
      length = Math.min(size, LARGE_SAMPLE);
    }
  } finally {
    await handle.close();
  }
}

/** Reads the stored format back; anything unexpected is a corrupt import record. */
export function parseCsvFormat(json: string | null): CsvFormat {
  const value = JSON.parse(json ?? "null") as Partial<CsvFormat> | null;
  if (
    !value ||
    !CSV_ENCODINGS.includes(value.encoding as CsvEncoding) ||
    !CSV_DELIMITERS.includes(value.delimiter as CsvDelimiter) ||
    !Array.isArray(value.headers)
  ) {
    throw new Error("The import's stored file format is not readable.");
  }
  return {
    encoding: value.encoding as CsvEncoding,
    bomBytes: Number(value.bomBytes) || 0,
    delimiter: value.delimiter as CsvDelimiter,
    headers: value.headers.map(String),
    estimatedRows: Number(value.estimatedRows) || 0,
  };
}

export interface CsvRecordStream {
  /** Data records after the header row, in order and in chunks; throws on malformed CSV. */
  records: AsyncIterable<string[][]>;
  /** Bytes of the file read so far. */
  bytesRead(): number;
  /** Records up to and including the header (1 unless blank lines come first). */
  rowOffset(): number;
  /** Stops reading and releases the file. */
  close(): void;
}

/** Longest incomplete line kept as bytes before it is decoded anyway (\r-only files, huge rows). */
const MAX_PENDING_LINE = 64 * 1024;

/**
 * UTF-8 reads to text, line by line: a line of ASCII becomes a one-byte string (half the
 * memory, and faster to trim, match, store and send) even when other lines of the same read
 * hold Devanagari, which would make a whole-read string two-byte. Lines end at \n bytes, which
 * are never inside a multi-byte character, so the text is exactly a stream decoder's.
 */
function utf8Lines(): (chunk: Buffer | null) => string[] {
  let pending: Buffer | null = null;
  return (chunk) => {
    const data = pending ? (chunk ? Buffer.concat([pending, chunk]) : pending) : chunk;
    pending = null;
    if (!data || data.length === 0) return [];
    if (!chunk) return [data.toString("utf8")];
    const out: string[] = [];
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      out.push(data.toString("utf8", start, nl + 1));
      start = nl + 1;
    }
    if (start < data.length) {
      let tail = data.subarray(start);
      if (tail.length > MAX_PENDING_LINE) {
        // No line end for a while: decode all but an incomplete last character.
        const whole = completeUtf8(tail);
        if (whole.length) out.push(whole.toString("utf8"));
        tail = tail.subarray(whole.length);
      }
      if (tail.length) pending = tail;
    }
    return out;
  };
}

/** Other encodings: each read decoded to text as it comes. */
function transcoded(decoder: TextDecoder): (chunk: Buffer | null) => string[] {
  return (chunk) => {
    const text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    return text ? [text] : [];
  };
}

/**
 * The whole file as records, streamed: the header row is read and dropped, the rest come in
 * chunks. Non-UTF-8 files are transcoded on the way; memory stays flat whatever the file size.
 *
 * The records are csv-parse's (csvParseOptions), read by the fast splitter of
 * csv-split.server.ts; where it meets something only csv-parse reads exactly (see there), the
 * file is read again from the start with csv-parse, skipping the records already given, so
 * records and errors are always csv-parse's own.
 */
export function openCsvRecords(path: string, format: CsvFormat): CsvRecordStream {
  let offset = 0;
  let headerSeen = false;
  let taken = 0;
  let bytes = format.bomBytes;
  let closed = false;
  let active: { destroy(): void } | null = null;

  /** Header and leading blank records are counted and dropped; the rest are data. */
  const dataOf = (records: string[][]): string[][] => {
    taken += records.length;
    if (headerSeen) return records;
    let i = 0;
    while (i < records.length && !headerSeen) {
      offset++;
      // The same leading blank lines sniffCsvSample skipped.
      if (!isBlank(records[i]!)) headerSeen = true;
      i++;
    }
    return records.slice(i);
  };

  async function* fast(): AsyncGenerator<string[][], boolean> {
    const file = createReadStream(path, { start: format.bomBytes, highWaterMark: 256 * 1024 });
    active = file;
    const splitter = new CsvSplitter(format.delimiter);
    const texts =
      format.encoding === "utf-8" ? utf8Lines() : transcoded(new TextDecoder(format.encoding));
    let read = format.bomBytes;
    try {
      for await (const chunk of file as AsyncIterable<Buffer>) {
        read += chunk.length;
        bytes = Math.max(bytes, read);
        const records: string[][] = [];
        for (const text of texts(chunk)) {
          const some = splitter.push(text, false);
          if (some === null) return false;
          for (const record of some) records.push(record);
        }
        const data = dataOf(records);
        if (data.length) yield data;
      }
      const records: string[][] = [];
      const last = texts(null);
      if (last.length === 0) last.push("");
      for (let i = 0; i < last.length; i++) {
        const some = splitter.push(last[i]!, i === last.length - 1);
        if (some === null) return false;
        for (const record of some) records.push(record);
      }
      const data = dataOf(records);
      if (data.length) yield data;
      return true;
    } finally {
      file.destroy();
    }
  }

  /** csv-parse from the start of the file, skipping the first `skip` records. */
  async function* slow(skip: number): AsyncGenerator<string[][]> {
    const file = createReadStream(path, { start: format.bomBytes, highWaterMark: 256 * 1024 });
    let read = format.bomBytes;
    file.on("data", (chunk) => {
      read += chunk.length;
      bytes = Math.max(bytes, read);
    });
    const parser = parse(csvParseOptions(format.delimiter));
    active = {
      destroy() {
        file.destroy();
        parser.destroy();
      },
    };
    const fail = (error: Error) => parser.destroy(error);
    file.on("error", fail);
    if (format.encoding === "utf-8") {
      file.pipe(parser);
    } else {
      const decoder = new ToUtf8(format.encoding);
      decoder.on("error", fail);
      file.pipe(decoder).pipe(parser);
    }
    let failure: Error | null = null;
    let ended = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    parser.on("readable", notify);
    parser.on("end", () => {
      ended = true;
      notify();
    });
    parser.on("error", (error) => {
      failure = error;
      notify();
    });
    let skipped = 0;
    try {
      // Whatever records are ready, a few hundred at a time: no promise per record.
      for (;;) {
        const chunk: string[][] = [];
        let record: string[] | null;
        while (chunk.length < 512 && (record = parser.read() as string[] | null) !== null) {
          if (skipped < skip) skipped++;
          else chunk.push(record);
        }
        if (chunk.length > 0) {
          const data = dataOf(chunk);
          if (data.length) yield data;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      file.destroy();
      parser.destroy();
    }
  }

  async function* records(): AsyncGenerator<string[][]> {
    const first = fast();
    try {
      for (;;) {
        const step = await first.next();
        if (step.done) {
          if (step.value) return;
          break;
        }
        yield step.value;
      }
    } finally {
      // Stopped early by the reader: the fast reader's file is released too.
      await first.return(true);
    }
    if (closed) return;
    yield* slow(taken);
  }

  return {
    records: records(),
    bytesRead: () => bytes,
    rowOffset: () => offset,
    close() {
      closed = true;
      active?.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Guessing the mapping from headers

/** Where a column's values go. Attribute fields are "attribute:<key>". */
export type ImportField =
  | "ignore"
  | "email"
  | "phone"
  | "name"
  | "first_name"
  | "last_name"
  | "tags"
  | `attribute:${string}`;

export const CONTACT_FIELD_LABELS: Record<Exclude<ImportField, `attribute:${string}`>, string> = {
  ignore: "Don't import",
  email: "Email",
  phone: "Phone",
  name: "Full name",
  first_name: "First name",
  last_name: "Last name",
  tags: "Tags (per row, separated by ; or ,)",
};

/** "E-mail Address" → "email address"; letters and digits of any script survive. */
export function headerWords(header: string): string {
  return header
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

const HEADER_GUESSES: [Exclude<ImportField, "ignore" | `attribute:${string}`>, RegExp][] = [
  ["email", /^(e ?mails?|mail)( (address|addr|id|i d))?$|^(email|e mail) ?\d?$/],
  ["email", /^(primary |work |personal |contact )?e ?mail( (address|id))?$/],
  [
    "phone",
    /^(primary |contact |work |personal )?(phone|mobile|mob|cell|cellphone|telephone|tel|whats ?app|wa|msisdn|contact)( (no|number|num|nr|phone|mobile|no s))?$/,
  ],
  ["phone", /^(phone|mobile|whats ?app)( number)?( with country code)?$/],
  ["first_name", /^(first|given|fore) ?name$|^fname$|^first$/],
  ["last_name", /^(last|family|sur) ?name$|^lname$|^surname$|^last$/],
  ["name", /^((full|contact|customer|client|display|person s) )?name$/],
  ["tags", /^(tags?|labels?)$/],
];

/** The field a header most likely means, or null. */
export function guessContactField(
  header: string,
): Exclude<ImportField, "ignore" | `attribute:${string}`> | null {
  const words = headerWords(header);
  for (const [field, pattern] of HEADER_GUESSES) if (pattern.test(words)) return field;
  return null;
}

/**
 * One field per column, guessed from the header: the first column that reads as email, phone
 * or name gets it ("Mobile No." → phone, "E-mail" → email, "First name" + "Last name" → the two
 * halves of the name); other columns go to the custom attribute whose key or label matches, and
 * the rest are not imported.
 */
export function guessMapping(
  headers: readonly string[],
  definitions: readonly Pick<AttributeDefinition, "key" | "label">[],
): ImportField[] {
  const taken = new Set<ImportField>();
  const byWords = new Map<string, string>();
  for (const d of definitions) {
    byWords.set(headerWords(d.key.replace(/_/g, " ")), d.key);
    byWords.set(headerWords(d.label), d.key);
  }
  const mapping = headers.map((header): ImportField => {
    const field = guessContactField(header);
    if (field && !taken.has(field)) {
      taken.add(field);
      return field;
    }
    const key = byWords.get(headerWords(header));
    if (key && !taken.has(`attribute:${key}`)) {
      taken.add(`attribute:${key}`);
      return `attribute:${key}`;
    }
    return "ignore";
  });
  // A full name wins over first/last; first or last alone still make a name.
  if (taken.has("name")) {
    return mapping.map((f) => (f === "first_name" || f === "last_name" ? "ignore" : f));
  }
  return mapping;
}
