import Database from "better-sqlite3";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFor } from "~/db/migrate.server";
import * as schema from "~/db/schema/tenant";
import { contactEvents, messages } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { APP_ROOT } from "~/lib/app-root.server";
import { insertContact } from "../support/contacts";

/**
 * The tenant migration that corrects opens and clicks counted before machine hits were told
 * apart: a workspace file at the schema before it, with inflated rows, is migrated and what
 * the rows can prove is corrected; real engagement is left alone.
 */

const T = Date.UTC(2026, 5, 1, 10, 0, 0);
const MIN = 60_000;

const dir = mkdtempSync(join(tmpdir(), "engage-engagement-migration-"));
let client: Database.Database;
let db: TenantDb;

/** Where the migration sits in the journal (the lead may renumber it on merge). */
function migrationIndex(): number {
  const journal = JSON.parse(
    readFileSync(join(APP_ROOT, "drizzle", "tenant", "meta", "_journal.json"), "utf8"),
  ) as { entries: { tag: string }[] };
  const index = journal.entries.findIndex((e) => e.tag.endsWith("_honest_engagement_counts"));
  if (index < 0) throw new Error("the honest_engagement_counts migration is not in the journal");
  return index;
}

function apply(from: number, to: number) {
  for (const migration of migrationsFor("tenant").slice(from, to)) {
    for (const statement of migration.sql) if (statement.trim()) client.exec(statement);
  }
}

let contactId: number;
/**
 * A message row as the file held it before the migration: raw SQL with the columns of that
 * time, since the current schema's insert would name columns later migrations added.
 */
function message(
  id: string,
  values: Partial<typeof messages.$inferInsert> & { contactId?: number | null },
): string {
  const row: Record<string, unknown> = {
    id,
    contactId,
    channel: "email",
    integrationId: "int_ses",
    kind: "marketing",
    recipient: "reader@example.com",
    status: "delivered",
    nextAttemptAt: new Date(T),
    createdAt: new Date(T - 10 * MIN),
    updatedAt: new Date(T),
    sentAt: new Date(T),
    campaignId: 1,
    ...values,
  };
  const columns = Object.keys(row).map((key) =>
    key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  );
  const params = Object.values(row).map((v) => (v instanceof Date ? v.getTime() : v));
  client
    .prepare(
      `INSERT INTO messages (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    )
    .run(...params);
  return id;
}

function event(messageId: string, type: "message.opened" | "message.clicked", at: number) {
  db.insert(contactEvents)
    .values({
      contactId,
      at: new Date(at),
      type,
      channel: "email",
      data: JSON.stringify({ messageId, campaignId: 1, url: "https://shop.example/" }),
    })
    .run();
}

function row(id: string) {
  const m = db
    .select({ openedAt: messages.openedAt, clickedAt: messages.clickedAt })
    .from(messages)
    .where(eq(messages.id, id))
    .get()!;
  return { openedAt: m.openedAt?.getTime() ?? null, clickedAt: m.clickedAt?.getTime() ?? null };
}

function eventsOf(id: string) {
  return db
    .select()
    .from(contactEvents)
    .all()
    .map((e) => ({ type: e.type, at: e.at.getTime(), data: JSON.parse(e.data ?? "{}") }))
    .filter((e) => e.data.messageId === id)
    .map((e) => ({ type: e.type, at: e.at, reason: e.data.reason ?? null }));
}

beforeAll(() => {
  client = new Database(join(dir, "tenant.sqlite"));
  db = drizzle(client, { schema }) as TenantDb;
  const index = migrationIndex();
  apply(0, index);
  contactId = insertContact(db, { name: "Reader", email: "reader@example.com" });

  // A sandbox email viewed on its message page: its pixel and a link fired in the app.
  message("sandbox", {
    integrationId: null,
    openedAt: new Date(T + MIN),
    clickedAt: new Date(T + 2 * MIN),
  });
  event("sandbox", "message.opened", T + MIN);
  event("sandbox", "message.clicked", T + 2 * MIN);
  // A queued email viewed before it was sent, then opened for real an hour after sending.
  message("viewed-early", { openedAt: new Date(T - 5 * MIN) });
  event("viewed-early", "message.opened", T - 5 * MIN);
  event("viewed-early", "message.opened", T + 60 * MIN);
  // A scanner clicked 400 ms after sending; the person clicked 10 minutes later.
  message("scanned", { openedAt: new Date(T + 9 * MIN), clickedAt: new Date(T + 400) });
  event("scanned", "message.clicked", T + 400);
  event("scanned", "message.opened", T + 9 * MIN);
  event("scanned", "message.clicked", T + 10 * MIN);
  // Only a scanner clicked.
  message("scanner-only", { clickedAt: new Date(T + 1_500) });
  event("scanner-only", "message.clicked", T + 1_500);
  // A real open and click: untouched.
  message("real", { openedAt: new Date(T + 3 * MIN), clickedAt: new Date(T + 4 * MIN) });
  event("real", "message.opened", T + 3 * MIN);
  event("real", "message.clicked", T + 4 * MIN);
  // The contact was erased: a scanner's click shows in the times alone.
  message("erased-scanned", { contactId: null, clickedAt: new Date(T + 100) });
  message("erased-real", {
    contactId: null,
    openedAt: new Date(T + 5 * MIN),
    clickedAt: new Date(T + 6 * MIN),
  });

  apply(index, index + 1);
});

afterAll(() => {
  client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the honest_engagement_counts migration", () => {
  it("clears a sandbox message's opens and clicks and keeps the hits with a reason", () => {
    expect(row("sandbox")).toEqual({ openedAt: null, clickedAt: null });
    expect(eventsOf("sandbox")).toEqual([
      { type: "message.open_not_counted", at: T + MIN, reason: "our-app" },
      { type: "message.click_not_counted", at: T + 2 * MIN, reason: "our-app" },
    ]);
  });

  it("an open before sending is an in-app view; the real open after it counts", () => {
    expect(row("viewed-early")).toEqual({ openedAt: T + 60 * MIN, clickedAt: null });
    expect(eventsOf("viewed-early").map((e) => [e.type, e.reason])).toEqual([
      ["message.open_not_counted", "our-app"],
      ["message.opened", null],
    ]);
  });

  it("a click within 2 s of sending is a scanner's; the person's later click counts", () => {
    expect(row("scanned")).toEqual({ openedAt: T + 9 * MIN, clickedAt: T + 10 * MIN });
    expect(eventsOf("scanned").map((e) => [e.type, e.reason])).toEqual([
      ["message.click_not_counted", "too-soon"],
      ["message.opened", null],
      ["message.clicked", null],
    ]);
    expect(row("scanner-only")).toEqual({ openedAt: null, clickedAt: null });
    expect(row("erased-scanned")).toEqual({ openedAt: null, clickedAt: null });
  });

  it("leaves real opens and clicks alone", () => {
    expect(row("real")).toEqual({ openedAt: T + 3 * MIN, clickedAt: T + 4 * MIN });
    expect(eventsOf("real").map((e) => e.type)).toEqual(["message.opened", "message.clicked"]);
    expect(row("erased-real")).toEqual({ openedAt: T + 5 * MIN, clickedAt: T + 6 * MIN });
  });
});
