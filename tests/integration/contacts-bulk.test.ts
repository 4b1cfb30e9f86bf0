import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { campaigns, contactExports, contacts, messages } from "~/db/schema/tenant";
import { createContact, getContactDetails } from "~/domain/contacts/contacts.server";
import { createGroup, listGroups } from "~/domain/contacts/groups.server";
import type { WorkspaceContext } from "~/domain/context";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * Bulk actions on the contacts list and the message log's filters, through the real server
 * as a browser without JavaScript uses them (a form of ticked ids, a second post to confirm a
 * deletion).
 */

let server: TestServer;
let owner: TestUser;
let viewerUser: TestUser;
let strangerUser: TestUser;
let workspace: Workspace;
let ctx: WorkspaceContext;
let theirCtx: WorkspaceContext;
let alice: Browser;
let viewer: Browser;
let stranger: Browser;
const slug = "contacts-bulk";
const base = `/w/${slug}/contacts`;

/** Posts the contacts list's bulk form (repeated `ids` fields, as a browser sends them). */
function post(who: Browser, path: string, fields: [string, string][]): Promise<Response> {
  return server.fetch(path, {
    method: "POST",
    headers: {
      cookie: who.cookie,
      origin: server.url,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(fields).toString(),
  });
}

const ids = (list: number[]) => list.map((id): [string, string] => ["ids", String(id)]);
const tagsOf = (id: number) => getContactDetails(ctx, id).tags.map((t) => t.name);
const exists = (c: WorkspaceContext, id: number) =>
  Boolean(c.db.select().from(contacts).where(eq(contacts.id, id)).get());

let people: number[];

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Bulk Co", country: "IN" },
    members: { viewer: { name: "Victor Viewer", role: "viewer" } },
  });
  ({ owner, workspace, ctx } = team);
  viewerUser = team.members.viewer;
  const them = await makeTeam({
    owner: "Sam Stranger",
    workspace: { slug: "bulk-theirs", name: "Theirs", country: "IN" },
  });
  ({ owner: strangerUser, ctx: theirCtx } = them);
  people = [];
  for (let i = 0; i < 55; i++) {
    people.push(createContact(ctx, { name: `Guest ${i}`, email: `guest${i}@x.io` }).id);
  }
  for (let i = 0; i < 3; i++) {
    createContact(theirCtx, { name: `Guest ${i}`, email: `guest${i}@x.io` });
  }
  server = await startServer();
  ({ alice, viewer, stranger } = await signInAll(server, {
    alice: owner,
    viewer: viewerUser,
    stranger: strangerUser,
  }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("the contacts list's bulk form", () => {
  it("has a checkbox per row named ids and offers all matching when there is more than a page", async () => {
    const html = await textOf(await alice.get(base));
    expect(html.match(/name="ids"/g)).toHaveLength(50);
    expect(html).toContain("Select all 55 matching contacts");
    expect(html).toContain('name="intent"');
    // One page only: nothing more to offer.
    const one = await textOf(await alice.get(`${base}?q=guest%201`));
    expect(one).not.toContain("matching contacts</label>");
  });

  it("shows no bulk form to a role that can only read", async () => {
    const html = await textOf(await viewer.get(base));
    expect(html).not.toContain('name="ids"');
    expect(html).not.toContain("Apply");
  });

  it("tags the ticked contacts and says how many", async () => {
    const res = await post(alice, `${base}?index`, [
      ["intent", "tag"],
      ["tagName", "Diwali"],
      ["query", ""],
      ...ids(people.slice(0, 3)),
    ]);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(base);
    expect(tagsOf(people[0]!)).toEqual(["Diwali"]);
    expect(tagsOf(people[3]!)).toEqual([]);
    const page = await textOf(
      await alice.get(base, {
        cookie: `${alice.cookie}; ${res.headers.get("set-cookie")!.split(";")[0]}`,
      }),
    );
    expect(page).toContain("Tagged 3 contacts “Diwali”.");
  });

  it("applies to every contact matching the search when all matching is chosen, back to the same search", async () => {
    const res = await post(alice, `${base}?index`, [
      ["intent", "tag"],
      ["tagName", "Tens"],
      ["query", "q=guest+1&field=name"],
      ["scope", "matching"],
    ]);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${base}?q=guest+1&field=name`);
    // Guest 1 and Guest 10 … Guest 19.
    const tagged = people.filter((id) => tagsOf(id).includes("Tens"));
    expect(tagged).toHaveLength(11);
  });

  it("adds to a list and removes from it, and removes a tag", async () => {
    const listId = createGroup(ctx, "list", "Regulars").id;
    const add = await post(alice, `${base}?index`, [
      ["intent", "list-add"],
      ["listId", String(listId)],
      ["query", ""],
      ...ids(people.slice(0, 4)),
    ]);
    expect(add.status).toBe(302);
    expect(getContactDetails(ctx, people[3]!).lists.map((l) => l.name)).toEqual(["Regulars"]);
    const remove = await post(alice, `${base}?index`, [
      ["intent", "list-remove"],
      ["listId", String(listId)],
      ["query", ""],
      ...ids([people[3]!]),
    ]);
    expect(remove.status).toBe(302);
    expect(getContactDetails(ctx, people[3]!).lists).toEqual([]);
    const untag = await post(alice, `${base}?index`, [
      ["intent", "untag"],
      ["tagName", "diwali"],
      ["query", ""],
      ...ids([people[0]!]),
    ]);
    expect(untag.status).toBe(302);
    expect(tagsOf(people[0]!)).toEqual([]);
  });

  it("answers bad input with 400 and a message, changing nothing", async () => {
    const cases: [string, [string, string][], RegExp][] = [
      [
        "no ids",
        [
          ["intent", "tag"],
          ["tagName", "X1"],
          ["query", ""],
        ],
        /Tick at least one/,
      ],
      [
        "forged id",
        [
          ["intent", "tag"],
          ["tagName", "X2"],
          ["query", ""],
          ["ids", "abc"],
        ],
        /not recognised/,
      ],
      [
        "no tag",
        [["intent", "tag"], ["tagName", ""], ["query", ""], ...ids([people[0]!])],
        /Give the tag a name/,
      ],
      [
        "unknown tag",
        [["intent", "untag"], ["tagName", "Nope"], ["query", ""], ...ids([people[0]!])],
        /There is no tag called/,
      ],
      [
        "bad list",
        [["intent", "list-add"], ["listId", "x"], ["query", ""], ...ids([people[0]!])],
        /list does not exist/,
      ],
      [
        "bad filter",
        [
          ["intent", "tag"],
          ["tagName", "X3"],
          ["query", "tag=abc"],
          ["scope", "matching"],
        ],
        /not valid/,
      ],
    ];
    for (const [name, fields, message] of cases) {
      const res = await post(alice, `${base}?index`, fields);
      expect(res.status, name).toBe(400);
      expect(await textOf(res), name).toMatch(message);
    }
    expect(listGroups(ctx, "tag").map((t) => t.name)).not.toContain("X1");
    expect(listGroups(ctx, "tag").map((t) => t.name)).not.toContain("X2");
    expect(listGroups(ctx, "tag").map((t) => t.name)).not.toContain("X3");
    const unknown = await post(alice, `${base}?index`, [["intent", "explode"]]);
    expect(unknown.status).toBe(400);
  });

  it("deletes only after a confirmation that shows how many", async () => {
    const doomed = people.slice(50, 53);
    const ask = await post(alice, `${base}?index`, [
      ["intent", "delete"],
      ["query", ""],
      ...ids(doomed),
    ]);
    expect(ask.status).toBe(200);
    const html = await textOf(ask);
    expect(html).toContain("Delete 3 contacts?");
    expect(html).toContain('name="confirm" value="yes"');
    for (const id of doomed) expect(exists(ctx, id)).toBe(true);
    // A confirmation for fewer than now match asks again.
    const stale = await post(alice, `${base}?index`, [
      ["intent", "delete"],
      ["query", ""],
      ["confirm", "yes"],
      ["expected", "2"],
      ...ids(doomed),
    ]);
    expect(stale.status).toBe(200);
    expect(await textOf(stale)).toContain("has changed since you asked");
    for (const id of doomed) expect(exists(ctx, id)).toBe(true);
    const done = await post(alice, `${base}?index`, [
      ["intent", "delete"],
      ["query", ""],
      ["confirm", "yes"],
      ["expected", "3"],
      ...ids(doomed),
    ]);
    expect(done.status).toBe(302);
    for (const id of doomed) expect(exists(ctx, id)).toBe(false);
    expect(exists(ctx, people[49]!)).toBe(true);
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "contacts.bulk_deleted"))
      .all()
      .filter((a) => a.workspaceId === workspace.id);
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details!)).toMatchObject({ contacts: 3, selection: "ids" });
  });

  it("starts an export of the ticked contacts and sends the person to the export page", async () => {
    const res = await post(alice, `${base}?index`, [
      ["intent", "export"],
      ["query", ""],
      ...ids(people.slice(0, 2)),
    ]);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${base}/export`);
    const row = ctx.db.select().from(contactExports).all().at(-1)!;
    expect(row.scope).toBe("selected");
    const page = await textOf(await alice.get(`${base}/export`));
    expect(page).toContain("Contacts ticked on the contacts list");
  });

  it("refuses a role without the permission (403) and changes nothing", async () => {
    for (const intent of ["tag", "delete", "export"]) {
      const res = await post(viewer, `${base}?index`, [
        ["intent", intent],
        ["tagName", "Viewer tag"],
        ["query", ""],
        ["confirm", "yes"],
        ["expected", "1"],
        ...ids([people[0]!]),
      ]);
      expect(res.status, intent).toBe(403);
    }
    expect(exists(ctx, people[0]!)).toBe(true);
    expect(listGroups(ctx, "tag").map((t) => t.name)).not.toContain("Viewer tag");
  });

  it("answers 404 to a member of another workspace, and never touches theirs", async () => {
    const res = await post(stranger, `${base}?index`, [
      ["intent", "delete"],
      ["query", ""],
      ["scope", "matching"],
      ["confirm", "yes"],
      ["expected", "1000"],
    ]);
    expect(res.status).toBe(404);
    expect(exists(ctx, people[0]!)).toBe(true);
    // Alice, posting to their workspace: 404 as well, their contacts stay.
    const other = await post(alice, `/w/bulk-theirs/contacts?index`, [
      ["intent", "delete"],
      ["query", ""],
      ["scope", "matching"],
      ["confirm", "yes"],
      ["expected", "1000"],
    ]);
    expect(other.status).toBe(404);
    expect(theirCtx.db.select().from(contacts).all()).toHaveLength(3);
  });
});

describe("the message log's filters", () => {
  const msgs = `/w/${slug}/messages`;
  let campaignId: number;

  beforeAll(() => {
    const now = Date.now();
    campaignId = ctx.db
      .insert(campaigns)
      .values({
        name: "Weekend offer",
        channel: "whatsapp",
        status: "completed",
        audience: JSON.stringify({ type: "all" }),
        variants: JSON.stringify([]),
        schedule: JSON.stringify({ type: "now" }),
        createdAt: new Date(now),
        updatedAt: new Date(now),
      })
      .returning({ id: campaigns.id })
      .get().id;
    const rows: [string, "email" | "whatsapp", "delivered" | "failed", string, number | null][] = [
      ["m1", "email", "delivered", "mail-one@x.io", null],
      ["m2", "whatsapp", "failed", "+919800000001", campaignId],
      ["m3", "whatsapp", "delivered", "+919800000002", campaignId],
      ["m4", "email", "failed", "mail-two@x.io", null],
    ];
    rows.forEach(([id, channel, status, recipient, campaign], i) => {
      ctx.db
        .insert(messages)
        .values({
          id,
          channel,
          kind: campaign ? "marketing" : "service",
          recipient,
          status,
          nextAttemptAt: new Date(now + i),
          error: status === "failed" ? "Number not on WhatsApp" : null,
          campaignId: campaign,
          createdAt: new Date(now + i),
          updatedAt: new Date(now + i),
        })
        .run();
    });
  });

  it("filters by channel, status and campaign, with the choice kept in the address", async () => {
    const all = await textOf(await alice.get(msgs));
    for (const r of ["mail-one@x.io", "+919800000001", "mail-two@x.io"]) expect(all).toContain(r);
    expect(all).toContain('<option value="' + String(campaignId) + '">Weekend offer</option>');
    const wa = await textOf(await alice.get(`${msgs}?channel=whatsapp`));
    expect(wa).toContain("+919800000001");
    expect(wa).not.toContain("mail-one@x.io");
    const failed = await textOf(await alice.get(`${msgs}?status=failed`));
    expect(failed).toContain("mail-two@x.io");
    expect(failed).toContain("+919800000001");
    expect(failed).not.toContain("+919800000002");
    const both = await textOf(
      await alice.get(`${msgs}?channel=whatsapp&status=delivered&campaign=${campaignId}`),
    );
    expect(both).toContain("+919800000002");
    expect(both).not.toContain("+919800000001");
    expect(both).toMatch(
      /<option value="delivered" selected="">|<option selected="" value="delivered">/,
    );
  });

  it("says when nothing matches, and answers a forged filter with 400", async () => {
    const none = await textOf(await alice.get(`${msgs}?channel=sms`));
    expect(none).toContain("No messages match");
    for (const q of ["channel=fax", "status=lost", "campaign=abc"]) {
      const res = await alice.get(`${msgs}?${q}`);
      expect(res.status, q).toBe(400);
      expect(await textOf(res), q).toContain("not valid");
    }
  });

  it("downloads the filtered log as CSV for those who may export contacts", async () => {
    const res = await alice.get(`/w/${slug}/messages.csv?status=failed`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^created_at,channel,recipient/);
    expect(lines).toHaveLength(3);
    expect(lines.join("\n")).toContain("Number not on WhatsApp");
    expect((await viewer.get(`/w/${slug}/messages.csv`)).status).toBe(403);
    expect((await stranger.get(`/w/${slug}/messages.csv`)).status).toBe(404);
    expect((await stranger.get(`${msgs}?channel=email`)).status).toBe(404);
  });
});
