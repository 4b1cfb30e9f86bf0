import { z } from "zod";
import { type TextGenerationResult, type TokenUsage } from "~/channels/anthropic/client.server";
import { getEnv, type Env } from "~/lib/env.server";
import { ForbiddenError, validationErrorFromIssues } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import {
  AiAnswerError,
  aiBudgetKey,
  asProviderError,
  providerFailureToAppError,
  takeAiRequest,
  workspaceName,
  type AiBudget,
  type AiContext,
} from "./claude.server";
import {
  buildCopyPrompt,
  CHANNEL_SPECS,
  COPY_CHANNELS,
  parseSuggestions,
  smsSegments,
  type CopyChannel,
} from "./copy-prompt.server";

/**
 * "Write with AI" for message copy: three suggestions from Claude for a brief, streamed.
 *
 * What reaches Anthropic (privacy policy: "AI content suggestions", prompt content only): the
 * brief, tone, language and channel the marketer typed, and the workspace's name. Nothing
 * from contacts, lists, segments or messages: these functions take no such input and read
 * none. Every request is metered in ai_usage (tokens and outcome, never the text) and limited
 * per workspace (AI_REQUESTS_PER_HOUR).
 */

export { COPY_CHANNELS, type CopyChannel } from "./copy-prompt.server";

export {
  AiAnswerError,
  aiConfigured,
  AiNotConfiguredError,
  AiUnavailableError,
  BUSY_MESSAGE,
  type AiContext,
} from "./claude.server";

/** Labels that go into the system prompt: one line of letters, digits and light punctuation. */
const LABEL = /^[\p{L}\p{M}\p{N} ()'’.,&/+-]+$/u;

function blankToUndefined(value: unknown): unknown {
  return typeof value === "string" && value.trim() === "" ? undefined : value;
}

const label = (what: string, fallback: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string({ error: `Choose a ${what}.` })
      .trim()
      .max(40, `Keep the ${what} under 40 characters.`)
      .regex(LABEL, `The ${what} can only use letters, digits, spaces and simple punctuation.`)
      .default(fallback),
  );

const CopyInputSchema = z.object({
  channel: z.enum(COPY_CHANNELS, { error: "Choose what to write: a channel." }),
  brief: z
    .string({ error: "Describe the message you want." })
    // Control characters (other than line breaks and tabs) have no place in a brief.
    .transform((v) => v.replace(/[^\P{Cc}\n\t]/gu, "").trim())
    .pipe(
      z
        .string()
        .min(5, "Describe the message in at least 5 characters.")
        .max(1_000, "Keep the brief under 1,000 characters."),
    ),
  tone: label("tone", "Friendly"),
  language: label("language", "English"),
});

export interface CopyRequest {
  /** Must be the context's workspace: a guard against mixing tenants up. */
  workspaceId: string;
  /** Who asked, for the usage record (null for API keys and jobs). */
  userId: string | null;
  channel: CopyChannel | string;
  /** What the message is about, 5–1,000 characters. Never contact data. */
  brief: string;
  /** e.g. Friendly, Professional, Festive; ≤ 40 characters. Default Friendly. */
  tone?: string;
  /** e.g. English, Hindi, Hinglish, Tamil; free text ≤ 40 characters. Default English. */
  language?: string;
}

export interface SuggestionCheck {
  /** Characters (code points). */
  characters: number;
  /** The channel's limit (SMS: one segment's characters). */
  limit: number;
  withinLimit: boolean;
  /** SMS only. */
  sms?: { encoding: "GSM-7" | "UCS-2"; segments: number };
}

export interface CopyResult {
  /** Up to three suggestions; three unless Claude's answer was cut short. */
  suggestions: string[];
  /** One per suggestion: its length against the channel's limit. */
  checks: SuggestionCheck[];
  model: string;
  usage: TokenUsage;
}

export interface CopyJob {
  channel: CopyChannel;
  /** Asks Claude; `onText` receives the answer as it is written (separator lines included). */
  run(onText?: (delta: string) => void, options?: { signal?: AbortSignal }): Promise<CopyResult>;
}

/** What the UI needs to know before it offers the feature. */
export function aiWriterStatus(): { configured: boolean; requestsPerHour: number } {
  const env = getEnv();
  return { configured: Boolean(env.ANTHROPIC_API_KEY), requestsPerHour: env.AI_REQUESTS_PER_HOUR };
}

function copyBudget(env: Env): AiBudget {
  return { name: "ai-copy", perHour: env.AI_REQUESTS_PER_HOUR, label: "AI writing" };
}

export function aiRateLimitKey(workspaceId: string): string {
  return aiBudgetKey({ name: "ai-copy" }, workspaceId);
}

function parseInput(input: CopyRequest) {
  const result = CopyInputSchema.safeParse(input);
  if (result.success) return result.data;
  throw validationErrorFromIssues(result.error.issues);
}

function checkOf(text: string, channel: CopyChannel): SuggestionCheck {
  const characters = Array.from(text).length;
  if (channel === "sms") {
    const sms = smsSegments(text);
    const limit = sms.encoding === "GSM-7" ? 160 : 70;
    return { characters, limit, withinLimit: sms.segments === 1, sms };
  }
  const limit = CHANNEL_SPECS[channel].maxChars;
  return { characters, limit, withinLimit: characters <= limit };
}

/**
 * Checks everything that can be checked before Claude is asked (input, configuration, the
 * workspace's limit) and counts the request against the limit. Throws ValidationError,
 * AiNotConfiguredError or RateLimitedError, so a route can answer 4xx before it starts
 * streaming; `run` then asks Claude.
 */
export function prepareCopy(ctx: AiContext, request: CopyRequest): CopyJob {
  if (request.workspaceId !== ctx.workspaceId) throw new ForbiddenError();
  const input = parseInput(request);
  const { generator, record } = takeAiRequest(ctx, {
    userId: request.userId,
    purpose: input.channel,
    budget: copyBudget(getEnv()),
    feature: "AI writing",
  });

  const prompt = buildCopyPrompt({ ...input, workspaceName: workspaceName(ctx.workspaceId) });
  const log = logger.child({ workspaceId: ctx.workspaceId, purpose: input.channel });

  return {
    channel: input.channel,
    async run(onText, options = {}) {
      let result: TextGenerationResult;
      try {
        result = await generator.generate({ ...prompt, onText, signal: options.signal });
      } catch (error) {
        const failure = asProviderError(error, "AI copy");
        record("error", generator.model, failure.usage);
        log[failure.kind === "aborted" ? "info" : "warn"](
          { kind: failure.kind, status: failure.status, err: failure.message },
          "AI copy request failed",
        );
        throw providerFailureToAppError(failure, generator.model, {
          feature: "AI writing",
          badRequest: "Claude could not write this. Try a shorter or different brief.",
        });
      }
      if (result.stopReason === "refusal") {
        record("error", result.model, result.usage);
        throw new AiAnswerError("Claude declined to write this. Rephrase the brief.", 422);
      }
      let suggestions = parseSuggestions(result.text, input.channel);
      // Cut off at max_tokens: the last version is unfinished.
      if (result.stopReason === "max_tokens" && suggestions.length > 1) {
        suggestions = suggestions.slice(0, -1);
      }
      if (suggestions.length === 0) {
        record("error", result.model, result.usage);
        log.warn({ stopReason: result.stopReason }, "AI copy answer had no suggestions");
        throw new AiAnswerError("Claude's answer could not be used. Try again.");
      }
      record("ok", result.model, result.usage);
      return {
        suggestions,
        checks: suggestions.map((s) => checkOf(s, input.channel)),
        model: result.model,
        usage: result.usage,
      };
    },
  };
}

/**
 * Three suggestions of message copy for the brief, streaming Claude's text to `onText` as it
 * arrives. Takes only the brief and its settings: no contact data can reach the prompt.
 */
export async function suggestCopy(
  ctx: AiContext,
  request: CopyRequest,
  onText?: (delta: string) => void,
  options?: { signal?: AbortSignal },
): Promise<CopyResult> {
  return prepareCopy(ctx, request).run(onText, options);
}
