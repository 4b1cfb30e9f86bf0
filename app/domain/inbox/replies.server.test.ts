import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contacts, messageContents, messages } from "~/db/schema/tenant";
import { aiDrafts, conversations } from "~/db/schema/tenant-inbox";
import { reloadEnv } from "~/lib/env.server";
import { ValidationError } from "~/lib/errors";
import { createWhatsAppFake, type WhatsAppFake } from "../../../tests/fakes/whatsapp";
import { dispatchAll } from "../../../tests/support/delivery";
import { insertContact } from "../../../tests/support/contacts";
import { thrown } from "../../../tests/support/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { saveIntegration } from "../delivery/integrations.server";
import { processWebhookEvents, receiveWebhook } from "../delivery/webhooks.server";
import { storeAttachment } from "./attachments.server";
import type { InboxMember } from "./members.server";
import { sendReply } from "./replies.server";
import { replyWindow } from "./window.server";

/**
 * Replies against the WhatsApp Cloud fake, wired as the workspace's integration: the customer's
 * message arrives through the real webhook path, the reply goes through the real dispatcher.
 */

const NUMBER = { phoneNumberId: "1065559001", accessToken: "token-inbox", wabaId: "209001" };
const SECRET = "app-secret-inbox";
const HOUR = 60 * 60_000;
let fake: WhatsAppFake;
let ctx: WorkspaceContext;
let integrationId: string;
const agent: InboxMember = { userId: "u-agent", name: "Agent", role: "agent", teamIds: [] };

async function customerWrites(phone: string, text: string, at: number): Promise<number> {
  const payload = fake.inboundPayload({
    phoneNumberId: NUMBER.phoneNumberId,
    from: phone,
    name: "Customer",
    text,
    timestamp: Math.floor(at / 1000),
  });
  const signed = fake.signedWebhook(SECRET, payload);
  const answer = await receiveWebhook("whatsapp", integrationId, {
    method: "POST",
    url: `https://engage.test/webhooks/whatsapp/${integrationId}`,
    headers: signed.headers,
    body: signed.body,
  });
  expect(answer.status).toBe(200);
  await processWebhookEvents(ctx.workspaceId);
  const row = ctx.db
    .select({ id: conversations.id })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(eq(contacts.phone, phone))
    .get();
  return row!.id;
}

beforeAll(async () => {
  fake = createWhatsAppFake({ numbers: [NUMBER] });
  await fake.start();
  process.env.WHATSAPP_API_BASE_URL = fake.url;
  process.env.BASE_URL = "https://engage.test";
  reloadEnv();
  ctx = await makeWorkspace("inbox-replies");
  integrationId = saveIntegration(ctx, ctx.workspaceId, "whatsapp", {
    ...NUMBER,
    appSecret: SECRET,
    verifyToken: "verify-me",
    ratePerSecond: 20,
  }).id;
});

afterAll(async () => {
  await fake.stop();
});

describe("the WhatsApp window", () => {
  it("free text outside the window is refused before any call to the provider; a template goes", async () => {
    const phone = "+919811100001";
    const conversationId = await customerWrites(
      phone,
      "Is my order shipped?",
      Date.now() - 25 * HOUR,
    );
    const conversation = ctx.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, conversationId))
      .get()!;
    expect(conversation.accountKey).toBe(integrationId);
    expect(replyWindow(ctx, conversation)).toMatchObject({ state: "template-only" });
    fake.clearSent();

    const error = thrown(() =>
      sendReply(ctx, agent, conversationId, {
        channel: "whatsapp",
        whatsappType: "text",
        whatsappText: "Yes, it shipped yesterday",
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe(
      "The customer last wrote more than 24 hours ago: WhatsApp only allows an approved template now.",
    );
    expect(ctx.db.select().from(messages).all()).toEqual([]);
    await dispatchAll(ctx);
    expect(fake.sentCount).toBe(0);

    const { id } = sendReply(ctx, agent, conversationId, {
      channel: "whatsapp",
      whatsappType: "template",
      whatsappTemplate: "order_update",
      whatsappLanguage: "en",
      whatsappParams: "Asha",
    });
    await dispatchAll(ctx);
    const sent = ctx.db.select().from(messages).where(eq(messages.id, id)).get();
    expect(sent).toMatchObject({ status: "sent", conversationId, authorId: "u-agent" });
    expect(fake.sentCount).toBe(1);
    const after = ctx.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, conversationId))
      .get();
    expect(after).toMatchObject({ waitingSince: null });
    expect(after?.firstResponseAt).not.toBeNull();
  });

  it("inside the window free text goes, and the countdown ends 24 hours after the last message", async () => {
    const phone = "+919811100002";
    const at = Date.now() - HOUR;
    const conversationId = await customerWrites(phone, "Hello?", at);
    fake.markInbound(NUMBER.phoneNumberId, phone, at);
    const conversation = ctx.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, conversationId))
      .get()!;
    expect(replyWindow(ctx, conversation)).toEqual({
      state: "open",
      closesAt: new Date(Math.floor(at / 1000) * 1000 + 24 * HOUR),
    });
    fake.clearSent();
    sendReply(ctx, agent, conversationId, {
      channel: "whatsapp",
      whatsappType: "text",
      whatsappText: "Hi!",
    });
    await dispatchAll(ctx);
    expect(fake.sentCount).toBe(1);
  });

  it("a marketer reads but cannot reply, and a contact without a linked Telegram chat is blocked", async () => {
    const conversationId = await customerWrites("+919811100003", "Hey", Date.now());
    const marketer: InboxMember = { ...agent, role: "marketer" };
    expect(
      thrown(() =>
        sendReply(ctx, marketer, conversationId, {
          channel: "whatsapp",
          whatsappType: "text",
          whatsappText: "x",
        }),
      ).name,
    ).toBe("ForbiddenError");
    const contactId = insertContact(ctx.db, { name: "No chat" });
    expect(replyWindow(ctx, { contactId, channel: "telegram" })).toMatchObject({
      state: "blocked",
    });
    expect(replyWindow(ctx, { contactId, channel: "whatsapp" })).toEqual({
      state: "blocked",
      reason: "No phone number",
    });
  });
});

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72]);
const text = (whatsappText: string) =>
  ({ channel: "whatsapp", whatsappType: "text", whatsappText }) as const;

function readyDraft(conversationId: number, body: string): number {
  return ctx.db
    .insert(aiDrafts)
    .values({ conversationId, status: "ready", body, createdAt: new Date() })
    .returning({ id: aiDrafts.id })
    .get().id;
}
const draftRow = (id: number) => ctx.db.select().from(aiDrafts).where(eq(aiDrafts.id, id)).get()!;

describe("attachments", () => {
  it("go as WhatsApp media after the text, in one go", async () => {
    const at = Date.now() - HOUR;
    const conversationId = await customerWrites("+919811100011", "Send the brochure", at);
    fake.markInbound(NUMBER.phoneNumberId, "+919811100011", at);
    const file = storeAttachment(ctx, { filename: "logo.png", bytes: PNG, createdBy: "u-agent" });
    const sent = sendReply(ctx, agent, conversationId, text("Here it is"), {
      attachmentIds: [file.id],
    });
    expect(sent.mediaIds).toHaveLength(1);
    const content = ctx.db
      .select()
      .from(messageContents)
      .where(eq(messageContents.messageId, sent.mediaIds[0]!))
      .get()!;
    expect(JSON.parse(content.content)).toMatchObject({
      channel: "whatsapp",
      type: "media",
      media: { kind: "image", attachmentId: file.id, filename: "logo.png" },
    });
    const rows = ctx.db
      .select({ id: messages.id, conversationId: messages.conversationId })
      .from(messages)
      .where(eq(messages.conversationId, conversationId))
      .all();
    expect(rows.map((r) => r.id).sort()).toEqual([sent.id, ...sent.mediaIds].sort());
  });

  it("outside the window media is refused before anything is queued, like text", async () => {
    const conversationId = await customerWrites("+919811100012", "Old", Date.now() - 25 * HOUR);
    const file = storeAttachment(ctx, { filename: "logo.png", bytes: PNG, createdBy: "u-agent" });
    const before = ctx.db.select().from(messages).all().length;
    const error = thrown(() =>
      sendReply(
        ctx,
        agent,
        conversationId,
        {
          channel: "whatsapp",
          whatsappType: "template",
          whatsappTemplate: "order_update",
          whatsappLanguage: "en",
          whatsappParams: "",
        },
        { attachmentIds: [file.id] },
      ),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/only allows an approved template/);
    expect(ctx.db.select().from(messages).all()).toHaveLength(before);
  });

  it("an unknown attachment id is refused and nothing is queued", async () => {
    const conversationId = await customerWrites("+919811100013", "Hi", Date.now());
    const before = ctx.db.select().from(messages).all().length;
    expect(
      thrown(() =>
        sendReply(ctx, agent, conversationId, text("x"), { attachmentIds: ["att_missing"] }),
      ).message,
    ).toBe("An attachment is no longer there. Remove it and send again.");
    expect(ctx.db.select().from(messages).all()).toHaveLength(before);
  });
});

describe("AI drafts", () => {
  it("an edited draft is marked sent and edited, though the reply's row discards open drafts", async () => {
    const conversationId = await customerWrites("+919811100021", "Refund?", Date.now());
    const draftId = readyDraft(conversationId, "Your refund is on its way.");
    const sent = sendReply(ctx, agent, conversationId, text("Your refund is on its way, Asha."), {
      draftId,
    });
    expect(sent.draft).toEqual({ sent: true, edited: true });
    expect(draftRow(draftId)).toMatchObject({ status: "sent", edited: true });
  });

  it("an unedited draft is marked sent, not edited", async () => {
    const conversationId = await customerWrites("+919811100022", "Hours?", Date.now());
    const draftId = readyDraft(conversationId, "We open at nine.");
    sendReply(ctx, agent, conversationId, text("We open at nine.\n"), { draftId });
    expect(draftRow(draftId)).toMatchObject({ status: "sent", edited: false });
  });

  it("a draft discarded meanwhile stays discarded and the reply still goes", async () => {
    const conversationId = await customerWrites("+919811100023", "Hello", Date.now());
    const draftId = readyDraft(conversationId, "Hello!");
    ctx.db.update(aiDrafts).set({ status: "discarded" }).where(eq(aiDrafts.id, draftId)).run();
    const sent = sendReply(ctx, agent, conversationId, text("Hello!"), { draftId });
    expect(sent.draft).toEqual({ sent: false, edited: false });
    expect(draftRow(draftId).status).toBe("discarded");
    expect(ctx.db.select().from(messages).where(eq(messages.id, sent.id)).get()).toBeDefined();
  });

  it("a draft of another conversation is refused", async () => {
    const one = await customerWrites("+919811100024", "A", Date.now());
    const two = await customerWrites("+919811100025", "B", Date.now());
    const draftId = readyDraft(one, "For one");
    expect(thrown(() => sendReply(ctx, agent, two, text("For one"), { draftId })).message).toBe(
      "That AI draft belongs to another conversation.",
    );
    expect(draftRow(draftId).status).toBe("ready");
  });
});
