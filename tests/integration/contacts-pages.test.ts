import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getContactDetails, createContact, getContact } from "~/domain/contacts/contacts.server";
import { listContactTimeline } from "~/domain/contacts/timeline.server";
import { suppressionKey } from "~/domain/contacts/suppression-hash.server";
import { isSuppressed } from "~/domain/contacts/suppressions.server";
import type { WorkspaceContext } from "~/domain/context";
import { NotFoundError } from "~/lib/errors";
import type { Browser, TestUser } from "../support/accounts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The contacts pages through the real server, as a browser without JavaScript uses them.
 * Contacts are seeded through the contacts domain in this process, which shares DATA_DIR (and
 * so the workspace's SQLite file) with the server.
 */

let server: TestServer;
let owner: TestUser;
let viewerUser: TestUser;
let ctx: WorkspaceContext;
let alice: Browser;
let viewer: Browser;
const slug = "contacts-pages";
const base = `/w/${slug}/contacts`;

/** The names in the contacts table, in order. */
function rowNames(html: string): string[] {
  const body = html.split("<tbody>")[1]?.split("</tbody>")[0] ?? "";
  return [...body.matchAll(/<th scope="row"><a [^>]*>([^<]*)<\/a>/g)].map((m) => m[1]!);
}

function link(html: string, rel: "next" | "prev"): string | null {
  const anchor = new RegExp(`<a [^>]*rel="${rel}"[^>]*>`).exec(html)?.[0];
  return anchor ? (/href="([^"]+)"/.exec(anchor)?.[1] ?? null) : null;
}

function idFrom(res: Response): number {
  const location = res.headers.get("location") ?? "";
  const match = new RegExp(`^${base}/(\\d+)$`).exec(location);
  if (!match) throw new Error(`unexpected redirect: ${res.status} ${location}`);
  return Number(match[1]);
}

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Olivia Owner",
    workspace: { slug, name: "Contacts Pages Co", country: "IN" },
    members: { viewer: { name: "Victor Viewer", role: "viewer" } },
  });
  ({ owner, ctx } = team);
  viewerUser = team.members.viewer;
  const people = [
    ["Aarav Shah", "aarav@example.com", "98765 43210"],
    ["Aarti Nair", "aarti.nair@example.in", "98765 11111"],
    ["Zoë Adams", "zoe@example.org", "+44 20 7946 0958"],
    ["राम कुमार", "ram@example.in", "91234 56789"],
  ];
  for (const [name, email, phone] of people) createContact(ctx, { name, email, phone });
  for (let i = 0; i < 60; i++) {
    createContact(ctx, { name: `Filler ${String(i).padStart(2, "0")}`, email: `f${i}@x.io` });
  }
  server = await startServer();
  ({ alice, viewer } = await signInAll(server, { alice: owner, viewer: viewerUser }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("the contacts list", () => {
  it("lists newest first with the total and links to import, export and segments", async () => {
    const res = await alice.get(base);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain("64 contacts");
    expect(rowNames(html).slice(0, 3)).toEqual(["Filler 59", "Filler 58", "Filler 57"]);
    expect(rowNames(html)).toHaveLength(50);
    for (const href of [`${base}/import`, `${base}/export`, `/w/${slug}/segments`, `${base}/new`]) {
      expect(html).toContain(`href="${href}"`);
    }
  });

  it("searches by name, email and phone prefix", async () => {
    const byName = await textOf(await alice.get(`${base}?q=AAR`));
    expect(rowNames(byName)).toEqual(["Aarav Shah", "Aarti Nair"]);
    const devanagari = await textOf(await alice.get(`${base}?q=${encodeURIComponent("राम")}`));
    expect(rowNames(devanagari)).toEqual(["राम कुमार"]);
    const byEmail = await textOf(await alice.get(`${base}?q=${encodeURIComponent("zoe@ex")}`));
    expect(rowNames(byEmail)).toEqual(["Zoë Adams"]);
    const byPhone = await textOf(await alice.get(`${base}?q=98765`));
    expect(rowNames(byPhone)).toEqual(["Aarti Nair", "Aarav Shah"]);
    const intl = await textOf(await alice.get(`${base}?q=${encodeURIComponent("+44 20")}`));
    expect(rowNames(intl)).toEqual(["Zoë Adams"]);
    const none = await textOf(await alice.get(`${base}?q=nobody`));
    expect(none).toContain("No contacts match");
  });

  it("pages with Next and Previous, keeping the search and columns", async () => {
    const first = await textOf(await alice.get(`${base}?q=filler&cols=name&cols=email`));
    expect(rowNames(first)).toHaveLength(50);
    expect(first).toContain('<th scope="col">Email</th>');
    expect(first).not.toContain('<th scope="col">Phone</th>');
    const next = link(first, "next");
    expect(next).toMatch(/q=filler/);
    expect(next).toMatch(/cols=email/);
    const second = await textOf(await alice.get(next!));
    expect(rowNames(second)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Filler ${String(50 + i)}`),
    );
    expect(link(second, "next")).toBeNull();
    const back = await textOf(await alice.get(link(second, "prev")!));
    expect(rowNames(back)).toEqual(rowNames(first));
  });

  it("answers a forged page link or filter with 400 and a message, never 500", async () => {
    for (const query of [
      "after=%00%ff",
      "q=a&after=12",
      "tag=abc",
      "consent=fax:yes",
      "country=india",
    ]) {
      const res = await alice.get(`${base}?${query}`);
      expect(res.status, query).toBe(400);
      expect(await textOf(res), query).toMatch(/(not|no longer) valid/);
    }
  });
});

describe("creating, editing and deleting", () => {
  let createdId: number;

  it("creates a contact from the form, normalising email and phone", async () => {
    const res = await alice.post(`${base}/new`, {
      name: "Neha Gupta",
      email: "  Neha.Gupta@Example.COM ",
      phone: "0091-98765-22222",
    });
    expect(res.status).toBe(302);
    createdId = idFrom(res);
    expect(getContact(ctx, createdId)).toMatchObject({
      name: "Neha Gupta",
      email: "neha.gupta@example.com",
      phone: "+919876522222",
    });
    const page = await textOf(await alice.get(`${base}/${createdId}`));
    expect(page).toContain("neha.gupta@example.com");
    expect(page).toContain("+919876522222");
    expect(page).toContain("Contact created by a team member");
  });

  it("refuses a duplicate with the field's message and a link to the other contact", async () => {
    const res = await alice.post(`${base}/new`, { name: "Copy", email: "NEHA.gupta@example.com" });
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain(`Another contact (#${createdId}) already has this email address.`);
    expect(html).toContain(`href="${base}/${createdId}"`);
    // The typed values come back in the form.
    expect(html).toContain('value="Copy"');
  });

  it("shows a reason for invalid values and changes nothing", async () => {
    const res = await alice.post(`${base}/new`, { name: "Bad", email: "nope", phone: "12" });
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain("Enter a valid email address");
    expect(html).toMatch(/is not a (valid )?phone number/);
    const empty = await alice.post(`${base}/new`, { name: "Nobody" });
    expect(empty.status).toBe(400);
    expect(await textOf(empty)).toContain("Give an email address or a phone number");
  });

  it("edits a contact", async () => {
    const form = await alice.get(`${base}/${createdId}/edit`);
    expect(form.status).toBe(200);
    expect(await textOf(form)).toContain('value="neha.gupta@example.com"');
    const res = await alice.post(`${base}/${createdId}/edit`, {
      name: "Neha G. Gupta",
      email: "neha@example.com",
      phone: "",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${base}/${createdId}`);
    expect(getContact(ctx, createdId)).toMatchObject({
      name: "Neha G. Gupta",
      email: "neha@example.com",
      phone: null,
    });
    const timeline = listContactTimeline(ctx, createdId).events;
    expect(timeline[0]).toMatchObject({
      type: "contact.updated",
      data: { fields: ["name", "email", "phone"] },
    });
  });

  it("records a consent change with its source, and refuses one without", async () => {
    const missing = await alice.post(`${base}/${createdId}`, {
      intent: "consent",
      channel: "email",
      status: "granted",
      source: "",
    });
    expect(missing.status).toBe(400);
    expect(await textOf(missing)).toContain("Say where this consent came from");

    const res = await alice.post(`${base}/${createdId}`, {
      intent: "consent",
      channel: "email",
      status: "granted",
      source: "Signed up on website form",
    });
    expect(res.status).toBe(302);
    const email = getContactDetails(ctx, createdId).consents.find((c) => c.channel === "email");
    expect(email).toMatchObject({ status: "granted", source: "Signed up on website form" });
    const page = await textOf(await alice.get(`${base}/${createdId}`));
    expect(page).toContain("Email consent granted. Source: Signed up on website form");

    const noPhone = await alice.post(`${base}/${createdId}`, {
      intent: "consent",
      channel: "sms",
      status: "granted",
      source: "Shop",
    });
    expect(noPhone.status).toBe(400);
    expect(await textOf(noPhone)).toContain("has no phone number");
  });

  it("tags a contact and adds it to a list from its page", async () => {
    expect(
      (await alice.post(`${base}/lists`, { intent: "create", kind: "list", name: "Newsletter" }))
        .status,
    ).toBe(302);
    const noTag = await alice.post(`${base}/${createdId}`, { intent: "add-tag", name: " " });
    expect(noTag.status).toBe(400);
    expect(await textOf(noTag)).toContain("Type a tag.");
    const noList = await alice.post(`${base}/${createdId}`, { intent: "add-list", listId: "x" });
    expect(noList.status).toBe(400);
    expect(await textOf(noList)).toContain("Choose a list.");
    const tag = await alice.post(`${base}/${createdId}`, { intent: "add-tag", name: "VIP" });
    expect(tag.status).toBe(302);
    const page = await textOf(await alice.get(`${base}/${createdId}`));
    const listId = /<option value="(\d+)">Newsletter<\/option>/.exec(page)?.[1];
    expect(listId).toBeDefined();
    expect(
      (await alice.post(`${base}/${createdId}`, { intent: "add-list", listId: listId! })).status,
    ).toBe(302);
    const details = getContactDetails(ctx, createdId);
    expect(details.tags.map((t) => t.name)).toEqual(["VIP"]);
    expect(details.lists.map((l) => l.name)).toEqual(["Newsletter"]);
    const filtered = await textOf(await alice.get(`${base}?list=${listId}`));
    expect(rowNames(filtered)).toEqual(["Neha G. Gupta"]);
  });

  it("deletes only after a confirmation step", async () => {
    const confirm = await textOf(await alice.get(`${base}/${createdId}?delete`));
    expect(confirm).toContain("Delete Neha G. Gupta?");
    expect(confirm).toContain('name="intent" value="delete"');
    const res = await alice.post(`${base}/${createdId}`, { intent: "delete" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(base);
    expect(() => getContact(ctx, createdId)).toThrow(NotFoundError);
    expect((await alice.get(`${base}/${createdId}`)).status).toBe(404);
  });

  it("erases: deleted and kept on the suppression list", async () => {
    const c = createContact(ctx, { name: "Erin Erase", email: "erin@erase.example" });
    const res = await alice.post(`${base}/${c.id}`, { intent: "delete", erase: "on" });
    expect(res.status).toBe(302);
    expect(() => getContact(ctx, c.id)).toThrow(NotFoundError);
    const key = suppressionKey(ctx.db);
    expect(isSuppressed(ctx.db, key, { email: "erin@erase.example" }, "email")).toBe(true);
    const list = await textOf(await alice.get(`${base}/suppressions`));
    expect(list).toContain("Erased (privacy request)");
    expect(list).not.toContain("erin@erase.example");
  });
});

describe("not found and permissions", () => {
  it("404s for ids that are not contacts, never 500", async () => {
    for (const path of [
      `${base}/x`,
      `${base}/0`,
      `${base}/99999999`,
      `${base}/x/edit`,
      `${base}/1.5`,
    ]) {
      expect((await alice.get(path)).status, path).toBe(404);
    }
    expect((await alice.get(`${base}/x.data`)).status).toBe(404);
    expect((await alice.post(`${base}/x`, { intent: "delete" })).status).toBe(404);
  });

  it("refuses a form the contact page does not have with 400 and a clear message", async () => {
    const target = createContact(ctx, { name: "Odd Form", email: "oddform@example.com" });
    const forms: Record<string, string>[] = [
      { intent: "rename", name: "Changed" },
      { name: "Changed" },
    ];
    for (const fields of forms) {
      const res = await alice.post(`${base}/${target.id}`, fields);
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(await textOf(res)).toContain("This form asked for something the page does not do.");
    }
    expect(getContact(ctx, target.id)).toMatchObject({ name: "Odd Form" });
  });

  it("a viewer can read but every write is refused with 403 and changes nothing", async () => {
    const target = createContact(ctx, { name: "Read Only", email: "readonly@example.com" });
    const list = await viewer.get(base);
    expect(list.status).toBe(200);
    const html = await textOf(list);
    expect(html).not.toContain(`href="${base}/new"`);
    expect((await viewer.get(`${base}/${target.id}`)).status).toBe(200);
    expect((await viewer.get(`${base}/new`)).status).toBe(403);
    expect((await viewer.get(`${base}/${target.id}/edit`)).status).toBe(403);

    const writes: [string, Record<string, string>][] = [
      [`${base}/new`, { name: "Sneaky", email: "sneaky@example.com" }],
      [`${base}/${target.id}/edit`, { name: "Changed", email: "readonly@example.com" }],
      [
        `${base}/${target.id}`,
        { intent: "consent", channel: "email", status: "granted", source: "x" },
      ],
      [`${base}/${target.id}`, { intent: "add-tag", name: "x" }],
      [`${base}/${target.id}`, { intent: "remove-tag", tagId: "1" }],
      [`${base}/${target.id}`, { intent: "add-list", listId: "1" }],
      [`${base}/${target.id}`, { intent: "remove-list", listId: "1" }],
      [`${base}/${target.id}`, { intent: "telegram-link" }],
      [
        `${base}/${target.id}`,
        { intent: "send", channel: "email", emailSubject: "x", emailBody: "x" },
      ],
      [`${base}/${target.id}`, { intent: "delete" }],
      [`${base}/attributes`, { intent: "create", key: "x", label: "X", type: "text" }],
      [`${base}/lists`, { intent: "create", kind: "tag", name: "x" }],
      [`${base}/suppressions`, { intent: "add", identifier: "a@b.co", channel: "all" }],
    ];
    for (const [path, fields] of writes) {
      expect((await viewer.post(path, fields)).status, `${path} ${fields.intent ?? ""}`).toBe(403);
    }
    expect(getContact(ctx, target.id)).toMatchObject({ name: "Read Only" });
    expect(getContactDetails(ctx, target.id).consents.every((c) => c.status === null)).toBe(true);
    // Checking the suppression list is a read.
    const check = await viewer.post(`${base}/suppressions`, {
      intent: "check",
      identifier: "erin@erase.example",
    });
    expect(check.status).toBe(200);
    expect(await textOf(check)).toContain("This email address is on the list.");
  });
});

describe("attributes, suppressions, tags and lists pages", () => {
  it("defines attributes and validates values on contacts", async () => {
    const bad = await alice.post(`${base}/attributes`, {
      intent: "create",
      key: "Plan Tier",
      label: "Plan",
      type: "choice",
    });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("lower-case letters");
    const ok = await alice.post(`${base}/attributes`, {
      intent: "create",
      key: "plan",
      label: "Plan",
      type: "choice",
      options: "Free\nPro",
    });
    expect(ok.status).toBe(302);
    const created = await alice.post(`${base}/new`, {
      email: "attr@example.com",
      "attributes.plan": "Gold",
    });
    expect(created.status).toBe(400);
    expect(await textOf(created)).toContain("Plan must be one of: Free, Pro.");
    const good = await alice.post(`${base}/new`, {
      email: "attr@example.com",
      "attributes.plan": "pro",
    });
    expect(good.status).toBe(302);
    expect(getContact(ctx, idFrom(good)).attributes).toEqual({ plan: "Pro" });
    const listed = await textOf(await alice.get(`${base}?cols=name&cols=attr.plan&q=attr%40`));
    expect(listed).toContain("<td>Pro</td>");
  });

  it("suppresses by hand, shows no personal data, and removes after confirmation", async () => {
    const res = await alice.post(`${base}/suppressions`, {
      intent: "add",
      identifier: "Manual.Block@Example.com",
      channel: "whatsapp",
    });
    expect(res.status).toBe(302);
    const page = await textOf(await alice.get(`${base}/suppressions`));
    expect(page).not.toMatch(/manual\.block/i);
    expect(page).toContain("Added by hand");
    const remove = /href="([^"]*\?remove=[^"]+)"/.exec(page)?.[1];
    expect(remove).toBeDefined();
    const confirm = await textOf(await alice.get(remove!));
    expect(confirm).toContain("Remove this entry?");
    const hash = /name="hash" value="([^"]+)"/.exec(confirm)![1]!;
    const removed = await alice.post(`${base}/suppressions`, {
      intent: "remove",
      hash,
      channel: "whatsapp",
    });
    expect(removed.status).toBe(302);
    const key = suppressionKey(ctx.db);
    expect(isSuppressed(ctx.db, key, { email: "manual.block@example.com" }, "whatsapp")).toBe(
      false,
    );
    const bad = await alice.post(`${base}/suppressions`, {
      intent: "add",
      identifier: "123",
      channel: "all",
    });
    expect(bad.status).toBe(400);
  });

  it("renames and deletes tags and lists, refusing duplicates", async () => {
    expect(
      (await alice.post(`${base}/lists`, { intent: "create", kind: "tag", name: "Trade fair" }))
        .status,
    ).toBe(302);
    const dup = await alice.post(`${base}/lists`, {
      intent: "create",
      kind: "tag",
      name: "TRADE FAIR",
    });
    expect(dup.status).toBe(400);
    expect(await textOf(dup)).toContain("There is already a tag called");
    const page = await textOf(await alice.get(`${base}/lists`));
    const tagId = /\?rename=tag:(\d+)"/.exec(page)?.[1];
    expect(tagId).toBeDefined();
    const rename = await alice.post(`${base}/lists`, {
      intent: "rename",
      kind: "tag",
      id: tagId!,
      name: "Expo 2030",
    });
    expect(rename.status).toBe(302);
    const confirm = await textOf(await alice.get(`${base}/lists?delete=tag:${tagId}`));
    expect(confirm).toContain("Delete the tag “Expo 2030”?");
    const del = await alice.post(`${base}/lists`, { intent: "delete", kind: "tag", id: tagId! });
    expect(del.status).toBe(302);
    expect(await textOf(await alice.get(`${base}/lists`))).not.toContain("Expo 2030");
  });
});
