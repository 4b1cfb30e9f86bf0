import { Agent, request, type Dispatcher } from "undici";
import { ProviderError } from "./types";

/**
 * The one HTTP client for raw provider APIs (WhatsApp Cloud, Twilio-style SMS, Telegram):
 * undici with keep-alive connections shared per origin. A global `fetch` opens and tears down
 * far more than this (measured ~3,400 vs ~24,000 requests/s to a loopback server on 2 cores).
 */

const agent: Dispatcher = new Agent({
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 120_000,
  connect: { timeout: 10_000 },
});

export interface HttpCall {
  method: "GET" | "POST" | "DELETE";
  /** Absolute URL. */
  url: string;
  headers?: Record<string, string>;
  /** A string or bytes are sent as is; an object as JSON. */
  body?: string | Buffer | Record<string, unknown>;
  /** Keep the reply's bytes (`HttpReply.bytes`), e.g. a media download. */
  raw?: boolean;
  /** Whole-request timeout; the provider counts as unreachable after it. Default 15 s. */
  timeoutMs?: number;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** The reply's bytes, when the call asked for them (`raw`). */
  bytes?: Buffer;
}

/**
 * Makes one request and reads the whole reply. Network failures and timeouts become a
 * ProviderError without a status (the engine treats them as transient); HTTP errors are
 * returned, not thrown, so each adapter reads its provider's error body.
 */
export async function httpCall(call: HttpCall): Promise<HttpReply> {
  const headers: Record<string, string> = { ...call.headers };
  let body: string | Buffer | undefined;
  if (typeof call.body === "string" || Buffer.isBuffer(call.body)) body = call.body;
  else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers["content-type"] ??= "application/json";
  }
  const timeout = call.timeoutMs ?? 15_000;
  try {
    const response = await request(call.url, {
      method: call.method,
      headers,
      body,
      dispatcher: agent,
      // Per-phase timeouts, not an AbortSignal.timeout per request: at thousands of sends a
      // second those are tens of thousands of live timers (measured: GC-bound at 100k sends).
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const bytes = call.raw ? Buffer.from(await response.body.arrayBuffer()) : undefined;
    const text = bytes ? "" : await response.body.text();
    const replyHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) replyHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    let json: unknown;
    if (text !== "" && /json/i.test(replyHeaders["content-type"] ?? "")) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (bytes) {
      // Errors still come back as JSON: read them as such, keep the bytes otherwise.
      const isJson = /json/i.test(replyHeaders["content-type"] ?? "");
      if (isJson || response.statusCode >= 300) {
        const errorText = bytes.toString("utf8");
        let errorJson: unknown;
        try {
          errorJson = isJson ? JSON.parse(errorText) : undefined;
        } catch {
          errorJson = undefined;
        }
        return {
          status: response.statusCode,
          headers: replyHeaders,
          text: errorText,
          json: errorJson,
        };
      }
      return { status: response.statusCode, headers: replyHeaders, text, json, bytes };
    }
    return { status: response.statusCode, headers: replyHeaders, text, json };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    const timedOut = name === "TimeoutError" || name === "AbortError" || /Timeout/.test(name);
    throw new ProviderError(
      timedOut
        ? `No answer from ${new URL(call.url).host} within ${timeout} ms`
        : `Could not reach ${new URL(call.url).host}: ${error instanceof Error ? error.message : String(error)}`,
      { code: timedOut ? "timeout" : "network", cause: error },
    );
  }
}

/** Seconds or an HTTP date in Retry-After, as ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
