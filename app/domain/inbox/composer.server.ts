import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import type { ServiceMessageInput } from "../delivery/service-message.server";
import {
  attachmentsByIds,
  deleteAttachment,
  storeAttachment,
  type NewAttachment,
} from "./attachments.server";
import { getCannedResponse, listCannedResponses, renderCannedResponses } from "./canned.server";
import { getConversation } from "./conversations.server";
import { assertCanReply, type InboxMember } from "./members.server";
import { sendReply, type SentReply } from "./replies.server";

/** The composer's view of a canned response: enough to pick one and ask its prompts. */
export interface CannedChoice {
  id: number;
  shortcut: string;
  title: string;
  prompts: string[];
  attachments: number;
}

export function cannedChoices(ctx: WorkspaceContext): CannedChoice[] {
  return listCannedResponses(ctx).map((c) => ({
    id: c.id,
    shortcut: c.shortcut,
    title: c.title,
    prompts: c.prompts,
    attachments: c.attachments.length,
  }));
}

export interface ComposerAttachment {
  id: string;
  filename: string;
}

export interface CannedInsert {
  /** The Reply box's text with the response added (unchanged while prompts are missing). */
  text: string;
  /** Attachments the reply will carry (WhatsApp only; elsewhere none are added). */
  attachments: ComposerAttachment[];
  /** Set while the response still needs prompt values: ask them, then insert again. */
  pending: { cannedId: number; prompts: string[] } | null;
  /** Attachments left out because the channel is not WhatsApp. */
  leftOut: number;
}

/**
 * Adds a canned response to what is already in the Reply box (stacked after a blank line),
 * filled in from the conversation's contact and the prompt values given. When a prompt has not
 * been asked yet nothing is added and the prompts are returned to be asked.
 */
export function insertCanned(
  ctx: WorkspaceContext,
  member: InboxMember,
  conversationId: number,
  input: {
    text: string;
    cannedId: number;
    promptValues: Record<string, string>;
    attachmentIds: readonly string[];
  },
): CannedInsert {
  const conversation = getConversation(ctx, member, conversationId);
  assertCanReply(member);
  const kept = attachmentsByIds(ctx, input.attachmentIds).map((a) => ({
    id: a.id,
    filename: a.filename,
  }));
  const canned = getCannedResponse(ctx, input.cannedId);
  const rendered = renderCannedResponses(
    ctx,
    conversation.contactId,
    [canned.id],
    input.promptValues,
  );
  // A prompt left empty on purpose was asked: only prompts never asked hold the insert back.
  const unasked = canned.prompts.filter((p) => !(p in input.promptValues));
  if (unasked.length > 0) {
    return {
      text: input.text,
      attachments: kept,
      pending: { cannedId: canned.id, prompts: canned.prompts },
      leftOut: 0,
    };
  }
  const whatsapp = conversation.channel === "whatsapp";
  const added = whatsapp
    ? rendered.attachments
        .filter((a) => !kept.some((k) => k.id === a.id))
        .map((a) => ({ id: a.id, filename: a.filename }))
    : [];
  const before = input.text.trimEnd();
  return {
    text: before ? `${before}\n\n${rendered.text}` : rendered.text,
    attachments: [...kept, ...added],
    pending: null,
    leftOut: whatsapp ? 0 : rendered.attachments.length,
  };
}

/**
 * The composer's Send: an uploaded file is kept first and sent with the canned responses'
 * attachments; when the reply is refused the upload is not kept.
 */
export function sendComposedReply(
  ctx: WorkspaceContext,
  member: InboxMember,
  conversationId: number,
  input: ServiceMessageInput,
  extras: { attachmentIds: readonly string[]; upload: NewAttachment | null; draftId?: number },
): SentReply {
  if (extras.upload && input.channel !== "whatsapp") {
    throw new ValidationError("Attachments can only be sent on WhatsApp.");
  }
  const stored = extras.upload ? storeAttachment(ctx, extras.upload) : null;
  try {
    return sendReply(ctx, member, conversationId, input, {
      attachmentIds: [...extras.attachmentIds, ...(stored ? [stored.id] : [])],
      ...(extras.draftId !== undefined ? { draftId: extras.draftId } : {}),
    });
  } catch (error) {
    if (stored) deleteAttachment(ctx, stored.id);
    throw error;
  }
}
