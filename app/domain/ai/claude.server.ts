import { eq } from "drizzle-orm";
import {
  AiProviderError,
  createAnthropicGenerator,
  type TextGenerator,
  type TokenUsage,
} from "~/channels/anthropic/client.server";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { getEnv, type Env } from "~/lib/env.server";
import { AppError, NotFoundError, RateLimitedError } from "~/lib/errors";
import type { SystemContext } from "../context";
import { assertNotLocked, recordHit, type LimitPolicy } from "../security/rate-limit.server";
import { recordAiUsage, type AiOutcome } from "./usage.server";

/**
 * The one way every AI feature reaches Claude: the configured generator (ANTHROPIC_* env), the
 * per-workspace hourly budget (the abuse limiter), metering in ai_usage, and the errors people
 * see. Campaign copy and the inbox's drafts, rewrites and summaries all go through here, each
 * with its own budget and `purpose`.
 */

/** Only `workspaceId`, `actor` and `now` are used: a WorkspaceContext will do. */
export type AiContext = SystemContext & { workspaceId: string };

/** ANTHROPIC_API_KEY is not set: the feature is off on this server. */
export class AiNotConfiguredError extends AppError {
  constructor(feature = "AI writing") {
    super(
      `${feature} is not configured on this server: set ANTHROPIC_API_KEY.`,
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

const HOUR = 3_600_000;

export function aiConfigured(): boolean {
  return Boolean(getEnv().ANTHROPIC_API_KEY);
}

let cachedGenerator: { key: string; generator: TextGenerator } | undefined;

/** One generator per configuration, shared by every feature. */
export function generatorFor(env: Env, apiKey: string): TextGenerator {
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

export function workspaceName(workspaceId: string): string {
  const row = getControlDb()
    .select({ name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!row) throw new NotFoundError("Workspace");
  return row.name;
}

/** A per-workspace hourly budget of AI requests. */
export interface AiBudget {
  /** Rate-limit key prefix, e.g. "ai-copy". */
  name: string;
  perHour: number;
  /** How the limit message names the requests, e.g. "AI writing". */
  label: string;
}

export function aiBudgetKey(budget: Pick<AiBudget, "name">, workspaceId: string): string {
  return `${budget.name}:workspace:${workspaceId}`;
}

function policyOf(budget: AiBudget): LimitPolicy {
  // N requests in an hour, then a wait of an hour from the one that reached the limit.
  return { limit: budget.perHour, windowMs: HOUR, lockoutMs: HOUR, maxLockoutMs: HOUR };
}

export interface AiRequestTicket {
  generator: TextGenerator;
  /** Meters the request's end in ai_usage (tokens and outcome, never the text). */
  record(outcome: AiOutcome, model: string, usage?: TokenUsage): void;
}

/**
 * Everything checked before Claude is asked: configured, and within the workspace's budget
 * (the request is counted against it). Refusals are metered too. Throws AiNotConfiguredError
 * (409) or RateLimitedError (429).
 */
export function takeAiRequest(
  ctx: AiContext,
  request: { userId: string | null; purpose: string; budget: AiBudget; feature: string },
): AiRequestTicket {
  const env = getEnv();
  const at = ctx.now();
  const record = (outcome: AiOutcome, model: string, usage?: TokenUsage) =>
    recordAiUsage({
      workspaceId: ctx.workspaceId,
      userId: request.userId,
      at,
      model,
      purpose: request.purpose,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
      outcome,
    });

  const apiKey = env.ANTHROPIC_API_KEY;
  if (!apiKey) {
    record("not_configured", env.ANTHROPIC_MODEL);
    throw new AiNotConfiguredError(request.feature);
  }

  const key = aiBudgetKey(request.budget, ctx.workspaceId);
  try {
    assertNotLocked([key], at);
  } catch (error) {
    if (!(error instanceof RateLimitedError)) throw error;
    record("rate_limited", env.ANTHROPIC_MODEL);
    const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
    throw new RateLimitedError(
      error.retryAfterSeconds,
      `This workspace has used its ${request.budget.perHour} ${request.budget.label} requests for this hour. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    );
  }
  recordHit(key, policyOf(request.budget), at);
  return { generator: generatorFor(env, apiKey), record };
}

/** Any failure of a generator call as an AiProviderError. */
export function asProviderError(error: unknown, what: string): AiProviderError {
  return error instanceof AiProviderError
    ? error
    : new AiProviderError(`${what} failed`, "server", { cause: error });
}

/** A provider failure as the error people see. */
export function providerFailureToAppError(
  error: AiProviderError,
  model: string,
  messages: { feature: string; badRequest: string },
): AppError {
  switch (error.kind) {
    case "auth":
      return new AiUnavailableError(
        `${messages.feature} is unavailable: Anthropic refused this server's API key. Ask the operator to check ANTHROPIC_API_KEY.`,
      );
    case "request":
      if (error.status === 404) {
        return new AiUnavailableError(
          `${messages.feature} is unavailable: the model "${model}" is not available. Ask the operator to check ANTHROPIC_MODEL.`,
        );
      }
      return new AiAnswerError(messages.badRequest);
    case "aborted":
      return new AppError("The request was cancelled.", 400, "cancelled");
    default:
      // rate_limited, overloaded, server, timeout, network: all passing conditions.
      return new AiUnavailableError(BUSY_MESSAGE, {
        retryAfterSeconds: Math.max(60, error.retryAfterSeconds ?? 0),
      });
  }
}
