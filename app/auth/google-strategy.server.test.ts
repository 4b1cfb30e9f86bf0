import { createCookieSessionStorage } from "@remix-run/node";
import { Authenticator, AuthorizationError } from "remix-auth";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getEnv, parseEnv } from "~/lib/env.server";
// A test-only import: the boundary keeps app code from depending on tests/, and this test
// needs the loopback Google fake the brief puts in tests/fakes/.
import { createGoogleFake, type GoogleFake } from "../../tests/fakes/google";
import {
  createGoogleStrategy,
  EngageGoogleStrategy,
  GOOGLE_ENDPOINTS,
  GoogleSignInError,
  type EngageGoogleVerifyParams,
  type EngageGoogleStrategyOptions,
} from "./google-strategy.server";

/**
 * The real strategy, driven through remix-auth's Authenticator with a cookie session, against
 * the loopback Google fake: redirect with state, the fake's consent, the callback, token
 * exchange and userinfo.
 */

const APP = "http://localhost:3000";
const CALLBACK = `${APP}/auth/google/callback`;
const ADA = { sub: "1001", email: "ada@example.com", name: "Ada Lovelace", emailVerified: true };
const EVE = { sub: "1002", email: "eve@example.com", name: "Eve", emailVerified: false };

const sessionStorage = createCookieSessionStorage({
  cookie: {
    name: "__test_session",
    secrets: ["test-secret-test-secret-test-secret"],
    sameSite: "lax",
    path: "/",
    httpOnly: true,
  },
});

let fake: GoogleFake;
let verified: EngageGoogleVerifyParams[];

const verify = async (params: EngageGoogleVerifyParams) => {
  verified.push(params);
  return { email: params.profile.emails[0].value, sub: params.profile.id };
};

function authenticatorFor(options: Partial<EngageGoogleStrategyOptions> = {}) {
  const strategy = new EngageGoogleStrategy(
    {
      clientID: fake.clientId,
      clientSecret: fake.clientSecret,
      callbackURL: CALLBACK,
      baseUrl: fake.url,
      ...options,
    },
    verify,
  );
  const authenticator = new Authenticator<{ email: string; sub: string }>(sessionStorage, {
    throwOnError: true,
  });
  authenticator.use(strategy);
  return { authenticator, strategy };
}

/** Runs authenticate, returning the thrown Response/Error or the user. */
async function run(authenticator: Authenticator<{ email: string; sub: string }>, req: Request) {
  try {
    return { user: await authenticator.authenticate("google", req) };
  } catch (thrown) {
    return { thrown };
  }
}

function cookieFrom(res: Response): string {
  const setCookie = res.headers.get("set-cookie") ?? "";
  expect(setCookie).toContain("__test_session=");
  return setCookie.split(";")[0] ?? "";
}

/** Step 1: the app's /auth/google request; returns the authorize URL and the session cookie. */
async function start(authenticator: Authenticator<{ email: string; sub: string }>) {
  const { thrown } = await run(authenticator, new Request(`${APP}/auth/google`));
  expect(thrown).toBeInstanceOf(Response);
  const res = thrown as Response;
  expect(res.status).toBe(302);
  return { authorize: new URL(res.headers.get("location") ?? ""), cookie: cookieFrom(res) };
}

/** Step 2: the browser at the fake (autoApprove), redirected back to the callback. */
async function consent(authorize: URL): Promise<URL> {
  const res = await fetch(authorize, { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

async function failure(result: { user?: unknown; thrown?: unknown }): Promise<AuthorizationError> {
  expect(result.user).toBeUndefined();
  expect(result.thrown).toBeInstanceOf(AuthorizationError);
  return result.thrown as AuthorizationError;
}

beforeAll(async () => {
  fake = createGoogleFake({ accounts: [ADA, EVE] });
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  verified = [];
  fake.clearRequests();
  fake.clearFaults();
  fake.setAutoApprove(ADA.sub);
});

describe("EngageGoogleStrategy against the Google fake", () => {
  it("redirects to the fake's authorize URL with the state stored in the session cookie", async () => {
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);

    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${fake.url}/o/oauth2/v2/auth`);
    const q = authorize.searchParams;
    expect(q.get("client_id")).toBe(fake.clientId);
    expect(q.get("redirect_uri")).toBe(CALLBACK);
    expect(q.get("response_type")).toBe("code");
    expect(q.get("prompt")).toBe("select_account");
    expect(q.get("scope")?.split(" ")).toEqual(
      expect.arrayContaining(["openid", "https://www.googleapis.com/auth/userinfo.email"]),
    );
    const state = q.get("state");
    expect(state).toMatch(/^[0-9a-f-]{36}$/);
    const session = await sessionStorage.getSession(cookie);
    expect(session.get("oauth2:state")).toBe(state);
    expect(fake.requests).toHaveLength(0);
  });

  it("completes the flow: verify receives the profile with email and email_verified", async () => {
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);

    const result = await run(authenticator, new Request(callback, { headers: { Cookie: cookie } }));
    expect(result.thrown).toBeUndefined();
    expect(result.user).toEqual({ email: ADA.email, sub: ADA.sub });

    expect(verified).toHaveLength(1);
    const { profile, accessToken, extraParams } = verified[0]!;
    expect(profile).toMatchObject({
      provider: "google",
      id: ADA.sub,
      displayName: ADA.name,
      name: { givenName: "Ada", familyName: "Lovelace" },
      emails: [{ value: ADA.email }],
      emailVerified: true,
      _json: { sub: ADA.sub, email: ADA.email, email_verified: true },
    });
    expect(accessToken).toMatch(/^ya29\./);
    expect(extraParams).toMatchObject({ token_type: "Bearer" });
    expect(typeof extraParams.id_token).toBe("string");

    // The wire calls Google documents: form-encoded code exchange, then a bearer userinfo GET.
    const token = fake.lastRequest("POST", "/token");
    const form = new URLSearchParams(token?.body);
    expect(token?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(form)).toMatchObject({
      grant_type: "authorization_code",
      code: callback.searchParams.get("code"),
      redirect_uri: CALLBACK,
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
    });
    expect(fake.lastRequest("GET", "/oauth2/v3/userinfo")?.headers.authorization).toBe(
      `Bearer ${accessToken}`,
    );
  });

  it("reports email_verified false as false", async () => {
    fake.setAutoApprove(EVE.sub);
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    await run(authenticator, new Request(callback, { headers: { Cookie: cookie } }));
    expect(verified.map((v) => [v.profile.emails[0].value, v.profile.emailVerified])).toEqual([
      [EVE.email, false],
    ]);
    expect(verified[0]?.profile._json.email_verified).toBe(false);
  });

  it("fails on a state mismatch or a missing session state, without calling Google", async () => {
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    fake.clearRequests();

    const forged = new URL(callback);
    forged.searchParams.set("state", "attacker-state");
    const mismatch = await failure(
      await run(authenticator, new Request(forged, { headers: { Cookie: cookie } })),
    );
    expect(mismatch.message).toBe("State doesn't match.");

    const noSession = await failure(await run(authenticator, new Request(callback)));
    expect(noSession.message).toBe("Missing state on session.");

    expect(verified).toHaveLength(0);
    expect(fake.requests).toHaveLength(0);
  });

  it("fails without calling verify when the token endpoint returns 500", async () => {
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    fake.injectFault(
      { kind: "status", status: 500 },
      { match: { method: "POST", path: "/token" } },
    );

    const err = await failure(
      await run(authenticator, new Request(callback, { headers: { Cookie: cookie } })),
    );
    expect(err.message).toBe("Google sign-in failed: token exchange returned 500");
    expect(err.cause).toBeInstanceOf(GoogleSignInError);
    expect(verified).toHaveLength(0);
    expect(fake.lastRequest("GET", "/oauth2/v3/userinfo")).toBeUndefined();
  });

  it("fails with invalid_grant when a callback (and its code) is replayed", async () => {
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    const request = () => new Request(callback, { headers: { Cookie: cookie } });

    expect((await run(authenticator, request())).user).toEqual({ email: ADA.email, sub: ADA.sub });
    const err = await failure(await run(authenticator, request()));
    expect(err.message).toBe("Google sign-in failed: token exchange returned 400 (invalid_grant)");
    expect(verified).toHaveLength(1);
  });

  it("fails when the token endpoint does not answer in time", async () => {
    const { authenticator } = authenticatorFor({ timeoutMs: 200 });
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    fake.injectFault({ kind: "hang" }, { match: { path: "/token" } });

    const err = await failure(
      await run(authenticator, new Request(callback, { headers: { Cookie: cookie } })),
    );
    expect(err.message).toBe("Google sign-in failed: the token endpoint did not answer");
    expect(verified).toHaveLength(0);
  });

  it.each([
    ["a non-200 userinfo response", { kind: "status", status: 401 } as const, "returned 401"],
    [
      "userinfo without email",
      { kind: "status", status: 200, json: { sub: "1001", email_verified: true } } as const,
      "lacks sub or email",
    ],
    [
      "userinfo without sub",
      { kind: "status", status: 200, json: { email: "ada@example.com" } } as const,
      "lacks sub or email",
    ],
  ])("fails clearly on %s, without calling verify", async (_label, fault, expected) => {
    const { authenticator } = authenticatorFor();
    const { authorize, cookie } = await start(authenticator);
    const callback = await consent(authorize);
    fake.injectFault(fault, { match: { path: "/oauth2/v3/userinfo" } });

    const err = await failure(
      await run(authenticator, new Request(callback, { headers: { Cookie: cookie } })),
    );
    expect(err.message).toContain("Google sign-in failed: userinfo");
    expect(err.message).toContain(expected);
    expect(err.cause).toBeInstanceOf(GoogleSignInError);
    // The message is safe to log: no token in it.
    const token = fake.lastRequest("GET", "/oauth2/v3/userinfo")?.headers.authorization ?? "";
    expect(token).toMatch(/^Bearer ya29\./);
    expect(err.message).not.toContain(token.slice("Bearer ".length));
    expect(verified).toHaveLength(0);
  });
});

describe("createGoogleStrategy", () => {
  const prior = { ...process.env };

  beforeAll(() => {
    // vitest copies Vite's BASE_URL="/" into process.env; the app's BASE_URL must be a URL.
    process.env.BASE_URL = "https://engage.example.com";
    process.env.GOOGLE_CLIENT_ID = "real-client.apps.googleusercontent.com";
    process.env.GOOGLE_CLIENT_SECRET = "real-secret";
    delete process.env.GOOGLE_OAUTH_BASE_URL;
  });

  afterAll(() => {
    process.env = prior;
  });

  it("uses Google's own endpoints when GOOGLE_OAUTH_BASE_URL is unset", async () => {
    const strategy = createGoogleStrategy(verify);
    expect(getEnv().GOOGLE_OAUTH_BASE_URL).toBeUndefined();
    expect(strategy).not.toBeNull();
    expect(strategy?.endpoints).toEqual({
      authorizationURL: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenURL: "https://oauth2.googleapis.com/token",
      userInfoURL: "https://www.googleapis.com/oauth2/v3/userinfo",
    });
    expect(strategy?.endpoints).toEqual(GOOGLE_ENDPOINTS);

    const authenticator = new Authenticator<{ email: string; sub: string }>(sessionStorage, {
      throwOnError: true,
    });
    authenticator.use(strategy!);
    const { thrown } = await run(authenticator, new Request(`${APP}/auth/google`));
    const location = new URL((thrown as Response).headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(
      "https://accounts.google.com/o/oauth2/v2/auth",
    );
    expect(location.searchParams.get("client_id")).toBe("real-client.apps.googleusercontent.com");
    expect(location.searchParams.get("redirect_uri")).toBe(
      "https://engage.example.com/auth/google/callback",
    );
    expect(location.searchParams.get("prompt")).toBe("select_account");
  });

  it("derives all three endpoints from GOOGLE_OAUTH_BASE_URL", () => {
    const env = parseEnv({
      GOOGLE_CLIENT_ID: "id",
      GOOGLE_CLIENT_SECRET: "secret",
      GOOGLE_OAUTH_BASE_URL: "http://127.0.0.1:4100/",
    });
    expect(createGoogleStrategy(verify, env)?.endpoints).toEqual({
      authorizationURL: "http://127.0.0.1:4100/o/oauth2/v2/auth",
      tokenURL: "http://127.0.0.1:4100/token",
      userInfoURL: "http://127.0.0.1:4100/oauth2/v3/userinfo",
    });
  });

  it("returns null unless both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are set", () => {
    expect(createGoogleStrategy(verify, parseEnv({}))).toBeNull();
    expect(createGoogleStrategy(verify, parseEnv({ GOOGLE_CLIENT_ID: "id" }))).toBeNull();
    expect(createGoogleStrategy(verify, parseEnv({ GOOGLE_CLIENT_SECRET: "s" }))).toBeNull();
  });
});
