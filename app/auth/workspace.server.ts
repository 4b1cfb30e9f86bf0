import { redirect } from "@remix-run/node";
import type { WorkspaceContext } from "~/domain/context";
import type { Workspace } from "~/domain/workspaces/workspaces.server";
import { openWorkspaceContext, resolveMemberAccess } from "~/domain/workspaces/access.server";
import { ForbiddenError } from "~/lib/errors";
import { readIntent } from "~/lib/form.server";
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

/**
 * requireWorkspace for a page with several actions: the posted `intent` picks its permission
 * from the page's `NEEDS` map (`satisfies Record<Intent, Permission>`, so an intent cannot
 * exist without one). An unknown intent is still checked for membership and the permission
 * most of the page's actions need (403 for those who could do none of them), then refused
 * with a 400.
 */
export async function requireWorkspaceIntent<I extends string>(
  args: RequestArgs & { params: { slug?: string } },
  formData: FormData,
  needs: Readonly<Record<I, Permission>>,
): Promise<WorkspaceRequest & { intent: I }> {
  const raw = formData.get("intent");
  const known = typeof raw === "string" && Object.hasOwn(needs, raw) ? (raw as I) : null;
  const access = await requireWorkspace(args, known ? needs[known] : usualPermission(needs));
  return { ...access, intent: known ?? readIntent(formData, needs) };
}

function usualPermission(needs: Readonly<Record<string, Permission>>): Permission {
  const counts = new Map<Permission, number>();
  for (const p of Object.values(needs)) counts.set(p, (counts.get(p) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}
