import { and, eq } from "drizzle-orm";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { thrown } from "../../../tests/support/errors";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { contactExports } from "~/db/schema/tenant";
import { csvCell, csvLine } from "~/lib/csv";
import { NotFoundError, ValidationError } from "~/lib/errors";
import {
  addToList,
  defineAttribute,
  giveConsent,
  insertContact,
  listId,
  tagContact,
} from "../../../tests/support/contacts";
import type { WorkspaceContext } from "../context";
import {
  exportContactsToFile,
  ExportExpiredError,
  exportToken,
  getContactExport,
  listContactExports,
  openContactExportDownload,
  parseExportScope,
  scopeByName,
  startContactExport,
  waitForContactExports,
} from "./contact-export.server";
import { writeContactsCsv } from "./contact-export-writer.server";
import { createSegment } from "../segments/segments.server";

/**
 * Contact exports on real tenant files, through the real worker thread (started from this
 * vitest process the same way the server starts it).
 */

let clock = Date.parse("2030-05-01T10:00:00.000Z");
const HOUR = 3_600_000;
let ctx: WorkspaceContext;
let other: WorkspaceContext;
const ids: Record<string, number> = {};

async function workspaceContext(slug: string): Promise<WorkspaceContext> {
  return makeWorkspace(slug, {
    name: slug,
    request: { ip: "203.0.113.5" },
    createdAt: () => new Date(clock),
    now: () => new Date(clock),
  });
}

function readCsv(path: string): string[][] {
  const text = readFileSync(path, "utf8");
  expect(text.startsWith("\uFEFF")).toBe(true);
  // No quoted line breaks in these fixtures: a split is enough.
  return text
    .slice(1)
    .split("\r\n")
    .filter(Boolean)
    .map((line) => {
      const cells: string[] = [];
      let cell = "";
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i]!;
        if (quoted && c === '"' && line[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (c === '"') quoted = !quoted;
        else if (c === "," && !quoted) {
          cells.push(cell);
          cell = "";
        } else cell += c;
      }
      cells.push(cell);
      return cells;
    });
}

beforeAll(async () => {
  ctx = await workspaceContext("export-co");
  other = await workspaceContext("export-other");
  const db = ctx.db;
  defineAttribute(db, "plan", "choice", ["Free", "Pro"]);
  defineAttribute(db, "score", "number");
  defineAttribute(db, "vip", "boolean");
  ids.plain = insertContact(db, {
    name: "Priya Sharma",
    email: "priya@example.com",
    phone: "+919876543210",
    country: "IN",
    attributes: { plan: "Pro", score: 42.5, vip: true },
  });
  ids.formula = insertContact(db, {
    name: "=1+2",
    email: "formula@example.com",
    attributes: { plan: "Free", score: -3 },
  });
  ids.quoted = insertContact(db, {
    name: 'Rao, "Ravi"\nJr',
    phone: "+447700900123",
    country: "GB",
  });
  tagContact(db, ids.plain!, "VIP; gold");
  tagContact(db, ids.plain!, "Diwali");
  addToList(db, ids.formula!, "Newsletter");
  giveConsent(db, ids.plain!, "email", "granted", "@import from CRM", new Date(clock - HOUR));
  giveConsent(db, ids.quoted!, "whatsapp", "withdrawn", "+STOP reply", new Date(clock - HOUR));
  insertContact(other.db, { name: "Other", email: "other@example.com" });
}, 60_000);

describe("CSV cells", () => {
  it("neutralises formulas and quotes per RFC 4180", () => {
    expect(csvCell("=1+2")).toBe("'=1+2");
    expect(csvCell("+919876543210")).toBe("'+919876543210");
    expect(csvCell("-5")).toBe("'-5");
    expect(csvCell("@cmd")).toBe("'@cmd");
    expect(csvCell("\t=x")).toBe("'\t=x");
    expect(csvCell("\r=x")).toBe('"\'\r=x"');
    expect(csvCell('a "b", c')).toBe('"a ""b"", c"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(3)).toBe("3");
    expect(csvCell(-3)).toBe("'-3");
    expect(csvLine(["a", null, "=b"])).toBe("a,,'=b\r\n");
  });
});

describe("writing the file", () => {
  it("writes every column, escapes formulas, quotes awkward text", () => {
    const dir = mkdtempSync(join(tmpdir(), "export-writer-"));
    const file = join(dir, "all.csv");
    const result = writeContactsCsv(ctx.db, { sql: "1", params: [] }, file);
    expect(result.rows).toBe(3);
    expect(existsSync(`${file}.part`)).toBe(false);
    const text = readFileSync(file, "utf8");
    expect(text).toContain('"Rao, ""Ravi""\nJr"');
    const [header, ...rows] = readCsv(file).filter((r) => r.length > 1);
    expect(header).toEqual([
      "id",
      "name",
      "email",
      "phone",
      "country",
      "tags",
      "lists",
      "created_at",
      "updated_at",
      "email_consent",
      "email_consent_source",
      "email_consent_at",
      "whatsapp_consent",
      "whatsapp_consent_source",
      "whatsapp_consent_at",
      "sms_consent",
      "sms_consent_source",
      "sms_consent_at",
      "telegram_consent",
      "telegram_consent_source",
      "telegram_consent_at",
      "plan",
      "score",
      "vip",
    ]);
    const byId = new Map(
      rows.map((r) => [Number(r[0]), Object.fromEntries(header!.map((h, i) => [h, r[i]]))]),
    );
    expect(byId.get(ids.plain!)).toMatchObject({
      name: "Priya Sharma",
      phone: "'+919876543210",
      tags: "Diwali; VIP; gold",
      email_consent: "granted",
      email_consent_source: "'@import from CRM",
      email_consent_at: new Date(clock - HOUR).toISOString(),
      whatsapp_consent: "",
      plan: "Pro",
      score: "42.5",
      vip: "Yes",
    });
    expect(byId.get(ids.formula!)).toMatchObject({
      name: "'=1+2",
      lists: "Newsletter",
      score: "'-3",
      vip: "",
    });
  });
});

describe("scopes", () => {
  it("parses all, list:<id> and segment:<id>, nothing else", () => {
    expect(parseExportScope("all")).toEqual({ kind: "all" });
    expect(parseExportScope("list:3")).toEqual({ kind: "list", listId: 3 });
    expect(parseExportScope("segment:12")).toEqual({ kind: "segment", segmentId: 12 });
    for (const bad of ["", "list:", "list:0", "segment:-1", "list:1;DROP", "people"]) {
      expect(() => parseExportScope(bad)).toThrow(ValidationError);
    }
  });

  it("exports a list and a segment to a file, audited with the scope and count only", () => {
    const dir = mkdtempSync(join(tmpdir(), "export-cli-"));
    const list = exportContactsToFile(
      ctx,
      scopeByName(ctx, { list: "NEWSLETTER" }),
      join(dir, "l.csv"),
    );
    expect(list.rows).toBe(1);
    expect(readCsv(list.file)[1]![0]).toBe(String(ids.formula));

    const segment = createSegment(ctx, {
      name: "Email consent",
      definition: { op: "and", conditions: [{ type: "consent", channel: "email", op: "granted" }] },
    });
    const seg = exportContactsToFile(
      ctx,
      scopeByName(ctx, { segment: "email consent" }),
      join(dir, "s.csv"),
    );
    expect(seg.rows).toBe(1);
    expect(readCsv(seg.file)[1]![0]).toBe(String(ids.plain));
    expect(() => scopeByName(ctx, { list: "nope" })).toThrow(NotFoundError);
    expect(() => scopeByName(ctx, { list: "a", segment: "b" })).toThrow(ValidationError);

    const audits = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "contacts.exported")),
      )
      .all()
      .map((r) => JSON.parse(r.details!) as Record<string, unknown>);
    expect(audits).toEqual(
      expect.arrayContaining([
        { scope: `list:${listId(ctx.db, "Newsletter")}`, rows: 1, format: "csv" },
        { scope: `segment:${segment.id}`, rows: 1, format: "csv" },
      ]),
    );
    expect(JSON.stringify(audits)).not.toContain("example.com");
  });
});

describe("exports in the worker thread, and their links", () => {
  let exportId = "";
  let token = "";

  it("runs in a worker, then offers a link valid for 24 hours from the finish", async () => {
    const started = startContactExport(ctx, "all");
    exportId = started.id;
    expect(getContactExport(ctx, exportId).status).toMatch(/queued|running/);
    const done = await started.done;
    expect(done).toMatchObject({ status: "completed", rows: 3, downloadable: true });
    expect(done.expiresAt.getTime()).toBe(done.finishedAt!.getTime() + 24 * HOUR);
    token = exportToken(ctx.workspaceId, exportId);

    const row = ctx.db.select().from(contactExports).where(eq(contactExports.id, exportId)).get();
    expect(row?.tokenHash).not.toContain(token);
    const download = openContactExportDownload(ctx, exportId, token);
    expect(download.rows).toBe(3);
    expect(readCsv(download.path)).toHaveLength(4); // header + 3 rows
  });

  it("a wrong or missing token looks like no export at all (404)", () => {
    expect(() => openContactExportDownload(ctx, exportId, "")).toThrow(NotFoundError);
    expect(() => openContactExportDownload(ctx, exportId, `${token}x`)).toThrow(NotFoundError);
    expect(() => openContactExportDownload(ctx, "exp_0000000000000000", token)).toThrow(
      NotFoundError,
    );
    expect(() => openContactExportDownload(ctx, "../../etc/passwd", token)).toThrow(NotFoundError);
  });

  it("another workspace can't open it, even with the right token", () => {
    expect(() => openContactExportDownload(other, exportId, token)).toThrow(NotFoundError);
    // And its own token would be a different one.
    expect(exportToken(other.workspaceId, exportId)).not.toBe(token);
  });

  it("expires after 24 hours (410), and the file is then deleted", () => {
    clock += 24 * HOUR + 1000;
    try {
      expect(() => openContactExportDownload(ctx, exportId, token)).toThrow(ExportExpiredError);
      const error = thrown(() => openContactExportDownload(ctx, exportId, token));
      expect((error as ExportExpiredError).status).toBe(410);
      const listed = listContactExports(ctx).find((e) => e.id === exportId);
      expect(listed).toMatchObject({ expired: true, downloadable: false });
      const row = ctx.db.select().from(contactExports).where(eq(contactExports.id, exportId)).get();
      expect(row?.filePath).toBeNull();
    } finally {
      clock -= 24 * HOUR + 1000;
    }
  });

  it("refuses scopes that don't exist, before anything is queued", () => {
    const before = listContactExports(ctx).length;
    expect(() => startContactExport(ctx, "list:999")).toThrow("That list no longer exists.");
    expect(() => startContactExport(ctx, "segment:999")).toThrow("That segment no longer exists.");
    expect(listContactExports(ctx)).toHaveLength(before);
  });

  it("exports one at a time and each gets its own file", async () => {
    const a = startContactExport(ctx, `list:${listId(ctx.db, "Newsletter")}`);
    const b = startContactExport(ctx, "all");
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.rows).toBe(1);
    expect(rb.rows).toBe(3);
    await waitForContactExports();
    const audits = getControlDb()
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.workspaceId, ctx.workspaceId), eq(auditLog.action, "contacts.exported")),
      )
      .all();
    expect(audits.filter((r) => r.targetId === a.id || r.targetId === b.id)).toHaveLength(2);
  });

  it("marks an export left over from a previous run as interrupted", () => {
    ctx.db
      .insert(contactExports)
      .values({
        id: "exp_zzzzzzzzzzzzzzzz",
        status: "running",
        scope: "all",
        filePath: "exports/x.csv",
        tokenHash: "0".repeat(64),
        expiresAt: new Date(0),
        createdAt: new Date(0),
      })
      .run();
    const listed = listContactExports(ctx).find((e) => e.id === "exp_zzzzzzzzzzzzzzzz");
    expect(listed).toMatchObject({ status: "failed", downloadable: false });
    expect(listed?.error).toBe("The export was interrupted by a restart. Start it again.");
  });
});
