import { authenticator } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueAuthToken, peekAuthToken } from "~/domain/accounts/auth-tokens.server";
import { beginTotpEnrolment, confirmTotpEnrolment } from "~/domain/accounts/mfa.server";
import { findUserByEmail } from "~/domain/accounts/users.server";
import { createGoogleFake, type GoogleFake } from "../fakes/google";
import { browserFor, signIn } from "../support/accounts";
import type { TestServer } from "../support/server";
import { startServer } from "../support/teams";

/** Google sign-in through the real server and the loopback Google fake. */

let server: TestServer;
let google: GoogleFake;

beforeAll(async () => {
  google = createGoogleFake();
  await google.start();
  server = await startServer({
    env: {
      GOOGLE_CLIENT_ID: google.clientId,
      GOOGLE_CLIENT_SECRET: google.clientSecret,
      GOOGLE_OAUTH_BASE_URL: google.url,
    },
  });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await google?.stop();
});

const sessionCookie = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => /^engage_session=./.test(c));

/** The whole round trip: our button, Google's consent (auto-approved), our callback. */
async function signInWithGoogle(sub: string): Promise<Response> {
  google.setAutoApprove(sub);
  const start = await server.fetch("/auth/google", {
    method: "POST",
    headers: { origin: server.url, "content-type": "application/x-www-form-urlencoded" },
    body: "",
  });
  expect(start.status).toBe(302);
  const oauthCookie = start.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith("engage_oauth="))!;
  const consent = await fetch(start.headers.get("location")!, { redirect: "manual" });
  expect(consent.status).toBe(302);
  const callback = new URL(consent.headers.get("location")!);
  return server.fetch(`${callback.pathname}${callback.search}`, {
    headers: { cookie: oauthCookie },
  });
}

describe("Google sign-in to an existing unverified account", () => {
  it("discards what the unverified account's creator set: password, sessions, MFA, mail links", async () => {
    const email = `victim-${Date.now()}@example.com`;
    const attackerPassword = "attacker knows this passphrase";
    // The attacker opens an account with the victim's address before the victim does.
    const signup = await server.fetch("/signup", {
      method: "POST",
      headers: { origin: server.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        name: "Not The Victim",
        email,
        password: attackerPassword,
        ageConfirmed: "on",
        policyAccepted: "on",
      }).toString(),
    });
    expect(signup.status).toBe(302);
    const attacker = browserFor(server, await signIn(server, email, attackerPassword));
    expect((await attacker.get("/verify-email")).status).toBe(200);
    const planted = findUserByEmail(email)!;
    expect(planted.emailVerifiedAt).toBeNull();
    // ...and a second factor of their own, and a reset link waiting.
    const ctx = { actor: { type: "user" as const, id: planted.id }, now: () => new Date() };
    const { secret } = beginTotpEnrolment(ctx, planted.id);
    await confirmTotpEnrolment(ctx, planted.id, authenticator.generate(secret));
    const resetToken = issueAuthToken("reset_password", planted.id, new Date());

    // The real owner of the address signs in with Google.
    google.addAccount({ sub: "200000000000000000042", email, name: "Real Victim" });
    const res = await signInWithGoogle("200000000000000000042");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/workspaces"); // no second factor asked
    const victim = browserFor(server, sessionCookie(res)!);
    expect((await victim.get("/account")).status).toBe(200);

    // The attacker is out: session ended, password refused, no second factor left behind.
    expect((await attacker.get("/verify-email")).status).toBe(302);
    expect((await attacker.get("/account")).status).toBe(302);
    const again = await server.fetch("/login", {
      method: "POST",
      headers: { origin: server.url, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password: attackerPassword }).toString(),
    });
    expect(again.status).toBe(401);
    const linked = findUserByEmail(email)!;
    expect(linked.id).toBe(planted.id);
    expect(linked.emailVerifiedAt).not.toBeNull();
    expect(linked.passwordHash).toBeNull();
    expect(linked.totpEnabledAt).toBeNull();
    expect(linked.totpSecretEnc).toBeNull();
    expect(peekAuthToken("reset_password", resetToken, new Date())).toBeNull();
  });
});
