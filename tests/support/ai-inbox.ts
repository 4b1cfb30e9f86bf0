import { randomUUID } from "node:crypto";
import { createContact } from "~/domain/contacts/contacts.server";
import type { WorkspaceContext } from "~/domain/context";
import { messageContents, messages, inboundMessages } from "~/db/schema/tenant";
import { conversationActivity, conversations, inboxSettings } from "~/db/schema/tenant-inbox";
import type { ContactInput } from "~/domain/contacts/contact-values.server";

/**
 * Inbox rows for the AI tests, inserted the way the inbox writes them (the conversations
 * domain is built elsewhere): a contact's conversation with its messages, a member's reply,
 * an assignment, and the inbox settings' AI switches.
 */

export interface SeedMessage {
  from: "customer" | "team";
  text: string;
}

let seq = 0;

export function seedConversation(
  ctx: WorkspaceContext,
  options: { contact?: ContactInput; messages?: SeedMessage[]; channel?: "whatsapp" | "sms" } = {},
): { conversationId: number; contactId: number } {
  seq += 1;
  const contact = createContact(
    ctx,
    options.contact ?? {
      name: `Customer ${seq}`,
      phone: `+9198100${String(seq).padStart(5, "0")}`,
    },
  );
  const channel = options.channel ?? "whatsapp";
  const start = Date.now() - 60_000;
  const now = new Date(start);
  const conversationId = ctx.db
    .insert(conversations)
    .values({
      contactId: contact.id,
      channel,
      accountKey: "",
      status: "open",
      lastMessageAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .returning({ id: conversations.id })
    .get().id;
  for (const [i, m] of (options.messages ?? []).entries()) {
    const at = new Date(start + i * 1000);
    if (m.from === "customer") {
      ctx.db
        .insert(inboundMessages)
        .values({
          contactId: contact.id,
          channel,
          sender: contact.phone ?? "unknown",
          text: m.text,
          providerMessageId: `wamid.${randomUUID()}`,
          at,
          conversationId,
        })
        .run();
    } else {
      insertOutgoing(ctx, conversationId, contact.id, m.text, null, at);
    }
  }
  return { conversationId, contactId: contact.id };
}

function insertOutgoing(
  ctx: WorkspaceContext,
  conversationId: number,
  contactId: number | null,
  text: string,
  authorId: string | null,
  at: Date,
): string {
  const id = randomUUID();
  ctx.db
    .insert(messages)
    .values({
      id,
      contactId,
      channel: "whatsapp",
      kind: "service",
      recipient: "+919810000000",
      status: "queued",
      nextAttemptAt: at,
      conversationId,
      authorId,
      createdAt: at,
      updatedAt: at,
    })
    .run();
  ctx.db
    .insert(messageContents)
    .values({ messageId: id, content: JSON.stringify({ channel: "whatsapp", type: "text", text }) })
    .run();
  return id;
}

/** A member's reply as the reply path queues it: a messages row with author and conversation. */
export function humanReply(
  ctx: WorkspaceContext,
  conversationId: number,
  authorId: string,
  text = "Answered by a person",
): string {
  return insertOutgoing(ctx, conversationId, null, text, authorId, new Date());
}

/** An `assigned` activity row; `actorId` null is the auto-assignment. */
export function assign(ctx: WorkspaceContext, conversationId: number, actorId: string | null) {
  ctx.db
    .insert(conversationActivity)
    .values({ conversationId, at: new Date(), actorId, kind: "assigned", data: "{}" })
    .run();
}

export function setInboxAi(
  ctx: WorkspaceContext,
  values: { aiEnabled?: boolean; aiAutoDraft?: boolean },
): void {
  const now = new Date();
  ctx.db
    .insert(inboxSettings)
    .values({ id: 1, updatedAt: now, ...values })
    .onConflictDoUpdate({ target: inboxSettings.id, set: { ...values, updatedAt: now } })
    .run();
}
