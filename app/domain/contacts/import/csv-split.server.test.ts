import { parse } from "csv-parse/sync";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  CSV_DELIMITERS,
  csvParseOptions,
  openCsvRecords,
  type CsvDelimiter,
  type CsvFormat,
} from "./csv-format.server";
import { CsvSplitter, FALLBACK_RECORD_CHARS } from "./csv-split.server";

/**
 * The fast splitter must read every text exactly as csv-parse does with the import's settings,
 * or hand it back. These tests generate many small texts made of the characters that matter
 * (delimiters, quotes, \r, \n, spaces, multi-byte letters), cut them into random chunks, and
 * compare.
 */

let state = 7;
/** mulberry32: deterministic, so a failing case fails again. */
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

const PIECES = [
  "a",
  "b",
  "7",
  " ",
  "é",
  "अ",
  "😀",
  '"',
  '""',
  "\n",
  "\r",
  "\r\n",
  ",",
  ";",
  "\t",
  "|",
];

/** A CSV-ish text: mostly plausible (quoted fields, line ends), sometimes anything. */
function randomText(delimiter: string): string {
  const lineEnd = pick(["\n", "\r\n", "\r"]);
  let text = "";
  const fields = 1 + Math.floor(random() * 20);
  for (let i = 0; i < fields; i++) {
    const r = random();
    let field = "";
    const length = Math.floor(random() * 6);
    for (let j = 0; j < length; j++) field += pick(PIECES);
    if (r < 0.3) field = `"${field.replace(/"/g, '""')}"`;
    else if (r < 0.6)
      field = field
        .replace(/["\r\n]/g, "")
        .split(delimiter)
        .join("");
    text += field;
    const end = random();
    text += end < 0.2 ? lineEnd : end < 0.25 ? pick(["\n", "\r", "\r\n"]) : delimiter;
  }
  if (random() < 0.5) text = text.replace(/[\r\n,;\t|]+$/, "");
  return text;
}

function csvParse(text: string, delimiter: CsvDelimiter): string[][] | { error: string } {
  try {
    return parse(text, csvParseOptions(delimiter)) as string[][];
  } catch (error) {
    return { error: (error as { code?: string }).code ?? String(error) };
  }
}

/** The splitter over `text` cut at random places; null when it handed the text back. */
function split(text: string, delimiter: string): string[][] | null {
  const splitter = new CsvSplitter(delimiter);
  const out: string[][] = [];
  let at = 0;
  while (at < text.length) {
    const size = 1 + Math.floor(random() * (random() < 0.5 ? 4 : text.length));
    const records = splitter.push(text.slice(at, at + size), false);
    if (records === null) return null;
    out.push(...records);
    at += size;
  }
  const rest = splitter.push("", true);
  if (rest === null) return null;
  out.push(...rest);
  return out;
}

describe("CsvSplitter", () => {
  test("reads generated texts exactly as csv-parse, in any chunks, or hands them back", () => {
    let compared = 0;
    let handedBack = 0;
    for (let i = 0; i < 30_000; i++) {
      const delimiter = pick(CSV_DELIMITERS);
      const text = randomText(delimiter);
      const expected = csvParse(text, delimiter);
      const actual = split(text, delimiter);
      if (actual === null) {
        // Only texts csv-parse reads with its relaxed-quote rules, or fails on.
        const strict = () => parse(text, { ...csvParseOptions(delimiter), relax_quotes: false });
        expect(strict, JSON.stringify(text)).toThrow();
        handedBack++;
        continue;
      }
      compared++;
      // Whatever the splitter reads itself, csv-parse reads without error, and the same.
      expect(actual, JSON.stringify(text)).toEqual(expected);
    }
    expect(compared).toBeGreaterThan(15_000);
    expect(handedBack).toBeGreaterThan(100);
  });

  test("the same chunked one character at a time", () => {
    for (let i = 0; i < 3_000; i++) {
      const delimiter = pick(CSV_DELIMITERS);
      const text = randomText(delimiter);
      const splitter = new CsvSplitter(delimiter);
      const out: string[][] = [];
      let gaveUp = false;
      for (const ch of text) {
        const records = splitter.push(ch, false);
        if (records === null) {
          gaveUp = true;
          break;
        }
        out.push(...records);
      }
      if (gaveUp) continue;
      const rest = splitter.push("", true);
      if (rest === null) continue;
      out.push(...rest);
      expect(out, JSON.stringify(text)).toEqual(csvParse(text, delimiter));
    }
  });

  test.each([
    [
      "plain lines",
      "a,b\nc,d\n",
      [
        ["a", "b"],
        ["c", "d"],
      ],
    ],
    ["blank lines are records of one empty field", "a\n\n\nb", [["a"], [""], [""], ["b"]]],
    ["quoted delimiter, newline and quote", 'x,"a,b\nc ""d"""\n', [["x", 'a,b\nc "d"']]],
    ["a quote inside a field is text", "5'10\",b\n", [["5'10\"", "b"]]],
    ["CRLF ends records, a lone LF is then text", "a\r\nb\nc\r\n", [["a"], ["b\nc"]]],
    ["LF ends records, a lone CR is then text", "a\nb\rc\n", [["a"], ["b\rc"]]],
    [
      "trailing delimiter",
      "a,\n,",
      [
        ["a", ""],
        ["", ""],
      ],
    ],
    ["quoted empty last field", 'a,""', [["a", ""]]],
  ])("%s", (_name, text, expected) => {
    expect(csvParse(text, ",")).toEqual(expected);
    expect(split(text, ",")).toEqual(expected);
  });

  test.each([
    ["text after a closing quote", '"a"b,c\n'],
    ["a quote never closed", 'a,"b\n'],
    ["a closing quote before a CR that is not the record end", 'a\n"b"\rc\n'],
  ])("hands back %s", (_name, text) => {
    expect(split(text, ",")).toBeNull();
  });

  test("hands back records too long to be sure of csv-parse's size limit", () => {
    const long = "x".repeat(FALLBACK_RECORD_CHARS + 1);
    expect(split(`a\n${long}\nb\n`, ",")).toBeNull();
    expect(split(`a\n"${long}"\nb\n`, ",")).toBeNull();
    expect(split(`a\n${"x,".repeat(FALLBACK_RECORD_CHARS / 2 + 1)}\nb\n`, ",")).toBeNull();
  });
});

describe("openCsvRecords", () => {
  const dir = mkdtempSync(join(tmpdir(), "engage-csv-split-"));
  let files = 0;

  async function read(bytes: Buffer, format: CsvFormat): Promise<string[][] | { error: string }> {
    const path = join(dir, `f${++files}.csv`);
    writeFileSync(path, bytes);
    const stream = openCsvRecords(path, format);
    const out: string[][] = [];
    try {
      for await (const chunk of stream.records) out.push(...chunk);
    } catch (error) {
      return { error: (error as { code?: string }).code ?? String(error) };
    } finally {
      stream.close();
    }
    return out;
  }

  const format = (delimiter: CsvDelimiter): CsvFormat => ({
    encoding: "utf-8",
    bomBytes: 0,
    delimiter,
    headers: [],
    estimatedRows: 0,
  });

  /** What csv-parse gives for the data records (after the header and blank lines before it). */
  function expected(text: string, delimiter: CsvDelimiter): string[][] | { error: string } {
    const all = csvParse(text, delimiter);
    if (!Array.isArray(all)) return all;
    let i = 0;
    while (i < all.length && all[i]!.every((c) => c.trim() === "")) i++;
    return all.slice(i + 1);
  }

  test("gives csv-parse's records and errors, falling back to csv-parse mid-file", async () => {
    // (csv-parse/sync, the reference, is the slow part of this test.)
    for (let i = 0; i < 20; i++) {
      const delimiter = pick(CSV_DELIMITERS);
      // Big enough to span several 256 KiB reads, with a random text somewhere in it.
      const lines: string[] = ["Name,Email"];
      const count = 1 + Math.floor(random() * 9_000);
      for (let j = 0; j < count; j++) {
        lines.push(
          random() < 0.0005
            ? randomText(delimiter)
            : `Name ${j}${delimiter}"x${delimiter}y"${delimiter}${"é".repeat(j % 30)}`,
        );
      }
      const text = lines.join(pick(["\n", "\r\n"]));
      const actual = await read(Buffer.from(text, "utf8"), format(delimiter));
      expect(actual).toEqual(expected(text, delimiter));
    }
  });

  test("an unclosed quote at the end fails with csv-parse's error, after the rows before it", async () => {
    const text = `Name,Email\n${"a,b\n".repeat(100_000)}"never closed,x\n`;
    const path = join(dir, "unclosed.csv");
    writeFileSync(path, text);
    const stream = openCsvRecords(path, format(","));
    let rows = 0;
    let failure: unknown = null;
    try {
      for await (const chunk of stream.records) rows += chunk.length;
    } catch (error) {
      failure = error;
    }
    expect(rows).toBe(100_000);
    expect(failure).toMatchObject({ code: "CSV_QUOTE_NOT_CLOSED", lines: 100_002 });
  });

  test("invalid UTF-8 reads as csv-parse reads it", async () => {
    const bytes = Buffer.concat([
      Buffer.from("Name,Email\na"),
      Buffer.from([0xe2, 0x82]),
      Buffer.from(",b\n"),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('x",\n"y"'),
      Buffer.from([0xf0, 0x9f, 0x98]),
      Buffer.from(",\n"),
    ]);
    const all = parse(bytes, csvParseOptions(",")) as string[][];
    expect(await read(bytes, format(","))).toEqual(all.slice(1));
  });

  test("UTF-8 without \\n (old Mac \\r files) and lines longer than a read", async () => {
    const mac = `Name\rEmail\r${"अनन्या,a@example.com\r".repeat(30_000)}`;
    expect(await read(Buffer.from(mac, "utf8"), format(","))).toEqual(expected(mac, ","));
    const long = `Name,Note\n${`x,${"अ😀é".repeat(40_000)}\n`.repeat(8)}y,z`;
    expect(await read(Buffer.from(long, "utf8"), format(","))).toEqual(expected(long, ","));
    const last = `Name,Note\r\na,b\r\nc,"d\r\ne"`;
    expect(await read(Buffer.from(last, "utf8"), format(","))).toEqual(expected(last, ","));
  });

  test("UTF-16 with a record cut across reads", async () => {
    const text = `Name;Email\n${'"Ananya; अ";a@example.com\n'.repeat(20_000)}`;
    const body = Buffer.from(text, "utf16le");
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), body]);
    const actual = await read(bytes, { ...format(";"), encoding: "utf-16le", bomBytes: 2 });
    expect(actual).toEqual(expected(text, ";"));
  });
});
