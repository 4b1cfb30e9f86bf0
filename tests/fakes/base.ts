// Loopback HTTP base for fakes of external providers (Meta, SES, Stripe, ...).
// Only node:http so the fakes stay dependency-free and start in milliseconds.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface FakeRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  rawBody: Buffer;
  text: string;
  /** Parses the body as JSON; throws on invalid/empty JSON. */
  json<T = unknown>(): T;
  form(): URLSearchParams;
  /** Named groups of a RegExp route path. */
  params: Record<string, string>;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Buffer;
}

/** Helpers handed to route handlers; routes are declared before the fake exists. */
export interface FakeResponder {
  json(data: unknown, status?: number, headers?: Record<string, string>): FakeReply;
  text(body: string, status?: number, headers?: Record<string, string>): FakeReply;
  empty(status?: number, headers?: Record<string, string>): FakeReply;
  /** The fake's `state` object (same reference as `fake.state`). */
  state: Record<string, unknown>;
  /** `http://127.0.0.1:PORT` of this fake, for replies that link back to it. */
  baseUrl: string;
}

export interface FakeRoute {
  /** HTTP method, case-insensitive; "*" matches any. */
  method: string;
  /** Exact string, or a RegExp that must match the whole path. */
  path: string | RegExp;
  handler(req: FakeRequest, res: FakeResponder): FakeReply | Promise<FakeReply>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Last value wins for repeated keys (convenient for toEqual/toMatchObject). */
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  /** Parsed body when content-type is JSON and the body parses. */
  json?: unknown;
  at: number;
}

export type Fault =
  | { kind: "status"; status: number; json?: unknown; headers?: Record<string, string> }
  | { kind: "delay"; ms: number }
  | { kind: "hang" }
  | { kind: "reset" };

export interface FaultMatch {
  method?: string;
  /** Exact string, or a RegExp tested against the path (not forced to match it whole). */
  path?: string | RegExp;
}

export interface InjectFaultOptions {
  /** How many matching requests the fault applies to (default 1). */
  times?: number;
  match?: FaultMatch;
}

export interface FakeServerOptions {
  name: string;
  routes: FakeRoute[];
  /** Fixed port (e.g. for `npm run fakes`); default 0 = ephemeral. */
  port?: number;
}

export interface FakeServer {
  readonly name: string;
  readonly state: Record<string, unknown>;
  readonly requests: RecordedRequest[];
  /** Base URL; throws if the fake is not started. */
  readonly url: string;
  start(options?: { port?: number }): Promise<{ url: string }>;
  stop(): Promise<void>;
  clearRequests(): void;
  /** Newest recorded request matching method (case-insensitive) and path (string exact / RegExp test). */
  lastRequest(method?: string, path?: string | RegExp): RecordedRequest | undefined;
  injectFault(fault: Fault, options?: InjectFaultOptions): void;
  clearFaults(): void;
}

interface QueuedFault {
  fault: Fault;
  remaining: number;
  match: FaultMatch;
}

/** Copy without /g and /y so a caller's lastIndex state cannot make matching flaky. */
function stateless(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace(/[gy]/g, ""));
}

/** Route matching: the whole path must match; returns named groups, or null. */
function matchRoute(pattern: string | RegExp, path: string): Record<string, string> | null {
  if (typeof pattern === "string") return pattern === path ? {} : null;
  const m = stateless(pattern).exec(path);
  if (!m || m.index !== 0 || m[0].length !== path.length) return null;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = v;
  return params;
}

/** Filter matching (faults, lastRequest): exact string, or an ordinary RegExp test. */
function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === "string" ? pattern === path : stateless(pattern).test(path);
}

function methodMatches(expected: string | undefined, actual: string): boolean {
  return expected === undefined || expected === "*" || expected.toUpperCase() === actual;
}

function normalizeHeaders(raw: IncomingMessage["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function isJsonContentType(ct: string | undefined): boolean {
  // Covers application/json, application/x-amz-json-1.0, application/vnd.api+json, ...
  return ct !== undefined && /\bjson\b/i.test(ct);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function errorJson(type: string, message: string): { error: { type: string; message: string } } {
  return { error: { type, message } };
}

export function createFakeServer(options: FakeServerOptions): FakeServer {
  const { name, routes } = options;
  const state: Record<string, unknown> = {};
  const requests: RecordedRequest[] = [];
  let faults: QueuedFault[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl: string | null = null;

  const responder = (): FakeResponder => ({
    json: (data, status = 200, headers = {}) => ({ status, headers, json: data }),
    text: (body, status = 200, headers = {}) => ({
      status,
      headers: { "content-type": "text/plain; charset=utf-8", ...headers },
      body,
    }),
    empty: (status = 204, headers = {}) => ({ status, headers }),
    state,
    baseUrl: baseUrl ?? "",
  });

  function send(res: ServerResponse, reply: FakeReply): void {
    // The client may have aborted (timeouts) or stop() destroyed the socket meanwhile.
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.headers ?? {})) headers[k.toLowerCase()] = v;
    let body: string | Buffer = reply.body ?? "";
    if (reply.json !== undefined) {
      body = JSON.stringify(reply.json);
      headers["content-type"] ??= "application/json";
    }
    res.writeHead(reply.status ?? 200, headers);
    res.end(body);
  }

  function takeFault(method: string, path: string): Fault | null {
    const entry = faults.find(
      (f) => methodMatches(f.match.method, method) && pathMatches(f.match.path, path),
    );
    if (!entry) return null;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults = faults.filter((f) => f !== entry);
    return entry.fault;
  }

  async function route(method: string, url: URL, headers: Record<string, string>, rawBody: Buffer) {
    const path = url.pathname;
    for (const r of routes) {
      if (!methodMatches(r.method, method)) continue;
      const params = matchRoute(r.path, path);
      if (!params) continue;
      const text = rawBody.toString("utf8");
      const req: FakeRequest = {
        method,
        path,
        query: url.searchParams,
        headers,
        rawBody,
        text,
        params,
        json<T>(): T {
          try {
            return JSON.parse(text) as T;
          } catch (err) {
            throw new Error(`${name}: invalid JSON body for ${method} ${path}`, { cause: err });
          }
        },
        form: () => new URLSearchParams(text),
      };
      try {
        return await r.handler(req, responder());
      } catch (err) {
        // Surface handler bugs as 500s instead of hanging the client.
        const message = err instanceof Error ? err.message : String(err);
        return { status: 500, json: errorJson("fake_handler_error", message) };
      }
    }
    return {
      status: 404,
      json: errorJson("not_found", `${name}: no route for ${method} ${path}`),
    };
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const headers = normalizeHeaders(req.headers);
    const rawBody = await readBody(req);
    const body = rawBody.toString("utf8");

    let json: unknown;
    if (isJsonContentType(headers["content-type"]) && body !== "") {
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined; // Recording must never fail; handlers see the raw text.
      }
    }
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      ...(json !== undefined ? { json } : {}),
      at: Date.now(),
    });

    const fault = takeFault(method, url.pathname);
    if (fault?.kind === "reset") {
      // RST rather than FIN so clients see ECONNRESET like a real network drop.
      req.socket.resetAndDestroy();
      return;
    }
    if (fault?.kind === "hang") return; // Left open until the client gives up or stop().
    if (fault?.kind === "status") {
      send(res, {
        status: fault.status,
        headers: fault.headers,
        json: fault.json ?? errorJson("injected_fault", `${name}: injected ${fault.status}`),
      });
      return;
    }
    if (fault?.kind === "delay") {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, fault.ms);
        timers.add(t);
      });
    }
    send(res, await route(method, url, headers, rawBody));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      send(res, { status: 500, json: errorJson("fake_internal_error", message) });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  return {
    name,
    state,
    requests,
    get url(): string {
      if (baseUrl === null) throw new Error(`${name}: fake not started`);
      return baseUrl;
    },
    async start(startOptions) {
      if (baseUrl !== null) return { url: baseUrl };
      const port = startOptions?.port ?? options.port ?? 0;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return { url: baseUrl };
    },
    async stop() {
      if (!server.listening) return;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      // Destroy keep-alive and hanging sockets, otherwise close() waits for them.
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
      baseUrl = null;
    },
    clearRequests() {
      requests.length = 0;
    },
    lastRequest(method, path) {
      for (let i = requests.length - 1; i >= 0; i--) {
        const r = requests[i];
        if (!r) continue;
        if (method !== undefined && !methodMatches(method, r.method)) continue;
        if (!pathMatches(path, r.path)) continue;
        return r;
      }
      return undefined;
    },
    injectFault(fault, injectOptions = {}) {
      const times = injectOptions.times ?? 1;
      if (!Number.isInteger(times) || times < 1) {
        throw new Error(`${name}: fault times must be a positive integer`);
      }
      faults.push({ fault, remaining: times, match: injectOptions.match ?? {} });
    },
    clearFaults() {
      faults = [];
    },
  };
}
