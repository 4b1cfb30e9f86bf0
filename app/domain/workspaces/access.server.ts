import { getTenantDb, type TenantDb } from "~/db/tenants.server";
import { ForbiddenError, NotFoundError } from "~/lib/errors";
import { normaliseIp } from "~/lib/ip";
import type { Role } from "~/lib/roles";
import type {
  Actor,
  RequestInfo,
  SystemContext,
  WorkspaceContext,
  WorkspaceProfile,
} from "../context";
import { isIpAllowedForWorkspace } from "./allowlist.server";
import {
  findMembership,
  findWorkspaceById,
  findWorkspaceBySlug,
  type Workspace,
} from "./workspaces.server";

/** Thrown when the workspace's IP allowlist does not include the caller. */
export class IpNotAllowedError extends ForbiddenError {
  constructor(ip: string) {
    super(
      `This workspace only accepts connections from approved networks, and your address (${ip}) is not one of them. Ask a workspace admin to add it to the IP allowlist.`,
    );
  }
}

/**
 * The tenant boundary for a signed-in user: the workspace named in the URL counts only if the
 * user is a member. Non-members get the same 404 as a workspace that doesn't exist, so slugs
 * can't be probed. Suspended workspaces and addresses outside the allowlist get a 403.
 */
export function resolveMemberAccess(
  userId: string,
  slug: string,
  ip: string,
): { workspace: Workspace; role: Role } {
  const workspace = findWorkspaceBySlug(slug);
  const membership = workspace && findMembership(workspace.id, userId);
  if (!workspace || !membership || workspace.status === "deleted") {
    throw new NotFoundError("Workspace");
  }
  if (workspace.status === "suspended") {
    throw new ForbiddenError("This workspace is suspended. Contact support to restore it.");
  }
  assertIpAllowed(workspace.id, ip);
  return { workspace, role: membership.role };
}

export function assertIpAllowed(workspaceId: string, ip: string): void {
  const address = ip ? normaliseIp(ip) : "";
  if (!isIpAllowedForWorkspace(workspaceId, address))
    throw new IpNotAllowedError(address || "unknown");
}

/**
 * The context every workspace domain function receives: this tenant's file, its profile and who
 * acts. Only a workspace that exists has a context.
 */
export function openWorkspaceContext(
  workspaceId: string,
  actor: Actor,
  request: RequestInfo,
  now: () => Date = () => new Date(),
): WorkspaceContext {
  return workspaceContextFor({ actor, request, now }, workspaceId, getTenantDb(workspaceId));
}

/** The same context for work on a tenant file that is already open (jobs, webhooks, hooks). */
export function workspaceContextFor(
  base: SystemContext,
  workspaceId: string,
  db: TenantDb,
): WorkspaceContext {
  return { ...base, workspaceId, workspace: loadWorkspaceProfile(workspaceId), db };
}

export function loadWorkspaceProfile(workspaceId: string): WorkspaceProfile {
  const row = findWorkspaceById(workspaceId);
  if (!row) throw new NotFoundError("Workspace");
  return {
    id: row.id,
    slug: row.slug,
    timeZone: row.timezone,
    country: row.country,
    currency: row.currency,
  };
}
