import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "@anthropic-ai/sdk";
import type { MessageStreamEvent } from "@anthropic-ai/sdk/resources/messages";
import { logger } from "~/lib/logger.server";

/**
 * Claude behind a small interface. The domain asks for
 * text with a system prompt and one user prompt and gets the text, the model and the token
 * counts back; it never sees the SDK. Failures come out as AiProviderError with a kind the
 * domain turns into a message for people. Vendor SDK + lib only: no db, no domain.
 */

export interface TextGenerationRequest {
  system: string;
  prompt: string;
  maxTokens: number;
  /** Each piece of text as it arrives, in order. */
  onText?: (delta: string) => void;
  /** Stops the request (the caller went away). */
  signal?: AbortSignal;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface TextGenerationResult {
  text: string;
  /** The model that answered, as the API names it. */
  model: string;
  /** "end_turn", "max_tokens", "refusal", ... */
  stopReason: string | null;
  usage: TokenUsage;
}

export interface TextGenerator {
  /** The model asked for. */
  readonly model: string;
  generate(request: TextGenerationRequest): Promise<TextGenerationResult>;
}

export type AiFailureKind =
  /** The key was refused (401/403): an operator has to fix ANTHROPIC_API_KEY. */
  | "auth"
  /** 429 from Anthropic. */
  | "rate_limited"
  /** 529 / overloaded_error. */
  | "overloaded"
  /** Other 5xx, or an error event in the middle of the stream. */
  | "server"
  /** No answer in time. */
  | "timeout"
  /** Could not connect. */
  | "network"
  /** 4xx we caused (bad model id, request too large, billing). */
  | "request"
  /** Our caller aborted. */
  | "aborted";

export class AiProviderError extends Error {
  readonly kind: AiFailureKind;
  readonly status?: number;
  /** Retry-After from Anthropic, when it sent one. */
  readonly retryAfterSeconds?: number;
  /** Tokens counted before the failure (a stream that broke halfway is still billed). */
  readonly usage: TokenUsage;
  constructor(
    message: string,
    kind: AiFailureKind,
    options: { status?: number; retryAfterSeconds?: number; usage?: TokenUsage; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = "AiProviderError";
    this.kind = kind;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.usage = options.usage ?? { inputTokens: 0, outputTokens: 0 };
  }
}

export interface AnthropicConfig {
  apiKey: string;
  /** e.g. https://api.anthropic.com, or a fake's http://127.0.0.1:PORT. */
  baseURL: string;
  model: string;
  /** Time to the first byte of an answer, per attempt. The whole answer gets 3x this. */
  timeoutMs: number;
}

const log = logger.child({ provider: "anthropic" });

/** The SDK's own log lines go to our logger, messages only (never request bodies). */
const sdkLogger = {
  error: (message: string) => log.error(message),
  warn: (message: string) => log.warn(message),
  info: (message: string) => log.debug(message),
  debug: (message: string) => log.trace(message),
};

function retryAfterOf(headers: Headers | undefined): number | undefined {
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function classify(error: unknown, usage: TokenUsage, deadline: AbortSignal): AiProviderError {
  if (error instanceof AiProviderError) return error;
  if (
    error instanceof APIUserAbortError ||
    (error instanceof Error && error.name === "AbortError")
  ) {
    return deadline.aborted
      ? new AiProviderError("Claude did not finish in time", "timeout", { usage, cause: error })
      : new AiProviderError("The request was cancelled", "aborted", { usage, cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new AiProviderError("Claude did not answer in time", "timeout", { usage, cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new AiProviderError("Could not reach Claude", "network", { usage, cause: error });
  }
  if (error instanceof APIError) {
    const status = typeof error.status === "number" ? error.status : undefined;
    const type = error.type;
    const retryAfterSeconds = retryAfterOf(error.headers ?? undefined);
    const options = { status, retryAfterSeconds, usage, cause: error };
    const detail = `Anthropic ${status ?? "stream"} ${type ?? "error"}`;
    if (status === 401 || status === 403 || type === "authentication_error") {
      return new AiProviderError(detail, "auth", options);
    }
    if (status === 429 || type === "rate_limit_error") {
      return new AiProviderError(detail, "rate_limited", options);
    }
    if (status === 529 || type === "overloaded_error") {
      return new AiProviderError(detail, "overloaded", options);
    }
    if (status === 408 || status === 504 || type === "timeout_error") {
      return new AiProviderError(detail, "timeout", options);
    }
    if (status === undefined || status >= 500) {
      return new AiProviderError(detail, "server", options);
    }
    return new AiProviderError(detail, "request", options);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AiProviderError(`Claude call failed: ${message}`, "server", { usage, cause: error });
}

/**
 * A generator on the Messages API, streaming. One retry (the SDK's, honouring Retry-After),
 * a per-attempt timeout to the first byte and a deadline for the whole answer.
 */
export function createAnthropicGenerator(config: AnthropicConfig): TextGenerator {
  const client = new Anthropic({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    maxRetries: 1,
    timeout: config.timeoutMs,
    // Prompts are the customer's words: never into traces, whatever the environment says.
    openTelemetry: false,
    logger: sdkLogger,
    logLevel: "warn",
  });

  return {
    model: config.model,
    async generate(request) {
      const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
      const deadline = AbortSignal.timeout(config.timeoutMs * 3);
      const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
      try {
        const stream = client.messages.stream(
          {
            model: config.model,
            max_tokens: request.maxTokens,
            system: request.system,
            messages: [{ role: "user", content: request.prompt }],
          },
          { signal },
        );
        // Counted as they arrive, so a stream that breaks halfway still reports what it cost.
        stream.on("streamEvent", (event: MessageStreamEvent) => {
          if (event.type === "message_start") {
            usage.inputTokens = event.message.usage.input_tokens;
            usage.outputTokens = event.message.usage.output_tokens;
          } else if (event.type === "message_delta") {
            usage.outputTokens = event.usage.output_tokens;
            if (event.usage.input_tokens != null) usage.inputTokens = event.usage.input_tokens;
          }
        });
        if (request.onText) {
          const onText = request.onText;
          stream.on("text", (delta: string) => onText(delta));
        }
        const message = await stream.finalMessage();
        const text = message.content
          .flatMap((block) => (block.type === "text" ? [block.text] : []))
          .join("");
        return {
          text,
          model: message.model,
          stopReason: message.stop_reason,
          usage: {
            inputTokens: message.usage.input_tokens,
            outputTokens: message.usage.output_tokens,
          },
        };
      } catch (error) {
        throw classify(error, usage, deadline);
      }
    },
  };
}
