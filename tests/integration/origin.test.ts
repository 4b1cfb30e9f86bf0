import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type LogLine, type TestServer } from "../support/server";

/**
 * The Origin check in front of the Remix handler, against the real server.
 *
 * How a test tells "refused by the check" from "let through": a refusal is a 403 whose body is
 * the check's own page and which has a "cross-site request refused" log line with the same
 * request id. Anything the check lets through reaches Remix, whose catch-all route ($.tsx)
 * answers a POST to an unknown path with its 404 "Page not found" page; the check never
 * answers 404, so that page proves the request went past it.
 */
const BASE_URL = "https://engage.example.com";
const EVIL = "https://evil.example";
const UNKNOWN = "/no/such/page";

describe("cross-site request check", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { BASE_URL } });
  });
  afterAll(async () => {
    await server.stop();
  });

  function post(path: string, headers: Record<string, string>, body = "name=value") {
    return server.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
    });
  }

  /** A raw HTTP/1.1 request: fetch() cannot send a Host header or an unresolved "/../". */
  function raw(path: string, headers: Record<string, string>): Promise<Response> {
    const { hostname, port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const req = request({
        hostname,
        port,
        path,
        method: "POST",
        headers: { "content-length": "0", ...headers },
      });
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.once("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === "string") responseHeaders.set(name, value);
          }
          resolve(
            new Response(Buffer.concat(chunks), {
              status: res.statusCode,
              headers: responseHeaders,
            }),
          );
        });
      });
      req.once("error", reject);
      req.end();
    });
  }

  async function refusalLogFor(res: Response): Promise<LogLine | undefined> {
    const reqId = res.headers.get("x-request-id");
    expect(reqId).toBeTruthy();
    // The request log line is written when the response closes: once it is in, so is any
    // refusal line for the same request.
    const done = () => server.logs.some((l) => l.msg === "request" && l.reqId === reqId);
    for (let i = 0; i < 50 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(done()).toBe(true);
    return server.logs.find((l) => l.msg === "cross-site request refused" && l.reqId === reqId);
  }

  async function expectRefused(res: Response, reason: string) {
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("<title>Cross-site request refused</title>");
    expect(html).not.toContain("Page not found");
    const log = await refusalLogFor(res);
    expect(log).toMatchObject({ level: 40, method: "POST", reason });
    return log!;
  }

  async function expectReachedRemix(res: Response) {
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Page not found");
    expect(await refusalLogFor(res)).toBeUndefined();
  }

  it("refuses a POST whose Origin is another site, logging the reason but not the body", async () => {
    const res = await post(`${UNKNOWN}?token=querysecret`, { origin: EVIL }, "password=hunter2x");
    const log = await expectRefused(res, `Origin "${EVIL}" is not this site`);
    expect(log).toMatchObject({ path: UNKNOWN, origin: EVIL });
    const everything = JSON.stringify(server.logs) + server.output.join("");
    expect(everything).not.toContain("hunter2x");
    expect(everything).not.toContain("querysecret");
  });

  it("refuses a POST marked Sec-Fetch-Site: cross-site even without an Origin", async () => {
    await expectRefused(
      await post(UNKNOWN, { "sec-fetch-site": "cross-site" }),
      "Sec-Fetch-Site is cross-site",
    );
  });

  it("refuses Origin: null and a same-site POST that no Origin vouches for", async () => {
    await expectRefused(await post(UNKNOWN, { origin: "null" }), "Origin is null");
    await expectRefused(
      await post(UNKNOWN, { "sec-fetch-site": "same-site" }),
      "Sec-Fetch-Site is same-site and no Origin names this site",
    );
    await expectRefused(
      await post(UNKNOWN, {
        origin: "https://blog.engage.example.com",
        "sec-fetch-site": "same-site",
      }),
      'Origin "https://blog.engage.example.com" is not this site',
    );
  });

  it("refuses other unsafe methods too", async () => {
    const res = await server.fetch(UNKNOWN, { method: "DELETE", headers: { origin: EVIL } });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Cross-site request refused");
  });

  it("lets a same-origin POST through to Remix (Origin = the request's own scheme + Host)", async () => {
    await expectReachedRemix(
      await post(UNKNOWN, { origin: server.url, "sec-fetch-site": "same-origin" }),
    );
  });

  it("lets a POST from BASE_URL's origin through to Remix, as a Host-preserving proxy sends it", async () => {
    // Remix 2 itself throws (500) on a document POST whose Origin host differs from Host /
    // X-Forwarded-Host, so this sends the Host a browser would send to BASE_URL.
    const headers = { host: new URL(BASE_URL).host, origin: BASE_URL };
    await expectReachedRemix(await raw(UNKNOWN, headers));
    await expectReachedRemix(await raw(UNKNOWN, { ...headers, "sec-fetch-site": "same-site" }));
  });

  it("lets a POST with neither Origin nor Sec-Fetch-Site through (curl, one-click unsubscribe)", async () => {
    await expectReachedRemix(await post(UNKNOWN, {}, "List-Unsubscribe=One-Click"));
  });

  it("lets a cross-site GET through: reading is not a mutation", async () => {
    const res = await server.fetch("/privacy", {
      headers: { origin: EVIL, "sec-fetch-site": "cross-site" },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Passwords are hashed using bcrypt");
  });

  it("does not apply to /api/ and /webhooks/, which authenticate by key or signature", async () => {
    // Sec-Fetch-Site: cross-site alone is refused on any other path (see above). It carries no
    // Origin, so Remix's own Origin-vs-Host check has nothing to object to: reaching the
    // catch-all's 404 shows the request went past our check.
    for (const path of ["/api/v1/contacts", "/webhooks/stripe"]) {
      await expectReachedRemix(await post(path, { "sec-fetch-site": "cross-site" }));
    }
  });

  it("judges a dot-segment path by the route it resolves to, not its /api/ prefix", async () => {
    await expectRefused(
      await raw(`/api/..${UNKNOWN}`, { "sec-fetch-site": "cross-site" }),
      "Sec-Fetch-Site is cross-site",
    );
  });
});
