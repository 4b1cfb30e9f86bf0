import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ValidationError } from "~/lib/errors";
import {
  detectDelimiter,
  detectEncoding,
  guessContactField,
  guessMapping,
  openCsvRecords,
  sniffCsvFile,
  sniffCsvSample,
  type CsvFormat,
} from "./csv-format.server";

const dir = mkdtempSync(join(tmpdir(), "engage-csv-format-"));
let files = 0;

function file(bytes: Buffer | string): string {
  const path = join(dir, `f${++files}.csv`);
  writeFileSync(path, bytes);
  return path;
}

function utf16le(text: string, bom = true): Buffer {
  const body = Buffer.from(text, "utf16le");
  return bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
}

function utf16be(text: string): Buffer {
  const body = Buffer.from(text, "utf16le");
  body.swap16();
  return Buffer.concat([Buffer.from([0xfe, 0xff]), body]);
}

async function allRecords(path: string): Promise<string[][]> {
  const sniff = await sniffCsvFile(path);
  const format: CsvFormat = { ...sniff };
  const stream = openCsvRecords(path, format);
  const out: string[][] = [];
  for await (const chunk of stream.records) out.push(...chunk);
  stream.close();
  return out;
}

const DEVANAGARI = "Name,Email\nअनन्या शर्मा,ananya@example.com\nराहुल,rahul@example.com\n";

describe("encoding", () => {
  test("UTF-8 with a BOM: the BOM is not part of the first header", async () => {
    const sniff = await sniffCsvSample(Buffer.from(`\uFEFF${DEVANAGARI}`, "utf8"), {
      complete: true,
    });
    expect(sniff).toMatchObject({ encoding: "utf-8", bomBytes: 3, delimiter: "," });
    expect(sniff.headers).toEqual(["Name", "Email"]);
    expect(sniff.preview[0]).toEqual(["अनन्या शर्मा", "ananya@example.com"]);
    expect(await allRecords(file(`\uFEFF${DEVANAGARI}`))).toEqual([
      ["अनन्या शर्मा", "ananya@example.com"],
      ["राहुल", "rahul@example.com"],
    ]);
  });

  test("UTF-8 without a BOM", async () => {
    const sniff = await sniffCsvFile(file(DEVANAGARI));
    expect(sniff).toMatchObject({ encoding: "utf-8", bomBytes: 0, estimatedRows: 2 });
  });

  test("UTF-16 LE with a BOM is transcoded, Devanagari intact", async () => {
    const path = file(utf16le(DEVANAGARI));
    const sniff = await sniffCsvFile(path);
    expect(sniff).toMatchObject({ encoding: "utf-16le", bomBytes: 2 });
    expect(sniff.headers).toEqual(["Name", "Email"]);
    expect(await allRecords(path)).toEqual([
      ["अनन्या शर्मा", "ananya@example.com"],
      ["राहुल", "rahul@example.com"],
    ]);
  });

  test("UTF-16 BE with a BOM is transcoded", async () => {
    const path = file(utf16be(DEVANAGARI));
    expect(await sniffCsvFile(path)).toMatchObject({ encoding: "utf-16be", bomBytes: 2 });
    expect((await allRecords(path))[1]).toEqual(["राहुल", "rahul@example.com"]);
  });

  test("UTF-16 LE without a BOM is recognised by its zero bytes (Excel's Unicode text)", async () => {
    const path = file(utf16le("Name\tEmail\nPriya\tpriya@example.com\n", false));
    const sniff = await sniffCsvFile(path);
    expect(sniff).toMatchObject({ encoding: "utf-16le", bomBytes: 0, delimiter: "\t" });
    expect(await allRecords(path)).toEqual([["Priya", "priya@example.com"]]);
  });

  test("bytes that are not UTF-8 are read as Windows-1252", async () => {
    // "Müller" and "José" as Excel on Windows saves them.
    const bytes = Buffer.from(
      "Name;Email\nM\xfcller;m@example.com\nJos\xe9;j@example.com\n",
      "latin1",
    );
    const path = file(bytes);
    expect(await sniffCsvFile(path)).toMatchObject({ encoding: "windows-1252", delimiter: ";" });
    expect(await allRecords(path)).toEqual([
      ["Müller", "m@example.com"],
      ["José", "j@example.com"],
    ]);
  });

  test("a sample cut inside a multi-byte character is still UTF-8", () => {
    const bytes = Buffer.from("Name\nअनन्या\n", "utf8");
    // Cut in the middle of the last Devanagari character.
    expect(detectEncoding(bytes.subarray(0, bytes.length - 2), false).encoding).toBe("utf-8");
  });

  test("binary files are refused with a message saying what to do", async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49]);
    await expect(sniffCsvSample(png, { complete: true })).rejects.toThrow(/not a CSV text file/);
    const xlsx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 1)]);
    await expect(sniffCsvSample(xlsx, { complete: true })).rejects.toThrow(
      /Excel workbook.*Save as › CSV/,
    );
    await expect(sniffCsvSample(xlsx, { complete: true })).rejects.toBeInstanceOf(ValidationError);
  });

  test("an empty file and a file with only blank lines are refused", async () => {
    await expect(sniffCsvFile(file(""))).rejects.toThrow(/empty/);
    await expect(sniffCsvSample(Buffer.from("\n\n  \n"), { complete: true })).rejects.toThrow(
      /empty/,
    );
  });
});

describe("delimiter", () => {
  test("semicolons, even with commas inside quoted fields", () => {
    expect(detectDelimiter('Name;City\n"Sharma, Ananya";"Pune, MH"\nRavi;Delhi\n')).toBe(";");
  });

  test("tabs and vertical bars", () => {
    expect(detectDelimiter("Name\tEmail\tPhone\nA\ta@x.in\t1\n")).toBe("\t");
    expect(detectDelimiter("Name|Email\nA|a@x.in\n")).toBe("|");
  });

  test("commas counted outside quotes only", () => {
    expect(detectDelimiter('Name,Note\nA,"x; y; z; w"\nB,"p; q; r"\n')).toBe(",");
  });

  test("the count that stays the same on every line wins", () => {
    // One comma in a name on one line, two semicolons on every line.
    expect(detectDelimiter("Name;Email;Phone\nSharma, A;a@x.in;1\nRavi;r@x.in;2\n")).toBe(";");
  });

  test("a single column reads as comma-separated", () => {
    expect(detectDelimiter("Email\na@example.com\n")).toBe(",");
  });
});

describe("records", () => {
  test("quoted newlines stay inside their field, in the preview and in the import", async () => {
    const csv =
      'Name,Email\n"Rohan\nKumar",rohan@example.com\n"Line ""one""\r\nLine two",x@example.com\n';
    const sniff = await sniffCsvSample(Buffer.from(csv), { complete: true });
    expect(sniff.preview).toEqual([
      ["Rohan\nKumar", "rohan@example.com"],
      ['Line "one"\r\nLine two', "x@example.com"],
    ]);
    expect(sniff.estimatedRows).toBe(2);
    expect(await allRecords(file(csv))).toEqual(sniff.preview);
  });

  test("the preview holds the first 10 rows, and a cut-off last row is left out", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `Person ${i},p${i}@example.com`);
    const csv = `Name,Email\n${rows.join("\n")}\n`;
    const sample = Buffer.from(csv).subarray(0, 200);
    const sniff = await sniffCsvSample(sample, { complete: false, fileBytes: csv.length });
    expect(sniff.preview.length).toBeLessThanOrEqual(10);
    for (const [i, row] of sniff.preview.entries()) {
      expect(row).toEqual([`Person ${i}`, `p${i}@example.com`]);
    }
    expect(sniff.estimatedRows).toBeGreaterThan(30);
    expect(sniff.estimatedRows).toBeLessThan(50);
    const full = await sniffCsvFile(file(csv));
    expect(full.preview).toHaveLength(10);
    expect(full.estimatedRows).toBe(40);
  });

  test("blank lines before the header are skipped, blank rows after it are rows", async () => {
    const csv = "\n\nEmail\na@example.com\n\nb@example.com\n";
    expect((await sniffCsvSample(Buffer.from(csv), { complete: true })).headers).toEqual(["Email"]);
    const path = file(csv);
    const sniff = await sniffCsvFile(path);
    const stream = openCsvRecords(path, sniff);
    const records: string[][] = [];
    for await (const chunk of stream.records) records.push(...chunk);
    expect(stream.rowOffset()).toBe(3);
    expect(records).toEqual([["a@example.com"], [""], ["b@example.com"]]);
  });

  test("a quote that never closes is a clear error with its line", async () => {
    const csv = 'Name,Email\nA,a@example.com\n"B,b@example.com\n';
    await expect(sniffCsvSample(Buffer.from(csv), { complete: true })).rejects.toThrow(
      /quoted field is never closed.*line/,
    );
  });

  test("a header-only file has no preview rows", async () => {
    const sniff = await sniffCsvSample(Buffer.from("Name,Email\n"), { complete: true });
    expect(sniff.headers).toEqual(["Name", "Email"]);
    expect(sniff.preview).toEqual([]);
  });

  test("empty header cells get a column name", async () => {
    const sniff = await sniffCsvSample(Buffer.from("Email,,  Notes  \na@x.in,1,2\n"), {
      complete: true,
    });
    expect(sniff.headers).toEqual(["Email", "Column 2", "Notes"]);
  });
});

describe("header guessing", () => {
  test.each([
    ["Mobile No.", "phone"],
    ["Phone", "phone"],
    ["WhatsApp number", "phone"],
    ["Phone Number", "phone"],
    ["Contact No", "phone"],
    ["E-mail", "email"],
    ["Email Address", "email"],
    ["EMAIL", "email"],
    ["Email ID", "email"],
    ["Name", "name"],
    ["Full name", "name"],
    ["Customer Name", "name"],
    ["First name", "first_name"],
    ["Last Name", "last_name"],
    ["Surname", "last_name"],
    ["City", null],
    ["Phone Model", null],
  ])("%s → %s", (header, field) => {
    expect(guessContactField(header)).toBe(field);
  });

  const definitions = [
    { key: "city", label: "City" },
    { key: "signup_date", label: "Signup date" },
    { key: "plan_tier", label: "Plan" },
  ];

  test("columns map to fields, then to attributes by key or label, else ignore", () => {
    expect(
      guessMapping(
        [
          "Full name",
          "E-mail",
          "Mobile No.",
          "WhatsApp number",
          "City",
          "Signup Date",
          "Plan",
          "Notes",
        ],
        definitions,
      ),
    ).toEqual([
      "name",
      "email",
      "phone",
      // One phone per contact: the second phone-like column is not imported.
      "ignore",
      "attribute:city",
      "attribute:signup_date",
      "attribute:plan_tier",
      "ignore",
    ]);
  });

  test("first and last name columns make the name; a full-name column wins over them", () => {
    expect(guessMapping(["First name", "Last name", "Email"], [])).toEqual([
      "first_name",
      "last_name",
      "email",
    ]);
    expect(guessMapping(["Name", "First name", "Email"], [])).toEqual(["name", "ignore", "email"]);
  });
});
