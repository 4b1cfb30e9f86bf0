import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inviteMember } from "~/domain/workspaces/invitations.server";
import {
  createVerifiedUser,
  createWorkspaceFor,
  findMail,
  signedIn,
  type TestUser,
} from "../support/accounts";
import type { TestServer } from "../support/server";
import { startServer } from "../support/teams";

/** Joining a workspace by the link in an invitation mail. */

let server: TestServer;
let owner: TestUser;
let slug: string;
let workspaceId: string;

beforeAll(async () => {
  owner = await createVerifiedUser({ name: "Olive Owner" });
  const ws = createWorkspaceFor(owner, { name: "Invite Co" });
  slug = ws.slug;
  workspaceId = ws.id;
  server = await startServer();
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

async function invite(email: string): Promise<string> {
  const ctx = {
    actor: { type: "user" as const, id: owner.id },
    now: () => new Date(),
    role: "owner" as const,
    userId: owner.id,
  };
  await inviteMember(ctx, workspaceId, { email, role: "marketer" });
  const mail = await findMail(email, /invited you/);
  const path = /\/invitations\/[A-Za-z0-9_%-]+/.exec(mail?.text ?? "")?.[0];
  if (!path) throw new Error("no invitation link in the mail");
  return path;
}

const pageText = async (res: Response) => (await res.text()).replace(/<!-- -->/g, "");

function post(path: string, fields: Record<string, string>, cookie?: string) {
  return server.fetch(path, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: server.url,
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Signs up through the form, as from the invitation page, and spends the verification link. */
async function signUpAndVerify(email: string, redirectTo: string): Promise<Response> {
  const created = await post("/signup", {
    name: "Nina New",
    email,
    password: "copper meadow lantern 42",
    ageConfirmed: "on",
    policyAccepted: "on",
    redirectTo,
  });
  expect(created.status).toBe(302);
  const mail = await findMail(email, /Confirm your email address/);
  const token = /\/verify-email\?token=([A-Za-z0-9_%.-]+)/.exec(mail?.text ?? "")?.[1];
  if (!token) throw new Error(`no verification mail for ${email}`);
  return post("/verify-email", { intent: "verify", token: decodeURIComponent(token) });
}

describe("an invitation to someone without an account", () => {
  it("pre-fills the invited address and comes back to the invitation after verification", async () => {
    const email = `newcomer-${Date.now()}@example.com`;
    const path = await invite(email);
    const invitationPage = await pageText(await server.fetch(path));
    const signupHref = `/signup?redirectTo=${encodeURIComponent(path)}`;
    expect(invitationPage).toContain(`href="${signupHref.replace(/&/g, "&amp;")}"`);

    const signupPage = await pageText(await server.fetch(signupHref));
    expect(signupPage).toContain("You are invited to join <strong>Invite Co</strong>");
    expect(signupPage).toMatch(
      new RegExp(`value="${email}"[^>]*readOnly|readOnly[^>]*value="${email}"`, "i"),
    );
    expect(signupPage).toContain(`name="redirectTo" value="${path}"`);

    const verified = await signUpAndVerify(email, path);
    expect(verified.status).toBe(302);
    // This request has no session, so the way back to the invitation goes through sign-in.
    expect(verified.headers.get("location")).toBe(`/login?redirectTo=${encodeURIComponent(path)}`);

    const signedInRes = await post("/login", {
      email,
      password: "copper meadow lantern 42",
      redirectTo: path,
    });
    expect(signedInRes.status).toBe(302);
    expect(signedInRes.headers.get("location")).toBe(path);
    const cookie = signedInRes.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .find((c) => /engage_session=./.test(c))!;
    const accepted = await post(path, {}, cookie);
    expect(accepted.status).toBe(302);
    expect(accepted.headers.get("location")).toBe(`/w/${slug}`);
  });

  it("an account made with another address comes back but cannot accept", async () => {
    const invited = `invited-${Date.now()}@example.com`;
    const other = `someone-else-${Date.now()}@example.com`;
    const path = await invite(invited);
    // The address field is read-only on the page; a crafted form can still change it.
    const verified = await signUpAndVerify(other, path);
    expect(verified.headers.get("location")).toBe(`/login?redirectTo=${encodeURIComponent(path)}`);
    const signedInRes = await post("/login", {
      email: other,
      password: "copper meadow lantern 42",
      redirectTo: path,
    });
    const cookie = signedInRes.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .find((c) => /engage_session=./.test(c))!;
    const page = await pageText(await server.fetch(path, { headers: { cookie } }));
    expect(page).toContain(`You are signed in as ${other}`);
    const refused = await post(path, {}, cookie);
    expect(refused.status).toBe(403);
    expect(await pageText(refused)).toContain(`This invitation is for ${invited}`);
    expect((await server.fetch(`/w/${slug}`, { headers: { cookie } })).status).toBe(404);
  });

  it("a return address to another site is dropped: verification ends at sign-in", async () => {
    for (const unsafe of ["//evil.example/phish", "https://evil.example/", "/\\evil.example"]) {
      const email = `unsafe-${Date.now()}-${unsafe.length}@example.com`;
      const verified = await signUpAndVerify(email, unsafe);
      expect(verified.status).toBe(302);
      expect(verified.headers.get("location")).toBe("/login");
    }
    const page = await pageText(
      await server.fetch(`/signup?redirectTo=${encodeURIComponent("//evil.example/x")}`),
    );
    // A garbled invitation path is not an error: the page shows no invitation.
    const garbled = await server.fetch(
      `/signup?redirectTo=${encodeURIComponent("/invitations/%E0%A4%A")}`,
    );
    expect(garbled.status).toBe(200);
    expect(await pageText(garbled)).not.toContain("You are invited to join");
    // The form carries no return path and "Sign in" goes to the plain sign-in page.
    expect(page).not.toContain('name="redirectTo"');
    expect(page).toContain('href="/login"');
  });
});

describe("invitations", () => {
  it("the invited person accepts and lands in the workspace with the invited role", async () => {
    const invited = await createVerifiedUser({ name: "Ivy Invited" });
    const path = await invite(invited.email);
    const visitor = await server.fetch(path);
    const page = (await visitor.text()).replace(/<!-- -->/g, "");
    expect(page).toContain("Join Invite Co");
    expect(page).toContain("Sign in");

    const ivy = await signedIn(server, invited);
    expect((await ivy.get(`/w/${slug}`)).status).toBe(404);
    const accepted = await ivy.post(path, {});
    expect(accepted.status).toBe(302);
    expect(accepted.headers.get("location")).toBe(`/w/${slug}`);
    const members = await (await ivy.get(`/w/${slug}/members`)).text();
    expect(members).toContain("Ivy Invited");
    expect(members).toContain("Marketer");
    // Used once.
    const again = await (await server.fetch(path)).text();
    expect(again).toContain("This invitation is no longer valid");
  });

  it("someone else cannot use a forwarded link", async () => {
    const intended = `intended-${Date.now()}@example.com`;
    const path = await invite(intended);
    const mallory = await signedIn(server, await createVerifiedUser({ name: "Mallory" }));
    const res = await mallory.post(path, {});
    expect(res.status).toBe(403);
    expect((await res.text()).replace(/<!-- -->/g, "")).toContain(
      `This invitation is for ${intended}`,
    );
    expect((await mallory.get(`/w/${slug}`)).status).toBe(404);
  });

  it("a made-up token shows a clear page, not an error", async () => {
    const res = await server.fetch("/invitations/not-a-real-token");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("This invitation is no longer valid");
  });
});
