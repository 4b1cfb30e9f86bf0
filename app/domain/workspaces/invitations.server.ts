import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { invitations, memberships, users, workspaces, type Role } from "~/db/schema/control";
import { normaliseEmail } from "~/lib/email-address";
import { getEnv } from "~/lib/env.server";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "~/lib/errors";
import { newId, randomToken, sha256Hex } from "~/lib/tokens";
import { notify } from "../accounts/notify.server";
import { getUser } from "../accounts/users.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";
import { assertNotLocked, POLICIES, recordHit } from "../security/rate-limit.server";
import { assignableRoles, findMembership } from "./workspaces.server";

export const INVITATION_TTL_MS = 7 * 24 * 3_600_000;

export type Invitation = typeof invitations.$inferSelect;

export function listPendingInvitations(workspaceId: string, now: Date): Invitation[] {
  return getControlDb()
    .select()
    .from(invitations)
    .where(
      and(
        eq(invitations.workspaceId, workspaceId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        gt(invitations.expiresAt, now),
      ),
    )
    .orderBy(desc(invitations.createdAt))
    .all();
}

/** Invites an address with a role; a new invitation to the same address replaces the old one. */
export async function inviteMember(
  ctx: SystemContext & { role: Role; userId: string },
  workspaceId: string,
  input: { email: string; role: Role },
): Promise<{ sent: boolean }> {
  const email = normaliseEmail(input.email);
  if (!assignableRoles(ctx.role).includes(input.role)) {
    throw new ValidationError("You can't give that role.", { role: ["You can't give that role."] });
  }
  const db = getControlDb();
  const inviter = getUser(ctx.userId);
  const alreadyMember = db
    .select({ id: users.id })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.workspaceId, workspaceId), eq(users.email, email)))
    .get();
  if (alreadyMember) {
    throw new ValidationError("That person is already a member.", {
      email: ["That person is already a member."],
    });
  }
  const now = ctx.now();
  const token = randomToken();
  const id = newId("inv");
  db.transaction((tx) => {
    tx.update(invitations)
      .set({ revokedAt: now })
      .where(
        and(
          eq(invitations.workspaceId, workspaceId),
          eq(invitations.email, email),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .run();
    tx.insert(invitations)
      .values({
        id,
        workspaceId,
        email,
        role: input.role,
        tokenHash: sha256Hex(token),
        invitedBy: ctx.userId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
      })
      .run();
  });
  const workspace = db.select().from(workspaces).where(eq(workspaces.id, workspaceId)).get()!;
  recordAudit(ctx, {
    action: "invitation.created",
    workspaceId,
    target: { type: "invitation", id },
    // Audit rows outlive the people in them and cannot be edited: no address here.
    details: { role: input.role },
  });
  const sent = await notify(ctx, "invitation", email, {
    inviterName: inviter.name,
    workspaceName: workspace.name,
    role: input.role,
    url: `${getEnv().BASE_URL}/invitations/${encodeURIComponent(token)}`,
    expiresAt: new Date(now.getTime() + INVITATION_TTL_MS),
  });
  return { sent };
}

export function revokeInvitation(ctx: SystemContext, workspaceId: string, id: string): void {
  const changed = getControlDb()
    .update(invitations)
    .set({ revokedAt: ctx.now() })
    .where(
      and(
        eq(invitations.id, id),
        eq(invitations.workspaceId, workspaceId),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
      ),
    )
    .run().changes;
  if (!changed) throw new NotFoundError("Invitation");
  recordAudit(ctx, {
    action: "invitation.revoked",
    workspaceId,
    target: { type: "invitation", id },
  });
}

export interface InvitationPreview {
  workspaceName: string;
  workspaceSlug: string;
  email: string;
  role: Role;
}

function findLiveInvitation(token: string, now: Date) {
  if (!token || token.length > 200) return undefined;
  return getControlDb()
    .select({ invitation: invitations, workspace: workspaces })
    .from(invitations)
    .innerJoin(workspaces, eq(workspaces.id, invitations.workspaceId))
    .where(
      and(
        eq(invitations.tokenHash, sha256Hex(token)),
        isNull(invitations.acceptedAt),
        isNull(invitations.revokedAt),
        gt(invitations.expiresAt, now),
      ),
    )
    .get();
}

const tokenIpKey = (ctx: SystemContext) => `token:ip:${ctx.request?.ip ?? "none"}`;

export function previewInvitation(ctx: SystemContext, token: string): InvitationPreview | null {
  assertNotLocked([tokenIpKey(ctx)], ctx.now());
  const found = findLiveInvitation(token, ctx.now());
  if (!found) {
    recordHit(tokenIpKey(ctx), POLICIES.tokenIp, ctx.now());
    return null;
  }
  return {
    workspaceName: found.workspace.name,
    workspaceSlug: found.workspace.slug,
    email: found.invitation.email,
    role: found.invitation.role,
  };
}

/**
 * Joins the signed-in user to the workspace. The invitation is for one address: the user's
 * verified email must be it, so a forwarded link is useless to anyone else.
 */
export function acceptInvitation(
  ctx: SystemContext,
  token: string,
  userId: string,
): { slug: string } {
  const now = ctx.now();
  const found = findLiveInvitation(token, now);
  if (!found) throw new NotFoundError("Invitation");
  const user = getUser(userId);
  if (user.email !== found.invitation.email || !user.emailVerifiedAt) {
    throw new ForbiddenError(
      `This invitation is for ${found.invitation.email}. Sign in with that address to accept it.`,
    );
  }
  const { invitation, workspace } = found;
  getControlDb().transaction((tx) => {
    const spent = tx
      .update(invitations)
      .set({ acceptedAt: now })
      .where(and(eq(invitations.id, invitation.id), isNull(invitations.acceptedAt)))
      .run().changes;
    if (!spent) throw new ConflictError("This invitation has already been used.");
    if (!findMembership(workspace.id, userId)) {
      tx.insert(memberships)
        .values({ workspaceId: workspace.id, userId, role: invitation.role })
        .run();
    }
  });
  recordAudit(ctx, {
    action: "invitation.accepted",
    workspaceId: workspace.id,
    target: { type: "user", id: userId },
    details: { role: invitation.role, invitation: invitation.id },
  });
  return { slug: workspace.slug };
}
