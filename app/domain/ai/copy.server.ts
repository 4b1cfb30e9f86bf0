import { eq } from "drizzle-orm";
import { z } from "zod";
import {
  AiProviderError,
  createAnthropicGenerator,
  type TextGenerationResult,
  type TextGenerator,
  type TokenUsage,
} from "~/channels/anthropic/client.server";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { getEnv, type Env } from "~/lib/env.server";
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  validationErrorFromIssues,
} from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import type { SystemContext } from "../context";
import { assertNotLocked, recordHit, type LimitPolicy } from "../security/rate-limit.server";
import {
  buildCopyPrompt,
  CHANNEL_SPECS,
  COPY_CHANNELS,
  parseSuggestions,
  smsSegments,
  type CopyChannel,
} from "./copy-prompt.server";
import { recordAiUsage, type AiOutcome } from "./usage.server";

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

/** ANTHROPIC_API_KEY is not set: the feature is off on this server. */
export class AiNotConfiguredError extends AppError {
  constructor() {
    super(
      "AI writing is not configured on this server: set ANTHROPIC_API_KEY.",
      409,
      "ai_not_configured",
    );
  }
}

/** Claude could not answer now (busy, down, slow, or this server's key was refused). */
export class AiUnavailableError extends AppError {
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options: { status?: number; retryAfterSeconds?: number } = {}) {
    super(message, options.status ?? 503, "ai_unavailable");
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Claude answered, but not with anything usable (refused, or not in the asked-for shape). */
export class AiAnswerError extends AppError {
  constructor(message: string, status = 502) {
    super(message, status, "ai_answer_unusable");
  }
}

export const BUSY_MESSAGE = "Claude is busy, try again in a minute.";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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

/** Only `workspaceId`, `actor` and `now` are used: a WorkspaceContext will do. */
export type AiContext = SystemContext & { workspaceId: string };

export function aiConfigured(): boolean {
  return Boolean(getEnv().ANTHROPIC_API_KEY);
}

/** What the UI needs to know before it offers the feature. */
export function aiWriterStatus(): { configured: boolean; requestsPerHour: number } {
  const env = getEnv();
  return { configured: Boolean(env.ANTHROPIC_API_KEY), requestsPerHour: env.AI_REQUESTS_PER_HOUR };
}

function aiPolicy(env: Env): LimitPolicy {
  // N requests in an hour, then a wait of an hour from the one that reached the limit.
  return { limit: env.AI_REQUESTS_PER_HOUR, windowMs: HOUR, lockoutMs: HOUR, maxLockoutMs: HOUR };
}

export function aiRateLimitKey(workspaceId: string): string {
  return `ai-copy:workspace:${workspaceId}`;
}

let cachedGenerator: { key: string; generator: TextGenerator } | undefined;

function generatorFor(env: Env, apiKey: string): TextGenerator {
  const key = [apiKey, env.ANTHROPIC_BASE_URL, env.ANTHROPIC_MODEL, env.ANTHROPIC_TIMEOUT_MS].join(
    "\n",
  );
  if (cachedGenerator?.key !== key) {
    cachedGenerator = {
      key,
      generator: createAnthropicGenerator({
        apiKey,
        baseURL: env.ANTHROPIC_BASE_URL,
        model: env.ANTHROPIC_MODEL,
        timeoutMs: env.ANTHROPIC_TIMEOUT_MS,
      }),
    };
  }
  return cachedGenerator.generator;
}

function workspaceName(workspaceId: string): string {
  const row = getControlDb()
    .select({ name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!row) throw new NotFoundError("Workspace");
  return row.name;
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

function toAppError(error: AiProviderError, model: string): AppError {
  switch (error.kind) {
    case "auth":
      return new AiUnavailableError(
        "AI writing is unavailable: Anthropic refused this server's API key. Ask the operator to check ANTHROPIC_API_KEY.",
      );
    case "request":
      if (error.status === 404) {
        return new AiUnavailableError(
          `AI writing is unavailable: the model "${model}" is not available. Ask the operator to check ANTHROPIC_MODEL.`,
        );
      }
      return new AiAnswerError("Claude could not write this. Try a shorter or different brief.");
    case "aborted":
      return new AppError("The request was cancelled.", 400, "cancelled");
    default:
      // rate_limited, overloaded, server, timeout, network: all passing conditions.
      return new AiUnavailableError(BUSY_MESSAGE, {
        retryAfterSeconds: Math.max(60, error.retryAfterSeconds ?? 0),
      });
  }
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
  const env = getEnv();
  const at = ctx.now();
  const record = (outcome: AiOutcome, model: string, usage?: TokenUsage) =>
    recordAiUsage({
      workspaceId: ctx.workspaceId,
      userId: request.userId,
      at,
      model,
      purpose: input.channel,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
      outcome,
    });

  const apiKey = env.ANTHROPIC_API_KEY;
  if (!apiKey) {
    record("not_configured", env.ANTHROPIC_MODEL);
    throw new AiNotConfiguredError();
  }

  const key = aiRateLimitKey(ctx.workspaceId);
  try {
    assertNotLocked([key], at);
  } catch (error) {
    if (!(error instanceof RateLimitedError)) throw error;
    record("rate_limited", env.ANTHROPIC_MODEL);
    const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
    throw new RateLimitedError(
      error.retryAfterSeconds,
      `This workspace has used its ${env.AI_REQUESTS_PER_HOUR} AI writing requests for this hour. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    );
  }
  recordHit(key, aiPolicy(env), at);

  const prompt = buildCopyPrompt({ ...input, workspaceName: workspaceName(ctx.workspaceId) });
  const generator = generatorFor(env, apiKey);
  const log = logger.child({ workspaceId: ctx.workspaceId, purpose: input.channel });

  return {
    channel: input.channel,
    async run(onText, options = {}) {
      let result: TextGenerationResult;
      try {
        result = await generator.generate({ ...prompt, onText, signal: options.signal });
      } catch (error) {
        const failure =
          error instanceof AiProviderError
            ? error
            : new AiProviderError("AI copy failed", "server", { cause: error });
        record("error", generator.model, failure.usage);
        log[failure.kind === "aborted" ? "info" : "warn"](
          { kind: failure.kind, status: failure.status, err: failure.message },
          "AI copy request failed",
        );
        throw toAppError(failure, generator.model);
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
