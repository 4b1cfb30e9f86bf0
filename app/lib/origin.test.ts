import express from "express";
import type { AddressInfo } from "node:net";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkSameOrigin,
  isOriginCheckExempt,
  sameOriginGuard,
  type OriginCheckInput,
} from "./origin";

const BASE = "https://engage.example.com";

function check(overrides: Partial<OriginCheckInput>) {
  return checkSameOrigin({
    method: "POST",
    host: "engage.example.com",
    protocol: "https",
    baseUrl: BASE,
    ...overrides,
  });
}

describe("checkSameOrigin: safe methods", () => {
  it.each(["GET", "HEAD", "OPTIONS", "get", "head", "options"])(
    "%s passes even when everything says cross-site",
    (method) => {
      expect(check({ method, origin: "https://evil.example", secFetchSite: "cross-site" })).toEqual(
        { ok: true },
      );
      expect(check({ method, origin: "null" })).toEqual({ ok: true });
    },
  );
});

describe("checkSameOrigin: unsafe methods", () => {
  it.each(["POST", "PUT", "PATCH", "DELETE", "post", "TRACE"])(
    "%s from another origin is refused",
    (method) => {
      expect(check({ method, origin: "https://evil.example" })).toEqual({
        ok: false,
        reason: 'Origin "https://evil.example" is not this site',
      });
    },
  );

  it("passes our own origin from BASE_URL", () => {
    expect(check({ origin: BASE, secFetchSite: "same-origin" })).toEqual({ ok: true });
    expect(check({ origin: BASE })).toEqual({ ok: true });
  });

  it("passes the request's own scheme + Host when it differs from BASE_URL", () => {
    const input = { baseUrl: "http://localhost:3000", protocol: "http" };
    expect(check({ ...input, host: "127.0.0.1:4123", origin: "http://127.0.0.1:4123" })).toEqual({
      ok: true,
    });
    // ...but the scheme has to match too.
    expect(check({ ...input, host: "127.0.0.1:4123", origin: "https://127.0.0.1:4123" }).ok).toBe(
      false,
    );
    // ...and the port.
    expect(check({ ...input, host: "127.0.0.1:4123", origin: "http://127.0.0.1:4124" }).ok).toBe(
      false,
    );
  });

  it("takes the scheme from BASE_URL when the request's is not given", () => {
    const input = { protocol: undefined, host: "app.example.org" };
    expect(check({ ...input, origin: "https://app.example.org" })).toEqual({ ok: true });
    expect(check({ ...input, origin: "http://app.example.org" }).ok).toBe(false);
  });

  it("treats default ports and case the way browsers serialise origins", () => {
    expect(check({ host: "ENGAGE.example.com:443", origin: BASE })).toEqual({ ok: true });
    expect(check({ baseUrl: "https://engage.example.com:443/app/", origin: BASE })).toEqual({
      ok: true,
    });
    expect(check({ origin: "HTTPS://ENGAGE.EXAMPLE.COM" })).toEqual({ ok: true });
  });

  it("refuses a sibling subdomain, a suffix look-alike and a different port", () => {
    for (const origin of [
      "https://other.example.com",
      "https://example.com",
      "https://engage.example.com.evil.example",
      "https://engage.example.com:8443",
      "http://engage.example.com",
      "https://engage.example.com/",
      "https://engage.example.com, https://evil.example",
      "",
    ]) {
      expect(check({ origin }).ok, origin).toBe(false);
    }
  });

  it("refuses Origin: null", () => {
    expect(check({ origin: "null" })).toEqual({ ok: false, reason: "Origin is null" });
    expect(check({ origin: "null", secFetchSite: "same-origin" }).ok).toBe(false);
  });

  it("refuses Sec-Fetch-Site: cross-site, whatever the Origin says", () => {
    const refused = { ok: false, reason: "Sec-Fetch-Site is cross-site" };
    expect(check({ secFetchSite: "cross-site" })).toEqual(refused);
    expect(check({ secFetchSite: "Cross-Site" })).toEqual(refused);
    expect(check({ secFetchSite: "cross-site", origin: BASE })).toEqual(refused);
  });

  it("refuses Sec-Fetch-Site: same-site unless the Origin is exactly ours", () => {
    expect(check({ secFetchSite: "same-site" })).toEqual({
      ok: false,
      reason: "Sec-Fetch-Site is same-site and no Origin names this site",
    });
    expect(check({ secFetchSite: "same-site", origin: "https://blog.example.com" }).ok).toBe(false);
    expect(check({ secFetchSite: "same-site", origin: BASE })).toEqual({ ok: true });
  });

  it("passes same-origin and user-initiated (none) requests without an Origin", () => {
    expect(check({ secFetchSite: "same-origin" })).toEqual({ ok: true });
    expect(check({ secFetchSite: "none" })).toEqual({ ok: true });
  });

  it("refuses an unknown or combined Sec-Fetch-Site value unless the Origin is ours", () => {
    expect(check({ secFetchSite: "same-origin, cross-site" }).ok).toBe(false);
    expect(check({ secFetchSite: "sideways" })).toEqual({
      ok: false,
      reason: 'Sec-Fetch-Site "sideways" is not recognised and no Origin names this site',
    });
    expect(check({ secFetchSite: "sideways", origin: BASE })).toEqual({ ok: true });
  });

  it("passes non-browser clients that send neither header", () => {
    expect(check({})).toEqual({ ok: true });
    expect(check({ origin: null, secFetchSite: null, host: null })).toEqual({ ok: true });
    expect(check({ secFetchSite: "" })).toEqual({ ok: true });
  });

  it("ignores a Host header that is not a plain host[:port]", () => {
    // The request's own origin only counts when its Host is well formed.
    const input = { baseUrl: "http://localhost:3000", protocol: "http" };
    expect(check({ ...input, host: "evil.example@x", origin: "http://x" }).ok).toBe(false);
    expect(check({ ...input, host: "a/b", origin: "http://a" }).ok).toBe(false);
    expect(check({ ...input, host: "[::1]:4000", origin: "http://[::1]:4000" })).toEqual({
      ok: true,
    });
  });

  it("does not let an unparseable BASE_URL or odd scheme widen anything", () => {
    expect(check({ baseUrl: "not a url", host: undefined, origin: "null" }).ok).toBe(false);
    expect(check({ baseUrl: "not a url", host: undefined, origin: BASE }).ok).toBe(false);
    expect(check({ protocol: "ftp", baseUrl: "http://x", origin: BASE }).ok).toBe(false);
  });

  it("keeps a long hostile Origin short in the reason", () => {
    const result = check({ origin: `https://${"a".repeat(5000)}.example` });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason.length).toBeLessThan(200);
  });
});

describe("isOriginCheckExempt", () => {
  it.each([
    ["/webhooks/whatsapp", true],
    ["/webhooks/stripe?x=1", true],
    ["/api/v1/contacts", true],
    ["/api/", true],
    ["/api", false],
    ["/apiary", false],
    ["/webhooks", false],
    ["/w/acme/settings", false],
    ["/", false],
    // Resolved like the Remix adapter resolves it: the route that runs is /w/acme/settings.
    ["/api/../w/acme/settings", false],
    ["/api/%2e%2e/w/acme", false],
    ["/webhooks/./x", true],
    // Variants are checked, never exempted.
    ["/API/v1/contacts", false],
    ["/%61pi/v1", false],
    ["//api/v1", false],
  ])("%s -> %s", (target, exempt) => {
    expect(isOriginCheckExempt(target)).toBe(exempt);
  });
});

describe("sameOriginGuard (real Express app)", () => {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    const app = express();
    app.use(
      sameOriginGuard({
        baseUrl: "https://engage.example.com",
        logger: { warn: (fields, message) => warnings.push({ fields, message }) },
      }),
    );
    app.all("*", (_req, res) => {
      res.type("text/plain").send("reached");
    });
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it("refuses a cross-site POST with a 403 page and one log line without the body", async () => {
    warnings.length = 0;
    const res = await fetch(`${url}/w/acme/settings?token=abc`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "text/plain" },
      body: "password=hunter2",
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toContain("<h1>Cross-site request refused</h1>");
    expect(warnings).toEqual([
      {
        message: "cross-site request refused",
        fields: {
          reqId: undefined,
          method: "POST",
          path: "/w/acme/settings",
          reason: 'Origin "https://evil.example" is not this site',
          origin: "https://evil.example",
          secFetchSite: undefined,
        },
      },
    ]);
    expect(JSON.stringify(warnings)).not.toMatch(/hunter2|token=abc/);
  });

  it("lets same-origin (by Host) and header-less POSTs through", async () => {
    const own = await fetch(`${url}/w/acme/settings`, {
      method: "POST",
      headers: { origin: url, "sec-fetch-site": "same-origin" },
    });
    expect(await own.text()).toBe("reached");
    const bare = await fetch(`${url}/unsubscribe/abc`, {
      method: "POST",
      body: "List-Unsubscribe=One-Click",
    });
    expect(await bare.text()).toBe("reached");
  });

  it("lets cross-site GETs through", async () => {
    const res = await fetch(`${url}/privacy`, {
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(await res.text()).toBe("reached");
  });

  it("exempts /api/ and /webhooks/, but not a dot-segment path that resolves elsewhere", async () => {
    const headers = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };
    for (const path of ["/api/v1/contacts", "/webhooks/stripe"]) {
      const res = await fetch(`${url}${path}`, { method: "POST", headers });
      expect(await res.text(), path).toBe("reached");
    }
    // fetch() would resolve the dot segments itself; send the raw request target.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const path = "/api/../w/acme/settings";
      const req = request({ hostname, port, path, method: "POST", headers });
      req.once("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.once("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
