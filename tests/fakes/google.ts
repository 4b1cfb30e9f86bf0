// Fake Google OAuth 2.0 (authorization code) + OpenID userinfo, on the paths the app derives
// from GOOGLE_OAUTH_BASE_URL: /o/oauth2/v2/auth, /token, /oauth2/v3/userinfo.
// Wire format follows https://developers.google.com/identity/protocols/oauth2/web-server and
// https://developers.google.com/identity/openid-connect/openid-connect.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { escapeHtml } from "../../app/lib/html";
import { createFakeServer, type FakeReply, type FakeServer } from "./base";

export const FAKE_GOOGLE_CLIENT_ID = "fake-client-id.apps.googleusercontent.com";
export const FAKE_GOOGLE_CLIENT_SECRET = "fake-google-client-secret";

export interface FakeGoogleAccountInput {
  /** Google's stable account id. */
  sub: string;
  email: string;
  name?: string;
  /** Default true. */
  emailVerified?: boolean;
  /** Default: a 1x1 PNG served by the fake at /a/<sub>. */
  picture?: string;
}

/** The account `npm run fakes` starts with. */
export const FAKE_GOOGLE_DEMO_ACCOUNT: Readonly<FakeGoogleAccountInput> = Object.freeze({
  sub: "100000000000000000001",
  email: "ada@example.com",
  name: "Ada Lovelace",
  emailVerified: true,
});

export interface FakeGoogleAccount {
  sub: string;
  email: string;
  name: string;
  emailVerified: boolean;
  picture?: string;
}

export interface GoogleFakeOptions {
  clientId?: string;
  clientSecret?: string;
  /** Registered redirect URIs; default: any absolute http(s) URL is accepted. */
  redirectUris?: string[];
  accounts?: FakeGoogleAccountInput[];
  port?: number;
}

export interface GoogleFake extends FakeServer {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Adds (or replaces, by sub) an account shown on the sign-in page. */
  addAccount(account: FakeGoogleAccountInput): FakeGoogleAccount;
  /** With a sub, /o/oauth2/v2/auth skips the page and signs that account in; null = show the page. */
  setAutoApprove(sub: string | null): void;
}

interface IssuedCode {
  sub: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  nonce: string | null;
}

interface IssuedToken {
  sub: string;
  scope: string;
  expiresAt: number;
}

interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string | null;
}

const TOKEN_TTL_SECONDS = 3599;
const ONE_PIXEL_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);
const SCOPE_URL = "https://www.googleapis.com/auth/userinfo.";

const random = (bytes: number): string => randomBytes(bytes).toString("base64url");

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function htmlPage(title: string, body: string, status = 200): FakeReply {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`,
  };
}

function errorPage(error: string, description: string): FakeReply {
  return htmlPage(
    "Error",
    `<h1>Access blocked: authorization error</h1><p>Error 400: ${escapeHtml(error)}</p><p>${escapeHtml(description)}</p>`,
    400,
  );
}

/** Google's token endpoint errors: JSON with `error` and `error_description`. */
function oauthError(status: number, error: string, description: string): FakeReply {
  return {
    status,
    headers: { "cache-control": "no-store", pragma: "no-cache" },
    json: { error, error_description: description },
  };
}

function redirectTo(uri: string, params: Record<string, string>): FakeReply {
  const target = new URL(uri);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  return { status: 302, headers: { location: target.toString(), "cache-control": "no-store" } };
}

/** Google scopes: "email"/"profile" or their userinfo.* URL forms. */
function grants(scope: string, what: "email" | "profile"): boolean {
  return scope.split(" ").some((s) => s === what || s === `${SCOPE_URL}${what}`);
}

function toAccount(input: FakeGoogleAccountInput): FakeGoogleAccount {
  if (!input.sub.trim() || !input.email.includes("@")) {
    throw new Error("google fake: an account needs a sub and an email");
  }
  return {
    sub: input.sub,
    email: input.email,
    name: input.name ?? input.email.split("@")[0] ?? input.email,
    emailVerified: input.emailVerified ?? true,
    ...(input.picture !== undefined ? { picture: input.picture } : {}),
  };
}

/** An unsigned JWT-shaped id_token: the app reads the profile from userinfo, not from this. */
function idToken(iss: string, clientId: string, account: FakeGoogleAccount, nonce: string | null) {
  const now = Math.floor(Date.now() / 1000);
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const claims = {
    iss,
    aud: clientId,
    azp: clientId,
    sub: account.sub,
    email: account.email,
    email_verified: account.emailVerified,
    iat: now,
    exp: now + TOKEN_TTL_SECONDS,
    ...(nonce ? { nonce } : {}),
  };
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.fake-signature`;
}

export function createGoogleFake(options: GoogleFakeOptions = {}): GoogleFake {
  const clientId = options.clientId ?? FAKE_GOOGLE_CLIENT_ID;
  const clientSecret = options.clientSecret ?? FAKE_GOOGLE_CLIENT_SECRET;
  const accounts = new Map<string, FakeGoogleAccount>();
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, IssuedToken>();
  let autoApprove: string | null = null;

  function addAccount(input: FakeGoogleAccountInput): FakeGoogleAccount {
    const account = toAccount(input);
    accounts.set(account.sub, account);
    return account;
  }
  for (const a of options.accounts ?? []) addAccount(a);

  function redirectUriAllowed(uri: string): boolean {
    if (options.redirectUris) return options.redirectUris.includes(uri);
    try {
      return /^https?:$/.test(new URL(uri).protocol);
    } catch {
      return false;
    }
  }

  /** Validates an authorization request (query of GET, or the hidden fields of the POST). */
  function checkAuthorize(p: URLSearchParams): { params: AuthorizeParams } | { reply: FakeReply } {
    const reject = (error: string, description: string) => ({
      reply: errorPage(error, description),
    });
    const get = (k: string) => p.get(k) ?? "";
    if (!get("client_id"))
      return reject("invalid_request", "Missing required parameter: client_id");
    if (get("client_id") !== clientId)
      return reject("invalid_client", "The OAuth client was not found.");
    if (!get("redirect_uri"))
      return reject("invalid_request", "Missing required parameter: redirect_uri");
    if (!redirectUriAllowed(get("redirect_uri"))) {
      return reject(
        "redirect_uri_mismatch",
        "The redirect URI in the request does not match the ones authorized for the OAuth client.",
      );
    }
    if (!get("response_type"))
      return reject("invalid_request", "Missing required parameter: response_type");
    if (get("response_type") !== "code") {
      return reject("unsupported_response_type", `Invalid response_type: ${get("response_type")}`);
    }
    if (!get("scope")) return reject("invalid_request", "Missing required parameter: scope");
    const scopes = get("scope").split(" ");
    if (!scopes.includes("openid") || !grants(get("scope"), "email")) {
      return reject("invalid_scope", "This fake requires the openid and email scopes.");
    }
    if (!get("state")) return reject("invalid_request", "Missing required parameter: state");
    return {
      params: {
        clientId: get("client_id"),
        redirectUri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: p.get("nonce"),
      },
    };
  }

  function approve(params: AuthorizeParams, sub: string): FakeReply {
    const code = `4/0${random(32)}`;
    codes.set(code, {
      sub,
      clientId: params.clientId,
      redirectUri: params.redirectUri,
      scope: params.scope,
      nonce: params.nonce,
    });
    return redirectTo(params.redirectUri, { code, state: params.state, scope: params.scope });
  }

  function accountChooser(params: AuthorizeParams): FakeReply {
    const hidden = Object.entries({
      client_id: params.clientId,
      redirect_uri: params.redirectUri,
      response_type: "code",
      scope: params.scope,
      state: params.state,
      ...(params.nonce ? { nonce: params.nonce } : {}),
    })
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
      .join("");
    const buttons = [...accounts.values()]
      .map(
        (a) =>
          `<li><button type="submit" name="sub" value="${escapeHtml(a.sub)}">${escapeHtml(a.name)} &lt;${escapeHtml(a.email)}&gt;</button></li>`,
      )
      .join("");
    return htmlPage(
      "Sign in with Google (fake)",
      `<h1>Sign in with Google (fake)</h1><p>Choose an account</p>` +
        `<form method="post" action="/o/oauth2/v2/auth">${hidden}<ul>${buttons || "<li>No accounts configured</li>"}</ul>` +
        `<button type="submit" name="cancel" value="1">Cancel</button></form>`,
    );
  }

  function userinfo(account: FakeGoogleAccount, baseUrl: string) {
    const [given, ...rest] = account.name.split(" ");
    return {
      sub: account.sub,
      name: account.name,
      given_name: given ?? account.name,
      family_name: rest.join(" "),
      picture: account.picture ?? `${baseUrl}/a/${encodeURIComponent(account.sub)}`,
      email: account.email,
      email_verified: account.emailVerified,
    };
  }

  const fake = createFakeServer({
    name: "google",
    port: options.port,
    routes: [
      {
        method: "GET",
        path: "/o/oauth2/v2/auth",
        handler: (req) => {
          const checked = checkAuthorize(req.query);
          if ("reply" in checked) return checked.reply;
          const { params } = checked;
          if (autoApprove !== null) return approve(params, autoApprove);
          return accountChooser(params);
        },
      },
      {
        // The chooser's form: an account button, or Cancel (Google's access_denied).
        method: "POST",
        path: "/o/oauth2/v2/auth",
        handler: (req) => {
          const form = req.form();
          const checked = checkAuthorize(form);
          if ("reply" in checked) return checked.reply;
          const { params } = checked;
          if (form.get("cancel")) {
            return redirectTo(params.redirectUri, { error: "access_denied", state: params.state });
          }
          const sub = form.get("sub") ?? "";
          if (!accounts.has(sub)) return errorPage("invalid_request", "Unknown account.");
          return approve(params, sub);
        },
      },
      {
        method: "POST",
        path: "/token",
        handler: (req, res) => {
          if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers["content-type"] ?? "")) {
            return oauthError(400, "invalid_request", "Invalid content type.");
          }
          const form = req.form();
          // client_secret_post, or client_secret_basic as Google also accepts.
          let id = form.get("client_id") ?? "";
          let secret = form.get("client_secret") ?? "";
          const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
          if (basic?.[1]) {
            const decoded = Buffer.from(basic[1], "base64").toString("utf8");
            const colon = decoded.indexOf(":");
            try {
              id = colon < 0 ? "" : decodeURIComponent(decoded.slice(0, colon));
              secret = colon < 0 ? "" : decodeURIComponent(decoded.slice(colon + 1));
            } catch {
              id = "";
            }
          }
          const grantType = form.get("grant_type");
          if (!grantType)
            return oauthError(400, "invalid_request", "Missing required parameter: grant_type");
          if (grantType !== "authorization_code") {
            return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${grantType}`);
          }
          if (id !== clientId)
            return oauthError(401, "invalid_client", "The OAuth client was not found.");
          if (!safeEqual(secret, clientSecret))
            return oauthError(401, "invalid_client", "Unauthorized");
          const code = form.get("code");
          if (!code) return oauthError(400, "invalid_request", "Missing required parameter: code");
          const issued = codes.get(code);
          // Single use: a code is spent on its first exchange attempt, even a failed one.
          codes.delete(code);
          if (!issued || issued.clientId !== id)
            return oauthError(400, "invalid_grant", "Bad Request");
          if (form.get("redirect_uri") !== issued.redirectUri) {
            return oauthError(400, "redirect_uri_mismatch", "Bad Request");
          }
          const account = accounts.get(issued.sub);
          if (!account) return oauthError(400, "invalid_grant", "Account has been deleted");
          const accessToken = `ya29.fake-${random(32)}`;
          tokens.set(accessToken, {
            sub: issued.sub,
            scope: issued.scope,
            expiresAt: Date.now() + TOKEN_TTL_SECONDS * 1000,
          });
          return res.json(
            {
              access_token: accessToken,
              expires_in: TOKEN_TTL_SECONDS,
              token_type: "Bearer",
              scope: issued.scope,
              id_token: idToken(res.baseUrl, id, account, issued.nonce),
            },
            200,
            { "cache-control": "no-store", pragma: "no-cache" },
          );
        },
      },
      {
        method: "GET",
        path: "/oauth2/v3/userinfo",
        handler: (req, res) => {
          const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
          const token = bearer ? tokens.get(bearer) : undefined;
          const account =
            token && token.expiresAt > Date.now() ? accounts.get(token.sub) : undefined;
          if (!token || !account) {
            return res.json(
              { error: "invalid_request", error_description: "Invalid Credentials" },
              401,
              {
                "www-authenticate":
                  'Bearer realm="https://accounts.google.com/", error="invalid_token"',
              },
            );
          }
          const info = userinfo(account, res.baseUrl);
          // Only the claims the granted scopes cover, as Google does.
          const profile = grants(token.scope, "profile");
          return res.json({
            sub: info.sub,
            ...(profile
              ? {
                  name: info.name,
                  given_name: info.given_name,
                  family_name: info.family_name,
                  picture: info.picture,
                }
              : {}),
            email: info.email,
            email_verified: info.email_verified,
          });
        },
      },
      {
        method: "GET",
        path: /^\/a\/(?<sub>[^/]+)$/,
        handler: () => ({
          status: 200,
          headers: { "content-type": "image/png" },
          body: ONE_PIXEL_PNG,
        }),
      },
    ],
  });

  return Object.assign(fake, {
    clientId,
    clientSecret,
    addAccount,
    setAutoApprove(sub: string | null): void {
      if (sub !== null && !accounts.has(sub))
        throw new Error(`google fake: unknown account ${sub}`);
      autoApprove = sub;
    },
  });
}
