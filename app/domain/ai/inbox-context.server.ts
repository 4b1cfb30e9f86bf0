import { eq, sql } from "drizzle-orm";
import type { MessageContent } from "~/channels/types";
import { contacts } from "~/db/schema/tenant";
import { conversations, inboxSettings } from "~/db/schema/tenant-inbox";
import type { Channel } from "~/lib/channels";
import { AppError, NotFoundError } from "~/lib/errors";
import {
  formatAttributeValue,
  listAttributeDefinitions,
  parseStoredAttributes,
} from "../contacts/attributes.server";
import { readOnce, type TenantContext } from "../context";
import { messageText } from "../inbox/thread.server";
import type { PromptMessage } from "./draft-prompt.server";

/**
 * What the inbox's AI features read from the workspace's file: whether AI is on, and the
 * conversation, its contact and its messages in the shape the prompt builder takes. Reads the
 * tables directly; the contact's email, phone and other fields are never selected.
 */

export interface InboxAiSettings {
  aiEnabled: boolean;
  aiAutoDraft: boolean;
}

/** AI is turned off in this workspace's inbox settings. */
export class AiDisabledError extends AppError {
  constructor() {
    super(
      "AI replies are turned off for this workspace. An owner or admin can turn them on in the inbox settings.",
      409,
      "ai_disabled",
    );
  }
}

/** The inbox settings' AI switches; the defaults until the settings row exists. */
export function inboxAiSettings(ctx: TenantContext): InboxAiSettings {
  return readOnce(ctx, "inbox-ai-settings", () => {
    const row = ctx.db
      .select({ aiEnabled: inboxSettings.aiEnabled, aiAutoDraft: inboxSettings.aiAutoDraft })
      .from(inboxSettings)
      .where(eq(inboxSettings.id, 1))
      .get();
    return { aiEnabled: row?.aiEnabled ?? true, aiAutoDraft: row?.aiAutoDraft ?? false };
  });
}

export function assertAiEnabled(ctx: TenantContext): void {
  if (!inboxAiSettings(ctx).aiEnabled) throw new AiDisabledError();
}

export interface AiConversation {
  id: number;
  channel: Channel;
  contact: { name: string; attributes: { label: string; value: string }[] };
}

/** The conversation and what the AI may know of its contact (name and custom attributes). */
export function conversationForAi(ctx: TenantContext, conversationId: number): AiConversation {
  const row = Number.isSafeInteger(conversationId)
    ? ctx.db
        .select({
          id: conversations.id,
          channel: conversations.channel,
          name: contacts.name,
          attributes: contacts.attributes,
        })
        .from(conversations)
        .innerJoin(contacts, eq(contacts.id, conversations.contactId))
        .where(eq(conversations.id, conversationId))
        .get()
    : undefined;
  if (!row) throw new NotFoundError("Conversation", conversationId);
  const definitions = listAttributeDefinitions(ctx);
  const labels = new Map(definitions.map((d) => [d.key, d.label]));
  const values = parseStoredAttributes(row.attributes, definitions);
  const attributes = Object.entries(values)
    .map(([key, value]) => ({ label: labels.get(key) ?? key, value: formatAttributeValue(value) }))
    .filter((a) => a.value !== "");
  return { id: row.id, channel: row.channel, contact: { name: row.name, attributes } };
}

/** The words of an outgoing message, whatever its channel's content shape. */
function outgoingText(json: string | null): string {
  if (!json) return "";
  let content: MessageContent;
  try {
    content = JSON.parse(json) as MessageContent;
  } catch {
    return "";
  }
  const { text, template } = messageText(content);
  if (template === null) return text;
  return `[WhatsApp template “${template}”${text ? ` (${text.replaceAll(" · ", ", ")})` : ""}]`;
}

/**
 * The newest `limit` messages of the conversation, oldest first: what the customer wrote and
 * what was sent to them (replies, templates, campaign messages), without failed or skipped
 * sends and without messages whose text is gone.
 */
export function conversationMessages(
  { db }: TenantContext,
  conversationId: number,
  limit: number,
): PromptMessage[] {
  const rows = db.all<{ direction: "in" | "out"; body: string | null; at: number; ord: string }>(
    sql`SELECT * FROM (
          SELECT 'in' AS direction, text AS body, at, printf('%020d', id) AS ord
            FROM inbound_messages WHERE conversation_id = ${conversationId}
          UNION ALL
          SELECT 'out', mc.content, m.created_at, m.id
            FROM messages m LEFT JOIN message_contents mc ON mc.message_id = m.id
           WHERE m.conversation_id = ${conversationId}
             AND m.status NOT IN ('failed', 'bounced', 'skipped')
        ) ORDER BY at DESC, ord DESC LIMIT ${limit}`,
  );
  return rows
    .reverse()
    .map((r): PromptMessage => {
      const text = r.direction === "in" ? (r.body ?? "") : outgoingText(r.body);
      return { from: r.direction === "in" ? "customer" : "team", text: text.trim() };
    })
    .filter((m) => m.text !== "");
}
