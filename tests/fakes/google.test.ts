import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createGoogleFake,
  FAKE_GOOGLE_CLIENT_ID,
  FAKE_GOOGLE_CLIENT_SECRET,
  type GoogleFake,
} from "./google";
import { fakeFactories } from "./registry";

const REDIRECT = "http://localhost:3000/auth/google/callback";
const SCOPE =
  "openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email";

let fake: GoogleFake;

beforeEach(async () => {
  fake = createGoogleFake();
  fake.addAccount({ sub: "111", email: "ada@example.com", name: "Ada Lovelace" });
  fake.addAccount({ sub: "222", email: "bob@example.com", name: "Bob", emailVerified: false });
  await fake.start();
});

afterEach(async () => {
  await fake.stop();
});

function authorizeUrl(overrides: Record<string, string | null> = {}): string {
  const params: Record<string, string | null> = {
    client_id: FAKE_GOOGLE_CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: SCOPE,
    state: "st-1",
    ...overrides,
  };
  const url = new URL(`${fake.url}/o/oauth2/v2/auth`);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return url.toString();
}

async function authorize(overrides: Record<string, string | null> = {}): Promise<URL> {
  const res = await fetch(authorizeUrl(overrides), { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

function exchange(fields: Record<string, string>): Promise<Response> {
  return fetch(`${fake.url}/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      redirect_uri: REDIRECT,
      client_id: FAKE_GOOGLE_CLIENT_ID,
      client_secret: FAKE_GOOGLE_CLIENT_SECRET,
      ...fields,
    }),
  });
}

describe("google fake", () => {
  it("is registered for GOOGLE_OAUTH_BASE_URL", () => {
    expect(fakeFactories.google?.envVar).toBe("GOOGLE_OAUTH_BASE_URL");
  });

  it("runs the code flow: autoApprove redirect, token exchange, userinfo", async () => {
    fake.setAutoApprove("111");
    const back = await authorize();
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe("st-1");
    const code = back.searchParams.get("code") ?? "";
    expect(code).not.toBe("");

    const tokenRes = await exchange({ code });
    expect(tokenRes.status).toBe(200);
    const token = (await tokenRes.json()) as Record<string, unknown>;
    expect(token).toMatchObject({ token_type: "Bearer", expires_in: 3599, scope: SCOPE });
    expect(typeof token.access_token).toBe("string");
    expect(typeof token.id_token).toBe("string");

    const info = await fetch(`${fake.url}/oauth2/v3/userinfo`, {
      headers: { Authorization: `Bearer ${String(token.access_token)}` },
    });
    expect(info.status).toBe(200);
    expect(await info.json()).toEqual({
      sub: "111",
      name: "Ada Lovelace",
      given_name: "Ada",
      family_name: "Lovelace",
      picture: `${fake.url}/a/111`,
      email: "ada@example.com",
      email_verified: true,
    });
    expect(fake.lastRequest("POST", "/token")?.body).toContain("client_secret=");
  });

  it("shows the account chooser; a button signs that account in, Cancel denies", async () => {
    const page = await fetch(authorizeUrl());
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Sign in with Google (fake)");
    expect(html).toContain('name="sub" value="111"');
    expect(html).toContain("bob@example.com");

    const form = new URLSearchParams({
      client_id: FAKE_GOOGLE_CLIENT_ID,
      redirect_uri: REDIRECT,
      response_type: "code",
      scope: SCOPE,
      state: "st-2",
    });
    const post = (extra: Record<string, string>) =>
      fetch(`${fake.url}/o/oauth2/v2/auth`, {
        method: "POST",
        body: new URLSearchParams([...form, ...Object.entries(extra)]),
        redirect: "manual",
      });

    const chosen = await post({ sub: "222" });
    expect(chosen.status).toBe(302);
    const back = new URL(chosen.headers.get("location") ?? "");
    expect(back.searchParams.get("state")).toBe("st-2");
    const token = (await (
      await exchange({ code: back.searchParams.get("code") ?? "" })
    ).json()) as {
      access_token: string;
    };
    const info = await fetch(`${fake.url}/oauth2/v3/userinfo`, {
      headers: { Authorization: `Bearer ${token.access_token}` },
    });
    expect(await info.json()).toMatchObject({ sub: "222", email_verified: false });

    const cancelled = new URL((await post({ cancel: "1" })).headers.get("location") ?? "");
    expect(Object.fromEntries(cancelled.searchParams)).toEqual({
      error: "access_denied",
      state: "st-2",
    });
    expect((await post({ sub: "nobody" })).status).toBe(400);
  });

  it.each([
    ["unknown client_id", { client_id: "other" }],
    ["missing redirect_uri", { redirect_uri: null }],
    ["response_type token", { response_type: "token" }],
    ["scope without email", { scope: "openid profile" }],
    ["scope without openid", { scope: "email profile" }],
    ["missing state", { state: null }],
  ])("rejects an authorization request with %s (400 page)", async (_label, overrides) => {
    fake.setAutoApprove("111");
    const res = await fetch(authorizeUrl(overrides), { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("location")).toBeNull();
  });

  it("makes codes single-use and bound to client and redirect_uri; checks the secret", async () => {
    fake.setAutoApprove("111");
    const codeFor = async () => (await authorize()).searchParams.get("code") ?? "";
    const body = async (res: Response) => [res.status, await res.json()] as const;

    const code = await codeFor();
    expect(await body(await exchange({ code, client_secret: "wrong" }))).toEqual([
      401,
      { error: "invalid_client", error_description: "Unauthorized" },
    ]);
    // The wrong secret was rejected before the code was looked at: it still works once.
    expect((await exchange({ code })).status).toBe(200);
    const [status, reused] = await body(await exchange({ code }));
    expect(status).toBe(400);
    expect(reused).toMatchObject({ error: "invalid_grant" });

    const other = await codeFor();
    const [s2, mismatch] = await body(
      await exchange({ code: other, redirect_uri: "http://localhost:3000/elsewhere" }),
    );
    expect(s2).toBe(400);
    expect(mismatch).toMatchObject({ error: "redirect_uri_mismatch" });
    // Spent by the failed attempt too.
    expect((await exchange({ code: other })).status).toBe(400);

    const third = await codeFor();
    expect((await exchange({ code: third, client_id: "other" })).status).toBe(401);
    expect(await body(await exchange({ code: "4/0made-up" }))).toEqual([
      400,
      { error: "invalid_grant", error_description: "Bad Request" },
    ]);
  });

  it("rejects userinfo without a valid bearer token (401)", async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: "Bearer ya29.nope" }];
    for (const headers of attempts) {
      const res = await fetch(`${fake.url}/oauth2/v3/userinfo`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("invalid_token");
    }
    expect(() => fake.setAutoApprove("999")).toThrow(/unknown account/);
  });
});
