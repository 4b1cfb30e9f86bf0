import { beforeAll, describe, expect, it } from "vitest";
import { inboundMessages, webhookEvents } from "~/db/schema/tenant";
import { insertContact, giveConsent } from "../../../tests/support/contacts";
import type { WorkspaceContext } from "../context";
import {
  reviewSandboxTemplates,
  SANDBOX_REVIEW_MS,
  submitWhatsAppTemplate,
} from "../templates/whatsapp-sync.server";
import { Dispatcher } from "./dispatcher.server";
import { queueMessages } from "./outbox.server";
import { whatsappWindow } from "../inbox/window.server";
import { WHATSAPP_WINDOW_MS } from "./customer-replies.server";
import { processWebhookEvents } from "./webhooks.server";
import {
  SANDBOX_DELIVERED_AFTER_MS,
  SANDBOX_READ_AFTER_MS,
  SANDBOX_REPLIES,
  SANDBOX_REPLY_AFTER_MS,
  simulationAhead,
} from "./whatsapp-sandbox.server";
import { makeWorkspace } from "../../../tests/support/workspaces";

/**
 * WhatsApp with no account connected: templates get the simulated review, sends get simulated
 * receipts and a reply, all applied by the same code as a real webhook's, on a clock the test moves.
 */

let clock = Date.parse("2026-12-07T10:00:00Z");
const now = () => clock;

async function dispatch(ctx: WorkspaceContext) {
  const dispatcher = new Dispatcher({
    dueHooks: [],
    content: null,
    maxInFlight: 8,
    retryBaseMs: 5,
    now,
  });
  dispatcher.start();
  for (let i = 0; i < 200; i++) {
    await dispatcher.idle();
    const open = ctx.db.$client
      .prepare("SELECT count(*) AS n FROM messages WHERE status IN ('queued', 'sending')")
      .get() as { n: number };
    if (open.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
    dispatcher.scan();
  }
  await dispatcher.stop();
}

let ctx: WorkspaceContext;
beforeAll(async () => {
  ctx = await makeWorkspace("sandbox-wa", { name: "Cafe sandbox-wa", now: () => new Date(clock) });
});

describe("the sandbox's template review", () => {
  it("accepts a submission as pending, then approves it after the review time", async () => {
    const submitted = await submitWhatsAppTemplate(ctx, {
      name: "weekend_offer",
      language: "en",
      category: "MARKETING",
      headerFormat: "IMAGE",
      headerMediaUrl: "https://cafe.example/cake.jpg",
      bodyText: "Hi {{1}}, cakes are 20% off this weekend.",
      footerText: "Reply STOP to opt out",
      buttons: [
        { type: "QUICK_REPLY", text: "Book a table" },
        { type: "URL", text: "See the menu", url: "https://cafe.example/menu" },
        { type: "PHONE_NUMBER", text: "Call us", phoneNumber: "+919876543210" },
      ],
      examples: ["Asha"],
      variableMap: { "1": "first_name" },
    });
    expect(submitted).toMatchObject({ status: "pending", sandbox: true });
    expect(submitted.components[0]).toEqual({
      type: "HEADER",
      format: "IMAGE",
      example: { header_handle: ["https://cafe.example/cake.jpg"] },
    });

    clock += SANDBOX_REVIEW_MS - 1;
    expect(reviewSandboxTemplates(ctx)).toEqual({
      reviewed: 0,
      next: submitted.updatedAt.getTime() + SANDBOX_REVIEW_MS,
    });
    clock += 1;
    expect(reviewSandboxTemplates(ctx)).toEqual({ reviewed: 1, next: null });
    const row = ctx.db.$client
      .prepare("SELECT status, status_reason FROM templates WHERE id = ?")
      .get(submitted.id);
    expect(row).toEqual({ status: "approved", status_reason: null });
  });

  it("rejects a body that breaks Meta's rules, with the reason", async () => {
    const submitted = await submitWhatsAppTemplate(ctx, {
      name: "two_vars",
      language: "en",
      category: "UTILITY",
      bodyText: "Hello {{1}} {{2}} see you soon.",
      examples: ["Asha", "Rao"],
    });
    expect(submitted.status).toBe("pending");
    clock += SANDBOX_REVIEW_MS;
    reviewSandboxTemplates(ctx);
    const row = ctx.db.$client
      .prepare("SELECT status, status_reason FROM templates WHERE id = ?")
      .get(submitted.id);
    expect(row).toEqual({
      status: "rejected",
      status_reason:
        "The variables {{1}} and {{2}} sit next to each other; put words between them.",
    });
  });
});

describe("a sandbox WhatsApp send", () => {
  it("is sent, then delivered, read and answered, through the webhook code", async () => {
    const phone = "+919812340001";
    const contactId = insertContact(ctx.db, { name: "Asha", phone });
    giveConsent(ctx.db, contactId, "whatsapp", "granted", "test form");
    queueMessages(ctx, [
      {
        contactId,
        channel: "whatsapp",
        kind: "marketing",
        content: {
          channel: "whatsapp",
          type: "template",
          name: "weekend_offer",
          language: "en",
          bodyParams: ["Asha"],
        },
      },
    ]);
    const sentAt = clock;
    await dispatch(ctx);
    // The newest message (queued last).
    const message = () =>
      ctx.db.$client
        .prepare(
          `SELECT status, error, integration_id AS integrationId, delivered_at AS deliveredAt
           FROM messages ORDER BY rowid DESC LIMIT 1`,
        )
        .get() as {
        status: string;
        error: string | null;
        integrationId: string | null;
        deliveredAt: number | null;
      };
    expect(message()).toMatchObject({ status: "sent", integrationId: null });
    // The first sandbox message of a workspace always gets a reply: receipts and a reply wait.
    expect(ctx.db.select().from(webhookEvents).all()).toHaveLength(3);
    const messageId = (
      ctx.db.$client.prepare("SELECT id FROM messages ORDER BY rowid DESC LIMIT 1").get() as {
        id: string;
      }
    ).id;
    expect(simulationAhead(ctx, messageId)).toBe(true);

    const apply = () => processWebhookEvents(ctx.workspaceId, now);
    clock = sentAt + SANDBOX_DELIVERED_AFTER_MS - 1;
    await apply();
    expect(message().status).toBe("sent");

    clock = sentAt + SANDBOX_DELIVERED_AFTER_MS;
    await apply();
    expect(message().status).toBe("delivered");
    expect(message().deliveredAt).toBe(sentAt + SANDBOX_DELIVERED_AFTER_MS);

    clock = sentAt + SANDBOX_READ_AFTER_MS;
    await apply();
    expect(message().status).toBe("read");
    expect(ctx.db.select().from(inboundMessages).all()).toEqual([]);
    expect(whatsappWindow(ctx, contactId).openUntil).toBeNull();

    clock = sentAt + SANDBOX_REPLY_AFTER_MS;
    await apply();
    const replies = ctx.db.select().from(inboundMessages).all();
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({
      contactId,
      channel: "whatsapp",
      integrationId: null,
      sender: phone,
    });
    expect(SANDBOX_REPLIES).toContain(replies[0]!.text);
    expect(simulationAhead(ctx, messageId)).toBe(false);
    const replyAt = sentAt + SANDBOX_REPLY_AFTER_MS;
    expect(whatsappWindow(ctx, contactId)).toEqual({
      lastReplyAt: new Date(replyAt),
      openUntil: new Date(replyAt + WHATSAPP_WINDOW_MS),
    });

    // The reply opened the window: a free-form message now goes (and is not answered again).
    queueMessages(ctx, [
      {
        contactId,
        channel: "whatsapp",
        kind: "service",
        content: { channel: "whatsapp", type: "text", text: "Yes! Table for 4 at 7?" },
      },
    ]);
    await dispatch(ctx);
    expect(message()).toMatchObject({ status: "sent", error: null });
    const events = ctx.db.select().from(webhookEvents).all();
    expect(events.filter((e) => e.eventId.endsWith(":reply"))).toHaveLength(1);

    // Once the window has closed, free-form text is refused as it would be by Meta.
    clock = replyAt + WHATSAPP_WINDOW_MS + 1;
    await apply();
    expect(whatsappWindow(ctx, contactId).openUntil).toBeNull();
    queueMessages(ctx, [
      {
        contactId,
        channel: "whatsapp",
        kind: "service",
        content: { channel: "whatsapp", type: "text", text: "Still there?" },
      },
    ]);
    await dispatch(ctx);
    expect(message().status).toBe("failed");
    expect(message().error).toMatch(/within 24 hours/);
  });
});
