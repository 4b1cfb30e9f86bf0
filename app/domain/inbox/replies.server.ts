import { ValidationError } from "~/lib/errors";
import { getDraft, markDraftSent } from "../ai/drafts.server";
import type { WorkspaceContext } from "../context";
import { queueMessages, type QueueInput } from "../delivery/outbox.server";
import {
  composeServiceMessage,
  type ServiceMessageInput,
} from "../delivery/service-message.server";
import { attachmentsByIds, mediaContent } from "./attachments.server";
import { getConversation } from "./conversations.server";
import { threadedEmail } from "./email-threading.server";
import { publishInboxEvent } from "./live.server";
import { assertCanReply, type InboxMember } from "./members.server";
import { replyWindow } from "./window.server";

export interface ReplyExtras {
  /** Attachments sent as WhatsApp media after the text, in this order. */
  attachmentIds?: readonly string[];
  /** The AI draft the member used: marked sent (edited or not) with the reply. */
  draftId?: number;
}

export interface SentReply {
  /** The text message's id. */
  id: string;
  /** The media messages' ids, in order. */
  mediaIds: string[];
  /** What became of the draft: null without one; sent false when it had been closed meanwhile. */
  draft: { sent: boolean; edited: boolean } | null;
}

function typedText(input: ServiceMessageInput): string {
  switch (input.channel) {
    case "email":
      return input.emailBody;
    case "whatsapp":
      return input.whatsappText ?? "";
    case "sms":
      return input.smsText;
    case "telegram":
      return input.telegramText;
  }
}

/**
 * A member's reply in a conversation. The window is checked here, before anything is queued,
 * so free text or media outside WhatsApp's 24 hours never reaches the provider (which would
 * refuse it and might count it against the number's quality). Everything is queued in one
 * transaction: the text, then each attachment, and the draft marked sent before the reply's
 * row is inserted (that insert discards the conversation's open drafts).
 */
export function sendReply(
  ctx: WorkspaceContext,
  member: InboxMember,
  conversationId: number,
  input: ServiceMessageInput,
  extras: ReplyExtras = {},
): SentReply {
  const conversation = getConversation(ctx, member, conversationId);
  assertCanReply(member);
  if (input.channel !== conversation.channel) {
    throw new ValidationError(
      `This conversation is on ${conversation.channel}, not ${input.channel}.`,
    );
  }
  const window = replyWindow(ctx, conversation);
  if (window.state === "blocked") throw new ValidationError(window.reason);
  const ids = [...new Set(extras.attachmentIds ?? [])];
  const freeText = input.channel === "whatsapp" && input.whatsappType !== "template";
  if (window.state === "template-only" && (freeText || ids.length > 0)) {
    throw new ValidationError(window.reason);
  }
  const found = attachmentsByIds(ctx, ids);
  if (found.length !== ids.length) {
    throw new ValidationError("An attachment is no longer there. Remove it and send again.");
  }
  // Refuses media on channels other than WhatsApp before anything is queued.
  const media = found.map((a) => mediaContent(conversation.channel, a));
  if (extras.draftId !== undefined) {
    const draft = getDraft(ctx, extras.draftId);
    if (draft.conversationId !== conversationId) {
      throw new ValidationError("That AI draft belongs to another conversation.");
    }
  }
  const base = {
    contactId: conversation.contactId,
    channel: conversation.channel,
    kind: "service" as const,
    conversationId,
    authorId: member.userId,
  };
  const composed = composeServiceMessage(input);
  const inputs: QueueInput[] = [
    {
      ...base,
      // Email answers the customer's latest mail in its thread; the subject typed is kept.
      content:
        composed.channel === "email"
          ? threadedEmail(
              ctx,
              conversationId,
              { ...composed, subject: composed.subject.trim() || "Your message" },
              composed.subject.trim() !== "",
            )
          : composed,
    },
    ...media.map((content) => ({ ...base, content })),
  ];
  const { summary, draft } = ctx.db.transaction(
    (tx) => {
      const draft =
        extras.draftId === undefined
          ? null
          : markDraftSent(
              { db: tx, workspaceId: ctx.workspaceId, now: () => ctx.now() },
              extras.draftId,
              typedText(input),
            );
      // Nested: better-sqlite3 turns queueMessages' own transaction into a savepoint of this one.
      return { summary: queueMessages(ctx, inputs), draft };
    },
    { behavior: "immediate" },
  );
  const [id, ...mediaIds] = summary.ids;
  if (!id) throw new ValidationError("The reply could not be queued.");
  publishInboxEvent(ctx.workspaceId, {
    type: "message",
    conversationId,
    direction: "out",
    at: ctx.now().getTime(),
  });
  return { id, mediaIds, draft };
}
