// Fake Anthropic Messages API: POST /v1/messages, plain JSON or streamed as server-sent events,
// on the path the SDK derives from ANTHROPIC_BASE_URL.
//
// Authentication: the key in `x-api-key` (the documented header) or `Authorization: Bearer`
// (what @anthropic-ai/sdk 1.x sends for `apiKey`); `anthropic-version` is required and must be
// one the SDKs send. Errors use the API's shape {type: "error", error: {type, message},
// request_id}. The streamed event sequence is the documented one:
//   message_start, content_block_start, ping, content_block_delta (text_delta) x N,
//   content_block_stop, message_delta (stop_reason + usage.output_tokens), message_stop
// each as `event: <type>` + `data: <json>` and a blank line.
//
// The reply text is scripted with `respondWith(text | (request) => text)`. Token counts are
// estimated as characters / 4 so tests can assert they are passed on. Faults come from base.ts
// (`rateLimit`, `overloaded`, `serverError` shape them like Anthropic's); `failStreamAfter`
// breaks the next stream halfway with an `error` event, as the API does when it overloads
// mid-answer. `hold()` keeps the next answer back until the test releases it (races with what
// happens meanwhile); `timeout()` never answers, so the client's own timeout has to fire.
import { randomBytes } from "node:crypto";
import {
  createFakeServer,
  type FakeReply,
  type FakeRequest,
  type FakeServer,
  type Fault,
} from "./base";

export const FAKE_ANTHROPIC_API_KEY = "sk-ant-api03-fake-engage-0000000000";

/** Versions the SDKs send: the classic one and @anthropic-ai/sdk 1.x's. */
export const ANTHROPIC_VERSIONS = ["2023-06-01", "2026-10-21"] as const;

export interface AnthropicFakeMessage {
  role: "user" | "assistant";
  /** Text of the message (text blocks joined with "\n"). */
  text: string;
}

/** One accepted POST /v1/messages, parsed. */
export interface AnthropicFakeCall {
  model: string;
  maxTokens: number;
  stream: boolean;
  /** The system prompt as text ("" when absent). */
  system: string;
  messages: AnthropicFakeMessage[];
  /** The whole JSON body as sent. */
  body: Record<string, unknown>;
  /** Which header carried the key. */
  auth: "x-api-key" | "bearer";
  version: string;
}

export type AnthropicReply = string | ((call: AnthropicFakeCall) => string);

export interface AnthropicFakeOptions {
  port?: number;
  /** Keys accepted; default [FAKE_ANTHROPIC_API_KEY]. */
  apiKeys?: string[];
  /** Default: three short suggestions separated by lines of "---". */
  reply?: AnthropicReply;
  /** Characters per text_delta (code points), default 8. */
  chunkSize?: number;
}

export interface AnthropicFakeFaultOptions {
  /** How many requests fail (default 1). The SDK retries once, so 2 makes a call fail. */
  times?: number;
}

export interface AnthropicHold {
  arrived: Promise<AnthropicFakeCall>;
  release(): void;
}

export interface AnthropicFake extends FakeServer {
  /** Accepted message requests, oldest first (what the app actually asked Claude). */
  readonly calls: AnthropicFakeCall[];
  respondWith(reply: AnthropicReply): void;
  addApiKey(key: string): void;
  /** 429 rate_limit_error with Retry-After (seconds, default 0: the SDK retries at once). */
  rateLimit(options?: AnthropicFakeFaultOptions & { retryAfterSeconds?: number }): void;
  /** 529 overloaded_error. */
  overloaded(options?: AnthropicFakeFaultOptions): void;
  /** 500 api_error. */
  serverError(options?: AnthropicFakeFaultOptions): void;
  /**
   * The next request is accepted (and recorded) but not answered until `release()`; `arrived`
   * resolves when it has come in. The answer is whatever `respondWith` says at release time.
   */
  hold(): AnthropicHold;
  /** The next `times` requests (default 2: the SDK retries once) never get an answer. */
  timeout(options?: AnthropicFakeFaultOptions): void;
  /** The next stream sends `deltas` text deltas, then an `error` event, and ends. */
  failStreamAfter(deltas: number, type?: "overloaded_error" | "api_error"): void;
  clearCalls(): void;
}

export const DEFAULT_ANTHROPIC_REPLY = [
  "Diwali offers are here! Take 20% off everything until Sunday.",
  "Light up your Diwali: 20% off storewide, this week only.",
  "Your festive treat: 20% off all orders until Sunday night.",
].join("\n---\n");

function errorBody(type: string, message: string) {
  return { type: "error", error: { type, message }, request_id: requestId() };
}

function requestId(): string {
  return `req_fake_${randomBytes(9).toString("hex")}`;
}

/** Anthropic-shaped faults for base.ts `injectFault`. */
export function anthropicFault(
  kind: "rate_limited" | "overloaded" | "server_error",
  retryAfterSeconds = 0,
): Fault {
  if (kind === "rate_limited") {
    return {
      kind: "status",
      status: 429,
      headers: { "retry-after": String(retryAfterSeconds), "request-id": requestId() },
      json: errorBody(
        "rate_limit_error",
        "This request would exceed your organization's rate limit. Please try again later.",
      ),
    };
  }
  if (kind === "overloaded") {
    return {
      kind: "status",
      status: 529,
      headers: { "request-id": requestId() },
      json: errorBody("overloaded_error", "Overloaded"),
    };
  }
  return {
    kind: "status",
    status: 500,
    headers: { "request-id": requestId() },
    json: errorBody("api_error", "Internal server error"),
  };
}

/** Rough token count, like the API's for English: about four characters a token. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function textOf(content: unknown): string | null {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  const parts: string[] = [];
  for (const block of content as unknown[]) {
    if (typeof block !== "object" || block === null) return null;
    const b = block as { type?: unknown; text?: unknown };
    if (typeof b.type !== "string") return null;
    if (b.type === "text") {
      if (typeof b.text !== "string") return null;
      parts.push(b.text);
    }
  }
  return parts.join("\n");
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function createAnthropicFake(options: AnthropicFakeOptions = {}): AnthropicFake {
  const keys = new Set(options.apiKeys ?? [FAKE_ANTHROPIC_API_KEY]);
  const chunkSize = Math.max(1, options.chunkSize ?? 8);
  const calls: AnthropicFakeCall[] = [];
  let reply: AnthropicReply = options.reply ?? DEFAULT_ANTHROPIC_REPLY;
  let streamFailures: { deltas: number; type: string }[] = [];
  let holds: { reached(call: AnthropicFakeCall): void; released: Promise<void> }[] = [];
  let seq = 0;

  const invalid = (message: string): FakeReply => ({
    status: 400,
    json: errorBody("invalid_request_error", message),
  });

  function authenticate(req: FakeRequest): { auth: AnthropicFakeCall["auth"] } | FakeReply {
    const apiKey = req.headers["x-api-key"];
    const authorization = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    const key = apiKey ?? bearer;
    if (!key) {
      return {
        status: 401,
        json: errorBody("authentication_error", "x-api-key header is required"),
      };
    }
    if (!keys.has(key)) {
      return { status: 401, json: errorBody("authentication_error", "invalid x-api-key") };
    }
    return { auth: apiKey !== undefined ? "x-api-key" : "bearer" };
  }

  function parse(req: FakeRequest, auth: AnthropicFakeCall["auth"]): AnthropicFakeCall | FakeReply {
    const version = req.headers["anthropic-version"];
    if (!version) return invalid("anthropic-version: header is required");
    if (!(ANTHROPIC_VERSIONS as readonly string[]).includes(version)) {
      return invalid(`anthropic-version: unknown version ${version}`);
    }
    let body: unknown;
    try {
      body = req.json();
    } catch {
      return invalid("The request body is not valid JSON.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return invalid("The request body must be a JSON object.");
    }
    const b = body as Record<string, unknown>;
    if (typeof b.model !== "string" || b.model === "") return invalid("model: Field required");
    if (typeof b.max_tokens !== "number" || !Number.isInteger(b.max_tokens) || b.max_tokens < 0) {
      return invalid("max_tokens: Field required");
    }
    if (!Array.isArray(b.messages) || b.messages.length === 0) {
      return invalid("messages: at least one message is required");
    }
    const messages: AnthropicFakeMessage[] = [];
    for (const [i, m] of (b.messages as unknown[]).entries()) {
      const msg = (typeof m === "object" && m !== null ? m : {}) as Record<string, unknown>;
      const text = textOf(msg.content);
      if ((msg.role !== "user" && msg.role !== "assistant") || text === null) {
        return invalid(`messages.${i}: role and content are required`);
      }
      messages.push({ role: msg.role, text });
    }
    let system = "";
    if (b.system !== undefined) {
      const text = textOf(b.system);
      if (text === null) return invalid("system: must be a string or a list of text blocks");
      system = text;
    }
    if (b.stream !== undefined && typeof b.stream !== "boolean") {
      return invalid("stream: must be a boolean");
    }
    return {
      model: b.model,
      maxTokens: b.max_tokens,
      stream: b.stream === true,
      system,
      messages,
      body: b,
      auth,
      version,
    };
  }

  function answer(call: AnthropicFakeCall): FakeReply {
    let text = typeof reply === "function" ? reply(call) : reply;
    let stopReason = "end_turn";
    // Like the API: an answer longer than max_tokens stops there.
    if (estimateTokens(text) > call.maxTokens) {
      text = Array.from(text)
        .slice(0, call.maxTokens * 4)
        .join("");
      stopReason = "max_tokens";
    }
    seq += 1;
    const id = `msg_fake_${String(seq).padStart(6, "0")}_${randomBytes(4).toString("hex")}`;
    const inputTokens =
      estimateTokens(call.system) +
      call.messages.reduce((sum, m) => sum + estimateTokens(m.text), 0) +
      3;
    const outputTokens = Math.max(1, estimateTokens(text));
    const headers = { "request-id": requestId() };

    if (!call.stream) {
      return {
        status: 200,
        headers,
        json: {
          id,
          type: "message",
          role: "assistant",
          model: call.model,
          content: [{ type: "text", text, citations: null }],
          stop_reason: stopReason,
          stop_sequence: null,
          stop_details: null,
          container: null,
          usage: {
            input_tokens: inputTokens,
            output_tokens: outputTokens,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            service_tier: "standard",
          },
        },
      };
    }

    const failure = streamFailures.shift();
    const points = Array.from(text);
    const chunks: string[] = [];
    for (let i = 0; i < points.length; i += chunkSize) {
      chunks.push(points.slice(i, i + chunkSize).join(""));
    }
    let body = sse("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: call.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        stop_details: null,
        container: null,
        usage: {
          input_tokens: inputTokens,
          output_tokens: 1,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          service_tier: "standard",
        },
      },
    });
    body += sse("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "", citations: null },
    });
    body += sse("ping", { type: "ping" });
    for (const [i, chunk] of chunks.entries()) {
      if (failure && i >= failure.deltas) break;
      body += sse("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: chunk },
      });
    }
    if (failure) {
      body += sse("error", {
        type: "error",
        error: {
          type: failure.type,
          message: failure.type === "overloaded_error" ? "Overloaded" : "Internal server error",
        },
        request_id: headers["request-id"],
      });
    } else {
      body += sse("content_block_stop", { type: "content_block_stop", index: 0 });
      body += sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null, stop_details: null },
        usage: { output_tokens: outputTokens },
      });
      body += sse("message_stop", { type: "message_stop" });
    }
    return {
      status: 200,
      headers: {
        ...headers,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
      },
      body,
    };
  }

  const fake = createFakeServer({
    name: "anthropic",
    port: options.port,
    routes: [
      {
        method: "POST",
        path: "/v1/messages",
        handler: async (req) => {
          const auth = authenticate(req);
          if (!("auth" in auth)) return auth;
          const call = parse(req, auth.auth);
          if (!("messages" in call)) return call;
          calls.push(call);
          const hold = holds.shift();
          if (hold) {
            hold.reached(call);
            await hold.released;
          }
          return answer(call);
        },
      },
    ],
  });

  const match = { method: "POST", path: "/v1/messages" };
  const extras = {
    get calls(): AnthropicFakeCall[] {
      return calls;
    },
    respondWith(next: AnthropicReply): void {
      reply = next;
    },
    addApiKey(key: string): void {
      keys.add(key);
    },
    rateLimit(opts: AnthropicFakeFaultOptions & { retryAfterSeconds?: number } = {}): void {
      fake.injectFault(anthropicFault("rate_limited", opts.retryAfterSeconds ?? 0), {
        times: opts.times ?? 1,
        match,
      });
    },
    overloaded(opts: AnthropicFakeFaultOptions = {}): void {
      fake.injectFault(anthropicFault("overloaded"), { times: opts.times ?? 1, match });
    },
    serverError(opts: AnthropicFakeFaultOptions = {}): void {
      fake.injectFault(anthropicFault("server_error"), { times: opts.times ?? 1, match });
    },
    hold(): AnthropicHold {
      let reached!: (call: AnthropicFakeCall) => void;
      let release!: () => void;
      const arrived = new Promise<AnthropicFakeCall>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ reached, released });
      return { arrived, release };
    },
    timeout(opts: AnthropicFakeFaultOptions = {}): void {
      fake.injectFault({ kind: "hang" }, { times: opts.times ?? 2, match });
    },
    failStreamAfter(deltas: number, type: "overloaded_error" | "api_error" = "overloaded_error") {
      streamFailures.push({ deltas: Math.max(0, deltas), type });
    },
    clearCalls(): void {
      calls.length = 0;
      streamFailures = [];
      holds = [];
    },
  };
  // defineProperties (not Object.assign) keeps `calls` a live getter.
  return Object.defineProperties(fake, Object.getOwnPropertyDescriptors(extras)) as AnthropicFake;
}
