import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { contactEvents, contactExports, contacts, contactTags } from "~/db/schema/tenant";
import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { subjectHashes, workspacesHolding } from "../privacy/subject-index.server";
import {
  bulkChangeMembership,
  bulkDelete,
  bulkExport,
  countSelection,
  type BulkSelection,
} from "./bulk.server";
import { waitForContactExports } from "./contact-export.server";
import { createContact, getContactDetails } from "./contacts.server";
import { createGroup, listGroups, changeMembership } from "./groups.server";
import { suppressionKey } from "./suppression-hash.server";
import { isSuppressed } from "./suppressions.server";

process.env.BASE_URL = "https://engage.test";

const T0 = Date.parse("2030-03-01T09:00:00.000Z");
let clock = T0;

async function workspaceContext(slug: string): Promise<WorkspaceContext> {
  return makeWorkspace(slug, {
    name: slug,
    request: { ip: "203.0.113.9", userAgent: "vitest" },
    createdAt: () => new Date(T0),
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
  });
}

function auditFor(workspaceId: string, action: string) {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, action)))
    .all();
}

function people(ctx: WorkspaceContext, prefix: string, n: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      createContact(ctx, { name: `${prefix} ${i}`, email: `${prefix.toLowerCase()}${i}@x.io` }).id,
    );
  }
  return ids;
}

function tagsOf(ctx: WorkspaceContext, id: number): string[] {
  return getContactDetails(ctx, id).tags.map((t) => t.name);
}

const matching = (q: string): BulkSelection => ({ kind: "matching", q });

let ctx: WorkspaceContext;
let other: WorkspaceContext;

beforeAll(async () => {
  ctx = await workspaceContext("bulk-co");
  other = await workspaceContext("bulk-other");
});

describe("bulk tags", () => {
  it("tags ticked ids, creating the tag, and records each contact's timeline and one audit entry", async () => {
    const ids = people(ctx, "Tick", 3);
    const result = await bulkChangeMembership(
      ctx,
      "tag",
      { kind: "ids", ids: [ids[0]!, ids[2]!] },
      "add",
      { name: " Diwali  VIP " },
    );
    expect(result).toEqual({ changed: 2, name: "Diwali VIP" });
    expect(tagsOf(ctx, ids[0]!)).toEqual(["Diwali VIP"]);
    expect(tagsOf(ctx, ids[1]!)).toEqual([]);
    const events = ctx.db
      .select()
      .from(contactEvents)
      .where(and(eq(contactEvents.contactId, ids[2]!), eq(contactEvents.type, "tag.added")))
      .all();
    expect(events.map((e) => JSON.parse(e.data!))).toEqual([{ tag: "Diwali VIP" }]);
    // Again: nobody is tagged twice, and the tag is found in any case.
    expect(
      (await bulkChangeMembership(ctx, "tag", { kind: "ids", ids }, "add", { name: "diwali vip" }))
        .changed,
    ).toBe(1);
    const audit = auditFor(ctx.workspaceId, "contacts.bulk_tagged");
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit[0]!.details!)).toMatchObject({ selection: "ids", contacts: 2 });
  });

  it("tags and untags every contact matching a search, evaluated when the action runs", async () => {
    const ids = people(ctx, "Match", 4);
    people(ctx, "Other", 2);
    expect(countSelection(ctx, matching("match"))).toBe(4);
    // One more arrives after the page was shown: "all matching" includes them.
    const late = createContact(ctx, { name: "Match late", email: "late@x.io" }).id;
    const tagged = await bulkChangeMembership(ctx, "tag", matching("match"), "add", {
      name: "Regulars",
    });
    expect(tagged.changed).toBe(5);
    for (const id of [...ids, late]) expect(tagsOf(ctx, id)).toContain("Regulars");
    const untagged = await bulkChangeMembership(ctx, "tag", matching("match l"), "remove", {
      name: "regulars",
    });
    expect(untagged.changed).toBe(1);
    expect(tagsOf(ctx, late)).toEqual([]);
    expect(tagsOf(ctx, ids[0]!)).toContain("Regulars");
  });

  it("filters combine with the search (tag filter)", async () => {
    const [a, b] = people(ctx, "Filt", 2);
    const vip = createGroup(ctx, "tag", "Filter VIP");
    changeMembership(ctx, "tag", a!, "add", { name: "Filter VIP" });
    const selection: BulkSelection = {
      kind: "matching",
      q: "filt",
      filters: { tagId: vip.id },
    };
    expect(countSelection(ctx, selection)).toBe(1);
    await bulkChangeMembership(ctx, "tag", selection, "add", { name: "Filtered" });
    expect(tagsOf(ctx, a!)).toContain("Filtered");
    expect(tagsOf(ctx, b!)).not.toContain("Filtered");
  });

  it("refuses to remove a tag that does not exist, and an empty or oversized tick list", async () => {
    const [id] = people(ctx, "Refuse", 1);
    await expect(
      bulkChangeMembership(ctx, "tag", { kind: "ids", ids: [id!] }, "remove", {
        name: "No such tag",
      }),
    ).rejects.toThrow("There is no tag called “No such tag”.");
    await expect(
      bulkChangeMembership(ctx, "tag", { kind: "ids", ids: [] }, "add", { name: "x" }),
    ).rejects.toBeInstanceOf(ValidationError);
    const many = Array.from({ length: 201 }, (_, i) => i + 1);
    await expect(
      bulkChangeMembership(ctx, "tag", { kind: "ids", ids: many }, "add", { name: "Too many" }),
    ).rejects.toThrow("Tick up to 200 contacts");
    // Nothing was created by the refused calls.
    expect(listGroups(ctx, "tag").map((t) => t.name)).not.toContain("Too many");
    await expect(
      bulkChangeMembership(ctx, "tag", { kind: "ids", ids: [id!] }, "add", { name: "   " }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it("changes only this workspace's file: unknown ids match nothing", async () => {
    const mine = people(ctx, "Mine", 1);
    people(other, "Theirs", 2);
    const result = await bulkChangeMembership(
      ctx,
      "tag",
      { kind: "ids", ids: [...mine, 999_999] },
      "add",
      { name: "Mine only" },
    );
    expect(result.changed).toBe(1);
    await bulkChangeMembership(ctx, "tag", matching("theirs"), "add", { name: "Mine only" });
    expect(other.db.select().from(contactTags).all()).toHaveLength(0);
    expect(listGroups(other, "tag")).toEqual([]);
  });
});

describe("bulk lists", () => {
  it("adds ticked ids and matching contacts to a list and removes them again", async () => {
    const ids = people(ctx, "Lister", 3);
    const list = createGroup(ctx, "list", "Café regulars");
    const added = await bulkChangeMembership(
      ctx,
      "list",
      { kind: "ids", ids: ids.slice(0, 2) },
      "add",
      { id: list.id },
    );
    expect(added).toEqual({ changed: 2, name: "Café regulars" });
    expect(
      (await bulkChangeMembership(ctx, "list", matching("lister"), "add", { id: list.id })).changed,
    ).toBe(1);
    expect(listGroups(ctx, "list").find((l) => l.id === list.id)!.contacts).toBe(3);
    const removed = await bulkChangeMembership(
      ctx,
      "list",
      { kind: "ids", ids: [ids[1]!] },
      "remove",
      { id: list.id },
    );
    expect(removed.changed).toBe(1);
    expect(getContactDetails(ctx, ids[1]!).lists).toEqual([]);
    expect(auditFor(ctx.workspaceId, "contacts.bulk_listed")).toHaveLength(2);
    expect(auditFor(ctx.workspaceId, "contacts.bulk_unlisted")).toHaveLength(1);
  });

  it("refuses a list that does not exist (another workspace's list id included)", async () => {
    const [id] = people(ctx, "Nolist", 1);
    const theirs = createGroup(other, "list", "Their list");
    const ours = listGroups(ctx, "list").map((l) => l.id);
    const missing = Math.max(theirs.id, ...ours) + 100;
    await expect(
      bulkChangeMembership(ctx, "list", { kind: "ids", ids: [id!] }, "add", { id: missing }),
    ).rejects.toThrow("That list does not exist any more.");
  });
});

describe("bulk delete", () => {
  it("deletes ticked ids only, releases them from the privacy index and audits once", async () => {
    const ids = people(ctx, "Gone", 3);
    const theirsBefore = other.db.select().from(contacts).all().length;
    const hashes = subjectHashes({ email: "gone0@x.io" });
    expect(workspacesHolding(hashes)).toContain(ctx.workspaceId);
    const result = await bulkDelete(
      ctx,
      { kind: "ids", ids: [ids[0]!, ids[1]!, 999_999] },
      { erase: false },
    );
    expect(result.changed).toBe(2);
    expect(other.db.select().from(contacts).all()).toHaveLength(theirsBefore);
    expect(ctx.db.select().from(contacts).where(eq(contacts.id, ids[2]!)).get()).toBeTruthy();
    expect(ctx.db.select().from(contacts).where(eq(contacts.id, ids[0]!)).get()).toBeUndefined();
    expect(workspacesHolding(hashes)).not.toContain(ctx.workspaceId);
    const audit = auditFor(ctx.workspaceId, "contacts.bulk_deleted").at(-1)!;
    expect(JSON.parse(audit.details!)).toMatchObject({ selection: "ids", erased: false });
  });

  it("erases every matching contact in chunks: suppressed, deleted, nothing else touched", async () => {
    // More than one chunk of 500.
    const now = Date.now();
    const insert = ctx.db.$client.prepare(
      "INSERT INTO contacts (name, name_key, email, phone, country, attributes, created_at, updated_at) VALUES (?, ?, ?, NULL, NULL, '{}', ?, ?)",
    );
    ctx.db.$client.transaction(() => {
      for (let i = 0; i < 1_203; i++) {
        insert.run(`Erasee ${i}`, `erasee ${i}`, `erasee${i}@x.io`, now, now);
      }
    })();
    const keep = createContact(ctx, { name: "Keeper", email: "keeper@x.io" }).id;
    expect(countSelection(ctx, matching("erasee"))).toBe(1_203);
    const result = await bulkDelete(ctx, matching("erasee"), { erase: true });
    expect(result.changed).toBe(1_203);
    expect(countSelection(ctx, matching("erasee"))).toBe(0);
    expect(ctx.db.select().from(contacts).where(eq(contacts.id, keep)).get()).toBeTruthy();
    const key = suppressionKey(ctx.db);
    expect(isSuppressed(ctx.db, key, { email: "erasee1202@x.io" }, "email")).toBe(true);
    expect(isSuppressed(ctx.db, key, { email: "keeper@x.io" }, "email")).toBe(false);
    const audit = JSON.parse(auditFor(ctx.workspaceId, "contacts.bulk_deleted").at(-1)!.details!);
    expect(audit).toMatchObject({
      selection: "matching",
      contacts: 1_203,
      erased: true,
      suppressionEntries: 1_203,
    });
  });
});

describe("bulk export", () => {
  it("exports the ticked contacts and the matching ones as an ordinary contact export", async () => {
    const ids = people(ctx, "Exported", 3);
    const picked = bulkExport(ctx, { kind: "ids", ids: ids.slice(0, 2) });
    const search = bulkExport(ctx, matching("exported"));
    await waitForContactExports();
    const rows = ctx.db.select().from(contactExports).all();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(picked.id)).toMatchObject({ status: "completed", rows: 2, scope: "selected" });
    expect(byId.get(search.id)).toMatchObject({ status: "completed", rows: 3, scope: "matching" });
  });
});
