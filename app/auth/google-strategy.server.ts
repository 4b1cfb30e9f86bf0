import type { AppLoadContext } from "@remix-run/node";
import type { StrategyVerifyCallback } from "remix-auth";
import {
  GoogleStrategy,
  type GoogleExtraParams,
  type GoogleProfile,
  type GoogleStrategyOptions,
} from "remix-auth-google";
import { getEnv, type Env } from "~/lib/env.server";

/**
 * "Sign in with Google": authorization code + state (remix-auth-oauth2 keeps the state in the
 * session), then the OpenID userinfo endpoint. The three endpoints derive from
 * GOOGLE_OAUTH_BASE_URL when set (tests/fakes/google.ts, self-hosted proxies), keeping
 * Google's paths; otherwise they are Google's own.
 */

export interface GoogleEndpoints {
  authorizationURL: string;
  tokenURL: string;
  userInfoURL: string;
}

export const GOOGLE_ENDPOINTS: Readonly<GoogleEndpoints> = Object.freeze({
  authorizationURL: "https://accounts.google.com/o/oauth2/v2/auth",
  tokenURL: "https://oauth2.googleapis.com/token",
  userInfoURL: "https://www.googleapis.com/oauth2/v3/userinfo",
});

/** Google's endpoints, or the same paths under `baseUrl` (documented in .env.example). */
export function googleEndpoints(baseUrl?: string): GoogleEndpoints {
  if (baseUrl === undefined || baseUrl === "") return { ...GOOGLE_ENDPOINTS };
  const base = baseUrl.replace(/\/+$/, "");
  return {
    authorizationURL: `${base}/o/oauth2/v2/auth`,
    tokenURL: `${base}/token`,
    userInfoURL: `${base}/oauth2/v3/userinfo`,
  };
}

/** Raised for provider failures; the message is safe to log and show (no tokens, no bodies). */
export class GoogleSignInError extends Error {
  override name = "GoogleSignInError";
}

export type EngageGoogleProfile = GoogleProfile & {
  /** Google's `email_verified`, normalised to a boolean (false unless Google says true). */
  emailVerified: boolean;
};

export interface EngageGoogleVerifyParams {
  accessToken: string;
  refreshToken?: string;
  extraParams: GoogleExtraParams;
  profile: EngageGoogleProfile;
  context?: AppLoadContext;
  request: Request;
}

export type EngageGoogleVerify<User> = StrategyVerifyCallback<User, EngageGoogleVerifyParams>;

export interface EngageGoogleStrategyOptions extends GoogleStrategyOptions {
  /** Base URL of a Google stand-in (e.g. the test fake); unset = Google's endpoints. */
  baseUrl?: string;
  /** Timeout for each call to the token and userinfo endpoints (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

/** Google documents OAuth error codes as short snake_case words; anything else is not echoed. */
function oauthErrorCode(body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    const code = (parsed as { error?: unknown } | null)?.error;
    return typeof code === "string" && /^[a-z_]{1,64}$/.test(code) ? code : null;
  } catch {
    return null;
  }
}

export class EngageGoogleStrategy<User> extends GoogleStrategy<User> {
  /** The endpoints in use (the base class keeps its own userinfo URL private). */
  readonly endpoints: Readonly<GoogleEndpoints>;
  private readonly timeoutMs: number;

  constructor(options: EngageGoogleStrategyOptions, verify: EngageGoogleVerify<User>) {
    const { baseUrl, timeoutMs, ...googleOptions } = options;
    // userProfile below only ever produces an EngageGoogleProfile.
    super({ ...googleOptions, prompt: googleOptions.prompt ?? "select_account" }, (params) =>
      verify({ ...params, profile: params.profile as EngageGoogleProfile }),
    );
    this.endpoints = Object.freeze(googleEndpoints(baseUrl));
    this.authorizationURL = this.endpoints.authorizationURL;
    this.tokenURL = this.endpoints.tokenURL;
    this.timeoutMs = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Same exchange as remix-auth-oauth2's (credentials in the form body, as Google documents),
   * with a timeout and an Error whose message names only the status and Google's error code:
   * the base class throws the raw response body as a string.
   */
  protected override async fetchAccessToken(
    code: string,
    params: URLSearchParams,
  ): Promise<{ accessToken: string; refreshToken?: string; extraParams: GoogleExtraParams }> {
    params.set("client_id", this.clientID);
    params.set("client_secret", this.clientSecret);
    if (params.get("grant_type") === "refresh_token") params.set("refresh_token", code);
    else params.set("code", code);

    let response: Response;
    try {
      response = await fetch(this.tokenURL, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
        },
        body: params,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new GoogleSignInError("Google sign-in failed: the token endpoint did not answer", {
        cause: err,
      });
    }
    if (!response.ok) {
      const errorCode = oauthErrorCode(await response.text().catch(() => ""));
      throw new GoogleSignInError(
        `Google sign-in failed: token exchange returned ${response.status}` +
          (errorCode ? ` (${errorCode})` : ""),
      );
    }
    return this.getAccessToken(response);
  }

  protected override async getAccessToken(
    response: Response,
  ): Promise<{ accessToken: string; refreshToken?: string; extraParams: GoogleExtraParams }> {
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw new GoogleSignInError("Google sign-in failed: token response is not JSON", {
        cause: err,
      });
    }
    if (typeof body !== "object" || body === null) {
      throw new GoogleSignInError("Google sign-in failed: token response is not an object");
    }
    const { access_token, refresh_token, ...extraParams } = body as Record<string, unknown>;
    if (!nonEmpty(access_token)) {
      throw new GoogleSignInError("Google sign-in failed: token response lacks access_token");
    }
    return {
      accessToken: access_token,
      ...(nonEmpty(refresh_token) ? { refreshToken: refresh_token } : {}),
      extraParams: extraParams as GoogleExtraParams,
    };
  }

  protected override async userProfile(accessToken: string): Promise<EngageGoogleProfile> {
    let response: Response;
    try {
      response = await fetch(this.endpoints.userInfoURL, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new GoogleSignInError("Google sign-in failed: the userinfo endpoint did not answer", {
        cause: err,
      });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new GoogleSignInError(
        `Google sign-in failed: userinfo request returned ${response.status}`,
      );
    }
    let raw: unknown;
    try {
      raw = await response.json();
    } catch (err) {
      throw new GoogleSignInError("Google sign-in failed: userinfo response is not JSON", {
        cause: err,
      });
    }
    const info = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const { sub, email } = info;
    if (!nonEmpty(sub) || !nonEmpty(email) || !email.includes("@")) {
      throw new GoogleSignInError("Google sign-in failed: userinfo response lacks sub or email");
    }
    // Google sends a boolean; some older responses used the string "true".
    const emailVerified = info.email_verified === true || info.email_verified === "true";
    const str = (v: unknown): string => (typeof v === "string" ? v : "");
    const json = { ...info, sub, email, email_verified: emailVerified };
    return {
      provider: "google",
      id: sub,
      displayName: nonEmpty(info.name) ? info.name : email,
      name: { familyName: str(info.family_name), givenName: str(info.given_name) },
      emails: [{ value: email }],
      photos: [{ value: str(info.picture) }],
      emailVerified,
      _json: json as GoogleProfile["_json"],
    };
  }
}

type GoogleEnv = Pick<
  Env,
  "BASE_URL" | "GOOGLE_CLIENT_ID" | "GOOGLE_CLIENT_SECRET" | "GOOGLE_OAUTH_BASE_URL"
>;

export const GOOGLE_CALLBACK_PATH = "/auth/google/callback";

/**
 * The app's Google strategy, or null when GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET are unset
 * (the "Continue with Google" button is then hidden). `env` defaults to the validated process env.
 */
export function createGoogleStrategy<User>(
  verify: EngageGoogleVerify<User>,
  env: GoogleEnv = getEnv(),
): EngageGoogleStrategy<User> | null {
  if (!env.GOOGLE_CLIENT_ID || !env.GOOGLE_CLIENT_SECRET) return null;
  return new EngageGoogleStrategy<User>(
    {
      clientID: env.GOOGLE_CLIENT_ID,
      clientSecret: env.GOOGLE_CLIENT_SECRET,
      callbackURL: `${env.BASE_URL}${GOOGLE_CALLBACK_PATH}`,
      prompt: "select_account",
      baseUrl: env.GOOGLE_OAUTH_BASE_URL,
    },
    verify,
  );
}
