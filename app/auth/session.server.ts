import { createCookie, redirect, type AppLoadContext } from "@remix-run/node";
import type { SystemContext } from "~/domain/context";
import {
  createSession,
  deleteSessionByToken,
  findSession,
  type SessionRow,
} from "~/domain/accounts/sessions.server";
import { toPublicUser, type PublicUser, type User } from "~/domain/accounts/users.server";
import { getEnv } from "~/lib/env.server";
import { getSecrets } from "~/lib/local-secrets.server";

function secure(): boolean {
  return getEnv().BASE_URL.startsWith("https://");
}

/**
 * The session cookie holds only a random token (the session lives in the control db). Over
 * https it gets the __Host- prefix, which browsers accept only with Secure, Path=/ and no
 * Domain, so no subdomain can plant or read it.
 */
function sessionCookie() {
  return createCookie(secure() ? "__Host-engage_session" : "engage_session", {
    httpOnly: true,
    sameSite: "lax",
    secure: secure(),
    path: "/",
    secrets: [getSecrets().sessionSecret],
  });
}

export interface RequestArgs {
  request: Request;
  context: AppLoadContext;
}

export function requestInfo({ request, context }: RequestArgs) {
  return {
    ip: context.clientIp || undefined,
    userAgent: request.headers.get("user-agent")?.slice(0, 512) ?? undefined,
  };
}

/** A domain context for this request; the actor is the signed-in user when there is one. */
export function contextFor(
  args: RequestArgs,
  actor: SystemContext["actor"] = { type: "system", id: "web" },
): SystemContext {
  return { actor, now: () => new Date(), request: requestInfo(args) };
}

export async function readSessionToken(request: Request): Promise<string | null> {
  const value: unknown = await sessionCookie().parse(request.headers.get("Cookie"));
  return typeof value === "string" ? value : null;
}

export interface Auth {
  token: string;
  session: SessionRow;
  user: User;
}

export async function getAuth(request: Request): Promise<Auth | null> {
  const token = await readSessionToken(request);
  const found = findSession(token, new Date());
  return found && token ? { token, ...found } : null;
}

/** Starts a session (new id) and returns the Set-Cookie header; ends `replacing` if given. */
export async function startSession(
  ctx: SystemContext,
  userId: string,
  options: { mfaPending?: boolean; replacing?: string | null } = {},
): Promise<string> {
  const { token } = createSession(ctx, userId, options);
  return sessionCookie().serialize(token);
}

export async function endSession(request: Request): Promise<string> {
  const token = await readSessionToken(request);
  if (token) deleteSessionByToken(token);
  return sessionCookie().serialize("", { maxAge: 0 });
}

function loginRedirect(request: Request): never {
  const url = new URL(request.url);
  const back = url.pathname + url.search;
  throw redirect(`/login?redirectTo=${encodeURIComponent(back)}`);
}

export interface UserRequest {
  auth: Auth;
  user: PublicUser;
  ctx: SystemContext;
}

/**
 * The signed-in user, or a redirect: to /login without a session, to the second-factor page
 * while it is pending, to /verify-email until the address is verified.
 */
export async function requireUser(
  args: RequestArgs,
  options: { allowUnverified?: boolean } = {},
): Promise<UserRequest> {
  const auth = await getAuth(args.request);
  if (!auth) loginRedirect(args.request);
  if (auth.session.mfaPending) throw redirect("/login/mfa");
  if (!auth.user.emailVerifiedAt && !options.allowUnverified) throw redirect("/verify-email");
  return {
    auth,
    user: toPublicUser(auth.user),
    ctx: contextFor(args, { type: "user", id: auth.user.id }),
  };
}

/** Only signed-in visitors without a session may see sign-in and sign-up pages. */
export async function redirectIfSignedIn(request: Request): Promise<void> {
  const auth = await getAuth(request);
  if (auth && !auth.session.mfaPending) throw redirect("/workspaces");
}

/** A local path to go back to after sign-in; anything else (other hosts, //evil) is ignored. */
export function safeRedirect(
  to: FormDataEntryValue | string | null | undefined,
  fallback = "/workspaces",
) {
  if (
    typeof to !== "string" ||
    !to.startsWith("/") ||
    to.startsWith("//") ||
    to.startsWith("/\\")
  ) {
    return fallback;
  }
  return to;
}
