import Database from "better-sqlite3";
import { and, eq } from "drizzle-orm";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace } from "../../../tests/support/workspaces";
import { thrown } from "../../../tests/support/errors";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { consents, contactEvents, contacts, suppressions } from "~/db/schema/tenant";
import { tenantDbPath } from "~/db/tenants.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { createAttributeDefinition, listAttributeDefinitions } from "./attributes.server";
import { changeMembership, createGroup } from "./groups.server";
import {
  buildContactQueries,
  countContacts,
  listContacts,
  searchSources,
  type ContactListPage,
  type ListContactsOptions,
} from "./search.server";
import {
  createContact,
  deleteContact,
  DuplicateContactError,
  eraseContact,
  getContact,
  getContactDetails,
  updateContact,
} from "./contacts.server";
import { listContactTimeline } from "./timeline.server";
import { nameKeyOf, normaliseContactInput, normaliseNameValue } from "./contact-values.server";
import { setConsent } from "./consent.server";
import { isSuppressed, suppressContact } from "./suppressions.server";
import { suppressionKey } from "./suppression-hash.server";

process.env.BASE_URL = "https://engage.test";

const T0 = Date.parse("2030-03-01T09:00:00.000Z");
let clock = T0;

let ctx: WorkspaceContext;
let other: WorkspaceContext;

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

beforeAll(async () => {
  ctx = await workspaceContext("contacts-co");
  other = await workspaceContext("contacts-other");
});

describe("name normalisation shortcuts", () => {
  it("nameKeyOf and normaliseNameValue equal their plain definitions on generated names", () => {
    const pieces = [
      "a",
      "B",
      "É",
      "ß",
      "अ",
      "ｆ",
      "ﬁ",
      "İ",
      " ",
      "  ",
      "\t",
      "\n",
      "\u00a0",
      "\u3000",
      "x",
    ];
    let state = 5;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    for (let i = 0; i < 20_000; i++) {
      let text = "";
      const length = Math.floor(random() * 8);
      for (let j = 0; j < length; j++) text += pieces[Math.floor(random() * pieces.length)];
      expect(nameKeyOf(text), JSON.stringify(text)).toBe(
        text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim(),
      );
      expect(normaliseNameValue(text), JSON.stringify(text)).toEqual({
        ok: true,
        value: text.trim().replace(/\s+/g, " "),
      });
    }
  });
});

describe("normaliseContactInput", () => {
  const options = { defaultCountry: "IN", definitions: [] };

  it.each(["98765 43210", "0091-98765-43210", "+91 (987) 654-3210", "09876543210"])(
    "reads %j with IN as +919876543210",
    (phone) => {
      const result = normaliseContactInput({ phone }, options);
      expect(result).toMatchObject({ ok: true, value: { phone: "+919876543210", country: "IN" } });
    },
  );

  it("keeps international numbers in their own country", () => {
    const result = normaliseContactInput({ phone: "+44 20 7946 0958" }, options);
    expect(result).toMatchObject({ ok: true, value: { phone: "+442079460958", country: "GB" } });
  });

  it("trims, lower-cases and validates email; keys the name for search", () => {
    const result = normaliseContactInput(
      { email: "  Priya.Sharma@Example.COM ", name: "  Priya   SHARMA " },
      options,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        name: "Priya SHARMA",
        nameKey: "priya sharma",
        email: "priya.sharma@example.com",
        phone: null,
        country: null,
        attributes: {},
      },
    });
  });

  it("reports every invalid field with a reason, never dropping one silently", () => {
    const result = normaliseContactInput(
      { email: "not-an-email", phone: "12345", attributes: { nope: "x" } },
      options,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.email?.[0]).toMatch(/valid email/);
    expect(result.errors.phone?.[0]).toMatch(/phone number/);
    expect(result.errors["attributes.nope"]?.[0]).toMatch(/not an attribute/);
  });

  it("needs an email or a phone", () => {
    const result = normaliseContactInput({ name: "Only A Name" }, options);
    expect(result).toMatchObject({
      ok: false,
      errors: { email: [expect.stringMatching(/email address or a phone/)] },
    });
  });

  it("keys Devanagari and accented names so prefixes match", () => {
    expect(nameKeyOf("  राम   कुमार ")).toBe("राम कुमार");
    expect(nameKeyOf("ÉLODIE Dupont")).toBe("élodie dupont");
  });
});

describe("create, update, uniqueness", () => {
  it("creates, records a timeline event and audits by id only", () => {
    const c = createContact(ctx, {
      name: "Asha Verma",
      email: "Asha@Example.com",
      phone: "98111 22233",
    });
    expect(c).toMatchObject({ email: "asha@example.com", phone: "+919811122233", country: "IN" });
    const events = listContactTimeline(ctx, c.id).events;
    expect(events.map((e) => e.type)).toEqual(["contact.created"]);
    const audit = auditFor(ctx.workspaceId, "contact.created").find(
      (a) => a.targetId === String(c.id),
    );
    expect(audit).toBeDefined();
    expect(JSON.stringify(audit)).not.toContain("asha");
    expect(JSON.stringify(audit)).not.toContain("9811122233");
  });

  it("refuses a second contact with the same email or phone, naming the field and the owner", () => {
    const first = createContact(ctx, { email: "dup@example.com", phone: "+91 99000 11122" });
    const byEmail = thrown(() => createContact(ctx, { email: " DUP@example.COM " }));
    expect(byEmail).toBeInstanceOf(DuplicateContactError);
    expect(byEmail).toMatchObject({ field: "email", existingId: first.id });
    expect((byEmail as ValidationError).fieldErrors.email?.[0]).toContain(`#${first.id}`);

    const byPhone = thrown(() => createContact(ctx, { phone: "0091 99000-11122" }));
    expect(byPhone).toMatchObject({ field: "phone", existingId: first.id });

    const second = createContact(ctx, { email: "dup2@example.com" });
    const onUpdate = thrown(() => updateContact(ctx, second.id, { phone: "9900011122" }));
    expect(onUpdate).toMatchObject({ field: "phone", existingId: first.id });
    // Nothing half-changed: the failed update left the contact as it was.
    expect(getContact(ctx, second.id).phone).toBeNull();
  });

  it("the same email may exist in another workspace", () => {
    createContact(ctx, { email: "shared@example.com" });
    expect(createContact(other, { email: "shared@example.com" }).email).toBe("shared@example.com");
  });

  it("updates only the given fields, merges attributes, and records which fields changed", () => {
    createAttributeDefinition(ctx, { key: "city", label: "City", type: "text" });
    createAttributeDefinition(ctx, { key: "score", label: "Score", type: "number" });
    const c = createContact(ctx, {
      name: "Ravi",
      email: "ravi@example.com",
      attributes: { city: "Pune", score: "7" },
    });
    expect(c.attributes).toEqual({ city: "Pune", score: 7 });

    const updated = updateContact(ctx, c.id, {
      name: "Ravi Kumar",
      attributes: { score: "", city: "Mumbai" },
    });
    expect(updated).toMatchObject({ name: "Ravi Kumar", email: "ravi@example.com" });
    expect(updated.attributes).toEqual({ city: "Mumbai" });
    const event = listContactTimeline(ctx, c.id).events[0]!;
    expect(event.type).toBe("contact.updated");
    expect(event.data).toEqual({ fields: ["name"], attributes: ["city", "score"] });

    const audit = auditFor(ctx.workspaceId, "contact.updated").at(-1)!;
    expect(JSON.parse(audit.details!)).toEqual({ fields: ["name"], attributes: ["city", "score"] });
    expect(audit.details).not.toMatch(/Ravi|Mumbai|Pune/);

    const bad = thrown(() => updateContact(ctx, c.id, { attributes: { score: "lots" } }));
    expect((bad as ValidationError).fieldErrors["attributes.score"]?.[0]).toMatch(/number/);
    const none = thrown(() => updateContact(ctx, c.id, { email: "" }));
    expect((none as ValidationError).fieldErrors.email?.[0]).toMatch(/email address or a phone/);
    expect(getContact(ctx, c.id).email).toBe("ravi@example.com");
  });

  it("an update that changes nothing writes nothing", () => {
    const c = createContact(ctx, { email: "still@example.com", name: "Still" });
    const before = listContactTimeline(ctx, c.id).events.length;
    updateContact(ctx, c.id, { name: " Still ", email: "STILL@example.com" });
    expect(listContactTimeline(ctx, c.id).events.length).toBe(before);
  });

  it("not found for unknown ids", () => {
    expect(thrown(() => getContact(ctx, 999_999))).toBeInstanceOf(NotFoundError);
    expect(thrown(() => updateContact(ctx, 999_999, { name: "x" }))).toBeInstanceOf(NotFoundError);
    expect(thrown(() => deleteContact(ctx, 999_999))).toBeInstanceOf(NotFoundError);
  });
});

describe("listContacts", () => {
  let search: WorkspaceContext;
  const people = [
    ["Aarav Shah", "aarav@example.com", "98765 43210"],
    ["Aarti Nair", "aarti.nair@example.in", "98765 11111"],
    ["aaron miller", "aaron@example.com", "+1 415 555 2671"],
    ["Zoë Adams", "zoe@example.org", "+44 20 7946 0958"],
    ["राम कुमार", "ram@example.in", "91234 56789"],
    ["Bilal Ahmed", "aardvark@example.com", "99887 76655"],
  ] as const;
  const ids = new Map<string, number>();
  const list = (options: Partial<ListContactsOptions> = {}) => listContacts(search, { ...options });
  const names = (page: ContactListPage) => page.rows.map((r) => r.name);

  beforeAll(async () => {
    search = await workspaceContext("search-co");
    for (const [name, email, phone] of people) {
      ids.set(name, createContact(search, { name, email, phone }).id);
    }
    for (let i = 0; i < 45; i++) {
      createContact(search, { name: `Filler ${String(i).padStart(2, "0")}`, email: `f${i}@x.io` });
    }
  });

  it("lists newest first", () => {
    const page = list({ limit: 3 });
    expect(names(page)).toEqual(["Filler 44", "Filler 43", "Filler 42"]);
    expect(page.mode).toBe("all");
  });

  it("finds by name prefix, case-insensitively, in name order", () => {
    expect(names(list({ q: "AAR" }))).toEqual(["Aarav Shah", "aaron miller", "Aarti Nair"]);
    expect(names(list({ q: "aarti n" }))).toEqual(["Aarti Nair"]);
    expect(names(list({ q: "राम" }))).toEqual(["राम कुमार"]);
    expect(names(list({ q: "zoë" }))).toEqual(["Zoë Adams"]);
    expect(list({ q: "nobody" }).rows).toEqual([]);
  });

  it("tells email searches from name searches, or searches the field asked for", () => {
    expect(list({ q: "aarti.n" })).toMatchObject({ mode: "email" });
    expect(names(list({ q: "aarti.n" }))).toEqual(["Aarti Nair"]);
    expect(list({ q: "aardvark" })).toMatchObject({ mode: "name", rows: [] });
    expect(names(list({ q: "aardvark", field: "email" }))).toEqual(["Bilal Ahmed"]);
    expect(names(list({ q: "Bilal", field: "name" }))).toEqual(["Bilal Ahmed"]);
    expect(list({ q: "Jean-Luc" }).mode).toBe("name");
    expect(list({ q: "aarav " }).rows.map((r) => r.name)).toEqual(["Aarav Shah"]);
    expect(list({ q: "aaro ", field: "name" }).rows).toEqual([]);
    expect(list({ q: "abc", field: "phone" })).toMatchObject({ mode: "phone", rows: [] });
  });

  it("finds by email prefix", () => {
    const page = list({ q: "AARTI.N@" });
    expect(page.mode).toBe("email");
    expect(page.rows).toEqual([]);
    expect(names(list({ q: "aarti.nair@ex" }))).toEqual(["Aarti Nair"]);
  });

  it("finds by phone prefix, with or without the country code", () => {
    expect(list({ q: "98765" }).mode).toBe("phone");
    expect(names(list({ q: "98765" }))).toEqual(["Aarti Nair", "Aarav Shah"]);
    expect(names(list({ q: "+91 98765 4" }))).toEqual(["Aarav Shah"]);
    expect(names(list({ q: "0091 9876" }))).toEqual(["Aarti Nair", "Aarav Shah"]);
    expect(names(list({ q: "44 20" }))).toEqual(["Zoë Adams"]);
    expect(names(list({ q: "(415) 555" }))).toEqual([]);
    expect(names(list({ q: "+1 (415) 555" }))).toEqual(["aaron miller"]);
  });

  it("pages forwards and back over every row exactly once", () => {
    const all: number[] = [];
    let page = list({ limit: 7 });
    const pages = [page];
    all.push(...page.rows.map((r) => r.id));
    while (page.next) {
      page = list({ limit: 7, after: page.next });
      pages.push(page);
      all.push(...page.rows.map((r) => r.id));
    }
    expect(all.length).toBe(51);
    expect(new Set(all).size).toBe(51);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    // Previous from the last page walks back through the same pages.
    let back = pages[pages.length - 1]!;
    for (let i = pages.length - 2; i >= 0; i--) {
      back = list({ limit: 7, before: back.prev! });
      expect(back.rows.map((r) => r.id)).toEqual(pages[i]!.rows.map((r) => r.id));
    }
    expect(back.prev).toBeNull();
  });

  it("pages through a search in key order", () => {
    const first = list({ q: "f", limit: 20 });
    expect(first.rows).toHaveLength(20);
    const second = list({ q: "f", limit: 20, after: first.next! });
    const third = list({ q: "f", limit: 20, after: second.next! });
    const seen = [...first.rows, ...second.rows, ...third.rows].map((r) => r.name);
    expect(seen).toEqual(
      Array.from({ length: 45 }, (_, i) => `Filler ${String(i).padStart(2, "0")}`),
    );
    expect(third.next).toBeNull();
    const back = list({ q: "f", limit: 20, before: third.prev! });
    expect(back.rows.map((r) => r.id)).toEqual(second.rows.map((r) => r.id));
  });

  it("filters by tag, list, consent and country, and returns tags and lists on request", () => {
    const vip = createGroup(search, "tag", "VIP");
    const newsletter = createGroup(search, "list", "Newsletter");
    changeMembership(search, "tag", ids.get("Aarav Shah")!, "add", { name: "vip" });
    changeMembership(search, "tag", ids.get("Zoë Adams")!, "add", { name: "VIP" });
    changeMembership(search, "list", ids.get("Zoë Adams")!, "add", { id: newsletter.id });
    setConsent(search, ids.get("Aarav Shah")!, "whatsapp", "granted", "Website form");

    expect(names(list({ filters: { tagId: vip.id } }))).toEqual(["Zoë Adams", "Aarav Shah"]);
    expect(names(list({ q: "z", filters: { tagId: vip.id } }))).toEqual(["Zoë Adams"]);
    expect(names(list({ filters: { listId: newsletter.id } }))).toEqual(["Zoë Adams"]);
    expect(
      names(list({ filters: { consent: { channel: "whatsapp", status: "granted" } } })),
    ).toEqual(["Aarav Shah"]);
    expect(
      list({ filters: { consent: { channel: "whatsapp", status: "none" } } }).rows.length,
    ).toBe(50);
    expect(names(list({ filters: { country: "GB" } }))).toEqual(["Zoë Adams"]);
    expect(names(list({ q: "aa", filters: { country: "US" } }))).toEqual(["aaron miller"]);

    const page = list({ filters: { tagId: vip.id }, columns: ["tags", "lists"] });
    expect(page.rows[0]).toMatchObject({
      tags: [{ name: "VIP" }],
      lists: [{ name: "Newsletter" }],
    });
    expect(page.rows[1]).toMatchObject({ tags: [{ name: "VIP" }], lists: [] });
  });

  it("refuses a forged cursor or filter with a validation error", () => {
    expect(thrown(() => list({ after: "not-a-cursor!" }))).toBeInstanceOf(ValidationError);
    expect(thrown(() => list({ q: "a", after: "12" }))).toBeInstanceOf(ValidationError);
    expect(thrown(() => list({ filters: { country: "india" } }))).toBeInstanceOf(ValidationError);
    expect(thrown(() => list({ filters: { tagId: -3 } }))).toBeInstanceOf(ValidationError);
  });

  it("every search is an index range scan without a sort", () => {
    const plan = (q: string, filters = {}) => {
      const { mode, sources } = searchSources(q, "IN");
      return buildContactQueries(mode, sources, filters, {
        direction: "next",
        cursor: { key: "a", id: 1 },
        limit: 50,
      }).map((query) =>
        (
          search.db.$client.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params) as {
            detail: string;
          }[]
        )
          .map((r) => r.detail)
          .join(" | "),
      );
    };
    for (const detail of [...plan("aar"), ...plan("aar", { country: "IN", tagId: 1 })]) {
      expect(detail).toMatch(/SEARCH c USING INDEX contacts_(name_key_idx|email_unique)/);
      expect(detail).not.toMatch(/TEMP B-TREE/);
    }
    for (const detail of plan("98765")) {
      expect(detail).toMatch(/SEARCH c USING INDEX contacts_phone_unique/);
      expect(detail).not.toMatch(/TEMP B-TREE/);
    }
    expect(plan("a@b")[0]).toMatch(/SEARCH c USING INDEX contacts_email_unique/);
    const byTag = buildContactQueries(
      "all",
      [],
      { tagId: 1 },
      {
        direction: "next",
        cursor: null,
        limit: 50,
      },
    )[0]!;
    const tagPlan = (
      search.db.$client.prepare(`EXPLAIN QUERY PLAN ${byTag.sql}`).all(...byTag.params) as {
        detail: string;
      }[]
    ).map((r) => r.detail);
    expect(tagPlan.join(" | ")).toMatch(/SEARCH d USING COVERING INDEX contact_tags_tag_idx/);
    expect(tagPlan.join(" | ")).not.toMatch(/TEMP B-TREE/);
  });
});

describe("countContacts", () => {
  it("keeps the count until the file changes, from this connection or another", async () => {
    const counted = await workspaceContext("contacts-count");
    const total = () => counted.db.select().from(contacts).all().length;
    expect(countContacts(counted)).toBe(0);
    const a = createContact(counted, { email: "count-a@example.com" });
    expect(countContacts(counted)).toBe(1);
    // Another connection (an import worker, the CLI) commits: seen at once.
    const outside = new Database(tenantDbPath(counted.workspaceId));
    try {
      outside
        .prepare(
          "INSERT INTO contacts (email, name, name_key, attributes, created_at, updated_at) VALUES (?, '', '', '{}', 0, 0)",
        )
        .run("count-b@example.com");
    } finally {
      outside.close();
    }
    expect(countContacts(counted)).toBe(2);
    deleteContact(counted, a.id);
    expect(countContacts(counted)).toBe(1);
    // Inside a transaction that rolls back, nothing is kept.
    expect(() =>
      counted.db.transaction(() => {
        createContact(counted, { email: "count-c@example.com" });
        expect(countContacts(counted)).toBe(2);
        throw new Error("roll back");
      }),
    ).toThrow("roll back");
    expect(countContacts(counted)).toBe(1);
    expect(countContacts(counted)).toBe(total());
  });
});

describe("consent", () => {
  it("needs a source to grant, records every change, and lists the history", () => {
    const c = createContact(ctx, { email: "consent@example.com", phone: "98000 12345" });
    const noSource = thrown(() => setConsent(ctx, c.id, "email", "granted", "  "));
    expect((noSource as ValidationError).fieldErrors.source?.[0]).toMatch(/where this consent/);

    expect(setConsent(ctx, c.id, "email", "granted", "Signed up on website form")).toEqual({
      changed: true,
    });
    expect(setConsent(ctx, c.id, "email", "granted", "Signed up on website form")).toEqual({
      changed: false,
    });
    setConsent(ctx, c.id, "whatsapp", "granted", "Opted in at the shop counter");
    setConsent(ctx, c.id, "email", "withdrawn", "");

    const details = getContactDetails(ctx, c.id);
    expect(details.consents.find((s) => s.channel === "email")).toMatchObject({
      status: "withdrawn",
      source: "Withdrawn in the dashboard",
    });
    expect(details.consents.find((s) => s.channel === "whatsapp")).toMatchObject({
      status: "granted",
      source: "Opted in at the shop counter",
    });
    expect(details.consents.find((s) => s.channel === "sms")).toMatchObject({ status: null });

    const history = listContactTimeline(ctx, c.id)
      .events.filter((e) => e.type.startsWith("consent."))
      .map((e) => [e.type, e.channel, e.data.source]);
    expect(history).toEqual([
      ["consent.withdrawn", "email", "Withdrawn in the dashboard"],
      ["consent.granted", "whatsapp", "Opted in at the shop counter"],
      ["consent.granted", "email", "Signed up on website form"],
    ]);
    expect(auditFor(ctx.workspaceId, "contact.consent_changed").length).toBeGreaterThanOrEqual(3);
  });

  it("refuses channels the contact cannot be reached on, and bad channels or statuses", () => {
    const c = createContact(ctx, { email: "onlymail@example.com" });
    expect(thrown(() => setConsent(ctx, c.id, "sms", "granted", "Form")).message).toMatch(
      /no phone number/,
    );
    expect(thrown(() => setConsent(ctx, c.id, "fax", "granted", "Form"))).toBeInstanceOf(
      ValidationError,
    );
    expect(thrown(() => setConsent(ctx, c.id, "email", "maybe", "Form"))).toBeInstanceOf(
      ValidationError,
    );
    expect(thrown(() => setConsent(ctx, 999_999, "email", "granted", "Form"))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it("refuses to grant consent to a suppressed person, with the reason", () => {
    const c = createContact(ctx, { email: "unsub@example.com", phone: "97000 11111" });
    setConsent(ctx, c.id, "email", "granted", "Newsletter form");
    suppressContact(ctx, c, "unsubscribe", "email");
    expect(getContactDetails(ctx, c.id).consents.find((s) => s.channel === "email")).toMatchObject({
      status: "withdrawn",
      source: "Suppressed: unsubscribed",
    });
    const refused = thrown(() => setConsent(ctx, c.id, "email", "granted", "Asked again"));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused.message).toMatch(/suppression list.*unsubscribed/);
    // Other channels are not affected by an email unsubscribe.
    expect(setConsent(ctx, c.id, "sms", "granted", "Asked in store").changed).toBe(true);
  });
});

describe("tags and lists on a contact", () => {
  it("adds and removes, creating a tag by name, with timeline entries", () => {
    const c = createContact(ctx, { email: "tags@example.com" });
    const { groupId: tagId } = changeMembership(ctx, "tag", c.id, "add", {
      name: "  Trade  Fair ",
    });
    expect(changeMembership(ctx, "tag", c.id, "add", { name: "trade fair" })).toEqual({
      groupId: tagId,
      changed: false,
    });
    const fairList = createGroup(ctx, "list", "Fair 2030");
    changeMembership(ctx, "list", c.id, "add", { id: fairList.id });
    let details = getContactDetails(ctx, c.id);
    expect(details.tags).toEqual([{ id: tagId, name: "Trade Fair" }]);
    expect(details.lists).toMatchObject([{ id: fairList.id, name: "Fair 2030" }]);
    changeMembership(ctx, "tag", c.id, "remove", { id: tagId! });
    changeMembership(ctx, "list", c.id, "remove", { id: fairList.id });
    details = getContactDetails(ctx, c.id);
    expect(details.tags).toEqual([]);
    expect(details.lists).toEqual([]);
    expect(listContactTimeline(ctx, c.id).events.map((e) => e.type)).toEqual([
      "list.removed",
      "tag.removed",
      "list.added",
      "tag.added",
      "contact.created",
    ]);
    expect(
      thrown(() => changeMembership(ctx, "list", c.id, "add", { id: 999_999 })),
    ).toBeInstanceOf(ValidationError);
    expect(thrown(() => createGroup(ctx, "tag", "TRADE FAIR")).message).toMatch(/already a tag/);
  });
});

describe("delete and erasure", () => {
  it("delete removes the contact with its consents and timeline, audited", () => {
    const c = createContact(ctx, { email: "gone@example.com" });
    setConsent(ctx, c.id, "email", "granted", "Form");
    deleteContact(ctx, c.id);
    expect(thrown(() => getContact(ctx, c.id))).toBeInstanceOf(NotFoundError);
    expect(ctx.db.select().from(consents).where(eq(consents.contactId, c.id)).all()).toEqual([]);
    expect(
      ctx.db.select().from(contactEvents).where(eq(contactEvents.contactId, c.id)).all(),
    ).toEqual([]);
    expect(auditFor(ctx.workspaceId, "contact.deleted").map((a) => a.targetId)).toContain(
      String(c.id),
    );
  });

  const fileBytes = (workspaceId: string) => {
    const path = tenantDbPath(workspaceId);
    const parts = [readFileSync(path)];
    for (const suffix of ["-wal", "-journal"]) {
      try {
        parts.push(readFileSync(path + suffix));
      } catch {
        // not there
      }
    }
    return Buffer.concat(parts);
  };
  const traces = (bytes: Buffer, values: string[]) =>
    values.filter(
      (v) => bytes.includes(Buffer.from(v, "utf8")) || bytes.includes(Buffer.from(v, "utf16le")),
    );

  it("an erased person leaves no readable email, phone or name in the tenant file", () => {
    const erasure = other;
    const person = {
      name: "Quentin Erasmus-Vale",
      email: "quentin.erasmus.vale@erase-me.example",
      phone: "+91 93456 78123",
    };
    const personal = [
      "quentin.erasmus.vale@erase-me.example",
      "Quentin Erasmus-Vale",
      "quentin erasmus-vale",
      "+919345678123",
      "9345678123",
    ];
    // Neighbours so the contact shares pages with rows that stay.
    for (let i = 0; i < 200; i++) {
      createContact(erasure, { name: `Neighbour ${i}`, email: `n${i}@keep.example` });
    }
    createAttributeDefinition(erasure, { key: "note", label: "Note", type: "text" });
    const c = createContact(erasure, { ...person, attributes: { note: "Likes mangoes" } });
    setConsent(erasure, c.id, "email", "granted", "Website form");
    setConsent(erasure, c.id, "whatsapp", "granted", "Website form");
    changeMembership(erasure, "tag", c.id, "add", { name: "Erasable" });
    updateContact(erasure, c.id, { attributes: { note: "Likes mangoes a lot" } });
    expect(traces(fileBytes(erasure.workspaceId), personal).length).toBeGreaterThan(0);

    const result = suppressContact(erasure, c, "erasure", "all");
    expect(result.added).toBe(2);
    expect(result.withdrawn.sort()).toEqual(["email", "whatsapp"]);
    deleteContact(erasure, c.id);

    expect(traces(fileBytes(erasure.workspaceId), [...personal, "Likes mangoes"])).toEqual([]);
    // Yet they stay suppressed: a re-import or a new contact with the same address is caught.
    const key = suppressionKey(erasure.db);
    const email = "quentin.erasmus.vale@erase-me.example";
    expect(isSuppressed(erasure.db, key, { email }, "email")).toBe(true);
    expect(isSuppressed(erasure.db, key, { phone: "+919345678123" }, "sms")).toBe(true);
    expect(
      erasure.db
        .select()
        .from(suppressions)
        .all()
        .map((s) => s.reason),
    ).toEqual(["erasure", "erasure"]);
    // Neighbours are intact.
    expect(listContacts(erasure, { q: "neighbour", limit: 200 }).rows).toHaveLength(200);
  });

  it("eraseContact does both in one step", () => {
    const c = createContact(other, {
      name: "Ottilie Forgotten",
      email: "ottilie@forget.example",
      phone: "+1 415 555 2671",
    });
    eraseContact(other, c.id);
    expect(thrown(() => getContact(other, c.id))).toBeInstanceOf(NotFoundError);
    expect(
      traces(fileBytes(other.workspaceId), ["ottilie@forget.example", "+14155552671", "Ottilie"]),
    ).toEqual([]);
    const key = suppressionKey(other.db);
    expect(isSuppressed(other.db, key, { email: "ottilie@forget.example" }, "whatsapp")).toBe(true);
    const audit = auditFor(other.workspaceId, "contact.deleted").at(-1)!;
    expect(audit.targetId).toBe(String(c.id));
    expect(JSON.parse(audit.details!)).toEqual({ erased: true });
    expect(thrown(() => eraseContact(other, c.id))).toBeInstanceOf(NotFoundError);
  });

  it("keeps attribute definitions intact", () => {
    expect(listAttributeDefinitions(other).map((d) => d.key)).toEqual(["note"]);
    expect(
      other.db.select().from(contacts).where(eq(contacts.email, "ottilie@forget.example")).all(),
    ).toEqual([]);
  });
});
