import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, sessions, users, workspaces } from "~/db/schema/control";
import { hashPassword } from "~/domain/accounts/passwords.server";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import {
  createVerifiedUser,
  createWorkspaceFor,
  signedIn,
  signIn,
  type Browser,
  type TestUser,
} from "../support/accounts";
import {
  createPlatformAdmin,
  enrolTotp,
  lastAuditRow,
  signInWithTotp,
  type TestAdmin,
} from "../support/admin";
import type { TestServer } from "../support/server";
import { textOf } from "../support/html";
import { startServer } from "../support/teams";

/**
 * The platform admin area through the real server, as a browser without JavaScript uses it.
 * People are seeded with the domain functions in this process (it shares DATA_DIR with the
 * server); everyone signs in through the real /login (and /login/mfa) forms.
 */

function userStatus(id: string) {
  return getControlDb().select({ status: users.status }).from(users).where(eq(users.id, id)).get()
    ?.status;
}

function workspaceStatus(id: string) {
  return getControlDb()
    .select({ status: workspaces.status })
    .from(workspaces)
    .where(eq(workspaces.id, id))
    .get()?.status;
}

function auditCount(): number {
  return getControlDb().select({ id: auditLog.id }).from(auditLog).all().length;
}

describe("platform admin pages", () => {
  let server: TestServer;
  let admin: TestAdmin;
  let adminWithoutMfa: TestAdmin;
  let member: TestUser;
  let victim: TestUser;
  let bystander: TestUser;
  let shop: Workspace;
  let asAdmin: Browser;
  let asMember: Browser;

  beforeAll(async () => {
    admin = await createPlatformAdmin({ email: "root-admin@example.com", name: "Rita Root" });
    await enrolTotp(admin);
    adminWithoutMfa = await createPlatformAdmin({ email: "new-admin@example.com" });
    member = await createVerifiedUser({ email: "maya.member@example.com", name: "Maya Member" });
    victim = await createVerifiedUser({ email: "victor.victim@example.com", name: "Victor V" });
    bystander = await createVerifiedUser({ email: "bea.bystander@example.com", name: "Bea B" });
    shop = createWorkspaceFor(member, { slug: "maya-shop", name: "Maya's Shop" });
    createWorkspaceFor(bystander, { slug: "bea-books", name: "Bea's Books" });

    server = await startServer();
    asAdmin = await signInWithTotp(server, admin);
    asMember = await signedIn(server, member);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("sends visitors who are not signed in to sign in", async () => {
    const res = await server.fetch("/admin/users");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/login?redirectTo=%2Fadmin%2Fusers");
  });

  it("answers 404 to signed-in people who are not platform admins, and changes nothing", async () => {
    for (const path of ["/admin", "/admin/users", "/admin/workspaces", "/admin/users?q=a"]) {
      const res = await asMember.get(path);
      expect(res.status, path).toBe(404);
      const html = await textOf(res);
      expect(html, path).toContain("Page not found");
      expect(html, path).not.toContain("Platform admin");
    }
    const before = auditCount();
    const post = await asMember.post("/admin/users", {
      intent: "suspend",
      userId: victim.id,
      confirm: "on",
    });
    expect(post.status).toBe(404);
    const postWorkspace = await asMember.post("/admin/workspaces", {
      intent: "suspend",
      workspaceId: shop.id,
      confirm: "on",
    });
    expect(postWorkspace.status).toBe(404);
    expect(userStatus(victim.id)).toBe("active");
    expect(workspaceStatus(shop.id)).toBe("active");
    expect(auditCount()).toBe(before);
  });

  it("sends a platform admin without MFA to enrolment before anything opens", async () => {
    const asNewAdmin = await signedIn(server, adminWithoutMfa);
    for (const path of ["/admin", "/admin/users", "/admin/workspaces"]) {
      const res = await asNewAdmin.get(path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location"), path).toBe("/account/security/mfa");
    }
    const post = await asNewAdmin.post("/admin/users", {
      intent: "suspend",
      userId: victim.id,
      confirm: "on",
    });
    expect(post.status).toBe(302);
    expect(post.headers.get("location")).toBe("/account/security/mfa");
    expect(userStatus(victim.id)).toBe("active");
  });

  it("shows the admin area to an admin with MFA: layout, users table, search", async () => {
    const index = await asAdmin.get("/admin");
    expect(index.status).toBe(302);
    expect(index.headers.get("location")).toBe("/admin/users");

    const res = await asAdmin.get("/admin/users");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await textOf(res);
    expect(html).toContain("<h1>Platform admin</h1>");
    expect(html).toContain('href="/admin/users"');
    expect(html).toContain('href="/admin/workspaces"');
    for (const column of ["Email", "Name", "Status", "Verified", "MFA", "Admin", "Created"]) {
      expect(html).toContain(`<th scope="col">${column}</th>`);
    }
    for (const person of [member, victim, bystander, adminWithoutMfa]) {
      expect(html).toContain(person.email);
    }
    // The admin's own row offers no suspend button.
    expect(html).not.toContain(`value="${admin.id}"`);
    // Every other row is a plain POST form that works without JavaScript.
    expect(html).toContain(`name="userId" value="${victim.id}"`);
    expect(html).toContain("Yes, suspend and sign them out");

    const search = await textOf(await asAdmin.get("/admin/users?q=VICTOR"));
    expect(search).toContain(victim.email);
    expect(search).not.toContain(member.email);
    expect(search).toContain("1 user matching “VICTOR”");

    const byName = await textOf(await asAdmin.get("/admin/users?q=maya%20member"));
    expect(byName).toContain(member.email);
    expect(byName).not.toContain(victim.email);

    const none = await textOf(await asAdmin.get("/admin/users?q=nobody-by-this-name"));
    expect(none).toContain("No users match your search");

    // Nonsense paging falls back to the first page rather than failing.
    expect((await asAdmin.get("/admin/users?page=abc")).status).toBe(200);
    expect((await asAdmin.get("/admin/users?page=-3")).status).toBe(200);
  });

  it("pages through users 50 at a time with Previous and Next", async () => {
    const db = getControlDb();
    const passwordHash = await hashPassword("pager filler account password");
    const now = new Date();
    db.insert(users)
      .values(
        Array.from({ length: 53 }, (_, i) => ({
          id: `usr_pager${String(i).padStart(7, "0")}`,
          email: `pager-${String(i).padStart(2, "0")}@example.com`,
          name: `Pager ${i}`,
          passwordHash,
          emailVerifiedAt: now,
          ageConfirmedAt: now,
          policyVersion: "1",
          policyAcceptedAt: now,
          createdAt: now,
        })),
      )
      .run();
    const first = await textOf(await asAdmin.get("/admin/users?q=pager-"));
    expect(first).toContain("53 users matching “pager-” · page 1 of 2");
    expect(first).toContain("pager-00@example.com");
    expect(first).toContain("pager-49@example.com");
    expect(first).not.toContain("pager-50@example.com");
    expect(first).toContain('href="/admin/users?q=pager-&page=2"');
    expect(first).not.toMatch(/<a[^>]*rel="prev"/);

    const second = await textOf(await asAdmin.get("/admin/users?q=pager-&page=2"));
    expect(second).toContain("pager-50@example.com");
    expect(second).toContain("pager-52@example.com");
    expect(second).not.toContain("pager-49@example.com");
    expect(second).toContain('href="/admin/users?q=pager-"');
    expect(second).not.toMatch(/<a[^>]*rel="next"/);
  });

  it("asks for confirmation before suspending a user", async () => {
    const before = auditCount();
    const res = await asAdmin.post("/admin/users?q=victor", {
      intent: "suspend",
      userId: victim.id,
    });
    expect(res.status).toBe(400);
    const html = await textOf(res);
    expect(html).toContain("Tick “Yes, suspend and sign them out” to confirm.");
    expect(userStatus(victim.id)).toBe("active");
    expect(auditCount()).toBe(before);
  });

  it("suspends a user (ending their sessions, audited as the admin) and unsuspends them", async () => {
    const asVictim = await signedIn(server, victim);
    expect((await asVictim.get("/account")).status).toBe(200);

    const suspend = await asAdmin.post("/admin/users?q=victor", {
      intent: "suspend",
      userId: victim.id,
      confirm: "on",
    });
    expect(suspend.status).toBe(302);
    expect(suspend.headers.get("location")).toBe("/admin/users?q=victor");
    expect(userStatus(victim.id)).toBe("suspended");
    expect(
      getControlDb().select().from(sessions).where(eq(sessions.userId, victim.id)).all(),
    ).toEqual([]);

    // Their open browser is signed out, and they cannot sign in again.
    const after = await asVictim.get("/account");
    expect(after.status).toBe(302);
    expect(after.headers.get("location")).toMatch(/^\/login/);
    await expect(signIn(server, victim.email, victim.password)).rejects.toThrow(/failed/);

    const suspended = lastAuditRow("admin.user_suspended", victim.id);
    expect(suspended).toMatchObject({
      actorType: "admin",
      actorId: admin.id,
      targetType: "user",
      ip: expect.any(String),
    });

    // The flash and the row both say what happened.
    const page = await textOf(
      await asAdmin.get("/admin/users?q=victor", {
        cookie: `${asAdmin.cookie}; ${suspend.headers
          .getSetCookie()
          .map((c) => c.split(";")[0])
          .join("; ")}`,
      }),
    );
    expect(page).toContain(`${victim.email} is suspended and has been signed out everywhere.`);
    expect(page).toContain("Suspended");
    expect(page).toContain('name="intent" value="unsuspend"');

    const unsuspend = await asAdmin.post("/admin/users?q=victor", {
      intent: "unsuspend",
      userId: victim.id,
    });
    expect(unsuspend.status).toBe(302);
    expect(userStatus(victim.id)).toBe("active");
    expect(lastAuditRow("admin.user_unsuspended", victim.id)).toMatchObject({
      actorType: "admin",
      actorId: admin.id,
    });
    const again = await signedIn(server, victim);
    expect((await again.get("/account")).status).toBe(200);
  });

  it("refuses bad requests with a clear 4xx and changes nothing", async () => {
    const before = auditCount();
    const self = await asAdmin.post("/admin/users", {
      intent: "suspend",
      userId: admin.id,
      confirm: "on",
    });
    expect(self.status).toBe(409);
    // Shown on the page as an alert, not only in the serialised action data.
    expect(await textOf(self)).toContain(
      `<div class="alert alert-error" role="alert"><div class="alert-body">You can't suspend yourself.</div>`,
    );
    expect(userStatus(admin.id)).toBe("active");

    const unknown = await asAdmin.post("/admin/users", {
      intent: "suspend",
      userId: "usr_doesnotexist",
      confirm: "on",
    });
    expect(unknown.status).toBe(404);

    const badIntent = await asAdmin.post("/admin/users", { intent: "delete", userId: victim.id });
    expect(badIntent.status).toBe(400);
    const noId = await asAdmin.post("/admin/workspaces", { intent: "unsuspend" });
    expect(noId.status).toBe(400);
    expect(userStatus(victim.id)).toBe("active");
    expect(auditCount()).toBe(before);
  });

  it("suspends a workspace (members get 403) and unsuspends it, audited as the admin", async () => {
    expect((await asMember.get("/w/maya-shop")).status).toBe(200);

    const list = await textOf(await asAdmin.get("/admin/workspaces"));
    expect(list).toContain("<h1>Platform admin</h1>");
    for (const column of ["Slug", "Name", "Status", "Members", "Created"]) {
      expect(list).toContain(`<th scope="col">${column}</th>`);
    }
    expect(list).toContain("maya-shop");
    expect(list).toContain("bea-books");
    const search = await textOf(await asAdmin.get("/admin/workspaces?q=maya"));
    expect(search).toContain("maya-shop");
    expect(search).not.toContain("bea-books");

    const unconfirmed = await asAdmin.post("/admin/workspaces?q=maya", {
      intent: "suspend",
      workspaceId: shop.id,
    });
    expect(unconfirmed.status).toBe(400);
    expect(workspaceStatus(shop.id)).toBe("active");

    const suspend = await asAdmin.post("/admin/workspaces?q=maya", {
      intent: "suspend",
      workspaceId: shop.id,
      confirm: "on",
    });
    expect(suspend.status).toBe(302);
    expect(suspend.headers.get("location")).toBe("/admin/workspaces?q=maya");
    expect(workspaceStatus(shop.id)).toBe("suspended");
    const blocked = await asMember.get("/w/maya-shop");
    expect(blocked.status).toBe(403);
    expect(await textOf(blocked)).toContain("This workspace is suspended.");
    expect(lastAuditRow("admin.workspace_suspended", shop.id)).toMatchObject({
      actorType: "admin",
      actorId: admin.id,
      workspaceId: shop.id,
      targetType: "workspace",
    });

    const unsuspend = await asAdmin.post("/admin/workspaces?q=maya", {
      intent: "unsuspend",
      workspaceId: shop.id,
    });
    expect(unsuspend.status).toBe(302);
    expect(workspaceStatus(shop.id)).toBe("active");
    expect(lastAuditRow("admin.workspace_unsuspended", shop.id)).toMatchObject({
      actorType: "admin",
      actorId: admin.id,
    });
    expect((await asMember.get("/w/maya-shop")).status).toBe(200);
  });
});
