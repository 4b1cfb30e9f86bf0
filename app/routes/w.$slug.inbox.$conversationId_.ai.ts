import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { rewriteText, summariseConversation } from "~/domain/ai/assist.server";
import { AiUnavailableError } from "~/domain/ai/claude.server";
import { REWRITE_MODES } from "~/domain/ai/draft-prompt.server";
import { conversationAiState, discardDraft, requestDraft } from "~/domain/ai/drafts.server";
import { getConversation } from "~/domain/inbox/conversations.server";
import { loadInboxMember } from "~/domain/inbox/members.server";
import {
  AppError,
  RateLimitedError,
  ValidationError,
  validationErrorFromIssues,
} from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { parseId } from "~/lib/ids";

/**
 * The conversation page's AI buttons (fetchers), JSON in and out:
 *
 *   GET                       {enabled, autoDraft, configured, draft}: the newest draft
 *   POST intent=draft         202 {draftId, status: "pending"}; the draft event follows on the
 *                             inbox's live stream when it is ready or failed
 *   POST intent=rewrite       text, mode (rephrase|shorten|friendly|formal) -> {text}
 *   POST intent=summary       {summary}: one paragraph
 *   POST intent=discard       draftId -> {draft}
 *
 * Errors: {message, code, fieldErrors?} with 400 (input), 404 (no such conversation or
 * draft), 409 (AI off in this workspace, or not configured), 429 + Retry-After (hourly limit),
 * 502/503 (Claude failed). Reading needs inbox:read, the buttons inbox:reply. Without
 * JavaScript, draft and discard come as plain form posts and are answered with a redirect.
 */

const NO_STORE = { "Cache-Control": "no-store" };

const NEEDS = {
  draft: "inbox:reply",
  rewrite: "inbox:reply",
  summary: "inbox:reply",
  discard: "inbox:reply",
} as const satisfies Record<string, Permission>;

const Rewrite = z.object({
  text: z.string({ error: "Write something first, then ask to rewrite it." }),
  mode: z.enum(REWRITE_MODES, {
    error: "Choose how to rewrite: rephrase, shorten, friendly or formal.",
  }),
});
const Discard = z.object({ draftId: z.string({ error: "Which draft?" }) });

function fields<S extends z.ZodType>(schema: S, formData: FormData): z.output<S> {
  const result = schema.safeParse(Object.fromEntries(formData));
  if (!result.success) throw validationErrorFromIssues(result.error.issues);
  return result.data;
}

function errorResponse(error: AppError): Response {
  const headers = new Headers(NO_STORE);
  const retryAfter =
    error instanceof RateLimitedError || error instanceof AiUnavailableError
      ? error.retryAfterSeconds
      : undefined;
  if (retryAfter !== undefined) headers.set("Retry-After", String(retryAfter));
  return Response.json(
    {
      message: error.message,
      code: error.code,
      ...(error instanceof ValidationError ? { fieldErrors: error.fieldErrors } : {}),
    },
    { status: error.status, headers },
  );
}

async function answer(run: () => Promise<Response> | Response): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AppError) return errorResponse(error);
    throw error;
  }
}

/**
 * A browser without JavaScript posts the "Suggest a reply" and "Discard draft" forms as a
 * navigation (it asks for HTML): it goes back to the conversation, where the draft shows on the
 * next reload, and a refusal shows as the page's notice.
 */
function wantsPage(request: Request): boolean {
  return (request.headers.get("Accept") ?? "").includes("text/html");
}

async function backToConversation(conversationPage: string, answered: Response): Promise<Response> {
  if (answered.ok) return redirect(conversationPage, 303);
  const { message } = (await answered.json()) as { message: string };
  return redirectWithFlash(conversationPage, message, "error", { status: 303 });
}

export async function loader(args: LoaderFunctionArgs) {
  const { wctx, role } = await requireWorkspace(args, "inbox:read");
  return answer(() => {
    const conversationId = parseId(args.params.conversationId, "Conversation");
    getConversation(wctx, loadInboxMember(wctx, wctx.userId, role), conversationId);
    return Response.json(conversationAiState(wctx, conversationId), { headers: NO_STORE });
  });
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { wctx, user, role, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const answered = await answer(async () => {
    const conversationId = parseId(args.params.conversationId, "Conversation");
    // An agent of another team gets the same 404 as for a conversation that does not exist.
    getConversation(wctx, loadInboxMember(wctx, user.id, role), conversationId);
    switch (intent) {
      case "draft": {
        const { draftId } = requestDraft(wctx, conversationId, user.id);
        return Response.json({ draftId, status: "pending" }, { status: 202, headers: NO_STORE });
      }
      case "rewrite": {
        const value = fields(Rewrite, formData);
        conversationAiState(wctx, conversationId);
        const text = await rewriteText(wctx, value.text, value.mode);
        return Response.json({ text }, { headers: NO_STORE });
      }
      case "summary": {
        const summary = await summariseConversation(wctx, conversationId);
        return Response.json({ summary }, { headers: NO_STORE });
      }
      case "discard": {
        const draftId = parseId(fields(Discard, formData).draftId, "Draft");
        const draft = discardDraft(wctx, draftId, user.id, { conversationId });
        return Response.json({ draft }, { headers: NO_STORE });
      }
    }
  });
  if ((intent === "draft" || intent === "discard") && wantsPage(args.request)) {
    return backToConversation(
      `/w/${encodeURIComponent(args.params.slug ?? "")}/inbox/${encodeURIComponent(args.params.conversationId ?? "")}`,
      answered,
    );
  }
  return answered;
}
