import { and, count, eq } from "drizzle-orm";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, memberships, workspaces } from "~/db/schema/control";
import { tenantMeta } from "~/db/schema/tenant";
import { getTenantDb, tenantsDir } from "~/db/tenants.server";
import { listFileMailbox, readFileMailboxMessage } from "~/emails/transport.server";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import type { Role } from "~/lib/roles";
import type { User } from "../accounts/users.server";
import { createUserByOperator } from "../admin/admin.server";
import type { SystemContext } from "../context";
import { acceptInvitation, inviteMember } from "./invitations.server";
import {
  assignableRoles,
  changeMemberRole,
  createWorkspace,
  findMembership,
  findWorkspaceBySlug,
  listMembers,
  listMyWorkspaces,
  removeMember,
  transferOwnership,
  updateWorkspaceSettings,
  validateSlug,
  type Workspace,
} from "./workspaces.server";
import { thrown } from "../../../tests/support/errors";
import { sendMailToFiles } from "../../../tests/support/mailbox";

sendMailToFiles();

const NOW = new Date("2030-05-01T10:00:00.000Z");

function ctxFor(user: User | null): SystemContext {
  return {
    actor: user ? { type: "user", id: user.id } : { type: "cli" },
    now: () => NOW,
    request: { ip: "203.0.113.40", userAgent: "vitest" },
  };
}

const settings = (slug: string) => ({
  slug,
  name: `Workspace ${slug}`,
  country: "IN",
  timezone: "Asia/Kolkata",
  currency: "INR",
});

function fieldsOf(fn: () => unknown): Record<string, string[]> {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fieldErrors;
}

const workspaceCount = () => getControlDb().select({ n: count() }).from(workspaces).get()!.n;
const tenantFiles = () =>
  existsSync(tenantsDir()) ? readdirSync(tenantsDir()).filter((n) => n.endsWith(".db")) : [];

let owner: User;
let second: User;
let third: User;
let outsider: User;

beforeAll(async () => {
  const make = (name: string) =>
    createUserByOperator(ctxFor(null), {
      name,
      email: `${name.toLowerCase()}@workspaces.test`,
      password: "plum orbit saddle 42",
    });
  [owner, second, third, outsider] = await Promise.all([
    make("Owner"),
    make("Second"),
    make("Third"),
    make("Outsider"),
  ]);
});

/** Joins `member` the way people join: invited by the owner, accepted from the mail's link. */
async function addMember(workspace: Workspace, member: User, role: Exclude<Role, "owner">) {
  await inviteMember({ ...ctxFor(owner), role: "owner", userId: owner.id }, workspace.id, {
    email: member.email,
    role,
  });
  const { items } = await listFileMailbox({ limit: 1_000, offset: 0 });
  const summary = items.find((m) => m.to.includes(member.email) && /invited you/.test(m.subject));
  const text = (await readFileMailboxMessage(summary!.id))!.text!;
  const token = /\/invitations\/([A-Za-z0-9_%-]+)/.exec(text)![1]!;
  acceptInvitation(ctxFor(member), decodeURIComponent(token), member.id);
}

let seq = 0;
const freshSlug = () => `team-${++seq}-${Date.now().toString(36)}`;

describe("createWorkspace", () => {
  it("creates the workspace, its own database file and the owner's membership", () => {
    const ws = createWorkspace(ctxFor(owner), owner.id, {
      slug: "  Acme-Traders ",
      name: "  Acme Traders ",
      country: "in",
      timezone: "Asia/Kolkata",
      currency: "INR",
    });
    expect(ws).toMatchObject({
      slug: "acme-traders",
      name: "Acme Traders",
      country: "IN",
      timezone: "Asia/Kolkata",
      currency: "INR",
      status: "active",
    });
    expect(ws.id).toMatch(/^ws_[0-9a-z]{16}$/);
    expect(findWorkspaceBySlug("acme-traders")?.id).toBe(ws.id);

    const path = join(process.env.DATA_DIR!, "tenants", `${ws.id}.db`);
    expect(existsSync(path)).toBe(true);
    const meta = getTenantDb(ws.id).select().from(tenantMeta).all();
    expect(meta).toContainEqual({ key: "workspace_id", value: ws.id });

    expect(findMembership(ws.id, owner.id)).toEqual({ role: "owner" });
    expect(listMembers(ws.id)).toEqual([
      expect.objectContaining({ userId: owner.id, role: "owner", mfaEnabled: false }),
    ]);
    expect(listMyWorkspaces(owner.id)).toContainEqual(
      expect.objectContaining({ id: ws.id, slug: "acme-traders", role: "owner" }),
    );
    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "workspace.created"), eq(auditLog.workspaceId, ws.id)))
      .all();
    expect(audit).toHaveLength(1);
  });

  it("accepts UTC and USD", () => {
    const ws = createWorkspace(ctxFor(owner), owner.id, {
      ...settings(freshSlug()),
      country: "US",
      timezone: "UTC",
      currency: "USD",
    });
    expect(ws).toMatchObject({ country: "US", timezone: "UTC", currency: "USD" });
  });

  it.each(["asia/kolkata", "Asia/Calcutta", "ASIA/KOLKATA"])(
    "stores the time zone %s as Asia/Kolkata",
    (timezone) => {
      const ws = createWorkspace(ctxFor(owner), owner.id, { ...settings(freshSlug()), timezone });
      expect(ws.timezone).toBe("Asia/Kolkata");
    },
  );

  it("refuses bad slugs, naming the slug field", () => {
    const bad = ["ab", "a".repeat(41), "-shop", "shop-", "my shop", "shop_1", "shop.in", "dükkan"];
    for (const slug of bad) {
      const fields = fieldsOf(() => createWorkspace(ctxFor(owner), owner.id, settings(slug)));
      expect(fields.slug, JSON.stringify(slug)).toEqual([expect.stringMatching(/3–40/)]);
    }
    expect(validateSlug("abc")).toBe("abc");
    expect(validateSlug("a".repeat(40))).toBe("a".repeat(40));
    expect(validateSlug("7-eleven-2")).toBe("7-eleven-2");
  });

  it("refuses reserved slugs, whatever their case", () => {
    for (const slug of ["admin", "API", "www", "login", "Pleisys"]) {
      const fields = fieldsOf(() => createWorkspace(ctxFor(owner), owner.id, settings(slug)));
      expect(fields.slug, slug).toEqual([expect.stringMatching(/reserved/)]);
    }
  });

  it("refuses a slug that is taken, whatever its case", () => {
    const slug = freshSlug();
    createWorkspace(ctxFor(owner), owner.id, settings(slug));
    const fields = fieldsOf(() =>
      createWorkspace(ctxFor(second), second.id, settings(slug.toUpperCase())),
    );
    expect(fields.slug).toEqual([expect.stringMatching(/taken/)]);
    expect(findWorkspaceBySlug(slug)?.id).toBeDefined();
    expect(listMyWorkspaces(second.id)).toHaveLength(0);
  });

  it("refuses an unknown country, time zone, currency or an empty name, naming each field", () => {
    const make = (over: Partial<ReturnType<typeof settings>>) => () =>
      createWorkspace(ctxFor(owner), owner.id, { ...settings(freshSlug()), ...over });
    expect(Object.keys(fieldsOf(make({ country: "XX" })))).toEqual(["country"]);
    expect(Object.keys(fieldsOf(make({ country: "" })))).toEqual(["country"]);
    expect(Object.keys(fieldsOf(make({ timezone: "Mars/Olympus_Mons" })))).toEqual(["timezone"]);
    expect(Object.keys(fieldsOf(make({ timezone: "" })))).toEqual(["timezone"]);
    expect(Object.keys(fieldsOf(make({ currency: "EUR" })))).toEqual(["currency"]);
    expect(Object.keys(fieldsOf(make({ name: "   " })))).toEqual(["name"]);
    expect(Object.keys(fieldsOf(make({ name: "n".repeat(81) })))).toEqual(["name"]);
    expect(
      Object.keys(fieldsOf(make({ country: "XX", timezone: "Nowhere", currency: "GBP" }))).sort(),
    ).toEqual(["country", "currency", "timezone"]);
  });

  it("creates nothing when refused: no row, no file, no membership", () => {
    const before = { rows: workspaceCount(), files: tenantFiles().length };
    const slug = freshSlug();
    thrown(() => createWorkspace(ctxFor(third), third.id, { ...settings(slug), currency: "EUR" }));
    thrown(() => createWorkspace(ctxFor(third), third.id, settings("admin")));
    expect({ rows: workspaceCount(), files: tenantFiles().length }).toEqual(before);
    expect(findWorkspaceBySlug(slug)).toBeUndefined();
    expect(listMyWorkspaces(third.id)).toHaveLength(0);
  });
});

describe("updateWorkspaceSettings", () => {
  it("validates like creation and changes nothing when refused", () => {
    const ws = createWorkspace(ctxFor(owner), owner.id, settings(freshSlug()));
    const input = { name: "Renamed", country: "AE", timezone: "Asia/Dubai", currency: "USD" };
    expect(updateWorkspaceSettings(ctxFor(owner), ws.id, input)).toMatchObject(input);
    const fields = fieldsOf(() =>
      updateWorkspaceSettings(ctxFor(owner), ws.id, { ...input, timezone: "Asia/Nowhere" }),
    );
    expect(Object.keys(fields)).toEqual(["timezone"]);
    expect(findWorkspaceBySlug(ws.slug)).toMatchObject(input);
    expect(
      thrown(() => updateWorkspaceSettings(ctxFor(owner), "ws_missing", input)),
    ).toBeInstanceOf(NotFoundError);
  });

  it("saves email tracking and tidied opt-out keywords with the general settings", () => {
    const ws = createWorkspace(ctxFor(owner), owner.id, settings(freshSlug()));
    expect(ws).toMatchObject({ trackOpens: true, trackClicks: true, stopKeywords: "" });
    const input = { name: "Kept", country: "IN", timezone: "Asia/Kolkata", currency: "INR" };
    const saved = updateWorkspaceSettings(ctxFor(owner), ws.id, {
      ...input,
      trackOpens: false,
      trackClicks: true,
      stopKeywords: " cancel ,  Band   Karo, CANCEL, stop all, रोकें,, quit",
    });
    // Built-in words (STOP ALL, रोकें) and repeats go; spacing is tidied; case is kept.
    expect(saved).toMatchObject({
      trackOpens: false,
      trackClicks: true,
      stopKeywords: "cancel,Band Karo,quit",
    });
    // Without the delivery fields, they stay as they are.
    expect(updateWorkspaceSettings(ctxFor(owner), ws.id, input)).toMatchObject({
      trackOpens: false,
      stopKeywords: "cancel,Band Karo,quit",
    });
    const fields = fieldsOf(() =>
      updateWorkspaceSettings(ctxFor(owner), ws.id, { ...input, stopKeywords: "x".repeat(41) }),
    );
    expect(Object.keys(fields)).toEqual(["stopKeywords"]);
    expect(findWorkspaceBySlug(ws.slug)?.stopKeywords).toBe("cancel,Band Karo,quit");
  });
});

describe("roles", () => {
  it("owners and admins hand out any role but owner; other roles hand out none", () => {
    expect(assignableRoles("owner")).toEqual(["admin", "marketer", "agent", "viewer"]);
    expect(assignableRoles("admin")).toEqual(["admin", "marketer", "agent", "viewer"]);
    for (const role of ["marketer", "agent", "viewer"] as const) {
      expect(assignableRoles(role)).toEqual([]);
    }
  });

  let ws: Workspace;
  beforeAll(async () => {
    ws = createWorkspace(ctxFor(owner), owner.id, settings(freshSlug()));
    await addMember(ws, second, "admin");
    await addMember(ws, third, "marketer");
  });

  const as = (user: User, role: Role) => ({ ...ctxFor(user), role });

  it("changes a member's role within what the actor may assign", () => {
    changeMemberRole(as(owner, "owner"), ws.id, third.id, "agent");
    expect(findMembership(ws.id, third.id)).toEqual({ role: "agent" });
    changeMemberRole(as(second, "admin"), ws.id, third.id, "viewer");
    expect(findMembership(ws.id, third.id)).toEqual({ role: "viewer" });

    const audit = getControlDb()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "member.role_changed"), eq(auditLog.targetId, third.id)))
      .all();
    expect(audit.map((a) => JSON.parse(a.details!))).toEqual([
      { from: "marketer", to: "agent" },
      { from: "agent", to: "viewer" },
    ]);
  });

  it("refuses roles the actor may not assign, changing nothing", () => {
    const before = findMembership(ws.id, third.id);
    for (const [actor, actorRole, role] of [
      [owner, "owner", "owner"],
      [second, "admin", "owner"],
      [third, "marketer", "viewer"],
      [third, "viewer", "agent"],
    ] as const) {
      const fields = fieldsOf(() => changeMemberRole(as(actor, actorRole), ws.id, third.id, role));
      expect(fields.role).toBeDefined();
    }
    expect(findMembership(ws.id, third.id)).toEqual(before);
  });

  it("never demotes or removes the owner", () => {
    expect(
      thrown(() => changeMemberRole(as(second, "admin"), ws.id, owner.id, "viewer")),
    ).toBeInstanceOf(ConflictError);
    expect(
      thrown(() => changeMemberRole(as(owner, "owner"), ws.id, owner.id, "admin")),
    ).toBeInstanceOf(ConflictError);
    expect(thrown(() => removeMember(ctxFor(second), ws.id, owner.id))).toBeInstanceOf(
      ConflictError,
    );
    expect(findMembership(ws.id, owner.id)).toEqual({ role: "owner" });
  });

  it("answers not found for people who are not members", () => {
    expect(
      thrown(() => changeMemberRole(as(owner, "owner"), ws.id, outsider.id, "viewer")),
    ).toBeInstanceOf(NotFoundError);
    expect(thrown(() => removeMember(ctxFor(owner), ws.id, outsider.id))).toBeInstanceOf(
      NotFoundError,
    );
    expect(findMembership(ws.id, outsider.id)).toBeUndefined();
  });

  it("removes a member", async () => {
    const other = createWorkspace(ctxFor(owner), owner.id, settings(freshSlug()));
    await addMember(other, outsider, "viewer");
    expect(findMembership(other.id, outsider.id)).toEqual({ role: "viewer" });
    removeMember(ctxFor(owner), other.id, outsider.id);
    expect(findMembership(other.id, outsider.id)).toBeUndefined();
    expect(listMyWorkspaces(outsider.id).map((w) => w.id)).not.toContain(other.id);
    expect(thrown(() => removeMember(ctxFor(owner), other.id, outsider.id))).toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe("transferOwnership", () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = createWorkspace(ctxFor(owner), owner.id, settings(freshSlug()));
    await addMember(ws, second, "marketer");
  });

  const owners = () =>
    getControlDb()
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, ws.id), eq(memberships.role, "owner")))
      .all()
      .map((m) => m.userId);

  it("makes the member the owner and the old owner an admin, together", () => {
    transferOwnership(ctxFor(owner), ws.id, owner.id, second.id);
    expect(findMembership(ws.id, second.id)).toEqual({ role: "owner" });
    expect(findMembership(ws.id, owner.id)).toEqual({ role: "admin" });
    expect(owners()).toEqual([second.id]);
  });

  it("only the owner can transfer, and nothing changes when refused", () => {
    // The old owner is an admin now.
    expect(
      thrown(() => transferOwnership(ctxFor(owner), ws.id, owner.id, second.id)),
    ).toBeInstanceOf(ConflictError);
    expect(owners()).toEqual([second.id]);
    expect(findMembership(ws.id, owner.id)).toEqual({ role: "admin" });
  });

  it("to someone who is not a member fails without demoting the owner", () => {
    expect(
      thrown(() => transferOwnership(ctxFor(second), ws.id, second.id, outsider.id)),
    ).toBeInstanceOf(NotFoundError);
    expect(owners()).toEqual([second.id]);
    expect(findMembership(ws.id, outsider.id)).toBeUndefined();
  });

  it("to oneself is refused", () => {
    expect(
      thrown(() => transferOwnership(ctxFor(second), ws.id, second.id, second.id)),
    ).toBeInstanceOf(ValidationError);
    expect(owners()).toEqual([second.id]);
  });
});
