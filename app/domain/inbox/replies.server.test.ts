import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contacts, messages } from "~/db/schema/tenant";
import { conversations } from "~/db/schema/tenant-inbox";
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

    const id = sendReply(ctx, agent, conversationId, {
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
