import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { NavLink, Outlet } from "@remix-run/react";
import { requireAdmin } from "~/auth/admin-access.server";
import { PageHeader } from "~/components/ui/layout";

/** Lists of people and workspaces are never kept by browsers or proxies. */
export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [{ title: "Platform admin — Pleisys Engage" }];

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  return null;
}

export default function AdminLayout() {
  return (
    <div className="admin">
      <PageHeader
        title="Platform admin"
        description="Every action here is recorded in the audit log under your name."
      />
      <nav className="admin-nav" aria-label="Platform admin">
        <NavLink to="/admin/users">Users</NavLink>
        <NavLink to="/admin/workspaces">Workspaces</NavLink>
        <NavLink to="/admin/privacy-requests">Privacy requests</NavLink>
        <NavLink to="/admin/policy">Privacy policy</NavLink>
        <NavLink to="/admin/retention">Data retention</NavLink>
        <NavLink to="/admin/privacy">Privacy tasks</NavLink>
      </nav>
      <Outlet />
    </div>
  );
}
