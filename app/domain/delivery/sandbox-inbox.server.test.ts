import { beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "~/lib/errors";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { subscribeInboxEvents, type InboxEvent } from "../inbox/live.server";
import { simulateCustomerMessage, whatsappIsSandbox } from "./sandbox-inbox.server";

/**
 * "Try the inbox": a simulated customer message goes through the webhook path (stored as a
 * sandbox event, applied at once): contact, conversation and live event, as a real one.
 */

let ctx: WorkspaceContext;
beforeAll(async () => {
  ctx = await makeWorkspace("try-inbox", { name: "Cafe try-inbox" });
});

const count = (sql: string) => (ctx.db.$client.prepare(sql).get() as { n: number }).n;

describe("simulateCustomerMessage", () => {
  it("is offered while WhatsApp has no account connected", () => {
    expect(whatsappIsSandbox(ctx)).toBe(true);
  });

  it("creates the contact, opens the conversation and publishes the message live", () => {
    const events: InboxEvent[] = [];
    const stop = subscribeInboxEvents(ctx.workspaceId, (e) => events.push(e));
    try {
      const first = simulateCustomerMessage(ctx, {
        phone: "98765 43210",
        name: "Asha Rao",
        message: "Is the cafe open on Sunday?",
      });
      expect(first.phone).toBe("+919876543210");
      expect(first.conversationId).toEqual(expect.any(Number));
      const contact = ctx.db.$client
        .prepare("SELECT name, phone FROM contacts WHERE phone = ?")
        .get("+919876543210") as { name: string; phone: string };
      expect(contact.name).toBe("Asha Rao");
      const row = ctx.db.$client
        .prepare("SELECT text, conversation_id AS c FROM inbound_messages WHERE sender = ?")
        .get("+919876543210") as { text: string; c: number };
      expect(row).toEqual({ text: "Is the cafe open on Sunday?", c: first.conversationId });
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "message",
          conversationId: first.conversationId,
          direction: "in",
        }),
      );

      // The same customer again joins the same conversation.
      const second = simulateCustomerMessage(ctx, {
        phone: "+91 98765 43210",
        message: "And on Monday?",
      });
      expect(second.conversationId).toBe(first.conversationId);
      expect(count("SELECT count(*) AS n FROM contacts WHERE phone = '+919876543210'")).toBe(1);
    } finally {
      stop();
    }
  });

  it("refuses a bad phone or message before storing anything", () => {
    const before = count("SELECT count(*) AS n FROM webhook_events");
    const bad = [
      { phone: "12", message: "Hello" },
      { phone: "98765 43211", message: "   " },
      { phone: "98765 43211", message: "x".repeat(4097) },
    ];
    for (const input of bad) {
      expect(() => simulateCustomerMessage(ctx, input)).toThrow(ValidationError);
    }
    try {
      simulateCustomerMessage(ctx, { phone: "not a phone", message: "" });
    } catch (error) {
      expect(Object.keys((error as ValidationError).fieldErrors).sort()).toEqual([
        "message",
        "phone",
      ]);
    }
    expect(count("SELECT count(*) AS n FROM webhook_events")).toBe(before);
  });
});
