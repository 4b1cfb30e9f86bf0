import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaigns, templates } from "~/db/schema/tenant";
import type { WorkspaceContext } from "~/domain/context";
import { saveIntegration } from "~/domain/delivery/integrations.server";
import { listMessages } from "~/domain/delivery/outbox.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { createWhatsAppFake, type WhatsAppFake } from "../fakes/whatsapp";
import {
  createVerifiedUser,
  createWorkspaceFor,
  signedIn,
  type Browser,
  type TestUser,
} from "../support/accounts";
import { insertContact } from "../support/contacts";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The template pages through the real server, posted as a browser without JavaScript posts
 * them: create one template per channel, errors next to the fields, preview as a contact, a
 * test send into the sandbox, delete with confirmation, WhatsApp sync against the Meta fake,
 * and a viewer who may look but not change.
 */

const slug = "template-pages";
const base = `/w/${slug}/templates`;
const NUMBER = { phoneNumberId: "1075559001", accessToken: "token-tpl", wabaId: "300900" };

let server: TestServer;
let fake: WhatsAppFake;
let owner: TestUser;
let viewerUser: TestUser;
let workspace: Workspace;
let ctx: WorkspaceContext;
let alice: Browser;
let viewer: Browser;
let ravi: number;

function templateNamed(name: string) {
  return ctx.db.select().from(templates).where(eq(templates.name, name)).get();
}

function idFromLocation(res: Response): number {
  const match = /\/templates\/(\d+)$/.exec(res.headers.get("location") ?? "");
  if (!match) throw new Error(`no template in ${res.headers.get("location")}`);
  return Number(match[1]);
}

const EMAIL_FORM = {
  intent: "save",
  channel: "email",
  name: "Diwali welcome",
  subject: 'Hello {{ first_name | default: "there" }}',
  preheader: "Our festive offers",
  trackLinks: "on",
  "blocks[0].type": "heading",
  "blocks[0].text": "Happy Diwali, {{ first_name }}",
  "blocks[0].level": "1",
  "blocks[1].type": "paragraph",
  "blocks[1].text": "Hi **{{ name }}**, 20% off everything.",
  "blocks[2].type": "button",
  "blocks[2].text": "Shop now",
  "blocks[2].url": "https://shop.example/diwali",
  "blocks[2].color": "#1d4ed8",
  "blocks[3].type": "divider",
};

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  await fake.start();
  const team = await makeTeam({
    owner: "Tara Owner",
    workspace: { slug, name: "Template Pages Co" },
    members: { viewer: { name: "Vik Viewer", role: "viewer" } },
  });
  ({ owner, workspace, ctx } = team);
  viewerUser = team.members.viewer;
  ravi = insertContact(ctx.db, { name: "Ravi Kumar", email: "ravi@example.com" });
  server = await startServer({
    env: { WHATSAPP_API_BASE_URL: fake.url, PROVIDER_TIMEOUT_MS: "3000" },
  });
  ({ alice, viewer } = await signInAll(server, { alice: owner, viewer: viewerUser }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await fake?.stop();
});

describe("template list", () => {
  it("starts empty, with a way to create the first template", async () => {
    const res = await alice.get(base);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain("No templates yet");
    expect(html).toContain(`href="${base}/new"`);
    // No WhatsApp account: nothing to sync, the sandbox reviews WhatsApp templates.
    expect(html).not.toContain("Sync WhatsApp templates");
    expect(html).toContain("WhatsApp is in the sandbox");

    const chooser = await textOf(await alice.get(`${base}/new`));
    for (const channel of ["email", "whatsapp", "sms", "telegram"]) {
      expect(chooser).toContain(`href="${base}/new?channel=${channel}"`);
    }
    const editor = await textOf(await alice.get(`${base}/new?channel=email`));
    expect(editor).toContain("New Email template");
    expect(editor).toContain("{{ first_name }}"); // the variables list
  });
});

describe("creating templates through the form", () => {
  it("creates an email template from blocks", async () => {
    const res = await alice.post(`${base}/new?channel=email`, EMAIL_FORM);
    expect(res.status).toBe(302);
    const id = idFromLocation(res);
    const row = templateNamed("Diwali welcome")!;
    expect(row.id).toBe(id);
    expect(row.channel).toBe("email");
    const content = JSON.parse(row.content) as Record<string, unknown>;
    expect(content).toMatchObject({
      subject: EMAIL_FORM.subject,
      preheader: "Our festive offers",
      trackLinks: true,
    });
    expect(content.blocks).toEqual([
      { type: "heading", text: "Happy Diwali, {{ first_name }}", level: 1 },
      { type: "paragraph", text: "Hi **{{ name }}**, 20% off everything." },
      { type: "button", text: "Shop now", url: "https://shop.example/diwali", color: "#1d4ed8" },
      { type: "divider" },
    ]);
    expect(JSON.parse(row.variables)).toEqual(["first_name", "name"]);

    // The page shows the saved values back in the editor.
    const page = await textOf(await alice.get(`${base}/${id}`));
    expect(page).toContain('value="Diwali welcome"');
    expect(page).toContain('name="blocks[2].url"');
    expect(page).toContain('value="https://shop.example/diwali"');

    // Unticking link tracking is saved as such.
    const untracked = await alice.post(`${base}/${id}`, {
      ...Object.fromEntries(Object.entries(EMAIL_FORM).filter(([k]) => k !== "trackLinks")),
    });
    expect(untracked.status).toBe(302);
    expect(JSON.parse(templateNamed("Diwali welcome")!.content).trackLinks).toBe(false);
  });

  it("creates SMS and Telegram templates", async () => {
    const sms = await alice.post(`${base}/new?channel=sms`, {
      intent: "save",
      channel: "sms",
      name: "Flash sale SMS",
      text: "Hi {{ first_name }}, flash sale today. -Shop",
      dltTemplateId: "1107161234567890123",
      dltText: "Hi {#var#}, flash sale today. -Shop",
    });
    expect(sms.status).toBe(302);
    expect(JSON.parse(templateNamed("Flash sale SMS")!.content)).toEqual({
      text: "Hi {{ first_name }}, flash sale today. -Shop",
      dltTemplateId: "1107161234567890123",
      dltText: "Hi {#var#}, flash sale today. -Shop",
    });

    const tg = await alice.post(`${base}/new?channel=telegram`, {
      intent: "save",
      channel: "telegram",
      name: "Telegram news",
      text: "<b>News</b> for {{ name }}",
      "buttons[0].text": "Read more",
      "buttons[0].url": "https://shop.example/news",
    });
    expect(tg.status).toBe(302);
    expect(JSON.parse(templateNamed("Telegram news")!.content)).toEqual({
      text: "<b>News</b> for {{ name }}",
      buttons: [{ text: "Read more", url: "https://shop.example/news" }],
    });
  });

  it("refuses a DLT text that does not match, with the reason next to the field", async () => {
    const res = await alice.post(`${base}/new?channel=sms`, {
      intent: "save",
      channel: "sms",
      name: "Mismatch",
      text: "Hello {{ first_name }}, sale!",
      dltTemplateId: "1107161234567890123",
      dltText: "Hi {#var#}, flash sale today.",
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Does not match the registered DLT text.");
    expect(templateNamed("Mismatch")).toBeUndefined();
  });

  it("refuses an unknown variable at save, next to the field, and saves nothing", async () => {
    const res = await alice.post(`${base}/new?channel=email`, {
      ...EMAIL_FORM,
      name: "Broken one",
      subject: "Hi {{ favourite_colour }}",
    });
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain("{{ favourite_colour }} is not a contact field or custom attribute.");
    // The error sits with the subject field, and what was typed is kept.
    expect(html).toMatch(
      /aria-describedby="[^"]*-error"[^>]*value="Hi \{\{ favourite_colour \}\}"|value="Hi \{\{ favourite_colour \}\}"[^>]*aria-invalid="true"/,
    );
    expect(templateNamed("Broken one")).toBeUndefined();
  });

  it("shows a duplicate name as a field error", async () => {
    const res = await alice.post(`${base}/new?channel=email`, EMAIL_FORM);
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain(
      "There is already a Email template called “Diwali welcome”",
    );
  });
});

describe("preview and test send", () => {
  it("previews with a chosen contact", async () => {
    const id = templateNamed("Diwali welcome")!.id;
    const sample = await textOf(await alice.get(`${base}/${id}`));
    expect(sample).toContain("Hello Priya");
    const res = await alice.get(`${base}/${id}?previewContact=${ravi}`);
    expect(res.status).toBe(200);
    const html = await textOf(res);
    expect(html).toContain("Hello Ravi");
    expect(html).toContain("Ravi Kumar · ravi@example.com");
    expect(html).toContain('sandbox=""');
    // The contact search finds them for the picker.
    const found = await textOf(await alice.get(`${base}/${id}?contactQ=ravi`));
    expect(found).toContain(`<option value="${ravi}">Ravi Kumar · ravi@example.com</option>`);
    // A contact that does not exist falls back to the sample contact (no 500).
    expect((await alice.get(`${base}/${id}?previewContact=999999`)).status).toBe(200);
  });

  it("sends a test to the signed-in user's own address, into the sandbox", async () => {
    const id = templateNamed("Diwali welcome")!.id;
    const res = await alice.post(`${base}/${id}`, {
      intent: "test",
      previewContact: String(ravi),
    });
    expect(res.status).toBe(302);
    const [message] = listMessages(ctx, { limit: 5 }).rows;
    expect(message).toMatchObject({
      channel: "email",
      recipient: owner.email,
      integrationId: null,
      kind: "service",
    });
    expect(message!.content).toMatchObject({ subject: "[Test] Hello Ravi" });
    const messages = await textOf(await alice.get(`/w/${slug}/messages?sandbox=1`));
    expect(messages).toContain(owner.email);
  });

  it("asks for a valid phone number for an SMS test", async () => {
    const id = templateNamed("Flash sale SMS")!.id;
    const before = listMessages(ctx, { limit: 50 }).rows.length;
    const bad = await alice.post(`${base}/${id}`, { intent: "test", phone: "not a phone" });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("is not a phone number");
    expect(listMessages(ctx, { limit: 50 }).rows.length).toBe(before);
    const good = await alice.post(`${base}/${id}`, { intent: "test", phone: "+91 98765 43210" });
    expect(good.status).toBe(302);
    expect(listMessages(ctx, { limit: 1 }).rows[0]).toMatchObject({
      channel: "sms",
      recipient: "+919876543210",
    });
  });

  it("explains how to link Telegram when nobody has", async () => {
    const id = templateNamed("Telegram news")!.id;
    const page = await textOf(await alice.get(`${base}/${id}`));
    expect(page).toContain("Nobody has linked the Telegram bot yet");
    const res = await alice.post(`${base}/${id}`, { intent: "test" });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("press Start in Telegram");
  });
});

describe("deleting", () => {
  it("needs a confirmation, refuses while a campaign uses it, then removes it", async () => {
    const id = templateNamed("Telegram news")!.id;
    const page = await textOf(await alice.get(`${base}?delete=${id}`));
    expect(page).toContain("Delete “Telegram news”?");

    const unconfirmed = await alice.post(base, { intent: "delete", templateId: String(id) });
    expect(unconfirmed.status).toBe(400);
    expect(templateNamed("Telegram news")).toBeDefined();

    const now = new Date();
    const campaignId = ctx.db
      .insert(campaigns)
      .values({
        name: "Weekend blast",
        channel: "telegram",
        status: "scheduled",
        audience: JSON.stringify({ type: "list", id: 1 }),
        variants: JSON.stringify([{ key: "A", templateId: id }]),
        schedule: JSON.stringify({ type: "now" }),
        createdAt: now,
        updatedAt: now,
      })
      .returning({ id: campaigns.id })
      .get().id;
    const inUse = await alice.post(base, {
      intent: "delete",
      templateId: String(id),
      confirm: "yes",
    });
    expect(inUse.status).toBe(409);
    expect(await textOf(inUse)).toContain("is used by the campaign “Weekend blast”");
    expect(templateNamed("Telegram news")).toBeDefined();
    ctx.db.delete(campaigns).where(eq(campaigns.id, campaignId)).run();

    const confirmed = await alice.post(base, {
      intent: "delete",
      templateId: String(id),
      confirm: "yes",
    });
    expect(confirmed.status).toBe(302);
    expect(templateNamed("Telegram news")).toBeUndefined();
    expect((await alice.get(`${base}/${id}`)).status).toBe(404);
    expect(
      (await alice.post(base, { intent: "delete", templateId: "x", confirm: "yes" })).status,
    ).toBe(404);
  });
});

describe("WhatsApp", () => {
  it("without a connected account, submits to the sandbox's review, seen by this workspace only", async () => {
    const list = await textOf(await alice.get(`${base}?channel=whatsapp`));
    expect(list).toContain("WhatsApp is in the sandbox");
    expect(list).not.toContain("Sync WhatsApp templates");

    const res = await alice.post(`${base}/new?channel=whatsapp`, {
      intent: "submit",
      channel: "whatsapp",
      name: "sandbox_cakes",
      language: "en",
      category: "MARKETING",
      headerFormat: "IMAGE",
      headerMediaUrl: "https://cafe.example/cakes.jpg",
      bodyText: "Hi {{1}}, cakes are 20% off.",
      "examples[0]": "Asha",
      "buttons[0].type": "QUICK_REPLY",
      "buttons[0].text": "Book a table",
    });
    expect(res.status).toBe(302);
    const id = idFromLocation(res);
    const page = await textOf(await alice.get(`${base}/${id}`));
    expect(page).toContain("Pending review");
    expect(page).toContain("Sandbox");
    expect(page).toContain("As the sandbox has it");
    expect(page).toContain('aria-label="Image header: cakes.jpg"');
    expect(page).toContain("Book a table");

    // A bad media link is refused next to its field, with what was typed kept.
    const bad = await alice.post(`${base}/new?channel=whatsapp`, {
      intent: "submit",
      channel: "whatsapp",
      name: "bad_media",
      language: "en",
      category: "MARKETING",
      headerFormat: "VIDEO",
      headerMediaUrl: "http://cafe.example/clip.mp4",
      bodyText: "Hello there.",
    });
    expect(bad.status).toBe(400);
    const badPage = await textOf(bad);
    expect(badPage).toContain("Give the video's full web address, starting with https://.");
    expect(badPage).toContain('value="http://cafe.example/clip.mp4"');

    // Another workspace's member cannot see it, under either workspace's address.
    const other = await createVerifiedUser({ name: "Omar Other" });
    createWorkspaceFor(other, { slug: "template-pages-other", name: "Other Co" });
    const omar = await signedIn(server, other);
    expect((await omar.get(`/w/template-pages-other/templates/${id}`)).status).toBe(404);
    expect([403, 404]).toContain((await omar.get(`${base}/${id}`)).status);
  });

  it("syncs templates from Meta with their status and rejection reason", async () => {
    saveIntegration(ctx, workspace.id, "whatsapp", {
      ...NUMBER,
      appSecret: "app-secret",
      verifyToken: "verify-me",
      ratePerSecond: 20,
    });
    fake.addTemplate({
      name: "order_update",
      language: "en",
      category: "UTILITY",
      status: "APPROVED",
      components: [{ type: "BODY", text: "Hi {{1}}, your order {{2}} is on its way." }],
      wabaId: NUMBER.wabaId,
    });
    fake.addTemplate({
      name: "festive_blast",
      language: "hi",
      category: "MARKETING",
      status: "REJECTED",
      rejectedReason: "TAG_CONTENT_MISMATCH",
      components: [{ type: "BODY", text: "Namaste!" }],
      wabaId: NUMBER.wabaId,
    });
    const res = await alice.post(base, { intent: "sync" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${base}?channel=whatsapp`);
    const list = await textOf(await alice.get(`${base}?channel=whatsapp`));
    expect(list).toContain("order_update");
    expect(list).toContain("Approved");
    expect(list).toContain("festive_blast");
    expect(list).toContain("Rejected");
    expect(list).toContain("TAG_CONTENT_MISMATCH");
    expect(list).not.toContain("Diwali welcome"); // filtered by channel

    // Meta changes its mind: the next sync picks it up.
    fake.setTemplateStatus("order_update", "en", "PAUSED");
    expect((await alice.post(base, { intent: "sync" })).status).toBe(302);
    expect(templateNamed("order_update")!.status).toBe("paused");
    fake.setTemplateStatus("order_update", "en", "APPROVED");
    expect((await alice.post(base, { intent: "sync" })).status).toBe(302);
    expect(templateNamed("order_update")!.status).toBe("approved");
  });

  it("shows an approved template and maps its variables to contact fields", async () => {
    const id = templateNamed("order_update")!.id;
    const page = await textOf(await alice.get(`${base}/${id}`));
    expect(page).toContain("Can start conversations.");
    expect(page).toContain("Hi {{1}}, your order {{2}} is on its way.");
    expect(page).toContain('name="variableMap.1"');

    const bad = await alice.post(`${base}/${id}`, { intent: "map", "variableMap.1": "shoe_size" });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("“shoe_size” is not a contact field");

    const res = await alice.post(`${base}/${id}`, {
      intent: "map",
      "variableMap.1": "first_name",
      "variableMap.2": "",
    });
    expect(res.status).toBe(302);
    expect(JSON.parse(templateNamed("order_update")!.content).variableMap).toEqual({
      "1": "first_name",
    });
    const preview = await textOf(await alice.get(`${base}/${id}?previewContact=${ravi}`));
    expect(preview).toContain("Hi Ravi, your order {{2}} is on its way.");

    const rejected = templateNamed("festive_blast")!.id;
    const rejectedPage = await textOf(await alice.get(`${base}/${rejected}`));
    // One status, with its reason beside it.
    expect(rejectedPage).toContain(
      '<span class="badge badge-danger">Rejected</span><span>Reason: TAG_CONTENT_MISMATCH</span>',
    );
    expect(rejectedPage).toContain("Cannot be sent.");
  });

  it("submits a new template to Meta for approval", async () => {
    const res = await alice.post(`${base}/new?channel=whatsapp`, {
      intent: "submit",
      channel: "whatsapp",
      name: "back_in_stock",
      language: "en",
      category: "MARKETING",
      bodyText: "Hi {{1}}, your favourite item is back in stock.",
      footerText: "Reply STOP to opt out",
      "examples[0]": "Asha",
      "variableMap.1": "first_name",
      "buttons[0].type": "URL",
      "buttons[0].text": "Shop now",
      "buttons[0].url": "https://shop.example/stock",
    });
    expect(res.status).toBe(302);
    const row = and(eq(templates.name, "back_in_stock"), eq(templates.channel, "whatsapp"));
    const stored = ctx.db.select().from(templates).where(row).get()!;
    expect(stored.status).toBe("pending");
    expect(JSON.parse(stored.content).variableMap).toEqual({ "1": "first_name" });
    const submitted = fake.requests.filter(
      (r) => r.method === "POST" && r.path.endsWith("/message_templates"),
    );
    expect(submitted).toHaveLength(1);

    const missingSample = await alice.post(`${base}/new?channel=whatsapp`, {
      intent: "submit",
      channel: "whatsapp",
      name: "no_sample",
      language: "en",
      category: "MARKETING",
      bodyText: "Hi {{1}}, welcome back to the shop.",
    });
    expect(missingSample.status).toBe(400);
    expect(await textOf(missingSample)).toContain("Give one sample value for each variable");
    expect(templateNamed("no_sample")).toBeUndefined();
  });
});

describe("a viewer", () => {
  it("can look but not create, save, delete, sync or send tests", async () => {
    const id = templateNamed("Diwali welcome")!.id;
    const before = templateNamed("Diwali welcome")!;
    const page = await textOf(await viewer.get(`${base}/${id}`));
    expect(page).toContain("Diwali welcome");
    expect(page).not.toContain("Save changes");
    expect(page).not.toContain("Send a test to yourself");

    expect((await viewer.get(`${base}/new`)).status).toBe(403);
    const created = await viewer.post(`${base}/new?channel=email`, {
      ...EMAIL_FORM,
      name: "Viewer made this",
    });
    expect([403, 404]).toContain(created.status);
    expect(templateNamed("Viewer made this")).toBeUndefined();

    const saved = await viewer.post(`${base}/${id}`, { ...EMAIL_FORM, name: "Renamed by viewer" });
    expect([403, 404]).toContain(saved.status);
    expect(templateNamed("Diwali welcome")).toEqual(before);

    const deleted = await viewer.post(base, {
      intent: "delete",
      templateId: String(id),
      confirm: "yes",
    });
    expect([403, 404]).toContain(deleted.status);
    expect(templateNamed("Diwali welcome")).toBeDefined();

    expect([403, 404]).toContain((await viewer.post(base, { intent: "sync" })).status);
    const tests = listMessages(ctx, { limit: 100 }).rows.length;
    expect([403, 404]).toContain((await viewer.post(`${base}/${id}`, { intent: "test" })).status);
    expect(listMessages(ctx, { limit: 100 }).rows.length).toBe(tests);
  });
});
