import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inviteMember } from "~/domain/workspaces/invitations.server";
import {
  createVerifiedUser,
  createWorkspaceFor,
  findMail,
  signedIn,
  type TestUser,
} from "../support/accounts";
import { startTestServer, type TestServer } from "../support/server";

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
  server = await startTestServer({ dataDir: process.env.DATA_DIR });
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
