import type { AppLoadContext } from "@remix-run/node";
import type { WorkspaceContext } from "~/domain/context";
import { assertIpAllowed, openWorkspaceContext } from "~/domain/workspaces/access.server";
import { verifyApiKey } from "~/domain/workspaces/api-keys.server";
import { AppError } from "~/lib/errors";
import { can, type Permission, type Role } from "./permissions";

export class ApiAuthError extends AppError {
  constructor() {
    super(
      "Missing or invalid API key. Send it as: Authorization: Bearer <key>.",
      401,
      "unauthorized",
    );
  }
}

export interface ApiRequest {
  wctx: WorkspaceContext;
  role: Role;
  slug: string;
}

/**
 * The tenant boundary for /api/v1: the workspace comes from the verified key alone, then the
 * workspace's IP allowlist and the key's role apply exactly as they do to people.
 */
export function requireApiKey(
  args: { request: Request; context: AppLoadContext },
  permission: Permission,
): ApiRequest {
  const header = args.request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const key = match ? verifyApiKey(match[1]!, new Date()) : null;
  if (!key) throw new ApiAuthError();
  assertIpAllowed(key.workspaceId, args.context.clientIp);
  if (!can(key.role, permission)) {
    throw new AppError("This API key's role does not allow that.", 403, "forbidden");
  }
  const wctx = openWorkspaceContext(
    key.workspaceId,
    { type: "api_key", id: key.keyId },
    {
      ip: args.context.clientIp || undefined,
      userAgent: args.request.headers.get("user-agent")?.slice(0, 512) ?? undefined,
    },
  );
  return { wctx, role: key.role, slug: key.slug };
}

/** JSON errors for API routes: typed errors keep their status; nothing internal leaks. */
export function apiErrorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    return Response.json(
      { error: { code: error.code, message: error.message } },
      { status: error.status },
    );
  }
  throw error;
}
