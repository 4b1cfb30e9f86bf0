import { and, eq } from "drizzle-orm";
import { authenticator } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import { requestEmailChange, signUp } from "~/domain/accounts/accounts.server";
import { closeAccount } from "~/domain/accounts/closure.server";
import { beginTotpEnrolment, confirmTotpEnrolment } from "~/domain/accounts/mfa.server";
import { findUserByEmail, getUser } from "~/domain/accounts/users.server";
import { inviteMember } from "~/domain/workspaces/invitations.server";
import { findMembership } from "~/domain/workspaces/workspaces.server";
import {
  browserFor,
  createVerifiedUser,
  createWorkspaceFor,
  findMail,
  signIn,
  signedIn,
  type TestUser,
} from "../support/accounts";
import type { TestServer } from "../support/server";
import { startServer } from "../support/teams";

/** Sign-in, lockout, second factor and session rules through the real server. */

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

function form(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: server.url,
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  };
}

const cookieOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => /^engage_session=./.test(c));

/** What a person sees of a failed sign-in: the status and the visible message. */
async function failure(res: Response) {
  const html = await res.text();
  return { status: res.status, message: /role="alert"[^>]*>([\s\S]*?)<\/div>/.exec(html)?.[1] };
}

describe("sign-in", () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await createVerifiedUser();
  });

  it("answers a wrong password and an unknown account the same way", async () => {
    const wrong = await failure(
      await server.fetch("/login", form({ email: user.email, password: "not the password!" })),
    );
    const unknown = await failure(
      await server.fetch(
        "/login",
        form({ email: "nobody-here@example.com", password: "not the password!" }),
      ),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.message).toContain("Email or password is incorrect.");
    expect(unknown).toEqual(wrong);
  });

  it("sets an HttpOnly, SameSite=Lax session cookie with a new id at every sign-in", async () => {
    const first = await server.fetch(
      "/login",
      form({ email: user.email, password: user.password }),
    );
    expect(first.status).toBe(302);
    const raw = first.headers.getSetCookie().find((c) => c.startsWith("engage_session="))!;
    expect(raw).toMatch(/HttpOnly/i);
    expect(raw).toMatch(/SameSite=Lax/i);
    expect(raw).not.toMatch(/Secure/i); // http BASE_URL here; https turns Secure on
    const firstCookie = cookieOf(first)!;
    // Signing in again from the same browser replaces the session: the old id stops working.
    const second = await server.fetch(
      "/login",
      form({ email: user.email, password: user.password }, { cookie: firstCookie }),
    );
    const secondCookie = cookieOf(second)!;
    expect(secondCookie).not.toBe(firstCookie);
    expect((await server.fetch("/account", { headers: { cookie: firstCookie } })).status).toBe(302);
    expect((await server.fetch("/account", { headers: { cookie: secondCookie } })).status).toBe(
      200,
    );
  });

  it("locks an account after repeated failures, with 429 and Retry-After, even for the right password", async () => {
    const victim = await createVerifiedUser();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await server.fetch(
        "/login",
        form({ email: victim.email, password: `guess number ${i} here` }),
      );
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses[4]).toBe(429);
    const right = await server.fetch(
      "/login",
      form({ email: victim.email, password: victim.password }),
    );
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThanOrEqual(30);
    expect(await right.text()).toContain("Too many attempts");
    // Another account from the same address is not locked by it.
    expect(await signIn(server, user.email, user.password)).toMatch(/^engage_session=/);
  });

  it("counts a parallel burst of guesses before checking them: at most the limit are evaluated", async () => {
    const victim = await createVerifiedUser();
    const LIMIT = 5; // POLICIES.loginAccount
    const guess = (i: number) =>
      server.fetch("/login", form({ email: victim.email, password: `burst guess ${i} wrong` }));
    let firstRefusal!: () => void;
    const refused = new Promise<void>((resolve) => (firstRefusal = resolve));
    const burst = Array.from({ length: 20 }, (_, i) =>
      guess(i).then((res) => {
        if (res.status === 429) firstRefusal();
        return res.status;
      }),
    );
    // The right password arrives while the burst is still being answered.
    await refused;
    const right = await server.fetch(
      "/login",
      form({ email: victim.email, password: victim.password }),
    );
    const statuses = await Promise.all(burst);
    expect(statuses.filter((s) => s === 401).length).toBeLessThan(LIMIT);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20 - LIMIT + 1);
    expect(right.status).toBe(429);
    expect(cookieOf(right)).toBeUndefined();
    // Each evaluated wrong password leaves one audit row; refused ones never reached bcrypt.
    const evaluated = getControlDb()
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(and(eq(auditLog.action, "auth.sign_in_failed"), eq(auditLog.targetId, victim.id)))
      .all().length;
    expect(evaluated).toBeLessThanOrEqual(LIMIT);
  });

  it("ignores a bot that fills the honeypot", async () => {
    const res = await server.fetch(
      "/login",
      form({ email: user.email, password: user.password, website: "http://spam.example" }),
    );
    expect(res.status).toBe(401);
    expect(cookieOf(res)).toBeUndefined();
  });

  it("refuses a cross-site sign-in post", async () => {
    const res = await server.fetch(
      "/login",
      form({ email: user.email, password: user.password }, { origin: "https://evil.example" }),
    );
    expect(res.status).toBe(403);
    expect(cookieOf(res)).toBeUndefined();
  });
});

describe("second factor", () => {
  let user: TestUser;
  let secret: string;

  beforeAll(async () => {
    user = await createVerifiedUser();
    const ctx = { actor: { type: "user" as const, id: user.id }, now: () => new Date() };
    secret = beginTotpEnrolment(ctx, user.id).secret;
    // Enrol with the previous step's code so the current one is still fresh for the tests.
    const previous = authenticator.clone({ epoch: Date.now() - 30_000 }).generate(secret);
    await confirmTotpEnrolment(ctx, user.id, previous);
  });

  async function passwordStep(): Promise<string> {
    const res = await server.fetch("/login", form({ email: user.email, password: user.password }));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toMatch(/^\/login\/mfa/);
    return cookieOf(res)!;
  }

  it("a password alone gives only the second-factor page", async () => {
    const pending = await passwordStep();
    const res = await server.fetch("/account", { headers: { cookie: pending } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login/mfa");
  });

  it("accepts a TOTP code once and refuses the same code again (replay)", async () => {
    const code = authenticator.generate(secret);
    const pending = await passwordStep();
    const ok = await server.fetch("/login/mfa", form({ code }, { cookie: pending }));
    expect(ok.status).toBe(302);
    const full = cookieOf(ok)!;
    expect(full).not.toBe(pending); // new id at the privilege change
    expect((await server.fetch("/account", { headers: { cookie: full } })).status).toBe(200);

    const again = await passwordStep();
    const replay = await server.fetch("/login/mfa", form({ code }, { cookie: again }));
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("That code is not right");
    expect((await server.fetch("/account", { headers: { cookie: again } })).status).toBe(302);
  });
});

describe("password reset", () => {
  it("ends every session, and the link works once", async () => {
    const user = await createVerifiedUser();
    const laptop = await signedIn(server, user);
    const phone = await signedIn(server, user);
    const asked = await server.fetch("/forgot-password", form({ email: user.email }));
    expect(asked.status).toBe(200);
    const mail = await findMail(user.email, /reset/i);
    const token = /reset-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? "")?.[1];
    expect(token).toBeTruthy();
    const newPassword = "velvet harbour lantern quietly";
    const done = await server.fetch(
      "/reset-password",
      form({ token: decodeURIComponent(token!), password: newPassword }),
    );
    expect(done.status).toBe(302);
    expect(done.headers.get("location")).toBe("/login");
    for (const browser of [laptop, phone]) {
      expect((await browser.get("/account")).status).toBe(302);
    }
    const reused = await server.fetch(
      "/reset-password",
      form({ token: decodeURIComponent(token!), password: "another fine passphrase" }),
    );
    expect(reused.status).toBe(400);
    expect(await signIn(server, user.email, newPassword)).toMatch(/^engage_session=/);
  });

  it("answers the same for an address with no account and sends nothing", async () => {
    const res = await server.fetch("/forgot-password", form({ email: "ghost@example.com" }));
    expect(res.status).toBe(200);
    const text = (await res.text()).replace(/<!-- -->/g, "");
    expect(text).toContain("If an account exists for ghost@example.com");
    expect(await findMail("ghost@example.com")).toBeNull();
  });
});

describe("sessions page", () => {
  it("lists sessions and signs out another one", async () => {
    const user = await createVerifiedUser();
    const here = await signedIn(server, user, {
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
    });
    const there = await signedIn(server, user, {
      "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1",
    });
    const page = await (await here.get("/account/security")).text();
    expect(page).toContain("Chrome on Linux");
    expect(page).toContain("Safari on iOS");
    const handle = /name="session" value="([0-9a-f]{16})"/.exec(page)?.[1];
    expect(handle).toBeTruthy();
    const res = await here.post("/account/security", { intent: "revoke", session: handle! });
    expect(res.status).toBe(302);
    expect((await there.get("/account")).status).toBe(302);
    expect((await here.get("/account")).status).toBe(200);
    expect(browserFor(server, here.cookie).cookie).toBe(here.cookie);
  });
});

/**
 * Mail scanners, link previews and the dev mailbox open every link in a mail with a GET, so a
 * GET of a mailed link only shows a page; its button (a POST) does the change.
 */
describe("links sent by mail", () => {
  const seed = (userId?: string) => ({
    actor: userId ? { type: "user" as const, id: userId } : { type: "system" as const, id: "test" },
    now: () => new Date(),
    request: { ip: "198.51.100.201", userAgent: "engage-test" },
  });
  const tokenIn = (text: string | undefined, path: string) => {
    const match = new RegExp(`${path}\\?token=([A-Za-z0-9_%.-]+)`).exec(text ?? "");
    return match ? decodeURIComponent(match[1]!) : null;
  };
  const pageText = async (res: Response) => (await res.text()).replace(/<!-- -->/g, "");

  it("verify email: GET shows a button, POST verifies, a used link says already verified", async () => {
    const email = `verify-${Date.now()}@example.com`;
    await signUp(seed(), {
      name: "Vera",
      email,
      password: "orchard lantern velvet 42",
      ageConfirmed: true,
      policyAccepted: true,
    });
    const token = tokenIn((await findMail(email, /confirm/i))?.text, "/verify-email");
    expect(token).toBeTruthy();
    const url = `/verify-email?token=${encodeURIComponent(token!)}`;

    for (let i = 0; i < 2; i++) {
      const shown = await server.fetch(url);
      expect(shown.status).toBe(200);
      expect(await pageText(shown)).toContain("Verify my email");
    }
    expect(findUserByEmail(email)!.emailVerifiedAt).toBeNull();

    const done = await server.fetch(url, form({ intent: "verify", token: token! }));
    expect(done.status).toBe(302);
    expect(done.headers.get("location")).toBe("/login");
    expect(findUserByEmail(email)!.emailVerifiedAt).not.toBeNull();

    const reused = await server.fetch(url, form({ intent: "verify", token: token! }));
    expect(reused.status).toBe(200);
    expect(await pageText(reused)).toContain("Your email is already verified");
    const reopened = await pageText(await server.fetch(url));
    expect(reopened).toContain("Your email is already verified");
    expect(reopened).not.toContain("This link has expired");
  });

  it("change of address: GET shows a button, POST changes the address", async () => {
    const user = await createVerifiedUser();
    const newEmail = `moved-${Date.now()}@example.com`;
    await requestEmailChange(seed(user.id), user.id, { email: newEmail, password: user.password });
    const token = tokenIn((await findMail(newEmail))?.text, "/account/confirm-email");
    expect(token).toBeTruthy();
    const url = `/account/confirm-email?token=${encodeURIComponent(token!)}`;
    const shown = await server.fetch(url);
    expect(shown.status).toBe(200);
    expect(await pageText(shown)).toContain("Confirm new address");
    expect(getUser(user.id).email).toBe(user.email);

    const done = await server.fetch(url, form({ token: token! }));
    expect(done.status).toBe(302);
    expect(getUser(user.id).email).toBe(newEmail);
  });

  it("invitation: GET shows a button, POST joins", async () => {
    const owner = await createVerifiedUser();
    const workspace = createWorkspaceFor(owner);
    const invitee = await createVerifiedUser();
    await inviteMember({ ...seed(owner.id), role: "owner", userId: owner.id }, workspace.id, {
      email: invitee.email,
      role: "viewer",
    });
    const path = /\/invitations\/[A-Za-z0-9_%.-]+/.exec(
      (await findMail(invitee.email, /invited you/))?.text ?? "",
    )?.[0];
    expect(path).toBeTruthy();
    const browser = await signedIn(server, invitee);
    const shown = await browser.get(path!);
    expect(shown.status).toBe(200);
    expect(await pageText(shown)).toContain("Accept invitation");
    expect(findMembership(workspace.id, invitee.id)).toBeUndefined();

    const done = await browser.post(path!, {});
    expect(done.status).toBe(302);
    expect(findMembership(workspace.id, invitee.id)?.role).toBe("viewer");
  });

  it("reopen account: GET shows a button, POST reopens", async () => {
    const user = await createVerifiedUser();
    await closeAccount(
      seed(user.id),
      user.id,
      { confirmEmail: user.email, password: user.password },
      { authenticatedAt: new Date() },
    );
    const token = tokenIn((await findMail(user.email, /closed/i))?.text, "/reopen-account");
    expect(token).toBeTruthy();
    const url = `/reopen-account?token=${encodeURIComponent(token!)}`;
    const shown = await server.fetch(url);
    expect(shown.status).toBe(200);
    expect(await pageText(shown)).toContain("Reopen my account");
    expect(getUser(user.id).status).toBe("closed");

    const done = await server.fetch(url, form({ intent: "reopen", token: token! }));
    expect(done.status).toBe(302);
    expect(getUser(user.id).status).toBe("active");
  });
});
