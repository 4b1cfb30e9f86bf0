import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { requireAdmin } from "~/auth/admin-access.server";

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  return redirect("/admin/users");
}

/** Never rendered (the loader always redirects); a UI route so errors get the error page. */
export default function AdminIndex() {
  return null;
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
