import { and, asc, count, eq, like, ne, or } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { memberships, sessions, users, workspaces } from "~/db/schema/control";
import { normaliseEmail } from "~/lib/email-address";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import { newId } from "~/lib/tokens";
import { hashPassword, passwordProblem } from "../accounts/passwords.server";
import { findUserByEmail, type User } from "../accounts/users.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { recordSignUpAcceptance, versionInForce } from "../privacy/policy-versions.server";

export const ADMIN_PAGE_SIZE = 50;

function pattern(query: string): string {
  return `%${query
    .trim()
    .toLowerCase()
    .replace(/[%_\\]/g, "")}%`;
}

export function searchUsers(query: string, page: number) {
  const where = query.trim()
    ? or(like(users.email, pattern(query)), like(users.name, pattern(query)))
    : undefined;
  const db = getControlDb();
  const rows = db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      status: users.status,
      isPlatformAdmin: users.isPlatformAdmin,
      emailVerifiedAt: users.emailVerifiedAt,
      totpEnabledAt: users.totpEnabledAt,
      createdAt: users.createdAt,
    })
    .from(users)
    .where(where)
    .orderBy(asc(users.email))
    .limit(ADMIN_PAGE_SIZE)
    .offset(Math.max(0, page - 1) * ADMIN_PAGE_SIZE)
    .all();
  const total = db.select({ n: count() }).from(users).where(where).get()!.n;
  return { rows, total };
}

export function searchWorkspaces(query: string, page: number) {
  const where = query.trim()
    ? or(like(workspaces.slug, pattern(query)), like(workspaces.name, pattern(query)))
    : undefined;
  const db = getControlDb();
  const rows = db
    .select({
      id: workspaces.id,
      slug: workspaces.slug,
      name: workspaces.name,
      status: workspaces.status,
      createdAt: workspaces.createdAt,
      members: count(memberships.userId),
    })
    .from(workspaces)
    .leftJoin(memberships, eq(memberships.workspaceId, workspaces.id))
    .where(where)
    .groupBy(workspaces.id)
    .orderBy(asc(workspaces.slug))
    .limit(ADMIN_PAGE_SIZE)
    .offset(Math.max(0, page - 1) * ADMIN_PAGE_SIZE)
    .all();
  const total = db.select({ n: count() }).from(workspaces).where(where).get()!.n;
  return { rows, total };
}

/** Suspending ends every session at once; a suspended user cannot sign in. */
export function setUserStatus(
  ctx: SystemContext,
  userId: string,
  status: "active" | "suspended",
): void {
  if (ctx.actor.type === "admin" && ctx.actor.id === userId) {
    throw new ConflictError("You can't suspend yourself.");
  }
  const db = getControlDb();
  const changed = db.update(users).set({ status }).where(eq(users.id, userId)).run().changes;
  if (!changed) throw new NotFoundError("User");
  if (status === "suspended") db.delete(sessions).where(eq(sessions.userId, userId)).run();
  recordAudit(ctx, {
    action: status === "suspended" ? "admin.user_suspended" : "admin.user_unsuspended",
    target: { type: "user", id: userId },
  });
}

export function setWorkspaceStatus(
  ctx: SystemContext,
  workspaceId: string,
  status: "active" | "suspended",
): void {
  const changed = getControlDb()
    .update(workspaces)
    .set({ status, suspendedAt: status === "suspended" ? ctx.now() : null })
    // A deleted workspace stays deleted: its data is being purged.
    .where(and(eq(workspaces.id, workspaceId), ne(workspaces.status, "deleted")))
    .run().changes;
  if (!changed) throw new NotFoundError("Workspace");
  recordAudit(ctx, {
    action: status === "suspended" ? "admin.workspace_suspended" : "admin.workspace_unsuspended",
    workspaceId,
    target: { type: "workspace", id: workspaceId },
  });
}

/**
 * An account made by the operator (CLI): verified, consents recorded as given by the operator
 * on the person's behalf. `platformAdmin` makes (or promotes to) a platform administrator.
 */
export async function createUserByOperator(
  ctx: SystemContext,
  input: { email: string; password: string; name: string; platformAdmin?: boolean },
): Promise<User> {
  const email = normaliseEmail(input.email);
  const name = input.name.trim();
  if (!name) throw new ValidationError("--name must not be empty");
  const problem = passwordProblem(input.password, { email, name });
  if (problem) throw new ValidationError(`--password: ${problem}`);
  const passwordHash = await hashPassword(input.password);
  const existing = findUserByEmail(email);
  const db = getControlDb();
  const now = ctx.now();
  if (existing) {
    if (!input.platformAdmin) throw new ConflictError(`A user with ${email} already exists`);
    db.update(users)
      .set({ isPlatformAdmin: true, passwordHash, passwordChangedAt: now })
      .where(eq(users.id, existing.id))
      .run();
    // A new password ends the sessions opened with the old one.
    db.delete(sessions).where(eq(sessions.userId, existing.id)).run();
    recordAudit(ctx, { action: "admin.granted", target: { type: "user", id: existing.id } });
    return findUserByEmail(email)!;
  }
  const id = newId("usr");
  const policyVersion = versionInForce(now).version;
  const user = db.transaction(() => {
    const created = db
      .insert(users)
      .values({
        id,
        email,
        name,
        passwordHash,
        passwordChangedAt: now,
        emailVerifiedAt: now,
        ageConfirmedAt: now,
        policyVersion: String(policyVersion),
        policyAcceptedAt: now,
        isPlatformAdmin: input.platformAdmin ?? false,
        createdAt: now,
      })
      .returning()
      .get();
    recordSignUpAcceptance(id, policyVersion, now);
    return created;
  });
  recordAudit(ctx, {
    action: input.platformAdmin ? "admin.created" : "user.created_by_operator",
    target: { type: "user", id },
  });
  return user;
}
