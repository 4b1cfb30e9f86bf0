import Anthropic, { APIError, AuthenticationError, RateLimitError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import {
  createAnthropicFake,
  DEFAULT_ANTHROPIC_REPLY,
  FAKE_ANTHROPIC_API_KEY,
  type AnthropicFake,
  type AnthropicFakeOptions,
} from "./anthropic";
import { fakeFactories } from "./registry";

const running: AnthropicFake[] = [];

async function start(options?: AnthropicFakeOptions): Promise<AnthropicFake> {
  const fake = createAnthropicFake(options);
  running.push(fake);
  await fake.start();
  return fake;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

function sdk(fake: AnthropicFake, apiKey = FAKE_ANTHROPIC_API_KEY, maxRetries = 0): Anthropic {
  return new Anthropic({
    apiKey,
    baseURL: fake.url,
    maxRetries,
    timeout: 5_000,
    openTelemetry: false,
    logLevel: "off",
  });
}

const BODY = {
  model: "claude-sonnet-4-6",
  max_tokens: 256,
  system: "Be brief.",
  messages: [{ role: "user", content: "Say hello" }],
};

function post(fake: AnthropicFake, headers: Record<string, string>, body: unknown = BODY) {
  return fetch(`${fake.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Parses a text/event-stream body into [event, data] pairs. */
function events(text: string): [string, unknown][] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
      return [event, JSON.parse(data) as unknown];
    });
}

describe("anthropic fake", () => {
  it("is registered for npm run fakes under ANTHROPIC_BASE_URL", () => {
    expect(fakeFactories.anthropic?.envVar).toBe("ANTHROPIC_BASE_URL");
  });

  it("answers a plain request with a message, on x-api-key or a bearer key", async () => {
    const fake = await start({ reply: "Hello there" });
    const auths: Record<string, string>[] = [
      { "x-api-key": FAKE_ANTHROPIC_API_KEY },
      { authorization: `Bearer ${FAKE_ANTHROPIC_API_KEY}` },
    ];
    for (const auth of auths) {
      const res = await post(fake, { ...auth, "anthropic-version": "2023-06-01" });
      expect(res.status).toBe(200);
      expect(res.headers.get("request-id")).toMatch(/^req_/);
      expect(await res.json()).toMatchObject({
        id: expect.stringMatching(/^msg_/) as unknown,
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-6",
        content: [{ type: "text", text: "Hello there" }],
        stop_reason: "end_turn",
        usage: { input_tokens: expect.any(Number) as unknown, output_tokens: 3 },
      });
    }
    expect(fake.calls.map((c) => c.auth)).toEqual(["x-api-key", "bearer"]);
    expect(fake.calls[0]).toMatchObject({
      system: "Be brief.",
      messages: [{ role: "user", text: "Say hello" }],
      maxTokens: 256,
      stream: false,
    });
  });

  it("refuses unknown or missing keys with 401 authentication_error, and checks anthropic-version", async () => {
    const fake = await start();
    const wrong = await post(fake, { "x-api-key": "sk-wrong", "anthropic-version": "2023-06-01" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
    const none = await post(fake, { "anthropic-version": "2023-06-01" });
    expect(none.status).toBe(401);
    const noVersion = await post(fake, { "x-api-key": FAKE_ANTHROPIC_API_KEY });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({
      error: { type: "invalid_request_error", message: "anthropic-version: header is required" },
    });
    const badBody = await post(
      fake,
      { "x-api-key": FAKE_ANTHROPIC_API_KEY, "anthropic-version": "2023-06-01" },
      { model: "claude-sonnet-4-6", messages: [] },
    );
    expect(badBody.status).toBe(400);
    expect(fake.calls).toHaveLength(0);
  });

  it("streams the documented event sequence", async () => {
    const fake = await start({ reply: "abcdefghij", chunkSize: 4 });
    const res = await post(
      fake,
      {
        "x-api-key": FAKE_ANTHROPIC_API_KEY,
        "anthropic-version": "2023-06-01",
      },
      { ...BODY, stream: true },
    );
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const list = events(await res.text());
    expect(list.map(([e]) => e)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const [event, data] of list) expect((data as { type: string }).type).toBe(event);
    expect(list.slice(3, 6).map(([, d]) => (d as { delta: { text: string } }).delta)).toEqual([
      { type: "text_delta", text: "abcd" },
      { type: "text_delta", text: "efgh" },
      { type: "text_delta", text: "ij" },
    ]);
    expect(list[7]![1]).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 3 },
    });
  });

  it("is read by the real SDK, streaming and not", async () => {
    const fake = await start();
    const client = sdk(fake);
    const message = await client.messages.create(BODY as Anthropic.MessageCreateParamsNonStreaming);
    expect(message.content).toEqual([
      { type: "text", text: DEFAULT_ANTHROPIC_REPLY, citations: null },
    ]);

    fake.respondWith((call) => `You said: ${call.messages[0]!.text}`);
    const deltas: string[] = [];
    const stream = client.messages.stream(BODY as Anthropic.MessageCreateParamsNonStreaming);
    stream.on("text", (d) => deltas.push(d));
    const final = await stream.finalMessage();
    expect(deltas.join("")).toBe("You said: Say hello");
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.content[0]).toMatchObject({ type: "text", text: "You said: Say hello" });
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBe(Math.ceil("You said: Say hello".length / 4));
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    // What the SDK sends: the key as a bearer token and its API version.
    expect(fake.calls[1]).toMatchObject({ auth: "bearer", version: "2026-10-21", stream: true });
  });

  it("stops at max_tokens like the API", async () => {
    const fake = await start({ reply: "x".repeat(100) });
    const message = await sdk(fake).messages.create({ ...BODY, max_tokens: 5 } as never);
    expect(message).toMatchObject({ stop_reason: "max_tokens" });
    expect((message as Anthropic.Message).content[0]).toMatchObject({ text: "x".repeat(20) });
  });

  it("injects 429 with retry-after, 529 and 500 in Anthropic's shape; the SDK sees them", async () => {
    const fake = await start();
    const client = sdk(fake);
    fake.rateLimit({ retryAfterSeconds: 7 });
    const limited = await client.messages.create(BODY as never).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers?.get("retry-after")).toBe("7");
    expect((limited as RateLimitError).type).toBe("rate_limit_error");

    fake.overloaded();
    const overloaded = (await client.messages
      .create(BODY as never)
      .catch((e: unknown) => e)) as APIError;
    expect([overloaded.status, overloaded.type]).toEqual([529, "overloaded_error"]);

    fake.serverError();
    const failed = (await client.messages
      .create(BODY as never)
      .catch((e: unknown) => e)) as APIError;
    expect([failed.status, failed.type]).toEqual([500, "api_error"]);

    const unauthorised = await sdk(fake, "sk-nope")
      .messages.create(BODY as never)
      .catch((e: unknown) => e);
    expect(unauthorised).toBeInstanceOf(AuthenticationError);
  });

  it("the SDK's one retry gets past a single 429", async () => {
    const fake = await start({ reply: "after the retry" });
    fake.rateLimit({ retryAfterSeconds: 0 });
    const message = await sdk(fake, FAKE_ANTHROPIC_API_KEY, 1).messages.create(BODY as never);
    expect((message as Anthropic.Message).content[0]).toMatchObject({ text: "after the retry" });
    expect(fake.requests.filter((r) => r.path === "/v1/messages")).toHaveLength(2);
  });

  it("can break a stream halfway with an error event", async () => {
    const fake = await start({ reply: "a".repeat(40), chunkSize: 10 });
    fake.failStreamAfter(2);
    const deltas: string[] = [];
    const stream = sdk(fake).messages.stream(BODY as Anthropic.MessageCreateParamsNonStreaming);
    stream.on("text", (d) => deltas.push(d));
    const error = (await stream.finalMessage().catch((e: unknown) => e)) as APIError;
    expect(error).toBeInstanceOf(APIError);
    expect(error.type).toBe("overloaded_error");
    expect(deltas).toEqual(["a".repeat(10), "a".repeat(10)]);
    // Only the next stream fails.
    const again = await sdk(fake)
      .messages.stream(BODY as never)
      .finalMessage();
    expect(again.stop_reason).toBe("end_turn");
  });
});
