import type { TextGenerationResult } from "~/channels/anthropic/client.server";
import { ValidationError } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import type { WorkspaceContext } from "../context";
import {
  AiAnswerError,
  asProviderError,
  providerFailureToAppError,
  takeAiRequest,
  workspaceName,
  type AiRequestTicket,
} from "./claude.server";
import {
  asParagraph,
  buildRewritePrompt,
  buildSummaryPrompt,
  DRAFT_HISTORY_MESSAGES,
  REWRITE_MAX_CHARS,
  REWRITE_MODES,
  type Prompt,
  type RewriteMode,
} from "./draft-prompt.server";
import { INBOX_AI_FEATURE, inboxAiBudget } from "./drafts.server";
import { assertAiEnabled, conversationForAi, conversationMessages } from "./inbox-context.server";

/**
 * The composer's other AI helpers: rewrite a text (rephrase, shorten, friendlier, more formal)
 * and summarise a conversation in one paragraph. Answers are returned, never stored. Same
 * switch, budget and metering as drafts (purposes "rewrite" and "summary").
 */

export { REWRITE_MODE_LABELS, REWRITE_MODES, type RewriteMode } from "./draft-prompt.server";

const log = logger.child({ area: "ai-assist" });

function userOf(ctx: WorkspaceContext): string | null {
  return ctx.actor.type === "user" ? ctx.actor.id : null;
}

async function ask(ticket: AiRequestTicket, prompt: Prompt, what: string): Promise<string> {
  const { generator, record } = ticket;
  let result: TextGenerationResult;
  try {
    result = await generator.generate(prompt);
  } catch (error) {
    const failure = asProviderError(error, what);
    record("error", generator.model, failure.usage);
    log.warn({ kind: failure.kind, status: failure.status, what }, "AI request failed");
    throw providerFailureToAppError(failure, generator.model, {
      feature: INBOX_AI_FEATURE,
      badRequest: "Claude could not do this with this text.",
    });
  }
  const text = result.text.trim();
  if (result.stopReason === "refusal" || text === "") {
    record("error", result.model, result.usage);
    throw new AiAnswerError(
      result.stopReason === "refusal"
        ? "Claude declined to do this."
        : "Claude's answer was empty. Try again.",
    );
  }
  record("ok", result.model, result.usage);
  return text;
}

/** The text rewritten in a mode; the composer shows it in place of the original. */
export async function rewriteText(
  ctx: WorkspaceContext,
  text: string,
  mode: RewriteMode | string,
): Promise<string> {
  assertAiEnabled(ctx);
  if (!(REWRITE_MODES as readonly string[]).includes(mode)) {
    throw new ValidationError("Choose how to rewrite: rephrase, shorten, friendly or formal.", {
      mode: ["Choose how to rewrite: rephrase, shorten, friendly or formal."],
    });
  }
  const clean = text.replace(/\r\n?/g, "\n").trim();
  if (clean === "") {
    throw new ValidationError("Write something first, then ask to rewrite it.", {
      text: ["Write something first, then ask to rewrite it."],
    });
  }
  if (Array.from(clean).length > REWRITE_MAX_CHARS) {
    const message = `Rewrite works on texts of up to ${REWRITE_MAX_CHARS.toLocaleString("en-US")} characters.`;
    throw new ValidationError(message, { text: [message] });
  }
  const ticket = takeAiRequest(ctx, {
    userId: userOf(ctx),
    purpose: "rewrite",
    budget: inboxAiBudget(),
    feature: INBOX_AI_FEATURE,
  });
  return ask(ticket, buildRewritePrompt(clean, mode as RewriteMode), "AI rewrite");
}

/** One paragraph on what the conversation is about and what is still open. */
export async function summariseConversation(
  ctx: WorkspaceContext,
  conversationId: number,
): Promise<string> {
  assertAiEnabled(ctx);
  const conversation = conversationForAi(ctx, conversationId);
  const messages = conversationMessages(ctx, conversationId, DRAFT_HISTORY_MESSAGES);
  if (messages.length === 0) {
    throw new ValidationError(
      "There is nothing to summarise yet: the conversation has no messages.",
    );
  }
  const ticket = takeAiRequest(ctx, {
    userId: userOf(ctx),
    purpose: "summary",
    budget: inboxAiBudget(),
    feature: INBOX_AI_FEATURE,
  });
  const prompt = buildSummaryPrompt({
    workspaceName: workspaceName(ctx.workspaceId),
    contactName: conversation.contact.name,
    messages,
  });
  return asParagraph(await ask(ticket, prompt, "AI summary"));
}
