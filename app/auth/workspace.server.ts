import { redirect } from "@remix-run/node";
import type { WorkspaceContext } from "~/domain/context";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { openWorkspaceContext, resolveMemberAccess } from "~/domain/workspaces/access.server";
import { ForbiddenError } from "~/lib/errors";
import { can, type Permission, type Role } from "./permissions";
import { requireUser, type RequestArgs, type UserRequest } from "./session.server";

export interface WorkspaceRequest extends UserRequest {
  workspace: Workspace;
  role: Role;
  /** For domain calls: this workspace's database and the acting user. */
  wctx: WorkspaceContext & { role: Role; userId: string };
}

/**
 * The guard at the top of every /w/<slug>/… loader and action: session, membership, workspace
 * status, IP allowlist, the workspace's MFA rule, then the permission. The slug in the URL only
 * says which of the user's workspaces is meant; it never grants anything by itself.
 */
export async function requireWorkspace(
  args: RequestArgs & { params: { slug?: string } },
  permission: Permission,
): Promise<WorkspaceRequest> {
  const userRequest = await requireUser(args);
  const { workspace, role } = resolveMemberAccess(
    userRequest.user.id,
    args.params.slug ?? "",
    args.context.clientIp,
  );
  if (workspace.requireMfa && !userRequest.user.mfaEnabled) {
    throw redirect(`/account/security/mfa?required=${encodeURIComponent(workspace.slug)}`);
  }
  if (!can(role, permission)) throw new ForbiddenError();
  const wctx = {
    ...openWorkspaceContext(workspace.id, userRequest.ctx.actor, userRequest.ctx.request ?? {}),
    role,
    userId: userRequest.user.id,
  };
  return { ...userRequest, workspace, role, wctx };
}
