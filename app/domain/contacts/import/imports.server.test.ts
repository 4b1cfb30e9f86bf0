import Database from "better-sqlite3";
import { and, desc, eq } from "drizzle-orm";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { makeWorkspace } from "../../../../tests/support/workspaces";
import { thrown } from "../../../../tests/support/errors";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import {
  consents,
  contactEvents,
  contacts,
  contactTags,
  listMembers,
  lists,
  tags,
} from "~/db/schema/tenant";
import { tenantDbPath } from "~/db/tenants.server";
import { ValidationError } from "~/lib/errors";
import { normalisePhone } from "~/lib/phone";
import type { WorkspaceContext } from "../../context";
import { createAttributeDefinition, listAttributeDefinitions } from "../attributes.server";
import { createContact, eraseContact } from "../contacts.server";
import { createGroup } from "../groups.server";
import { setConsent } from "../consent.server";
import {
  cancelImport,
  getImportProgress,
  listImports,
  recoverImports,
  setImportTuning,
  startImport,
  stopImportsForShutdown,
  waitForImport,
} from "./supervisor.server";
import { createImport, getImportPreview } from "./uploads.server";
import {
  exportImportErrors,
  getImport,
  listImportWarnings,
  type ImportSummary,
} from "./imports.server";
import { NEW_ATTRIBUTE_FIELD, setMapping, type ImportSettingsInput } from "./mapping.server";
import { DEFAULT_TUNING } from "./threads.server";
import { compileRowPlan, normaliseImportRow } from "./records.server";
import { addSuppression, suppressContact } from "../suppressions.server";

process.env.BASE_URL = "https://engage.test";

let seq = 0;

async function workspace(): Promise<WorkspaceContext> {
  seq += 1;
  const slug = `import-${seq}-${Date.now().toString(36)}`;
  const wctx = await makeWorkspace(slug, { name: slug, request: { ip: "203.0.113.9" } });
  createAttributeDefinition(wctx, { key: "city", label: "City", type: "text" });
  return wctx;
}

function upload(ctx: WorkspaceContext, content: string | Buffer, fileName = "contacts.csv") {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  return createImport(ctx, { fileName, data: Readable.from([bytes]) });
}

async function runImport(
  ctx: WorkspaceContext,
  content: string | Buffer,
  settings: Partial<ImportSettingsInput> = {},
): Promise<ImportSummary> {
  const { import: created } = await upload(ctx, content);
  const mapping = settings.mapping ?? (await getImportPreview(ctx, created.id)).mapping;
  setMapping(ctx, created.id, { onExisting: "update", ...settings, mapping });
  startImport(ctx, created.id);
  return waitForImport(ctx.workspaceId, created.id);
}

function rejectedCsv(ctx: WorkspaceContext, id: string): string {
  return [...exportImportErrors(ctx, id)].join("");
}

function contactsOf(ctx: WorkspaceContext) {
  return ctx.db.select().from(contacts).orderBy(contacts.id).all();
}

function byEmail(ctx: WorkspaceContext, email: string) {
  return ctx.db.select().from(contacts).where(eq(contacts.email, email)).get();
}

function uploadsOf(ctx: WorkspaceContext): string[] {
  const dir = join(process.env.DATA_DIR!, "uploads", ctx.workspaceId);
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Unique contacts, one per row, for the runs that must last a while. */
function bigFile(rows: number, offset = 0): string {
  const lines = ["Name,Email,Phone"];
  for (let i = offset; i < offset + rows; i++) {
    lines.push(`Person ${i},person${i}@example.com,+91 9${String(100000000 + i).padStart(9, "0")}`);
  }
  return `${lines.join("\n")}\n`;
}

afterEach(() => {
  setImportTuning(DEFAULT_TUNING);
});

describe("a messy file", () => {
  let ctx: WorkspaceContext;
  let result: ImportSummary;

  // BOM, semicolons, CRLF, a quoted newline, Devanagari, a semicolon inside quotes, duplicate
  // rows (one with a change), invalid phones and emails, a blank row, a row with neither email
  // nor phone, and a suppressed person.
  const file =
    "\uFEFF" +
    [
      "Full name;E-mail;Mobile No.;City",
      "अनन्या शर्मा;Ananya.Sharma@Example.COM;98765 43210;Mumbai",
      '"Rohan\nKumar";rohan@example.com;+91 (987) 654-3211;Pune',
      'Priya Iyer;PRIYA@example.com;0091-98765-43212;"Chennai; TN"',
      "अनन्या शर्मा;ananya.sharma@example.com;+919876543210;Pune",
      "Vikram Rao;vikram@example;12;Delhi",
      "Sanjay Gupta;sanjay@example.com;12345;Delhi",
      "Meera Nair;;+91 98765 43214;Kochi",
      ";;;",
      "Arjun Mehta;arjun@example.com;call me;Goa",
      "Kavya Reddy;KAVYA@EXAMPLE.COM;;Hyderabad",
      '"Rohan\nKumar";rohan@example.com;+91 (987) 654-3211;Pune',
      "Ravi;;;Delhi",
      "Gone Person;gone@example.com;;Delhi",
      "Deepa Joshi;deepa@example.com;98765 4321;Nagpur",
    ].join("\r\n") +
    "\r\n";

  beforeAll(async () => {
    ctx = await workspace();
    addSuppression(ctx, { identifier: "gone@example.com", channel: "all" });
    result = await runImport(ctx, file);
  });

  test("exact counts: 14 rows read, 8 new (3 without their phone), 1 updated, 1 unchanged, 1 suppressed, 2 rejected", () => {
    expect(result.status).toBe("completed");
    expect(result.error).toBeNull();
    expect(result.counts).toEqual({
      rowsDone: 14,
      bytesDone: Buffer.byteLength(file),
      imported: 8,
      updated: 1,
      skipped: 1,
      suppressed: 1,
      errors: 2,
      warnings: 3,
    });
  });

  test("rows with a usable email and an unusable phone are kept, the phone named as left out", () => {
    expect(listImportWarnings(ctx, result.id)).toEqual([
      { row: 7, column: "Mobile No.", reason: '"12345" is not a valid phone number for IN.' },
      { row: 10, column: "Mobile No.", reason: '"call me" is not a phone number.' },
      { row: 15, column: "Mobile No.", reason: '"98765 4321" is not a valid phone number for IN.' },
    ]);
    expect(byEmail(ctx, "sanjay@example.com")).toMatchObject({ phone: null, name: "Sanjay Gupta" });
  });

  test("the exact rejected rows, numbered as a spreadsheet shows them", () => {
    expect(rejectedCsv(ctx, result.id)).toBe(
      [
        "Row,Column,Reason",
        '6,E-mail,"Enter a valid email address, like name@example.com."',
        '6,Mobile No.,"""12"" is not a valid phone number for IN."',
        "13,E-mail / Mobile No.,The row has neither an email address nor a phone number.",
      ]
        .map((line) => `${line}\r\n`)
        .join(""),
    );
  });

  test("contacts are stored normalised, the duplicate merged into the first", () => {
    const rows = contactsOf(ctx).map((c) => ({
      name: c.name,
      nameKey: c.nameKey,
      email: c.email,
      phone: c.phone,
      country: c.country,
      attributes: JSON.parse(c.attributes) as unknown,
    }));
    expect(rows).toEqual([
      {
        name: "अनन्या शर्मा",
        nameKey: "अनन्या शर्मा",
        email: "ananya.sharma@example.com",
        phone: "+919876543210",
        country: "IN",
        attributes: { city: "Pune" },
      },
      {
        name: "Rohan Kumar",
        nameKey: "rohan kumar",
        email: "rohan@example.com",
        phone: "+919876543211",
        country: "IN",
        attributes: { city: "Pune" },
      },
      {
        name: "Priya Iyer",
        nameKey: "priya iyer",
        email: "priya@example.com",
        phone: "+919876543212",
        country: "IN",
        attributes: { city: "Chennai; TN" },
      },
      {
        name: "Sanjay Gupta",
        nameKey: "sanjay gupta",
        email: "sanjay@example.com",
        phone: null,
        country: null,
        attributes: { city: "Delhi" },
      },
      {
        name: "Meera Nair",
        nameKey: "meera nair",
        email: null,
        phone: "+919876543214",
        country: "IN",
        attributes: { city: "Kochi" },
      },
      {
        name: "Arjun Mehta",
        nameKey: "arjun mehta",
        email: "arjun@example.com",
        phone: null,
        country: null,
        attributes: { city: "Goa" },
      },
      {
        name: "Kavya Reddy",
        nameKey: "kavya reddy",
        email: "kavya@example.com",
        phone: null,
        country: null,
        attributes: { city: "Hyderabad" },
      },
      {
        name: "Deepa Joshi",
        nameKey: "deepa joshi",
        email: "deepa@example.com",
        phone: null,
        country: null,
        attributes: { city: "Nagpur" },
      },
    ]);
  });

  test("the update is on the contact's timeline, with the import named", () => {
    const ananya = byEmail(ctx, "ananya.sharma@example.com")!;
    const events = ctx.db
      .select()
      .from(contactEvents)
      .where(eq(contactEvents.contactId, ananya.id))
      .all();
    expect(events.map((e) => [e.type, JSON.parse(e.data ?? "{}")])).toEqual([
      ["contact.updated", { import: result.id, fields: [], attributes: ["city"] }],
    ]);
  });

  test("audited with counts and nothing personal; the upload is removed", () => {
    const entry = getControlDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "contacts.imported"), eq(auditLog.targetId, result.id)))
      .get()!;
    expect(entry.workspaceId).toBe(ctx.workspaceId);
    const details = JSON.parse(entry.details!) as Record<string, unknown>;
    expect(details).toMatchObject({
      status: "completed",
      rows: 14,
      imported: 8,
      updated: 1,
      skipped: 1,
      suppressed: 1,
      errors: 2,
      warnings: 3,
      onExisting: "update",
    });
    expect(entry.details).not.toMatch(/@|ananya|contacts\.csv/i);
    expect(uploadsOf(ctx)).toEqual([]);
    expect(getImportProgress(ctx, result.id)).toMatchObject({ status: "completed", percent: 100 });
  });
});

describe("suppressed people", () => {
  test("a re-imported unsubscriber stays unsubscribed and is counted; an erased person is not re-added", async () => {
    const ctx = await workspace();
    const kept = createContact(ctx, {
      name: "Unsubscribed Uma",
      email: "uma@example.com",
      phone: "98765 00001",
    });
    setConsent(ctx, kept.id, "email", "granted", "signed up on website form");
    suppressContact(ctx, kept, "unsubscribe", "email");
    const erased = createContact(ctx, { name: "Erased Esha", email: "esha@example.com" });
    eraseContact(ctx, erased.id);

    const result = await runImport(
      ctx,
      [
        "Name,Email,Phone",
        "Uma Renamed,UMA@example.com,",
        "Esha Again,esha@example.com,",
        // Only the phone of the unsubscriber: still the same person.
        "Phone Only Uma,,+91 98765 00001",
        "New Person,new@example.com,",
      ].join("\n"),
      { consentChannels: ["email", "whatsapp"], consentSource: "signed up on website form" },
    );
    expect(result.counts).toMatchObject({ imported: 1, updated: 0, suppressed: 3, errors: 0 });

    const uma = byEmail(ctx, "uma@example.com")!;
    expect(uma.name).toBe("Unsubscribed Uma");
    const umaConsent = ctx.db.select().from(consents).where(eq(consents.contactId, uma.id)).all();
    expect(umaConsent.map((c) => [c.channel, c.status])).toEqual([["email", "withdrawn"]]);
    expect(byEmail(ctx, "esha@example.com")).toBeUndefined();
    const added = byEmail(ctx, "new@example.com")!;
    expect(
      ctx.db
        .select({ channel: consents.channel, status: consents.status, source: consents.source })
        .from(consents)
        .where(eq(consents.contactId, added.id))
        .all(),
    ).toEqual([{ channel: "email", status: "granted", source: "signed up on website form" }]);
  });

  test("a suppression added while the import runs is honoured by the writer", async () => {
    const ctx = await workspace();
    setImportTuning({ txnRows: 500, txnMs: 20, batchRows: 250, inflight: 1, gapMs: 15 });
    const rows = 6000;
    const { import: created } = await upload(ctx, bigFile(rows));
    setMapping(ctx, created.id, { mapping: ["name", "email", "phone"], onExisting: "update" });
    startImport(ctx, created.id);
    // The last row is far from done when its address is suppressed.
    addSuppression(ctx, { identifier: `person${rows - 1}@example.com`, channel: "email" });
    const done = await waitForImport(ctx.workspaceId, created.id);
    expect(done.counts).toMatchObject({ imported: rows - 1, suppressed: 1 });
    expect(byEmail(ctx, `person${rows - 1}@example.com`)).toBeUndefined();
  });
});

describe("people already in the workspace", () => {
  let ctx: WorkspaceContext;
  let listId: number;
  let tagId: number;

  beforeAll(async () => {
    ctx = await workspace();
    listId = createGroup(ctx, "list", "VIP").id;
    tagId = createGroup(ctx, "tag", "diwali").id;
    for (const who of ["upd", "skip", "create"]) {
      createContact(ctx, {
        name: `Old ${who}`,
        email: `${who}@example.com`,
        attributes: { city: "Delhi" },
      });
    }
  });

  const members = (contactId: number) =>
    ctx.db
      .select()
      .from(listMembers)
      .where(and(eq(listMembers.listId, listId), eq(listMembers.contactId, contactId)))
      .all().length;

  test("update: the file's values are written, the list and tags joined", async () => {
    const result = await runImport(ctx, "Name,Email,City\nNew upd,UPD@example.com,Pune\n", {
      listId,
      tags: ["Diwali"],
    });
    expect(result.counts).toMatchObject({ imported: 0, updated: 1, skipped: 0 });
    const contact = byEmail(ctx, "upd@example.com")!;
    expect(contact.name).toBe("New upd");
    expect(JSON.parse(contact.attributes)).toEqual({ city: "Pune" });
    expect(members(contact.id)).toBe(1);
    expect(result.options?.tagIds).toEqual([tagId]);
  });

  test("skip: existing contacts are left exactly as they were", async () => {
    const before = byEmail(ctx, "skip@example.com")!;
    const result = await runImport(ctx, "Name,Email,City\nNew skip,skip@example.com,Pune\n", {
      onExisting: "skip",
      listId,
    });
    expect(result.counts).toMatchObject({ imported: 0, updated: 0, skipped: 1 });
    expect(byEmail(ctx, "skip@example.com")).toEqual(before);
    expect(members(before.id)).toBe(0);
  });

  test("create: existing contacts keep their data but join the list", async () => {
    const before = byEmail(ctx, "create@example.com")!;
    const result = await runImport(
      ctx,
      "Name,Email,City\nNew create,create@example.com,Pune\nBrand New,brand@example.com,Goa\n",
      { onExisting: "create", listId },
    );
    expect(result.counts).toMatchObject({ imported: 1, updated: 0, skipped: 1 });
    expect(byEmail(ctx, "create@example.com")).toEqual(before);
    expect(members(before.id)).toBe(1);
    expect(members(byEmail(ctx, "brand@example.com")!.id)).toBe(1);
  });

  test("an email of one contact with the phone of another is rejected, not merged", async () => {
    createContact(ctx, { name: "Phone Owner", phone: "+91 98765 11111" });
    const result = await runImport(ctx, "Name,Email,Phone\nMixed,upd@example.com,9876511111\n");
    expect(result.counts).toMatchObject({ updated: 0, errors: 1 });
    expect(rejectedCsv(ctx, result.id)).toContain(
      '2,Email / Phone,"The email address belongs to one contact and the phone number to another.',
    );
    const skipped = await runImport(ctx, "Name,Email,Phone\nMixed,upd@example.com,9876511111\n", {
      onExisting: "skip",
    });
    expect(skipped.counts).toMatchObject({ skipped: 1, errors: 0 });
  });
});

describe("consent", () => {
  test("is only recorded with a stated source", async () => {
    const ctx = await workspace();
    const { import: created } = await upload(ctx, "Email\na@example.com\n");
    const error = thrown(() =>
      setMapping(ctx, created.id, {
        mapping: ["email"],
        onExisting: "update",
        consentChannels: ["email"],
        consentSource: "  ",
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors.consentSource?.[0]).toMatch(/where these people/);
    expect(getImport(ctx, created.id).options).toBeNull();
  });

  test("is granted per channel the contact can be reached on, and never over a withdrawal", async () => {
    const ctx = await workspace();
    const withdrawn = createContact(ctx, { name: "Was Asked", email: "asked@example.com" });
    setConsent(ctx, withdrawn.id, "email", "withdrawn", "said no on the phone");
    const result = await runImport(
      ctx,
      "Name,Email,Phone\nEmail Only,e@example.com,\nPhone Only,,9876522222\nWas Asked,asked@example.com,\n",
      { consentChannels: ["email", "whatsapp"], consentSource: "signed up at the store counter" },
    );
    expect(result.counts).toMatchObject({ imported: 2, updated: 0, skipped: 1 });
    const consentOf = (id: number) =>
      ctx.db
        .select({ channel: consents.channel, status: consents.status, source: consents.source })
        .from(consents)
        .where(eq(consents.contactId, id))
        .all();
    const source = "signed up at the store counter";
    expect(consentOf(byEmail(ctx, "e@example.com")!.id)).toEqual([
      { channel: "email", status: "granted", source },
    ]);
    const phoneOnly = ctx.db
      .select()
      .from(contacts)
      .where(eq(contacts.phone, "+919876522222"))
      .get()!;
    expect(consentOf(phoneOnly.id)).toEqual([{ channel: "whatsapp", status: "granted", source }]);
    expect(consentOf(withdrawn.id)).toEqual([
      { channel: "email", status: "withdrawn", source: "said no on the phone" },
    ]);
    const events = ctx.db
      .select()
      .from(contactEvents)
      .where(eq(contactEvents.contactId, phoneOnly.id))
      .all();
    expect(events.map((e) => [e.type, e.channel, JSON.parse(e.data!).source])).toEqual([
      ["consent.granted", "whatsapp", source],
    ]);
  });
});

describe("running imports", () => {
  test("cancel mid-way keeps the committed rows, consistent with the counts", async () => {
    const ctx = await workspace();
    setImportTuning({ txnRows: 500, txnMs: 20, batchRows: 250, inflight: 1, gapMs: 20 });
    const rows = 20_000;
    const { import: created } = await upload(ctx, bigFile(rows));
    setMapping(ctx, created.id, { mapping: ["name", "email", "phone"], onExisting: "update" });
    startImport(ctx, created.id);
    // The state lives in the database: another connection sees it move.
    const reader = new Database(tenantDbPath(ctx.workspaceId), { readonly: true });
    const stored = () =>
      reader
        .prepare("SELECT status, rows_done AS rowsDone FROM contact_imports WHERE id = ?")
        .get(created.id) as { status: string; rowsDone: number };
    const deadline = Date.now() + 20_000;
    while (stored().rowsDone < 1000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(stored()).toMatchObject({ status: "running" });
    expect(stored().rowsDone).toBeGreaterThanOrEqual(1000);
    const live = getImportProgress(ctx, created.id);
    expect(live).toMatchObject({ status: "running", live: true });
    expect(live.percent).toBeGreaterThan(0);

    expect(cancelImport(ctx, created.id).status).toBe("cancelling");
    const done = await waitForImport(ctx.workspaceId, created.id);
    reader.close();
    expect(done.status).toBe("cancelled");
    expect(done.counts.rowsDone).toBeLessThan(rows);
    expect(done.counts.imported).toBe(done.counts.rowsDone);
    expect(contactsOf(ctx)).toHaveLength(done.counts.imported);
    expect(uploadsOf(ctx)).toEqual([]);
    expect(() => cancelImport(ctx, created.id)).toThrow(/already finished/);
  });

  test("an import interrupted by a restart resumes at its last commit, with nothing twice", async () => {
    const ctx = await workspace();
    setImportTuning({ txnRows: 500, txnMs: 20, batchRows: 250, inflight: 1, gapMs: 20 });
    const rows = 12_000;
    // One rejected row and one kept without its email early on: after the resume each must be
    // listed once, not twice.
    const file = bigFile(rows)
      .replace("person3@example.com,+91 9100000003", "person3@,12")
      .replace("person7@example.com", "person7@");
    const { import: created } = await upload(ctx, file);
    setMapping(ctx, created.id, { mapping: ["name", "email", "phone"], onExisting: "create" });
    startImport(ctx, created.id);
    const deadline = Date.now() + 20_000;
    while (getImport(ctx, created.id).counts.rowsDone < 2000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await stopImportsForShutdown();
    const interrupted = getImport(ctx, created.id);
    expect(interrupted.status).toBe("running");
    expect(interrupted.counts.rowsDone).toBeLessThan(rows);
    // Committed counts and committed contacts agree.
    expect(contactsOf(ctx)).toHaveLength(interrupted.counts.imported);

    expect(recoverImports()).toMatchObject({ resumed: 1 });
    const done = await waitForImport(ctx.workspaceId, created.id);
    expect(done.status).toBe("completed");
    expect(done.counts).toMatchObject({
      rowsDone: rows,
      imported: rows - 1,
      skipped: 0,
      errors: 1,
      warnings: 1,
    });
    expect(contactsOf(ctx)).toHaveLength(rows - 1);
    expect(rejectedCsv(ctx, created.id).trim().split("\r\n")).toEqual([
      "Row,Column,Reason",
      '5,Email,"Enter a valid email address, like name@example.com."',
      '5,Phone,"""12"" is not a valid phone number for IN."',
    ]);
    expect(listImportWarnings(ctx, created.id)).toEqual([
      { row: 9, column: "Email", reason: "Enter a valid email address, like name@example.com." },
    ]);
    const entry = getControlDb()
      .select()
      .from(auditLog)
      .where(eq(auditLog.targetId, created.id))
      .orderBy(desc(auditLog.id))
      .get()!;
    expect(JSON.parse(entry.details!)).toMatchObject({ status: "completed", resumed: true });
    // 12,000 rows imported twice over in worker threads: minutes on a busy 2-core box.
  }, 120_000);

  test("queued imports wait for the running one and then run", async () => {
    const ctx = await workspace();
    const first = await upload(ctx, bigFile(3000));
    const second = await upload(ctx, bigFile(3000, 3000));
    for (const { import: i } of [first, second]) {
      setMapping(ctx, i.id, { mapping: ["name", "email", "phone"], onExisting: "update" });
    }
    startImport(ctx, first.import.id);
    expect(startImport(ctx, second.import.id).status).toBe("queued");
    const [a, b] = await Promise.all([
      waitForImport(ctx.workspaceId, first.import.id),
      waitForImport(ctx.workspaceId, second.import.id),
    ]);
    expect([a.counts.imported, b.counts.imported]).toEqual([3000, 3000]);
    expect(listImports(ctx).map((i) => i.status)).toEqual(["completed", "completed"]);
  });
});

describe("uploads and settings", () => {
  test("binary and header-only files are refused and leave nothing behind", async () => {
    const ctx = await workspace();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    await expect(upload(ctx, png)).rejects.toThrow(/not a CSV text file/);
    await expect(upload(ctx, "Name,Email\n")).rejects.toThrow(/no contacts under it/);
    await expect(upload(ctx, "")).rejects.toThrow(/empty/);
    expect(uploadsOf(ctx)).toEqual([]);
    expect(listImports(ctx)).toEqual([]);
  });

  test("a mapping without email or phone, or with a field twice, is refused", async () => {
    const ctx = await workspace();
    const { import: created } = await upload(ctx, "Name,Email,Phone\nA,a@example.com,1\n");
    expect(() =>
      setMapping(ctx, created.id, { mapping: ["name", "ignore", "ignore"], onExisting: "update" }),
    ).toThrow(/email addresses or the one with phone numbers/);
    const error = thrown(() =>
      setMapping(ctx, created.id, { mapping: ["email", "email", "phone"], onExisting: "update" }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors["column.1"]?.[0]).toMatch(
      /already goes to Email/,
    );
    expect(() =>
      setMapping(ctx, created.id, {
        mapping: ["attribute:nope", "email", "phone"],
        onExisting: "update",
      }),
    ).toThrow(ValidationError);
    expect(() => startImport(ctx, created.id)).toThrow(/Choose the columns/);
    expect(cancelImport(ctx, created.id).status).toBe("cancelled");
    expect(uploadsOf(ctx)).toEqual([]);
  });

  test("the preview guesses the mapping from the headers", async () => {
    const ctx = await workspace();
    const { import: created, sniff } = await upload(
      ctx,
      "First name\tLast name\tE-mail\tWhatsApp number\tCity\nA\tB\ta@example.com\t98765 43210\tPune\n",
    );
    expect(sniff.delimiter).toBe("\t");
    const preview = await getImportPreview(ctx, created.id);
    expect(preview.mapping).toEqual([
      "first_name",
      "last_name",
      "email",
      "phone",
      "attribute:city",
    ]);
    expect(preview.rows).toEqual([["A", "B", "a@example.com", "98765 43210", "Pune"]]);
  });
});

test("dropping phone punctuation before libphonenumber never changes the result", () => {
  const plan = compileRowPlan({
    headers: ["Phone"],
    mapping: ["phone"],
    definitions: [],
    defaultCountry: "IN",
  });
  const parts = [
    "+",
    "91",
    "0",
    "00",
    " ",
    "-",
    "(",
    ")",
    ".",
    "9876",
    "54321",
    "0",
    "44",
    "20",
    "7946",
    "1",
  ];
  let state = 42;
  const random = () => {
    // mulberry32: deterministic, so a failure can be replayed.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let checked = 0;
  for (let i = 0; i < 5000; i++) {
    let raw = "";
    const length = 1 + Math.floor(random() * 8);
    for (let j = 0; j < length; j++) raw += parts[Math.floor(random() * parts.length)];
    if (!raw.trim()) continue;
    const expected = normalisePhone(raw, "IN");
    const result = normaliseImportRow([raw], plan);
    if (expected.ok) {
      expect(result, raw).toMatchObject({ kind: "row", row: { phone: expected.e164 } });
    } else {
      expect(result, raw).toEqual({
        kind: "error",
        errors: [{ column: "Phone", reason: expected.reason }],
      });
    }
    checked++;
  }
  expect(checked).toBeGreaterThan(4000);
});

describe("a column of tags, and our own export read back", () => {
  test("each row's tags are made once (any case) and joined; exported phones come back", async () => {
    const ctx = await workspace();
    const known = createGroup(ctx, "tag", "VIP");
    // The shape of our contacts export: formula-guarded phones, "; "-separated tags.
    const file = [
      "id,name,email,phone,country,tags,lists",
      "1,Asha Rao,asha@example.in,'+919876543210,IN,vip; Regulars,",
      "2,'=Ravi,ravi@example.in,'+919876543211,IN,\"regulars, Morning crowd\",",
      "3,Meena,,'+919876543212,IN,,",
    ].join("\n");
    const result = await runImport(ctx, file);
    expect(result.mapping).toEqual([
      "ignore",
      "name",
      "email",
      "phone",
      "ignore",
      "tags",
      "ignore",
    ]);
    expect(result.counts).toMatchObject({ imported: 3, errors: 0, warnings: 0 });
    const tagged = (email: string) =>
      ctx.db
        .select({ name: tags.name })
        .from(contactTags)
        .innerJoin(tags, eq(tags.id, contactTags.tagId))
        .where(eq(contactTags.contactId, byEmail(ctx, email)!.id))
        .all()
        .map((t) => t.name)
        .sort();
    expect(tagged("asha@example.in")).toEqual(["Regulars", "VIP"]);
    expect(tagged("ravi@example.in")).toEqual(["Morning crowd", "Regulars"]);
    expect(
      ctx.db
        .select()
        .from(tags)
        .all()
        .map((t) => t.id),
    ).toHaveLength(3);
    expect(byEmail(ctx, "asha@example.in")).toMatchObject({ phone: "+919876543210" });
    expect(byEmail(ctx, "ravi@example.in")).toMatchObject({ name: "=Ravi" });
    expect(known.id).toBeGreaterThan(0);
  });
});

describe("attributes created from the mapping step", () => {
  const definitionKeys = (ctx: WorkspaceContext) =>
    listAttributeDefinitions(ctx).map((d) => `${d.key}:${d.type}:${d.label}`);
  const settingsError = (fn: () => unknown): ValidationError => {
    try {
      fn();
    } catch (error) {
      if (error instanceof ValidationError) return error;
      throw error;
    }
    throw new Error("expected the settings to be refused");
  };

  test("a column creates its attribute when the import starts, and the values land on contacts", async () => {
    const ctx = await workspace();
    const result = await runImport(
      ctx,
      "Name,Email,Drink,Visits\nAsha,asha@example.com,Masala chai,3\nRavi,ravi@example.com,Filter coffee,12\n",
      {
        mapping: ["name", "email", NEW_ATTRIBUTE_FIELD, NEW_ATTRIBUTE_FIELD],
        newAttributes: {
          2: { label: " Favourite  drink ", type: "text" },
          3: { label: "Visits", type: "number" },
        },
      },
    );
    expect(result.status).toBe("completed");
    expect(result.mapping).toEqual([
      "name",
      "email",
      "attribute:favourite_drink",
      "attribute:visits",
    ]);
    expect(definitionKeys(ctx)).toEqual([
      "city:text:City",
      "favourite_drink:text:Favourite drink",
      "visits:number:Visits",
    ]);
    expect(JSON.parse(byEmail(ctx, "asha@example.com")!.attributes!)).toEqual({
      favourite_drink: "Masala chai",
      visits: 3,
    });
    expect(JSON.parse(byEmail(ctx, "ravi@example.com")!.attributes!)).toEqual({
      favourite_drink: "Filter coffee",
      visits: 12,
    });
    const audited = getControlDb()
      .select({ targetId: auditLog.targetId })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.workspaceId, ctx.workspaceId),
          eq(auditLog.action, "contact_attribute.created"),
        ),
      )
      .all()
      .map((r) => r.targetId);
    expect(audited).toEqual(["city", "favourite_drink", "visits"]);
  });

  test("an invalid label is shown next to its column and nothing is created: no attribute, list or tag", async () => {
    const ctx = await workspace();
    const { import: created } = await upload(ctx, "Email,Drink,Area\na@example.com,Chai,Bandra\n");
    const error = settingsError(() =>
      setMapping(ctx, created.id, {
        mapping: ["email", NEW_ATTRIBUTE_FIELD, NEW_ATTRIBUTE_FIELD],
        newAttributes: { 1: { label: "Drink", type: "text" }, 2: { label: "  ", type: "text" } },
        onExisting: "update",
        newListName: "Walk-ins",
        tags: ["diwali", "new-tag"],
      }),
    );
    expect(error.message).toBe("Check the highlighted columns.");
    expect(Object.keys(error.fieldErrors)).toEqual(["column.2.label"]);
    expect(error.fieldErrors["column.2.label"]![0]).toMatch(/label of up to 80 characters/);
    expect(definitionKeys(ctx)).toEqual(["city:text:City"]);
    expect(ctx.db.select().from(tags).all()).toEqual([]);
    expect(ctx.db.select().from(lists).all()).toEqual([]);
    expect(getImport(ctx, created.id).options).toBeNull();
  });

  test("a check after the mapping (consent without a source) also leaves nothing behind", async () => {
    const ctx = await workspace();
    const { import: created } = await upload(ctx, "Email,Drink\na@example.com,Chai\n");
    const error = settingsError(() =>
      setMapping(ctx, created.id, {
        mapping: ["email", NEW_ATTRIBUTE_FIELD],
        newAttributes: { 1: { label: "Drink", type: "text" } },
        onExisting: "update",
        newListName: "Walk-ins",
        tags: ["diwali"],
        consentChannels: ["email"],
      }),
    );
    expect(Object.keys(error.fieldErrors)).toEqual(["consentSource"]);
    expect(definitionKeys(ctx)).toEqual(["city:text:City"]);
    expect(ctx.db.select().from(tags).all()).toEqual([]);
    expect(ctx.db.select().from(lists).all()).toEqual([]);
  });

  test("a key that exists, the same key twice, a built-in field and a list type are refused", async () => {
    const ctx = await workspace();
    const { import: created } = await upload(
      ctx,
      "Email,Town,Drink,Beverage,Mail,Tier\na@example.com,Pune,Chai,Tea,b@example.com,Gold\n",
    );
    const error = settingsError(() =>
      setMapping(ctx, created.id, {
        mapping: ["email", ...Array<string>(5).fill(NEW_ATTRIBUTE_FIELD)],
        newAttributes: {
          1: { label: "City", type: "text" },
          2: { label: "Drink", type: "text" },
          3: { label: "drink", type: "text" },
          4: { label: "Email", type: "text" },
          5: { label: "Tier", type: "choice" },
        },
        onExisting: "update",
      }),
    );
    expect(error.fieldErrors["column.1.label"]![0]).toBe(
      "There is already an attribute “City” (key city). Choose “Attribute: City” in the list instead.",
    );
    expect(error.fieldErrors["column.2.label"]).toBeUndefined();
    expect(error.fieldErrors["column.3.label"]![0]).toBe(
      "Column “Drink” already creates an attribute with the key drink. Use another label.",
    );
    expect(error.fieldErrors["column.4.label"]![0]).toMatch(/built-in contact field/);
    expect(error.fieldErrors["column.5.type"]![0]).toBe("Choose a type from the list.");
    expect(definitionKeys(ctx)).toEqual(["city:text:City"]);
  });

  test("an attribute a first import created is refused to a second one, which creates nothing", async () => {
    const ctx = await workspace();
    const { import: created } = await upload(ctx, "Email,Drink\na@example.com,Chai\n");
    const settings: ImportSettingsInput = {
      mapping: ["email", NEW_ATTRIBUTE_FIELD],
      newAttributes: { 1: { label: "Drink", type: "text" } },
      onExisting: "update",
      newListName: "Walk-ins",
    };
    setMapping(ctx, created.id, settings);
    expect(definitionKeys(ctx)).toContain("drink:text:Drink");
    const { import: second } = await upload(ctx, "Email,Drink\nb@example.com,Tea\n");
    const error = settingsError(() =>
      setMapping(ctx, second.id, { ...settings, newListName: "Regulars" }),
    );
    expect(error.fieldErrors["column.1.label"]![0]).toMatch(/already an attribute “Drink”/);
    expect(
      ctx.db
        .select()
        .from(lists)
        .all()
        .map((l) => l.name),
    ).toEqual(["Walk-ins"]);
  });
});
