import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { requireAdmin } from "~/auth/admin.server";

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  return redirect("/admin/users");
}
