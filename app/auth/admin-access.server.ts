import { redirect } from "@remix-run/node";
import type { SystemContext } from "~/domain/context";
import { NotFoundError } from "~/lib/errors";
import { contextFor, requireUser, type RequestArgs, type UserRequest } from "./session.server";

/** Where a platform admin without a second factor is sent before the admin area opens. */
export const ADMIN_MFA_ENROLMENT_PATH = "/account/security/mfa";

export interface AdminRequest extends UserRequest {
  request: Request;
  /** For domain calls: audited as the admin (`actor_type = 'admin'`), with IP and user agent. */
  ctx: SystemContext & { actor: { type: "admin"; id: string } };
}

/**
 * The guard at the top of every /admin loader and action. Everyone who is not a platform admin
 * gets the same 404 as a page that does not exist, so the admin area is not revealed. Admins
 * must have MFA on: without it they are sent to enrolment first.
 */
export async function requireAdmin(args: RequestArgs): Promise<AdminRequest> {
  const userRequest = await requireUser(args);
  if (!userRequest.user.isPlatformAdmin) throw new NotFoundError("Page");
  if (!userRequest.user.mfaEnabled) throw redirect(ADMIN_MFA_ENROLMENT_PATH);
  const actor = { type: "admin" as const, id: userRequest.user.id };
  return { ...userRequest, request: args.request, ctx: { ...contextFor(args, actor), actor } };
}
