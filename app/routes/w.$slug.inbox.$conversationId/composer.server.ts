import {
  MaxPartSizeExceededError,
  unstable_createMemoryUploadHandler,
  unstable_parseMultipartFormData,
} from "@remix-run/node";
import { z } from "zod";
import type { WorkspaceContext } from "~/domain/context";
import { conversationAiState } from "~/domain/ai/drafts.server";
import { MAX_ATTACHMENT_BYTES } from "~/domain/inbox/attachment-types.server";
import { cannedChoices, insertCanned, sendComposedReply } from "~/domain/inbox/composer.server";
import { getConversation } from "~/domain/inbox/conversations.server";
import type { InboxMember } from "~/domain/inbox/members.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure, submitForm } from "~/lib/form.server";
import { replyInput } from "./reply-input";
import { Reply } from "./schemas";

/**
 * The composer's server side: the page's form may carry a file (multipart), the canned
 * response "Insert" answers with the Reply box's new text, and Send takes the attachments and
 * the AI draft the member used.
 */

/** The posted form, multipart or not; a Response when the file is too large. */
export async function readPageForm(
  request: Request,
): Promise<FormData | ReturnType<typeof formFailure>> {
  if (!(request.headers.get("Content-Type") ?? "").startsWith("multipart/form-data")) {
    return request.formData();
  }
  try {
    return await unstable_parseMultipartFormData(
      request,
      unstable_createMemoryUploadHandler({ maxPartSize: MAX_ATTACHMENT_BYTES }),
    );
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) {
      return formFailure("The file is too large: attachments can be at most 16 MB (images 5 MB).", {
        status: 413,
        fields: { intent: "reply" },
      });
    }
    throw error;
  }
}

/**
 * What the composer needs beside the page: canned responses, the AI switches and draft.
 * `useDraft` (the page's ?useDraft=<id>, the "Use this draft" link without JavaScript) puts a
 * ready draft in the reply box.
 */
export function composerData(
  ctx: WorkspaceContext,
  viewerId: string,
  conversationId: number,
  useDraft: string | null = null,
) {
  const ai = conversationAiState(ctx, conversationId);
  const prefill =
    ai.draft?.status === "ready" && useDraft === String(ai.draft.id)
      ? { draftId: String(ai.draft.id), text: ai.draft.body }
      : null;
  return {
    viewerId,
    prefill,
    canned: cannedChoices(ctx),
    ai: {
      enabled: ai.enabled,
      configured: ai.configured,
      draft: ai.draft
        ? {
            id: ai.draft.id,
            status: ai.draft.status,
            body: ai.draft.body,
            error: ai.draft.error,
            citations: ai.draft.citations.flatMap((c) => (c.title ? [c.title] : [])),
          }
        : null,
    },
  };
}

const strings = (formData: FormData, name: string) =>
  formData.getAll(name).filter((v): v is string => typeof v === "string" && v !== "");

const ReplyWithExtras = Reply.extend({
  draftId: z.coerce.number().int().positive().optional(),
});

export async function replyAction(
  ctx: WorkspaceContext,
  member: InboxMember,
  conversationId: number,
  formData: FormData,
  page: string,
) {
  const file = formData.get("file");
  const upload =
    file && typeof file !== "string" && file.size > 0
      ? {
          filename: file.name,
          bytes: new Uint8Array(await file.arrayBuffer()),
          createdBy: member.userId,
        }
      : null;
  formData.delete("file");
  return submitForm(formData, ReplyWithExtras, (value) => {
    const c = getConversation(ctx, member, conversationId);
    const sent = sendComposedReply(ctx, member, conversationId, replyInput(c.channel, value), {
      attachmentIds: strings(formData, "attachment"),
      upload,
      ...(value.draftId !== undefined ? { draftId: value.draftId } : {}),
    });
    const media = sent.mediaIds.length;
    return redirectWithFlash(
      page,
      media ? `Reply and ${media} attachment${media === 1 ? "" : "s"} queued.` : "Reply queued.",
    );
  });
}

const Insert = z.object({
  canned: z.coerce.number({ error: "Choose a canned response." }).int().positive({
    error: "Choose a canned response.",
  }),
  text: z.string().max(8000).optional(),
  subject: z.string().optional(),
  draftId: z.string().optional(),
});

/** "Insert": the Reply box's new text (or the prompts to ask), as the form's typed values. */
export function insertAction(
  ctx: WorkspaceContext,
  member: InboxMember,
  conversationId: number,
  formData: FormData,
) {
  return submitForm(formData, Insert, (value) => {
    const promptValues: Record<string, string> = {};
    for (const [key, v] of formData) {
      if (key.startsWith("prompt:") && typeof v === "string") promptValues[key.slice(7)] = v;
    }
    const result = insertCanned(ctx, member, conversationId, {
      text: value.text ?? "",
      cannedId: value.canned,
      promptValues,
      attachmentIds: strings(formData, "attachment"),
    });
    return {
      status: "success" as const,
      initialValue: {
        intent: "insert",
        text: result.text,
        ...(value.subject !== undefined ? { subject: value.subject } : {}),
        ...(value.draftId ? { draftId: value.draftId } : {}),
      },
      extra: { insert: result },
    };
  });
}
