import { afterEach, describe, expect, it } from "vitest";
import { createFakeServer, type FakeServer } from "./base";

const running: FakeServer[] = [];

async function startTestFake(): Promise<{ fake: FakeServer; url: string }> {
  const fake = createFakeServer({
    name: "test",
    routes: [
      {
        method: "POST",
        path: /^\/v1\/(?<phoneId>\d+)\/messages$/,
        handler: (req, res) => {
          const body = req.json<{ to: string }>();
          return res.json({ phoneId: req.params.phoneId, to: body.to, q: req.query.get("q") }, 201);
        },
      },
      {
        method: "POST",
        path: "/form",
        handler: (req, res) => res.text(`name=${req.form().get("name") ?? ""}`),
      },
      { method: "GET", path: "/ok", handler: (_req, res) => res.json({ ok: true }) },
      { method: "GET", path: "/other", handler: (_req, res) => res.json({ other: true }) },
    ],
  });
  running.push(fake);
  const { url } = await fake.start();
  return { fake, url };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

describe("createFakeServer", () => {
  it("listens on a loopback ephemeral port", async () => {
    const { fake, url } = await startTestFake();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.url).toBe(url);
  });

  it("routes by method and path, exposing RegExp named groups as params", async () => {
    const { url } = await startTestFake();
    const res = await fetch(`${url}/v1/12345/messages?q=hi`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: "+15550001" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ phoneId: "12345", to: "+15550001", q: "hi" });

    const form = await fetch(`${url}/form`, {
      method: "POST",
      body: new URLSearchParams({ name: "Ada" }),
    });
    expect(await form.text()).toBe("name=Ada");
  });

  it("answers unknown routes (and wrong methods) with a JSON 404 that is recorded", async () => {
    const { fake, url } = await startTestFake();
    const res = await fetch(`${url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { type: "not_found", message: "test: no route for GET /nope" },
    });
    // A RegExp route must match the whole path, and the method must match.
    expect((await fetch(`${url}/v1/1/messages/extra`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${url}/ok`, { method: "DELETE" })).status).toBe(404);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /nope",
      "POST /v1/1/messages/extra",
      "DELETE /ok",
    ]);
  });

  it("returns 500 with a JSON error when a handler throws (e.g. invalid JSON body)", async () => {
    const { url } = await startTestFake();
    const res = await fetch(`${url}/v1/1/messages`, { method: "POST", body: "{not json" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("fake_handler_error");
    expect(body.error.message).toContain("invalid JSON");
  });

  it("records requests with parsed JSON, lower-cased headers and query", async () => {
    const { fake, url } = await startTestFake();
    const before = Date.now();
    await fetch(`${url}/v1/777/messages?q=a&page=2`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Api-Key": "secret" },
      body: JSON.stringify({ to: "+1" }),
    });
    await fetch(`${url}/ok`);

    expect(fake.requests).toHaveLength(2);
    const first = fake.requests[0];
    expect(first).toMatchObject({
      method: "POST",
      path: "/v1/777/messages",
      query: { q: "a", page: "2" },
      body: '{"to":"+1"}',
      json: { to: "+1" },
    });
    expect(first?.headers["x-api-key"]).toBe("secret");
    expect(first?.headers["content-type"]).toBe("application/json");
    expect(first?.at).toBeGreaterThanOrEqual(before);
    expect(fake.requests[1]?.json).toBeUndefined();

    expect(fake.lastRequest()?.path).toBe("/ok");
    expect(fake.lastRequest("post")?.path).toBe("/v1/777/messages");
    expect(fake.lastRequest(undefined, /^\/v1\//)?.query).toEqual({ q: "a", page: "2" });
    expect(fake.lastRequest("GET", "/missing")).toBeUndefined();

    fake.clearRequests();
    expect(fake.requests).toHaveLength(0);
    expect(fake.lastRequest()).toBeUndefined();
  });

  it("applies a status fault `times` times, then responds normally", async () => {
    const { fake, url } = await startTestFake();
    fake.injectFault(
      { kind: "status", status: 429, headers: { "Retry-After": "2" } },
      { times: 2 },
    );
    const r1 = await fetch(`${url}/ok`);
    const r2 = await fetch(`${url}/ok`);
    const r3 = await fetch(`${url}/ok`);
    expect([r1.status, r2.status, r3.status]).toEqual([429, 429, 200]);
    expect(r1.headers.get("retry-after")).toBe("2");
    expect(((await r1.json()) as { error: { type: string } }).error.type).toBe("injected_fault");
    expect(await r3.json()).toEqual({ ok: true });
    // Faulted requests are recorded too.
    expect(fake.requests).toHaveLength(3);
  });

  it("returns a provider error payload from a status fault", async () => {
    const { fake, url } = await startTestFake();
    const metaError = { error: { code: 131026, message: "Message undeliverable" } };
    fake.injectFault({ kind: "status", status: 400, json: metaError });
    const res = await fetch(`${url}/ok`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(metaError);
  });

  it("only applies a match-limited fault to matching requests, in FIFO order", async () => {
    const { fake, url } = await startTestFake();
    fake.injectFault({ kind: "status", status: 503 }, { match: { method: "GET", path: "/other" } });
    fake.injectFault({ kind: "status", status: 500 }, { match: { path: "/other" } });

    expect((await fetch(`${url}/ok`)).status).toBe(200);
    expect((await fetch(`${url}/other`, { method: "POST" })).status).toBe(500); // 503 wants GET
    expect((await fetch(`${url}/other`)).status).toBe(503);
    expect((await fetch(`${url}/other`)).status).toBe(200);
    expect((await fetch(`${url}/ok`)).status).toBe(200);
  });

  it("clearFaults drops pending faults", async () => {
    const { fake, url } = await startTestFake();
    fake.injectFault({ kind: "status", status: 500 }, { times: 5 });
    fake.clearFaults();
    expect((await fetch(`${url}/ok`)).status).toBe(200);
  });

  it("delay fault makes a client timeout fire, then responds late but normally", async () => {
    const { fake, url } = await startTestFake();
    fake.injectFault({ kind: "delay", ms: 300 });
    const err: unknown = await fetch(`${url}/ok`, { signal: AbortSignal.timeout(50) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe("TimeoutError");
    expect(fake.requests).toHaveLength(1);

    fake.injectFault({ kind: "delay", ms: 150 });
    const started = Date.now();
    const res = await fetch(`${url}/ok`, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("reset fault makes fetch reject, and the request is still recorded", async () => {
    const { fake, url } = await startTestFake();
    fake.injectFault({ kind: "reset" });
    await expect(fetch(`${url}/ok`)).rejects.toThrow(TypeError);
    expect(fake.lastRequest("GET", "/ok")).toBeDefined();
    // Next request is unaffected.
    expect((await fetch(`${url}/ok`)).status).toBe(200);
  });

  it("stop() resolves with a hanging request open, and the client sees the drop", async () => {
    const { fake, url } = await startTestFake();
    fake.injectFault({ kind: "hang" });
    const pending = fetch(`${url}/ok`).then(
      () => "resolved",
      () => "rejected",
    );
    // Wait until the server has the request, so stop() really has an open socket to kill.
    const deadline = Date.now() + 2000;
    while (fake.requests.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(fake.requests).toHaveLength(1);

    const stopped = await Promise.race([
      fake.stop().then(() => "stopped"),
      new Promise((r) => setTimeout(() => r("timeout"), 1000)),
    ]);
    expect(stopped).toBe("stopped");
    expect(await pending).toBe("rejected");
    expect(() => fake.url).toThrow(/not started/);
  });

  it("rejects a non-positive `times`", async () => {
    const { fake } = await startTestFake();
    expect(() => fake.injectFault({ kind: "hang" }, { times: 0 })).toThrow(/positive integer/);
  });
});
