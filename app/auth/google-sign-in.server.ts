import { createCookie, createCookieSessionStorage } from "@remix-run/node";
import { Authenticator } from "remix-auth";
import type { GoogleIdentity } from "~/domain/accounts/google-identity.server";
import { getEnv } from "~/lib/env.server";
import { getSecrets } from "~/lib/local-secrets.server";
import { singleton } from "~/lib/singleton.server";
import { createGoogleStrategy } from "./google-strategy.server";

const secure = () => getEnv().BASE_URL.startsWith("https://");

/**
 * remix-auth keeps the OAuth `state` in a session; ours live in the database, so the state gets
 * its own short-lived signed cookie. SameSite=Lax still sends it on Google's top-level redirect
 * back to us.
 */
function oauthStateStorage() {
  return createCookieSessionStorage({
    cookie: {
      name: "engage_oauth",
      httpOnly: true,
      sameSite: "lax",
      secure: secure(),
      path: "/auth/google",
      maxAge: 600,
      secrets: [getSecrets().sessionSecret],
    },
  });
}

const holder = singleton<{ authenticator?: Authenticator<GoogleIdentity> | null }>(
  "google-authenticator",
  () => ({}),
);

function authenticator(): Authenticator<GoogleIdentity> | null {
  if (holder.authenticator !== undefined) return holder.authenticator;
  const strategy = createGoogleStrategy<GoogleIdentity>(async ({ profile }) => ({
    sub: profile.id,
    email: profile.emails?.[0]?.value ?? "",
    emailVerified: profile.emailVerified,
    name: profile.displayName ?? "",
  }));
  if (!strategy) {
    holder.authenticator = null;
    return null;
  }
  const auth = new Authenticator<GoogleIdentity>(oauthStateStorage(), { throwOnError: true });
  auth.use(strategy, "google");
  holder.authenticator = auth;
  return auth;
}

export function isGoogleSignInEnabled(): boolean {
  const env = getEnv();
  return Boolean(env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET);
}

/**
 * Both steps of the flow: without `code` in the URL this throws the redirect to Google; on the
 * callback it checks `state`, swaps the code for a token and returns who Google says this is.
 * Failures throw (AuthorizationError) with a message safe to show.
 */
export async function authenticateWithGoogle(request: Request): Promise<GoogleIdentity | null> {
  const auth = authenticator();
  if (!auth) return null;
  return auth.authenticate("google", request);
}

/** A new Google user confirms age and policy on our page before the account exists. */
function pendingSignupCookie() {
  return createCookie("engage_google_signup", {
    httpOnly: true,
    sameSite: "lax",
    secure: secure(),
    path: "/",
    maxAge: 600,
    secrets: [getSecrets().sessionSecret],
  });
}

export function savePendingGoogleSignup(identity: GoogleIdentity): Promise<string> {
  return pendingSignupCookie().serialize(identity);
}

export async function readPendingGoogleSignup(request: Request): Promise<GoogleIdentity | null> {
  const value = (await pendingSignupCookie().parse(request.headers.get("Cookie"))) as unknown;
  if (!value || typeof value !== "object") return null;
  const v = value as Partial<GoogleIdentity>;
  if (typeof v.sub !== "string" || typeof v.email !== "string") return null;
  return {
    sub: v.sub,
    email: v.email,
    emailVerified: v.emailVerified === true,
    name: v.name ?? "",
  };
}

export function clearPendingGoogleSignup(): Promise<string> {
  return pendingSignupCookie().serialize("", { maxAge: 0 });
}
