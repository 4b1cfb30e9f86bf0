import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { queueMessages } from "../delivery/outbox.server";
import {
  composeServiceMessage,
  type ServiceMessageInput,
} from "../delivery/service-message.server";
import { getConversation } from "./conversations.server";
import { publishInboxEvent } from "./live.server";
import { assertCanReply, type InboxMember } from "./members.server";
import { replyWindow } from "./window.server";

/**
 * A member's reply in a conversation. The window is checked here, before anything is queued,
 * so free text outside WhatsApp's 24 hours never reaches the provider (which would refuse it
 * and might count it against the number's quality).
 */
export function sendReply(
  ctx: WorkspaceContext,
  member: InboxMember,
  conversationId: number,
  input: ServiceMessageInput,
): string {
  const conversation = getConversation(ctx, member, conversationId);
  assertCanReply(member);
  if (input.channel !== conversation.channel) {
    throw new ValidationError(
      `This conversation is on ${conversation.channel}, not ${input.channel}.`,
    );
  }
  const window = replyWindow(ctx, conversation);
  if (window.state === "blocked") throw new ValidationError(window.reason);
  const freeText = input.channel === "whatsapp" && input.whatsappType !== "template";
  if (window.state === "template-only" && freeText) {
    throw new ValidationError(window.reason);
  }
  const summary = queueMessages(ctx, [
    {
      contactId: conversation.contactId,
      channel: conversation.channel,
      kind: "service",
      content: composeServiceMessage(input),
      conversationId,
      authorId: member.userId,
    },
  ]);
  const id = summary.ids[0];
  if (!id) throw new ValidationError("The reply could not be queued.");
  publishInboxEvent(ctx.workspaceId, {
    type: "message",
    conversationId,
    direction: "out",
    at: ctx.now().getTime(),
  });
  return id;
}
