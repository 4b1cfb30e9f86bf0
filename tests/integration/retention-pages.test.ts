import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { integrations, users, workspaces } from "~/db/schema/control";
import { unsubscribeToken } from "~/domain/delivery/email-compose.server";
import { createApiKey } from "~/domain/workspaces/api-keys.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import {
  addMember,
  createVerifiedUser,
  createWorkspaceFor,
  findMail,
  signedIn,
  type Browser,
  type TestUser,
} from "../support/accounts";
import { createPlatformAdmin, enrolTotp, signInWithTotp } from "../support/admin";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { signInAll, startServer } from "../support/teams";

/**
 * Closing an account, deleting a workspace, and the retention pages, through the real server
 * as a browser without JavaScript uses them.
 */

describe("closing and deleting, and the retention pages", () => {
  let server: TestServer;
  let owner: TestUser;
  let admin: TestUser;
  let closer: TestUser;
  let alpha: Workspace;
  let asOwner: Browser;
  let asAdmin: Browser;
  let keySecret: string;
  const integrationId = "int_retentionpages01";

  beforeAll(async () => {
    owner = await createVerifiedUser({ name: "Olive Owner" });
    admin = await createVerifiedUser({ name: "Arun Admin" });
    closer = await createVerifiedUser({ name: "Cleo Closer" });
    alpha = createWorkspaceFor(owner, { slug: "ret-alpha", name: "Alpha Retail" });
    createWorkspaceFor(closer, { slug: "ret-solo", name: "Solo Shop" });
    await addMember(alpha, owner, admin, "admin");
    keySecret = createApiKey(
      { actor: { type: "user", id: owner.id }, now: () => new Date(), userId: owner.id },
      alpha.id,
      { name: "CRM", role: "admin" },
    ).secret;
    getControlDb()
      .insert(integrations)
      .values({
        id: integrationId,
        workspaceId: alpha.id,
        channel: "sms",
        provider: "sms",
        configEnc: "not-used-once-deleted",
        ratePerSecond: 1,
        updatedAt: new Date(),
      })
      .run();
    server = await startServer();
    ({ asOwner, asAdmin } = await signInAll(server, { asOwner: owner, asAdmin: admin }));
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("shows the workspace's retention policies and its nav entry", async () => {
    const res = await asOwner.get("/w/ret-alpha/settings/retention");
    expect(res.status).toBe(200);
    const text = await textOf(res);
    expect(text).toContain("Data retention");
    expect(text).toContain("90 days after the message was created");
    expect(text).toContain("No retention run has visited this workspace yet");
    const settings = await textOf(await asOwner.get("/w/ret-alpha/settings"));
    expect(settings).toContain('href="/w/ret-alpha/settings/retention"');
    expect(settings).toContain("Delete workspace…");
    // Admins manage settings but only the owner may delete.
    expect(await textOf(await asAdmin.get("/w/ret-alpha/settings"))).not.toContain(
      "Delete workspace…",
    );
    expect((await asAdmin.get("/w/ret-alpha/settings/delete")).status).toBe(403);
  });

  it("refuses a wrong typed slug with a 400 and deletes nothing", async () => {
    const res = await asOwner.post("/w/ret-alpha/settings/delete", {
      confirmSlug: "ret-alfa",
      password: owner.password,
    });
    expect(res.status).toBe(400);
    expect(await textOf(res)).toContain("Type the workspace's address, ret-alpha, exactly.");
    const wrongPassword = await asOwner.post("/w/ret-alpha/settings/delete", {
      confirmSlug: "ret-alpha",
      password: "not the password at all",
    });
    expect(wrongPassword.status).toBe(400);
    expect((await asOwner.get("/w/ret-alpha")).status).toBe(200);
  });

  it("deletes the workspace: pages, API and webhooks stop at once", async () => {
    const res = await asOwner.post("/w/ret-alpha/settings/delete", {
      confirmSlug: "ret-alpha",
      password: owner.password,
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/workspaces");
    expect((await asOwner.get("/w/ret-alpha")).status).toBe(404);
    expect((await asAdmin.get("/w/ret-alpha/contacts")).status).toBe(404);
    const api = await server.fetch("/api/v1/me", {
      headers: { authorization: `Bearer ${keySecret}` },
    });
    expect(api.status).toBe(401);
    const hook = await server.fetch(`/webhooks/sms/${integrationId}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "MessageSid=SM1&MessageStatus=delivered",
    });
    expect(hook.status).toBe(200);
    // A recipient's unsubscribe link answers plainly instead of failing.
    const unsubscribe = await server.fetch(
      `/u/${unsubscribeToken({ workspaceId: alpha.id, contactId: 1, channel: "email", messageId: "msg_x" })}`,
    );
    expect(unsubscribe.status).toBe(400);
    expect(await textOf(unsubscribe)).toContain("you will get no more messages from it");
    const unknown = await server.fetch("/webhooks/sms/int_0000000000000000", {
      method: "POST",
      body: "x",
    });
    expect(unknown.status).toBe(404);
  });

  it("lets a platform admin see it with its purge date and restore it", async () => {
    const platformAdmin = await createPlatformAdmin();
    await enrolTotp(platformAdmin);
    const asPlatform = await signInWithTotp(server, platformAdmin);
    const page = await asPlatform.get("/admin/retention");
    expect(page.status).toBe(200);
    const text = await textOf(page);
    expect(text).toContain("Alpha Retail");
    const purgeOn = new Date(Date.now() + 30 * 24 * 3_600_000).toISOString().slice(0, 10);
    expect(text).toMatch(new RegExp(`${purgeOn}|${purgeOn.slice(0, 8)}`));
    expect(text).toContain("Last runs");

    const unconfirmed = await asPlatform.post("/admin/retention", { workspaceId: alpha.id });
    expect(unconfirmed.status).toBe(400);
    const restored = await asPlatform.post("/admin/retention", {
      workspaceId: alpha.id,
      confirm: "on",
    });
    expect(restored.status).toBe(302);
    expect(
      getControlDb().select().from(workspaces).where(eq(workspaces.id, alpha.id)).get()!.status,
    ).toBe("active");
    expect((await asOwner.get("/w/ret-alpha")).status).toBe(200);
    // Not for everyone.
    expect((await asOwner.get("/admin/retention")).status).toBe(404);
  });

  it("closes an account after the typed address and password, and reopens it by the link", async () => {
    const asCloser = await signedIn(server, closer);
    const page = await textOf(await asCloser.get("/account/close"));
    expect(page).toContain("Solo Shop");

    const wrong = await asCloser.post("/account/close", {
      confirmEmail: "cleo@elsewhere.example",
      password: closer.password,
    });
    expect(wrong.status).toBe(400);
    expect((await asCloser.get("/account")).status).toBe(200);

    const res = await asCloser.post("/account/close", {
      confirmEmail: closer.email,
      password: closer.password,
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login");
    expect(getControlDb().select().from(users).where(eq(users.id, closer.id)).get()!.status).toBe(
      "closed",
    );
    // The old session is gone, and sign-in says the account is closed and until when.
    const after = await asCloser.get("/account");
    expect(after.status).toBe(302);
    const login = await server.fetch("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: new URLSearchParams({ email: closer.email, password: closer.password }).toString(),
    });
    expect(login.status).toBe(403);
    expect(await textOf(login)).toMatch(/This account is closed\. You can reopen it until \d{4}-/);

    const mail = await findMail(closer.email, /closed/);
    const link = /\/reopen-account\?token=[A-Za-z0-9_.%-]+/.exec(mail?.text ?? "")?.[0];
    expect(link).toBeTruthy();
    const reopenPage = await server.fetch(link!);
    expect(reopenPage.status).toBe(200);
    const reopenText = await textOf(reopenPage);
    expect(reopenText).toContain("Reopen the account of");
    expect(reopenText).toContain(closer.email);
    const token = decodeURIComponent(link!.split("token=")[1]!);
    const reopened = await server.fetch("/reopen-account", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: new URLSearchParams({ intent: "reopen", token }).toString(),
    });
    expect(reopened.status).toBe(302);
    const again = await signedIn(server, closer);
    expect((await again.get("/w/ret-solo")).status).toBe(200);
    // The link was for that closure only.
    const reused = await server.fetch("/reopen-account", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: server.url },
      body: new URLSearchParams({ intent: "reopen", token }).toString(),
    });
    expect(reused.status).toBe(400);
  });
});
