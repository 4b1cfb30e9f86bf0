import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, NavLink, Outlet, useLoaderData } from "@remix-run/react";
import { can, ROLE_LABELS, type Permission } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { tasksAwaitingDecision } from "~/domain/privacy/dsar-tasks.server";
import { listMyWorkspaces } from "~/domain/workspaces/workspaces.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.workspace.name} — Pleisys Engage` : "Pleisys Engage" },
];

/** `end`: active only on that exact page, not on the pages below it (Settings vs Channels). */
const NAV: { to: string; label: string; permission: Permission; end?: boolean }[] = [
  { to: "", label: "Home", permission: "workspace:read", end: true },
  { to: "contacts", label: "Contacts", permission: "contacts:read" },
  { to: "segments", label: "Segments", permission: "contacts:read" },
  { to: "templates", label: "Templates", permission: "campaigns:read" },
  { to: "campaigns", label: "Campaigns", permission: "campaigns:read" },
  { to: "messages", label: "Messages", permission: "campaigns:read" },
  { to: "members", label: "Members", permission: "members:read" },
  { to: "settings", label: "Settings", permission: "workspace:settings", end: true },
  { to: "settings/channels", label: "Channels", permission: "workspace:settings" },
  { to: "settings/sending", label: "Sending & usage", permission: "analytics:read" },
  { to: "settings/retention", label: "Data retention", permission: "workspace:settings" },
  { to: "security", label: "Security", permission: "security:manage" },
  { to: "api-keys", label: "API keys", permission: "api_keys:manage" },
  { to: "privacy/requests", label: "Privacy requests", permission: "privacy:manage" },
  { to: "audit", label: "Audit log", permission: "audit:read" },
];

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role, user, wctx } = await requireWorkspace(args, "workspace:read");
  // Privacy requests waiting for a decision, shown on their menu item to those who decide them.
  const privacyBadge = can(role, "privacy:manage") ? tasksAwaitingDecision(wctx) : 0;
  return {
    workspace: { slug: workspace.slug, name: workspace.name },
    role,
    nav: NAV.filter((item) => can(role, item.permission)).map(({ to, label, end }) => ({
      to,
      label,
      end: Boolean(end),
      badge: to === "privacy/requests" && privacyBadge > 0 ? privacyBadge : undefined,
    })),
    others: listMyWorkspaces(user.id)
      .filter((w) => w.slug !== workspace.slug)
      .map((w) => ({ slug: w.slug, name: w.name })),
  };
}

export default function WorkspaceLayout() {
  const { workspace, role, nav, others } = useLoaderData<typeof loader>();
  const base = `/w/${workspace.slug}`;
  return (
    <div className="workspace">
      <aside className="workspace-nav">
        <div className="workspace-name">
          <strong>{workspace.name}</strong>
          <span className="muted">{ROLE_LABELS[role]}</span>
        </div>
        <nav aria-label="Workspace">
          <ul>
            {nav.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to ? `${base}/${item.to}` : base} end={item.end}>
                  {item.label}
                  {item.badge ? " " : null}
                  {item.badge ? (
                    <span className="badge badge-warning">
                      {item.badge}
                      <span className="visually-hidden"> waiting for a decision</span>
                    </span>
                  ) : null}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        {others.length ? (
          <details className="workspace-switcher">
            <summary>Switch workspace</summary>
            <ul>
              {others.map((w) => (
                <li key={w.slug}>
                  <Link to={`/w/${w.slug}`}>{w.name}</Link>
                </li>
              ))}
            </ul>
          </details>
        ) : null}
        <Link to="/workspaces/new" className="muted">
          + New workspace
        </Link>
      </aside>
      <div className="workspace-main">
        <Outlet />
      </div>
    </div>
  );
}
