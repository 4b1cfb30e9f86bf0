import { and, desc, eq } from "drizzle-orm";
import { contacts, inboundMessages } from "~/db/schema/tenant";
import type { Channel } from "~/lib/channels";
import { NotFoundError } from "~/lib/errors";
import { suppressionKey } from "../contacts/suppression-hash.server";
import type { WorkspaceContext } from "../context";
import { WHATSAPP_WINDOW_MS } from "../delivery/customer-replies.server";
import { blockedReason } from "../delivery/outbox.server";

/**
 * What a member may send in a conversation now, decided on the server. WhatsApp allows free
 * text for 24 hours after the customer's last message and only approved templates after;
 * Telegram bots can only answer chats a person started; SMS and email have no window. A
 * suppressed or opted-out contact, or one without an address on the channel, is blocked.
 */

export type ReplyWindow =
  | { state: "open"; closesAt: Date }
  | { state: "template-only"; reason: string }
  | { state: "blocked"; reason: string }
  | { state: "free" };

export const TEMPLATE_ONLY_REASON =
  "The customer last wrote more than 24 hours ago: WhatsApp only allows an approved template now.";
const NEVER_WROTE_REASON =
  "The customer has not written on WhatsApp yet: WhatsApp only allows an approved template now.";
const TELEGRAM_NOT_LINKED =
  "This contact has not started a chat with the workspace's Telegram bot, and a bot cannot start one.";

/** The contact's WhatsApp window: when they last wrote, and until when it is open (or null). */
export function whatsappWindow(
  ctx: WorkspaceContext,
  contactId: number,
): { lastReplyAt: Date | null; openUntil: Date | null } {
  const last = ctx.db
    .select({ at: inboundMessages.at })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.contactId, contactId), eq(inboundMessages.channel, "whatsapp")))
    .orderBy(desc(inboundMessages.at))
    .limit(1)
    .get();
  if (!last) return { lastReplyAt: null, openUntil: null };
  const until = new Date(last.at.getTime() + WHATSAPP_WINDOW_MS);
  return { lastReplyAt: last.at, openUntil: until > ctx.now() ? until : null };
}

/** The reply window of a conversation (or of a contact on a channel). */
export function replyWindow(
  ctx: WorkspaceContext,
  conversation: { contactId: number; channel: Channel },
): ReplyWindow {
  const contact = ctx.db
    .select({
      id: contacts.id,
      email: contacts.email,
      phone: contacts.phone,
      telegramChatId: contacts.telegramChatId,
    })
    .from(contacts)
    .where(eq(contacts.id, conversation.contactId))
    .get();
  if (!contact) throw new NotFoundError("Contact", conversation.contactId);
  const channel = conversation.channel;
  if (channel === "telegram" && !contact.telegramChatId) {
    return { state: "blocked", reason: TELEGRAM_NOT_LINKED };
  }
  const blocked = blockedReason(ctx.db, suppressionKey(ctx.db), contact, channel, "service");
  if (blocked) return { state: "blocked", reason: blocked };
  if (channel !== "whatsapp") return { state: "free" };
  const w = whatsappWindow(ctx, contact.id);
  if (w.openUntil) return { state: "open", closesAt: w.openUntil };
  return {
    state: "template-only",
    reason: w.lastReplyAt ? TEMPLATE_ONLY_REASON : NEVER_WROTE_REASON,
  };
}
