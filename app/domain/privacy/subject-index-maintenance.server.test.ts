import { eq } from "drizzle-orm";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { subjectIndex } from "~/db/schema/control";
import { contacts } from "~/db/schema/tenant";
import { getSubjectIndexKey } from "~/lib/local-secrets.server";
import {
  createContact,
  deleteContact,
  eraseContact,
  updateContact,
} from "../contacts/contacts.server";
import { createImport, getImportPreview } from "../contacts/import/uploads.server";
import { setImportTuning, startImport, waitForImport } from "../contacts/import/supervisor.server";
import { setMapping } from "../contacts/import/mapping.server";
import { DEFAULT_TUNING } from "../contacts/import/threads.server";
import type { WorkspaceContext } from "../context";
import { workspaceTelegramLink } from "../delivery/telegram-links.server";
import { processWebhookEvents } from "../delivery/webhooks.server";
import { importMarker, subjectMarker } from "./subject-index-sync.server";
import {
  releaseContactSubjects,
  subjectHash,
  subjectHashes,
  workspacesHolding,
} from "./subject-index.server";
import { reindexSubjects, repairSubjectIndex } from "./subject-reindex.server";
import { makeWorkspace } from "../../../tests/support/workspaces";

/**
 * The privacy subject index kept in step by every path that writes contacts: the contact
 * form (create, change of email/phone, delete, erase), inbound WhatsApp/SMS messages from
 * strangers, Telegram links, the CSV import (with duplicates and merges), and rebuilds.
 */

process.env.BASE_URL = "https://engage.test";
let seq = 0;

/** Every email and phone these tests ever wrote: none may appear in the index. */
const written = new Set<string>();

function workspace(): Promise<WorkspaceContext> {
  seq += 1;
  const slug = `subjects-${seq}-${Date.now().toString(36)}`;
  return makeWorkspace(slug, { name: slug, request: { ip: "203.0.113.9" } });
}

function add(ctx: WorkspaceContext, email: string | null, phone: string | null, name = "P") {
  if (email) written.add(email);
  if (phone) written.add(phone);
  return createContact(ctx, { name, email, phone });
}

/** The workspace's entries (markers apart). */
function entriesOf(ctx: WorkspaceContext): string[] {
  return getControlDb()
    .select({ hash: subjectIndex.hash })
    .from(subjectIndex)
    .where(eq(subjectIndex.workspaceId, ctx.workspaceId))
    .all()
    .map((r) => r.hash)
    .filter((h) => !h.startsWith("*"))
    .sort();
}

function markersOf(ctx: WorkspaceContext): string[] {
  return getControlDb()
    .select({ hash: subjectIndex.hash })
    .from(subjectIndex)
    .where(eq(subjectIndex.workspaceId, ctx.workspaceId))
    .all()
    .map((r) => r.hash)
    .filter((h) => h.startsWith("*"));
}

/** What the index must hold for the workspace: the hashes of its contacts' emails and phones. */
function expectedOf(ctx: WorkspaceContext): string[] {
  return ctx.db
    .select({ email: contacts.email, phone: contacts.phone })
    .from(contacts)
    .all()
    .flatMap((c) => subjectHashes(c))
    .sort();
}

const holds = (ctx: WorkspaceContext, who: { email?: string; phone?: string }) =>
  workspacesHolding(subjectHashes(who)).includes(ctx.workspaceId);

describe("the contact form", () => {
  let a: WorkspaceContext;
  let b: WorkspaceContext;
  beforeAll(async () => {
    a = await workspace();
    b = await workspace();
  });

  it("indexes a new contact's email and phone, for its workspace only", () => {
    add(a, "asha@example.com", "+919812345670");
    expect(holds(a, { email: "asha@example.com" })).toBe(true);
    expect(holds(a, { phone: "+919812345670" })).toBe(true);
    expect(holds(b, { email: "asha@example.com" })).toBe(false);
    expect(entriesOf(a)).toEqual(
      [subjectHash("email", "asha@example.com"), subjectHash("phone", "+919812345670")].sort(),
    );
    // Normalised as contacts are: the form's "Asha@Example.COM" is the same person.
    add(a, "Ravi.K@Example.COM", "98123 45671");
    expect(holds(a, { email: "ravi.k@example.com" })).toBe(true);
    expect(holds(a, { phone: "+919812345671" })).toBe(true);
    expect(entriesOf(a)).toEqual(expectedOf(a));
  });

  it("follows a change of email or phone: the new one in, the old one out", () => {
    const c = add(a, "meera@example.com", "+919812345672");
    written.add("meera.new@example.com");
    updateContact(a, c.id, { email: "meera.new@example.com" });
    expect(holds(a, { email: "meera.new@example.com" })).toBe(true);
    expect(holds(a, { email: "meera@example.com" })).toBe(false);
    expect(holds(a, { phone: "+919812345672" })).toBe(true);
    updateContact(a, c.id, { phone: "" });
    expect(holds(a, { phone: "+919812345672" })).toBe(false);
    // A change of name alone touches nothing.
    const before = entriesOf(a);
    updateContact(a, c.id, { name: "Meera S" });
    expect(entriesOf(a)).toEqual(before);
    expect(entriesOf(a)).toEqual(expectedOf(a));
  });

  it("forgets a deleted or erased contact, but not one held elsewhere", () => {
    const one = add(a, "kiran@example.com", "+919812345673");
    add(b, "kiran@example.com", null);
    deleteContact(a, one.id);
    expect(holds(a, { email: "kiran@example.com" })).toBe(false);
    expect(holds(a, { phone: "+919812345673" })).toBe(false);
    expect(workspacesHolding(subjectHashes({ email: "kiran@example.com" }))).toEqual([
      b.workspaceId,
    ]);
    const two = add(a, "dev@example.com", "+919812345674");
    eraseContact(a, two.id);
    expect(holds(a, { email: "dev@example.com" })).toBe(false);
    expect(holds(a, { phone: "+919812345674" })).toBe(false);
    expect(entriesOf(a)).toEqual(expectedOf(a));
    expect(entriesOf(b)).toEqual(expectedOf(b));
  });

  it("does not let go of an address a contact holds again", () => {
    const c = add(a, "old@example.com", null);
    written.add("moved@example.com");
    updateContact(a, c.id, { email: "moved@example.com" });
    // Someone else takes the address before the release of the old one runs.
    add(a, "old@example.com", null);
    releaseContactSubjects(a.db.$client, a.workspaceId, [{ email: "old@example.com" }]);
    expect(holds(a, { email: "old@example.com" })).toBe(true);
  });
});

describe("messages from people who are not contacts yet", () => {
  let ctx: WorkspaceContext;
  beforeAll(async () => {
    ctx = await workspace();
  });

  function inbound(event: Record<string, unknown>) {
    ctx.db.$client
      .prepare(
        "INSERT INTO webhook_events (integration_id, event_id, event, received_at) VALUES (?, ?, ?, ?)",
      )
      .run("int_test", String(event.eventId), JSON.stringify(event), Date.now());
  }

  it("indexes a WhatsApp sender who becomes a contact", async () => {
    written.add("+919812345675");
    inbound({
      type: "inbound",
      channel: "whatsapp",
      eventId: "wamid.1",
      from: "+919812345675",
      name: "Stranger",
      text: "Hello",
      at: new Date().toISOString(),
      providerMessageId: "wamid.1",
    });
    await processWebhookEvents(ctx.workspaceId);
    expect(holds(ctx, { phone: "+919812345675" })).toBe(true);
    expect(entriesOf(ctx)).toEqual(expectedOf(ctx));
  });

  it("indexes nothing for a Telegram-only contact (no email, no phone)", async () => {
    const before = entriesOf(ctx);
    const { token } = workspaceTelegramLink(ctx);
    inbound({
      type: "inbound",
      channel: "telegram",
      eventId: "tg.1",
      from: "700001",
      name: "Telegram Person",
      text: `/start ${token}`,
      at: new Date().toISOString(),
      providerMessageId: "tg.1",
    });
    await processWebhookEvents(ctx.workspaceId);
    const linked = ctx.db
      .select()
      .from(contacts)
      .where(eq(contacts.telegramChatId, "700001"))
      .get();
    expect(linked).toMatchObject({ email: null, phone: null });
    expect(entriesOf(ctx)).toEqual(before);
    expect(markersOf(ctx)).toEqual([]);
  });
});

describe("the CSV import", () => {
  async function runImport(ctx: WorkspaceContext, csv: string) {
    const { import: created } = await createImport(ctx, {
      fileName: "people.csv",
      data: Readable.from([Buffer.from(csv, "utf8")]),
    });
    const { mapping } = await getImportPreview(ctx, created.id);
    setMapping(ctx, created.id, { onExisting: "update", mapping });
    startImport(ctx, created.id);
    return waitForImport(ctx.workspaceId, created.id);
  }

  it("indexes thousands of rows with duplicates and merges, and lets go of replaced addresses", async () => {
    const ctx = await workspace();
    // An existing contact whose email the file replaces (matched by phone).
    add(ctx, "before@example.com", "+919700000001");
    const lines = ["Name,Email,Phone"];
    lines.push("Replaced,after@example.com,+91 97000 00001");
    written.add("after@example.com");
    for (let i = 0; i < 4000; i++) {
      const email = `person${i}@example.com`;
      const phone = `+9198${String(10000000 + i).padStart(8, "0")}`;
      written.add(email);
      written.add(phone);
      // Some rows only have a phone, some only an email.
      lines.push(`Person ${i},${i % 7 === 0 ? "" : email},${i % 7 === 3 ? "" : phone}`);
    }
    // Duplicates: the same people again, spelt differently, one with a new phone (a merge).
    for (let i = 1; i < 400; i += 3) {
      if (i % 7 !== 0) lines.push(`Person ${i},PERSON${i}@Example.com,`);
    }
    lines.push(`Person 10,person10@example.com,+91 99999 00010`);
    written.add("+919999900010");
    const summary = await runImport(ctx, `${lines.join("\n")}\n`);
    expect(summary.status).toBe("completed");
    expect(summary.counts.imported).toBe(4000);
    expect(summary.counts.updated).toBeGreaterThan(0);

    expect(entriesOf(ctx)).toEqual(expectedOf(ctx));
    expect(entriesOf(ctx).length).toBeGreaterThan(6800);
    expect(markersOf(ctx)).toEqual([]);
    expect(holds(ctx, { email: "after@example.com" })).toBe(true);
    expect(holds(ctx, { email: "before@example.com" })).toBe(false);
    expect(holds(ctx, { phone: "+919999900010" })).toBe(true);
    expect(holds(ctx, { email: "person3999@example.com" })).toBe(true);
  });

  it("counts the workspace as a holder while the import is under way", async () => {
    const ctx = await workspace();
    const lines = ["Name,Email"];
    for (let i = 0; i < 3000; i++) {
      lines.push(`Slow ${i},slow${i}@example.com`);
      written.add(`slow${i}@example.com`);
    }
    // Small transactions with pauses: the import lasts long enough to look at it.
    setImportTuning({ batchRows: 50, txnRows: 100, gapMs: 20 });
    try {
      const { import: created } = await createImport(ctx, {
        fileName: "slow.csv",
        data: Readable.from([Buffer.from(`${lines.join("\n")}\n`, "utf8")]),
      });
      const { mapping } = await getImportPreview(ctx, created.id);
      setMapping(ctx, created.id, { onExisting: "update", mapping });
      startImport(ctx, created.id);
      let markers: string[] = [];
      for (let i = 0; i < 400 && markers.length === 0; i++) {
        markers = markersOf(ctx);
        if (markers.length === 0) await new Promise((r) => setTimeout(r, 10));
      }
      expect(markers).toEqual([importMarker(created.id)]);
      expect(holds(ctx, { email: "nobody-in-particular@example.com" })).toBe(true);
      const summary = await waitForImport(ctx.workspaceId, created.id);
      expect(summary.counts.imported).toBe(3000);
    } finally {
      setImportTuning(DEFAULT_TUNING);
    }
    expect(markersOf(ctx)).toEqual([]);
    expect(holds(ctx, { email: "nobody-in-particular@example.com" })).toBe(false);
    expect(entriesOf(ctx)).toEqual(expectedOf(ctx));
  });
});

describe("rebuilding the index", () => {
  it("rebuilds a workspace from its file: missing entries back, stale ones and old markers gone", async () => {
    const ctx = await workspace();
    for (let i = 0; i < 2500; i++) {
      add(ctx, `rebuild${i}@example.com`, i % 2 ? `+9197${String(10000000 + i)}` : null);
    }
    const control = getControlDb();
    // As before the index existed, plus leftovers: an entry for someone long gone, the marker
    // of a rebuild that crashed, and the marker of an import that no longer exists.
    control.delete(subjectIndex).where(eq(subjectIndex.workspaceId, ctx.workspaceId)).run();
    written.add("gone@example.com");
    const leftovers = [
      subjectHash("email", "gone@example.com"),
      subjectMarker("rebuild:crashed"),
      importMarker("imp_00000000000000000000"),
    ];
    for (const hash of leftovers) {
      control.insert(subjectIndex).values({ hash, workspaceId: ctx.workspaceId }).run();
    }
    const seen: number[] = [];
    const result = await reindexSubjects({
      workspaceId: ctx.workspaceId,
      batchSize: 500,
      onWorkspace: (done) => seen.push(done.contacts),
    });
    expect(result).toEqual({ workspaces: 1, contacts: 2500, entries: 3750, failed: 0 });
    expect(seen).toEqual([2500]);
    expect(entriesOf(ctx)).toEqual(expectedOf(ctx));
    expect(markersOf(ctx)).toEqual([]);
    expect(holds(ctx, { email: "gone@example.com" })).toBe(false);
  });

  it("rebuilds every workspace, and at start only those a crash left marked", async () => {
    const one = await workspace();
    const two = await workspace();
    add(one, "all-one@example.com", null);
    add(two, "all-two@example.com", "+919811111111");
    getControlDb().delete(subjectIndex).run();
    const result = await reindexSubjects();
    expect(result.failed).toBe(0);
    expect(result.workspaces).toBeGreaterThanOrEqual(2);
    expect(holds(one, { email: "all-one@example.com" })).toBe(true);
    expect(holds(two, { phone: "+919811111111" })).toBe(true);

    // A crash mid-rebuild of `two`: its marker stays (it answers for anyone) until repaired.
    getControlDb()
      .insert(subjectIndex)
      .values({ hash: subjectMarker("rebuild:crashed"), workspaceId: two.workspaceId })
      .run();
    getControlDb()
      .delete(subjectIndex)
      .where(eq(subjectIndex.hash, subjectHash("phone", "+919811111111")))
      .run();
    expect(holds(two, { phone: "+919811111111" })).toBe(true);
    expect(await repairSubjectIndex()).toBe(1);
    expect(markersOf(two)).toEqual([]);
    expect(entriesOf(two)).toEqual(expectedOf(two));
    expect(await repairSubjectIndex()).toBe(0);
  });
});

describe("no plaintext", () => {
  it("holds no email address or phone number, whole or in part", () => {
    const rows = getControlDb().select().from(subjectIndex).all();
    expect(rows.length).toBeGreaterThan(10_000);
    expect(written.size).toBeGreaterThan(8000);
    // Every entry is a 32-byte HMAC in base64url (no "@", "+" or "." can occur in one), and
    // no marker is left: nothing else is stored.
    for (const row of rows) expect(row.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const everything = rows.map((r) => r.hash).join("\n");
    for (const value of written) {
      expect(everything.includes(value), value).toBe(false);
    }
    // Nor the parts that could be spelt in that alphabet: local parts and phone digits (those
    // short enough to turn up in random base64url by chance left out).
    const parts = [...written]
      .map((value) => (value.includes("@") ? value.split("@")[0]! : value.slice(1)))
      .filter((part, i) => part.length >= 8 && i % 10 === 0);
    expect(parts.length).toBeGreaterThan(500);
    for (const part of parts) expect(everything.includes(part), part).toBe(false);
    // Keyed: the same address hashed with another key matches nothing.
    const otherKey = Buffer.alloc(32, 7);
    expect(getSubjectIndexKey().equals(otherKey)).toBe(false);
    expect(everything).not.toContain(subjectHash("email", "asha@example.com", otherKey));
    expect(everything).toContain(subjectHash("email", "asha@example.com"));
  });
});
