import type { LoaderFunctionArgs } from "@remix-run/node";
import { apiErrorResponse, requireApiKey } from "~/auth/api.server";

/** Who a key is: its workspace and role. Lets integrators check a key and the allowlist. */
export function loader(args: LoaderFunctionArgs) {
  try {
    const { slug, role, wctx } = requireApiKey(args, "workspace:read");
    return Response.json({ workspace: { id: wctx.workspaceId, slug }, role });
  } catch (error) {
    return apiErrorResponse(error);
  }
}
