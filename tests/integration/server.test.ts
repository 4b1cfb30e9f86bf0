import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";

// One server with the default settings for the file; tests that stop a server or need other
// settings boot their own.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe("the host process", () => {
  it("answers /healthz with status, version and db", async () => {
    const res = await server.fetch("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json();
    expect(body).toEqual({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      db: "ok",
    });
  });

  it("sends security headers with a per-request CSP nonce and no inline scripts allowed", async () => {
    const first = await server.fetch("/");
    const second = await server.fetch("/");
    const csp = first.headers.get("content-security-policy")!;
    const scriptSrc = /script-src ([^;]+)/.exec(csp)![1]!;
    expect(scriptSrc).not.toContain("unsafe-inline");
    expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(second.headers.get("content-security-policy")).not.toBe(csp);
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    expect(first.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(first.headers.get("x-frame-options")).toBe("DENY");
    expect(first.headers.get("x-powered-by")).toBeNull();
    // http BASE_URL: no HSTS (a browser would pin a host that has no TLS).
    expect(first.headers.get("strict-transport-security")).toBeNull();
    // Every inline script in the page carries the nonce.
    const nonce = /'nonce-([^']+)'/.exec(scriptSrc)![1];
    const html = await first.text();
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)];
    expect(inline.length).toBeGreaterThan(0);
    for (const [, attrs] of inline) expect(attrs).toContain(`nonce="${nonce}"`);
  });

  it("serves fingerprinted assets with a long immutable cache", async () => {
    const html = await (await server.fetch("/")).text();
    const asset = /href="(\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    const res = await server.fetch(asset);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(res.headers.get("cache-control")).toContain("max-age=31536000");
  });

  it("compresses pages for clients that accept it", async () => {
    const res = await server.fetch("/privacy", { headers: { "accept-encoding": "gzip" } });
    expect(res.headers.get("content-encoding")).toBe("gzip");
  });

  it("renders a 404 page that leaks nothing", async () => {
    const res = await server.fetch("/no/such/page?token=abc");
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toContain("Page not found");
    expect(html).not.toMatch(/at .+\.(ts|js):\d+/);
    const post = await server.fetch("/no/such/page", { method: "POST", body: "a=1" });
    expect(post.status).toBe(404);
  });

  it("shows the privacy policy the product must keep", async () => {
    const html = await (await server.fetch("/privacy")).text();
    expect(html).toContain("Version 1, in force since 10 June 2026");
    expect(html).toContain("Passwords are hashed using bcrypt");
    expect(html).toMatch(/<table class="table">/);
  });

  it("refuses request bodies over the limit before reading them", async () => {
    const res = await server.fetch("/", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=" + "x".repeat(1024 * 1024 + 10),
    });
    expect(res.status).toBe(413);
    // The contacts upload route has its own, larger limit (IMPORT_MAX_BYTES): the same body
    // reaches the app, which asks an anonymous visitor to sign in.
    // Its own socket: the app may answer before reading the body, which ends the connection.
    const status = await new Promise<number>((resolve, reject) => {
      const body = "a=" + "x".repeat(1024 * 1024 + 10);
      const req = request(
        `${server.url}/w/some-shop/contacts/import`,
        {
          method: "POST",
          agent: false,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(status).not.toBe(413);
  });

  it("logs one JSON line per request without bodies, query strings or secrets", async () => {
    await server.fetch("/privacy?token=supersecret123", {
      headers: { "user-agent": "engage-test-agent" },
    });
    await server.fetch("/", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "password=hunter2hunter2",
    });
    await new Promise((r) => setTimeout(r, 100));
    const line = server.logs.find(
      (l) => l.msg === "request" && l.userAgent === "engage-test-agent",
    );
    expect(line).toMatchObject({
      path: "/privacy",
      method: "GET",
      status: 200,
      ip: "127.0.0.1",
    });
    expect(typeof line!.reqId).toBe("string");
    expect(typeof line!.durationMs).toBe("number");
    const everything = JSON.stringify(server.logs) + server.output.join("");
    expect(everything).not.toContain("supersecret123");
    expect(everything).not.toContain("hunter2hunter2");
  });

  it("writes its pid so operator commands know the data dir is in use", async () => {
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(`${server.dataDir}/server.pid`, "utf8")).toBe(String(server.child.pid));
  });
});

describe("graceful shutdown", () => {
  it("finishes an in-flight request after SIGTERM, refuses new ones and exits 0", async () => {
    const server = await startTestServer();
    const inFlight = server.fetch("/__test/slow?ms=1500");
    await new Promise((r) => setTimeout(r, 300));
    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    await expect(server.fetch("/healthz")).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("waited 1500ms");
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(server.logs.some((l) => l.msg === "shutdown complete")).toBe(true);
    const { existsSync } = await import("node:fs");
    expect(existsSync(`${server.dataDir}/server.pid`)).toBe(false);
  });

  it("closes idle keep-alive connections instead of waiting for them", async () => {
    const server = await startTestServer();
    // A keep-alive socket left open by a finished request must not hold the shutdown.
    await new Promise<void>((resolve, reject) => {
      const req = request(
        server.url + "/healthz",
        { agent: new Agent({ keepAlive: true }) },
        (res) => {
          res.resume();
          res.on("end", () => resolve());
        },
      );
      req.on("error", reject);
      req.end();
    });
    const started = Date.now();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("configuration", () => {
  it("sends HSTS when BASE_URL is https", async () => {
    const server = await startTestServer({ env: { BASE_URL: "https://engage.example.com" } });
    try {
      const res = await server.fetch("/healthz");
      expect(res.headers.get("strict-transport-security")).toContain("max-age=63072000");
    } finally {
      await server.stop();
    }
  });

  it("fails fast naming the bad variable", async () => {
    await expect(startTestServer({ env: { MAX_OPEN_TENANT_DBS: "lots" } })).rejects.toThrow(
      /Invalid environment variable MAX_OPEN_TENANT_DBS/,
    );
  });

  it("in production, refuses to boot with a plain-http public BASE_URL, in one line", async () => {
    const error = await startTestServer({
      env: { NODE_ENV: "production", BASE_URL: "http://example.com" },
    }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/server exited \(1\) before listening/);
    const said = error!.message.split("\n").filter((l) => l.includes("BASE_URL"));
    expect(said).toEqual([
      "Invalid environment variable BASE_URL: must be an https:// address in production (http:// only for localhost)",
    ]);
  });

  it("in production, boots with http://localhost as BASE_URL", async () => {
    const server = await startTestServer({
      env: { NODE_ENV: "production", BASE_URL: "http://localhost:3000" },
    });
    try {
      expect((await server.fetch("/healthz")).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it("takes the client IP from X-Forwarded-For only when TRUST_PROXY says so", async () => {
    const trusting = await startTestServer({ env: { TRUST_PROXY: "loopback" } });
    const direct = server; // the file's server: TRUST_PROXY unset
    try {
      // A path no other test asks for, so the log line found is this request's.
      const path = "/privacy-forwarded-for";
      const headers = { "x-forwarded-for": "203.0.113.7" };
      await trusting.fetch(path, { headers });
      await direct.fetch(path, { headers });
      await new Promise((r) => setTimeout(r, 100));
      const ipOf = (s: TestServer) => s.logs.find((l) => l.path === path)?.ip;
      expect(ipOf(trusting)).toBe("203.0.113.7");
      expect(ipOf(direct)).toBe("127.0.0.1");
    } finally {
      await trusting.stop();
    }
  });
});
