import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { integrations } from "~/db/schema/control";
import { telegramLinks } from "~/db/schema/tenant";
import type { WorkspaceContext } from "~/domain/context";
import { listIntegrations } from "~/domain/delivery/integrations.server";
import { listMessages, queueMessages } from "~/domain/delivery/outbox.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import type { Browser, TestUser } from "../support/accounts";
import { giveConsent, insertContact } from "../support/contacts";
import { createTelegramFake, type TelegramFake } from "../fakes/telegram";
import { createWhatsAppFake, type WhatsAppFake } from "../fakes/whatsapp";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { makeTeam, signInAll, startServer } from "../support/teams";

/**
 * The delivery pages through the real server, as a browser without JavaScript uses them:
 * Settings → Channels (connect, edit with kept secrets, disconnect, Telegram links), sending a
 * message from a contact's page, the message history and one message.
 */

const slug = "delivery-pages";
const otherSlug = "delivery-pages-other";
const channelsPage = `/w/${slug}/settings/channels`;
const ACCESS_TOKEN = "EAAG-test-access-token-7c1d";
const APP_SECRET = "app-secret-for-tests-9f2e";
const VERIFY_TOKEN = "verify-me-please-4b8a";
const BOT_TOKEN = "123456789:AAFakeTelegramBotTokenForTests_xyz";

let server: TestServer;
let whatsappFake: WhatsAppFake;
let telegramFake: TelegramFake;
let owner: TestUser;
let viewerUser: TestUser;
let workspace: Workspace;
let ctx: WorkspaceContext;
let otherCtx: WorkspaceContext;
let alice: Browser;
let viewer: Browser;

const WHATSAPP = {
  intent: "save",
  provider: "whatsapp",
  phoneNumberId: "106540352242922",
  wabaId: "102290129340398",
  accessToken: ACCESS_TOKEN,
  appSecret: APP_SECRET,
  verifyToken: VERIFY_TOKEN,
  messagingTier: "TIER_1K",
  ratePerSecond: "",
};

beforeAll(async () => {
  const team = await makeTeam({
    owner: "Dev Owner",
    workspace: { slug, name: "Delivery Pages Co" },
    members: { viewer: { name: "Vani Viewer", role: "viewer" } },
  });
  ({ owner, workspace, ctx } = team);
  viewerUser = team.members.viewer;
  const them = await makeTeam({
    owner: "Omar Outsider",
    workspace: { slug: otherSlug, name: "Other Secret Shop" },
  });
  otherCtx = them.ctx;
  // Saving a channel checks it with the provider: these fakes answer for Meta and Telegram.
  whatsappFake = createWhatsAppFake({
    numbers: [
      { phoneNumberId: WHATSAPP.phoneNumberId, wabaId: WHATSAPP.wabaId, accessToken: ACCESS_TOKEN },
    ],
  });
  await whatsappFake.start();
  telegramFake = createTelegramFake();
  await telegramFake.start();
  server = await startServer({
    env: {
      WHATSAPP_API_BASE_URL: whatsappFake.url,
      TELEGRAM_API_BASE_URL: telegramFake.url,
      PROVIDER_TIMEOUT_MS: "3000",
    },
  });
  ({ alice, viewer } = await signInAll(server, { alice: owner, viewer: viewerUser }));
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await whatsappFake?.stop();
  await telegramFake?.stop();
});

describe("Settings → Channels", () => {
  it("shows every channel in the sandbox to begin with, and only to managers", async () => {
    const res = await alice.get(channelsPage);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    for (const label of ["Email", "WhatsApp", "SMS", "Telegram"]) {
      expect(html).toContain(`${label} runs in the <strong>sandbox</strong>`);
    }
    expect(html).toContain(`href="/w/${slug}/messages?sandbox=1"`);
    // Email offers a provider choice; SES fields by default, SMTP on request.
    expect(html).toContain("Amazon SES");
    expect(html).toContain("SMTP server");
    expect(html).toContain('name="secretAccessKey"');
    const smtp = await textOf(await alice.get(`${channelsPage}?email=email-smtp`));
    expect(smtp).toContain('name="host"');
    expect(smtp).not.toContain('name="secretAccessKey"');

    expect((await viewer.get(channelsPage)).status).toBe(403);
    expect((await viewer.post(channelsPage, WHATSAPP)).status).toBe(403);
  });

  it("shows errors next to the fields and never sends credentials back", async () => {
    const res = await alice.post(channelsPage, { ...WHATSAPP, phoneNumberId: "not-a-number" });
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain("Phone number ID is a number.");
    expect(html).toContain('value="not-a-number"');
    for (const secret of [ACCESS_TOKEN, APP_SECRET]) {
      expect(html).not.toContain(secret);
    }
    expect(listIntegrations(workspace.id)).toHaveLength(0);
  });

  it("connects WhatsApp, shows masked secrets and the webhook URL, keeps blank secrets on edit", async () => {
    const res = await alice.post(channelsPage, WHATSAPP);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(channelsPage);
    const [saved] = listIntegrations(workspace.id);
    expect(saved).toMatchObject({ channel: "whatsapp", provider: "whatsapp", ratePerSecond: 80 });

    const html = await textOf(await alice.get(channelsPage));
    expect(html).toContain("Set up with <strong>WhatsApp Cloud API (Meta)</strong>");
    expect(html).toContain("••••7c1d");
    for (const secret of [ACCESS_TOKEN, APP_SECRET]) {
      expect(html).not.toContain(secret);
    }
    // The verify token is shown to copy into Meta's webhook settings.
    expect(html).toMatch(new RegExp(`<input[^>]*readonly=""[^>]*value="${VERIFY_TOKEN}"`));
    expect(html).toContain(`/webhooks/whatsapp/${saved!.id}`);
    expect(html).toMatch(/<input[^>]*readonly=""[^>]*value="[^"]*\/webhooks\/whatsapp\//);
    // Saving ran the connection check against the Meta fake.
    expect(html).toContain("The connection works");
    expect(html).toContain("Test connection");
    // The other channels are still in the sandbox.
    expect(html).toContain("SMS runs in the <strong>sandbox</strong>");

    // Edit: the form starts with the non-secret values and says blank keeps a secret.
    const edit = await textOf(await alice.get(`${channelsPage}?edit=whatsapp`));
    expect(edit).toContain('value="106540352242922"');
    expect(edit).toContain("Leave blank to keep the current value (••••7c1d)");
    expect(edit).not.toContain(ACCESS_TOKEN);
    const again = await alice.post(`${channelsPage}?edit=whatsapp`, {
      ...WHATSAPP,
      accessToken: "",
      appSecret: "",
      ratePerSecond: "40",
    });
    expect(again.status).toBe(302);
    const [edited] = listIntegrations(workspace.id);
    expect(edited!.id).toBe(saved!.id);
    expect(edited!.ratePerSecond).toBe(40);
    expect(edited!.fields.accessToken).toBe("••••7c1d");
    expect(edited!.fields.appSecret).toBe("••••9f2e");
  });

  it("disconnects only after a confirmation", async () => {
    const [saved] = listIntegrations(workspace.id);
    const confirm = await textOf(await alice.get(`${channelsPage}?disconnect=${saved!.id}`));
    expect(confirm).toContain("Disconnect WhatsApp?");
    expect(listIntegrations(workspace.id)).toHaveLength(1);
    // Another workspace's integration id is not found here.
    const res = await alice.post(channelsPage, {
      intent: "disconnect",
      integrationId: "int_0000000000000000",
    });
    expect(res.status).toBe(404);
    const done = await alice.post(channelsPage, { intent: "disconnect", integrationId: saved!.id });
    expect(done.status).toBe(302);
    expect(listIntegrations(workspace.id)).toHaveLength(0);
    expect(await textOf(await alice.get(channelsPage))).toContain(
      "WhatsApp runs in the <strong>sandbox</strong>",
    );
  });

  it("Telegram: the workspace link appears once the bot's name is known", async () => {
    const res = await alice.post(channelsPage, {
      intent: "save",
      provider: "telegram",
      botToken: BOT_TOKEN,
    });
    expect(res.status).toBe(302);
    let html = await textOf(await alice.get(channelsPage));
    expect(html).toContain("Test the connection to get the bot's link.");
    expect(html).not.toContain(BOT_TOKEN);
    expect(ctx.db.select().from(telegramLinks).all()).toHaveLength(0);

    // What Test connection learns from Telegram's getMe.
    getControlDb()
      .update(integrations)
      .set({ details: JSON.stringify({ botUsername: "chai_co_bot" }) })
      .where(and(eq(integrations.workspaceId, workspace.id), eq(integrations.channel, "telegram")))
      .run();
    html = await textOf(await alice.get(channelsPage));
    const link = /https:\/\/t\.me\/chai_co_bot\?start=([A-Za-z0-9_-]{24})/.exec(html);
    expect(link).not.toBeNull();
    const rows = ctx.db.select().from(telegramLinks).where(isNull(telegramLinks.contactId)).all();
    expect(rows.map((r) => r.token)).toEqual([link![1]]);
    // The same link every time.
    expect(await textOf(await alice.get(channelsPage))).toContain(link![0]);

    // A contact's own link, from their page.
    const contactId = insertContact(ctx.db, { name: "Tara Telegram", email: "tara@example.com" });
    const contactPage = `/w/${slug}/contacts/${contactId}`;
    expect(await textOf(await alice.get(contactPage))).toContain("Telegram link for this contact");
    const made = await alice.post(contactPage, { intent: "telegram-link" });
    expect(made.status).toBe(200);
    const own = /https:\/\/t\.me\/chai_co_bot\?start=([A-Za-z0-9_-]{24})/.exec(await textOf(made));
    expect(own).not.toBeNull();
    expect(own![1]).not.toBe(link![1]);
    const ownRow = ctx.db
      .select()
      .from(telegramLinks)
      .where(eq(telegramLinks.token, own![1]!))
      .get();
    expect(ownRow?.contactId).toBe(contactId);
    expect((await viewer.post(contactPage, { intent: "telegram-link" })).status).toBe(403);

    const id = listIntegrations(workspace.id)[0]!.id;
    expect(
      (await alice.post(channelsPage, { intent: "disconnect", integrationId: id })).status,
    ).toBe(302);
  });
});

describe("sending from a contact's page", () => {
  let contactId: number;
  let contactPage: string;

  beforeAll(() => {
    contactId = insertContact(ctx.db, {
      name: "Sana Sandbox",
      email: "sana@example.com",
      phone: "+919876543210",
    });
    contactPage = `/w/${slug}/contacts/${contactId}`;
  });

  it("offers only the channels the contact has an address on", async () => {
    const html = await textOf(await alice.get(contactPage));
    expect(html).toContain("Send a message");
    const select = /<select id="send-channel"[^>]*>(.*?)<\/select>/.exec(html)![1]!;
    const options = [...select.matchAll(/<option value="([a-z]+)"[^>]*>([^<]*)<\/option>/g)];
    expect(options.map((o) => [o[1], o[2]])).toEqual([
      ["email", "Email (sandbox)"],
      ["whatsapp", "WhatsApp (sandbox)"],
      ["sms", "SMS (sandbox)"],
    ]);
    // A viewer sees the history but cannot send.
    const asViewer = await textOf(await viewer.get(contactPage));
    expect(asViewer).not.toContain("Send a message");
    expect(asViewer).toContain("messages-heading");
  });

  it("queues an SMS in the sandbox and shows it in the history and on its page", async () => {
    const res = await alice.post(contactPage, {
      intent: "send",
      channel: "sms",
      smsText: "Your order #42 is ready for pickup.",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(contactPage);
    const { rows } = listMessages(ctx, { contactId });
    expect(rows).toHaveLength(1);
    const message = rows[0]!;
    expect(message).toMatchObject({
      channel: "sms",
      kind: "service",
      integrationId: null,
      recipient: "+919876543210",
      content: { channel: "sms", text: "Your order #42 is ready for pickup." },
    });

    const flashPage = await textOf(
      await alice.get(contactPage, {
        cookie: `${alice.cookie}; ${res.headers
          .getSetCookie()
          .map((c) => c.split(";")[0])
          .join("; ")}`,
      }),
    );
    expect(flashPage).toContain("SMS message queued in the sandbox");
    expect(flashPage).toContain(`/w/${slug}/messages/${message.id}`);

    const history = await textOf(await alice.get(`/w/${slug}/messages`));
    expect(history).toContain("<h1>Messages</h1>");
    expect(history).toContain("Your order #42 is ready for pickup.");
    expect(history).toContain(">sandbox<");
    const sandboxOnly = await textOf(await alice.get(`/w/${slug}/messages?sandbox=1`));
    expect(sandboxOnly).toContain("<h1>Sandbox messages</h1>");
    expect(sandboxOnly).toContain("Nothing here left Pleisys Engage");

    const page = await alice.get(`/w/${slug}/messages/${message.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(page);
    expect(html).toContain("Sandbox: not sent to anyone");
    expect(html).toContain("Your order #42 is ready for pickup.");
    expect(html).toContain("Created");
  });

  it("builds the exact WhatsApp payload Meta would get for a template", async () => {
    const res = await alice.post(contactPage, {
      intent: "send",
      channel: "whatsapp",
      whatsappType: "template",
      whatsappTemplate: "order_update",
      whatsappLanguage: "en_US",
      whatsappParams: "Sana\r\n\r\n#42\r\n",
    });
    expect(res.status).toBe(302);
    const message = listMessages(ctx, { contactId }).rows[0]!;
    expect(message.content).toEqual({
      channel: "whatsapp",
      type: "template",
      name: "order_update",
      language: "en_US",
      bodyParams: ["Sana", "#42"],
    });
    const html = await textOf(await alice.get(`/w/${slug}/messages/${message.id}`));
    const json = /<pre class="message-preview">([^<]*)<\/pre>/.exec(html)?.[1];
    expect(JSON.parse(json!)).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "919876543210",
      type: "template",
      template: {
        name: "order_update",
        language: { code: "en_US" },
        components: [
          {
            type: "body",
            parameters: [
              { type: "text", text: "Sana" },
              { type: "text", text: "#42" },
            ],
          },
        ],
      },
    });
  });

  it("sends an email with the text escaped into HTML", async () => {
    const res = await alice.post(contactPage, {
      intent: "send",
      channel: "email",
      emailSubject: "About your order",
      emailBody: "Hi <Sana>,\nit ships today & arrives soon.",
    });
    expect(res.status).toBe(302);
    const message = listMessages(ctx, { contactId }).rows[0]!;
    expect(message.content).toMatchObject({
      channel: "email",
      subject: "About your order",
      text: "Hi <Sana>,\nit ships today & arrives soon.",
      html: "Hi &lt;Sana&gt;,<br>\nit ships today &amp; arrives soon.",
    });
    const page = await alice.get(`/w/${slug}/messages/${message.id}`);
    const raw = await page.text();
    const iframe = /<iframe[^>]*>/.exec(raw)![0];
    expect(iframe).toContain('sandbox=""');
    expect(iframe).toContain("srcDoc=");
    // A service email carries no List-Unsubscribe.
    expect(raw).not.toContain("List-Unsubscribe");
  });

  it("shows field errors and refuses people who may not send", async () => {
    const res = await alice.post(contactPage, {
      intent: "send",
      channel: "email",
      emailSubject: "",
      emailBody: "Body",
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Write the subject.");
    const bad = await alice.post(contactPage, {
      intent: "send",
      channel: "whatsapp",
      whatsappType: "template",
      whatsappTemplate: "Not A Name",
    });
    expect(bad.status).toBe(400);
    expect(await textOf(bad)).toContain("lower-case letters, digits");
    const before = listMessages(ctx, { contactId }).rows.length;
    const denied = await viewer.post(contactPage, {
      intent: "send",
      channel: "sms",
      smsText: "From a viewer",
    });
    expect(denied.status).toBe(403);
    expect(listMessages(ctx, { contactId }).rows).toHaveLength(before);
  });

  it("says why a message was not sent", async () => {
    const suppressed = insertContact(ctx.db, { name: "No Phone", email: "nophone@example.com" });
    const res = await alice.post(`/w/${slug}/contacts/${suppressed}`, {
      intent: "send",
      channel: "sms",
      smsText: "Hello",
    });
    expect(res.status).toBe(302);
    const message = listMessages(ctx, { contactId: suppressed }).rows[0]!;
    expect(message.status).toBe("skipped");
    const html = await textOf(await alice.get(`/w/${slug}/messages/${message.id}`));
    expect(html).toContain("No phone number");
    expect(html).toContain("Not sent");
  });
});

describe("message history", () => {
  it("pages with Older → and shows marketing emails' unsubscribe headers", async () => {
    const contactId = insertContact(ctx.db, { name: "Many", email: "many@example.com" });
    giveConsent(ctx.db, contactId, "email", "granted");
    const summary = queueMessages(
      ctx,
      Array.from({ length: 55 }, (_, i) => ({
        contactId,
        channel: "email" as const,
        kind: "marketing" as const,
        content: {
          channel: "email" as const,
          subject: `Newsletter ${i}`,
          html: "<p>News</p>",
          text: "News",
        },
      })),
    );
    expect(summary.queued).toBe(55);
    const first = await textOf(await alice.get(`/w/${slug}/messages`));
    const anchor = /<a [^>]*rel="next"[^>]*>/.exec(first)?.[0] ?? "";
    const older = /href="([^"]+)"/.exec(anchor)?.[1];
    expect(older).toMatch(/^\/w\/delivery-pages\/messages\?before=/);
    const second = await textOf(await alice.get(older!));
    expect(second).toContain("Newest");
    const shown = (html: string) => html.split("<tbody>")[1]!.split("</tbody>")[0]!;
    // No message on both pages.
    for (const id of summary.ids) {
      const href = `/w/${slug}/messages/${id}"`;
      expect(shown(first).includes(href) && shown(second).includes(href)).toBe(false);
    }

    const page = await textOf(await alice.get(`/w/${slug}/messages/${summary.ids[0]}`));
    expect(page).toContain("List-Unsubscribe");
    expect(page).toContain("List-Unsubscribe-Post");
    expect(page).toContain("List-Unsubscribe=One-Click");
    expect(page).toMatch(/<http:\/\/[^>]+\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}>/);
  });

  it("never shows another workspace's message", async () => {
    const theirs = insertContact(otherCtx.db, { name: "Theirs", phone: "+919811111111" });
    const { ids } = queueMessages(otherCtx, [
      {
        contactId: theirs,
        channel: "sms",
        kind: "service",
        content: { channel: "sms", text: "Secret of the other shop" },
      },
    ]);
    for (const url of [
      `/w/${slug}/messages/${ids[0]}`,
      `/w/${otherSlug}/messages/${ids[0]}`,
      `/w/${otherSlug}/messages`,
    ]) {
      const res = await alice.get(url);
      expect([403, 404], url).toContain(res.status);
      expect(await res.text()).not.toContain("Secret of the other shop");
    }
  });
});
