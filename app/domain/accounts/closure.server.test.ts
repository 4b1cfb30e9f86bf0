import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { integrations, memberships, sessions, users, workspaces } from "~/db/schema/control";
import { ConflictError, ForbiddenError, ValidationError } from "~/lib/errors";
import { agentStates, conversations, teamMembers } from "~/db/schema/tenant-inbox";
import { findMail } from "../../../tests/support/accounts";
import { seedConversation } from "../../../tests/support/inbox-seed";
import { makeTeam } from "../../../tests/support/teams";
import { createUserByOperator } from "../admin/admin.server";
import { cliContext, type SystemContext } from "../context";
import { integrationForWebhook } from "../delivery/integrations.server";
import { setAvailability } from "../inbox/agents.server";
import { addTeamMember, createTeam } from "../inbox/teams.server";
import { dueWorkspaces, markDue } from "../delivery/outbox.server";
import { resolveMemberAccess } from "../workspaces/access.server";
import { createApiKey, verifyApiKey } from "../workspaces/api-keys.server";
import { deleteWorkspace } from "../workspaces/deletion.server";
import { createWorkspace, findMembership } from "../workspaces/workspaces.server";
import { AccountClosedError, checkPassword } from "./accounts.server";
import { closeAccount, readReopenLink, reopenAccount, requestReopenLink } from "./closure.server";
import { createSession } from "./sessions.server";

/** Closing, reopening and deleting: re-authentication, typed confirmation, and the windows. */

const DAY = 24 * 3_600_000;
const NOW = new Date();
const at = (d: Date): SystemContext => ({
  ...cliContext(() => d),
  request: { ip: "203.0.113.9" },
});
let seq = 0;

async function person() {
  seq += 1;
  const password = `quartz meadow lantern ${seq} river`;
  const user = await createUserByOperator(at(NOW), {
    email: `closer${seq}@example.com`,
    name: `Closer ${seq}`,
    password,
  });
  return { ...user, password };
}

function workspaceFor(ownerId: string, slug: string) {
  return createWorkspace({ ...at(NOW), actor: { type: "user", id: ownerId } }, ownerId, {
    slug,
    name: `Shop ${slug}`,
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });
}

const status = (id: string) =>
  getControlDb().select().from(users).where(eq(users.id, id)).get()!.status;

async function reopenTokenFor(email: string): Promise<string> {
  const mail = await findMail(email, /closed|Reopen/);
  const token = /reopen-account\?token=([A-Za-z0-9_.%-]+)/.exec(mail?.text ?? "")?.[1];
  if (!token) throw new Error(`no reopen link mailed to ${email}`);
  return decodeURIComponent(token);
}

describe("closing an account", () => {
  it("refuses a wrong typed address or password and changes nothing", async () => {
    const user = await person();
    createSession(at(NOW), user.id);
    const session = { authenticatedAt: NOW };
    await expect(
      closeAccount(
        at(NOW),
        user.id,
        { confirmEmail: "someone@else.com", password: user.password },
        session,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      closeAccount(
        at(NOW),
        user.id,
        { confirmEmail: user.email, password: "wrong password here" },
        session,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(status(user.id)).toBe("active");
    expect(
      getControlDb().select().from(sessions).where(eq(sessions.userId, user.id)).all(),
    ).toHaveLength(1);
  });

  it("asks an owner of a shared workspace to transfer it first", async () => {
    const owner = await person();
    const member = await person();
    const ws = workspaceFor(owner.id, `shared-${seq}`);
    getControlDb()
      .insert(memberships)
      .values({ workspaceId: ws.id, userId: member.id, role: "marketer" })
      .run();
    await expect(
      closeAccount(
        at(NOW),
        owner.id,
        { confirmEmail: owner.email, password: owner.password },
        { authenticatedAt: NOW },
      ),
    ).rejects.toThrow(ConflictError);
    await expect(
      closeAccount(
        at(NOW),
        owner.id,
        { confirmEmail: owner.email, password: owner.password },
        { authenticatedAt: NOW },
      ),
    ).rejects.toThrow(/Transfer ownership/);
    expect(status(owner.id)).toBe("active");
  });

  it("closes, refuses sign-in with the reopen date, and reopens through the mailed link once", async () => {
    const user = await person();
    const ws = workspaceFor(user.id, `alone-${seq}`);
    createSession(at(NOW), user.id);
    await closeAccount(
      at(NOW),
      user.id,
      { confirmEmail: ` ${user.email.toUpperCase()} `, password: user.password },
      { authenticatedAt: NOW },
    );
    expect(status(user.id)).toBe("closed");
    expect(
      getControlDb().select().from(sessions).where(eq(sessions.userId, user.id)).all(),
    ).toEqual([]);
    const wsRow = getControlDb().select().from(workspaces).where(eq(workspaces.id, ws.id)).get()!;
    expect(wsRow.status).toBe("deleted");

    const until = new Date(NOW.getTime() + 90 * DAY).toISOString().slice(0, 10);
    const refused = checkPassword(at(NOW), user.email, user.password);
    await expect(refused).rejects.toBeInstanceOf(AccountClosedError);
    await expect(checkPassword(at(NOW), user.email, user.password)).rejects.toThrow(until);

    const token = await reopenTokenFor(user.email);
    expect(readReopenLink(token, new Date(NOW.getTime() + 91 * DAY))).toBeNull();
    const done = await reopenAccount(at(new Date(NOW.getTime() + 10 * DAY)), token);
    expect(done).toEqual({ userId: user.id, workspacesRestored: 1 });
    expect(status(user.id)).toBe("active");
    expect(
      getControlDb().select().from(workspaces).where(eq(workspaces.id, ws.id)).get()!.status,
    ).toBe("active");
    // Single use: the link named that closure.
    expect(await reopenAccount(at(new Date(NOW.getTime() + 11 * DAY)), token)).toBeNull();
    await expect(checkPassword(at(NOW), user.email, user.password)).resolves.toMatchObject({
      id: user.id,
    });
  });

  it("hands an agent's conversations back at once, and keeps their teams for a reopening", async () => {
    const team = await makeTeam({
      owner: "Owen Closure",
      workspace: { slug: `inbox-closure-${seq}` },
      members: { ada: { name: "Ada Leaving", role: "agent" } },
    });
    const { ctx } = team;
    const ada = team.members.ada;
    const support = createTeam(ctx, "Support").id;
    addTeamMember(ctx, support, ada.id);
    setAvailability(ctx, ada.id, true);
    const held = seedConversation(ctx, { assigneeId: ada.id, teamId: support });
    const inTeam = () =>
      ctx.db.select().from(teamMembers).where(eq(teamMembers.userId, ada.id)).all().length;

    createSession(at(NOW), ada.id);
    await closeAccount(
      at(NOW),
      ada.id,
      { confirmEmail: ada.email, password: ada.password },
      { authenticatedAt: NOW },
    );
    const conversation = ctx.db
      .select()
      .from(conversations)
      .where(eq(conversations.id, held))
      .get()!;
    expect(conversation.assigneeId).toBeNull();
    expect(ctx.db.select().from(agentStates).where(eq(agentStates.userId, ada.id)).all()).toEqual(
      [],
    );
    expect(inTeam()).toBe(1);

    const token = await reopenTokenFor(ada.email);
    expect(await reopenAccount(at(new Date(NOW.getTime() + DAY)), token)).toMatchObject({
      userId: ada.id,
    });
    expect(inTeam()).toBe(1);
  });

  it("mails a fresh reopen link on request, and nothing for unknown or open accounts", async () => {
    const user = await person();
    await closeAccount(
      at(NOW),
      user.id,
      { confirmEmail: user.email, password: user.password },
      {
        authenticatedAt: NOW,
      },
    );
    await requestReopenLink(at(NOW), user.email);
    const mail = await findMail(user.email, /^Reopen your/);
    expect(mail?.text).toContain("/reopen-account?token=");
    await requestReopenLink(at(NOW), "nobody-here@example.com");
    expect(await findMail("nobody-here@example.com")).toBeNull();
  });

  it("accepts a recent Google sign-in in place of a password, and not an old one", async () => {
    const user = await person();
    getControlDb().update(users).set({ passwordHash: null }).where(eq(users.id, user.id)).run();
    await expect(
      closeAccount(
        at(NOW),
        user.id,
        { confirmEmail: user.email },
        {
          authenticatedAt: new Date(NOW.getTime() - 11 * 60_000),
        },
      ),
    ).rejects.toThrow(/sign in with Google again/);
    expect(status(user.id)).toBe("active");
    await closeAccount(
      at(NOW),
      user.id,
      { confirmEmail: user.email },
      {
        authenticatedAt: new Date(NOW.getTime() - 60_000),
      },
    );
    expect(status(user.id)).toBe("closed");
  });
});

describe("deleting a workspace", () => {
  it("needs the owner, the typed slug and the password; then nothing reaches it", async () => {
    const owner = await person();
    const admin = await person();
    const ws = workspaceFor(owner.id, `doomed-${seq}`);
    getControlDb()
      .insert(memberships)
      .values({ workspaceId: ws.id, userId: admin.id, role: "admin" })
      .run();
    const key = createApiKey({ ...at(NOW), userId: owner.id }, ws.id, { name: "k", role: "admin" });
    const integrationId = `int_${ws.id.slice(3)}`;
    getControlDb()
      .insert(integrations)
      .values({
        id: integrationId,
        workspaceId: ws.id,
        channel: "sms",
        provider: "sms",
        configEnc: "x",
        ratePerSecond: 1,
        updatedAt: NOW,
      })
      .run();
    markDue(ws.id, NOW.getTime() - 1000);
    const session = { authenticatedAt: NOW };

    await expect(
      deleteWorkspace(
        at(NOW),
        ws,
        admin.id,
        { confirmSlug: ws.slug, password: admin.password },
        session,
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      deleteWorkspace(
        at(NOW),
        ws,
        owner.id,
        { confirmSlug: "not-it", password: owner.password },
        session,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      deleteWorkspace(
        at(NOW),
        ws,
        owner.id,
        { confirmSlug: ws.slug, password: "not my password" },
        session,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(
      getControlDb().select().from(workspaces).where(eq(workspaces.id, ws.id)).get()!.status,
    ).toBe("active");
    expect(verifyApiKey(key.secret, NOW)).not.toBeNull();

    const { purgeOn } = await deleteWorkspace(
      at(NOW),
      ws,
      owner.id,
      { confirmSlug: ws.slug, password: owner.password },
      session,
    );
    expect(purgeOn.getTime()).toBe(NOW.getTime() + 30 * DAY);
    expect(() => resolveMemberAccess(owner.id, ws.slug, "")).toThrow(/not found/);
    expect(verifyApiKey(key.secret, NOW)).toBeNull();
    expect(integrationForWebhook("sms", integrationId)).toBe("workspace_deleted");
    expect(dueWorkspaces(NOW.getTime()).due).not.toContain(ws.id);
    markDue(ws.id, NOW.getTime() - 1000);
    expect(dueWorkspaces(NOW.getTime()).due).not.toContain(ws.id);
    // Memberships stay until the purge, so a restore brings everyone back.
    expect(findMembership(ws.id, admin.id)?.role).toBe("admin");
  });
});
