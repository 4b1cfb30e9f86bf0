import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useLocation } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { can, ROLE_LABELS, type Permission } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { tasksAwaitingDecision } from "~/domain/privacy/dsar-queues.server";
import { Icon, type IconName } from "~/components/ui/icons";
import { listMyWorkspaces } from "~/domain/workspaces/workspaces.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.workspace.name} — Pleisys Engage` : "Pleisys Engage" },
];

/**
 * One entry of the workspace menu. `to` is relative to /w/<slug>; `badge` is a count shown next
 * to the label (e.g. open privacy requests), left out when there is nothing to count.
 */
export interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  badge?: number;
}

interface NavGroup {
  label: string | null;
  items: (NavItem & { permission: Permission })[];
}

/** Each page appears once; the group says what it is for. */
const NAV: NavGroup[] = [
  { label: null, items: [{ to: "", label: "Home", icon: "home", permission: "workspace:read" }] },
  {
    label: "Audience",
    items: [
      { to: "contacts", label: "Contacts", icon: "contacts", permission: "contacts:read" },
      { to: "segments", label: "Segments", icon: "segments", permission: "contacts:read" },
      { to: "contacts/lists", label: "Tags & lists", icon: "lists", permission: "contacts:read" },
      {
        to: "contacts/attributes",
        label: "Attributes",
        icon: "attributes",
        permission: "contacts:read",
      },
      {
        to: "contacts/suppressions",
        label: "Suppressions",
        icon: "suppressions",
        permission: "contacts:read",
      },
    ],
  },
  {
    label: "Messaging",
    items: [
      { to: "inbox", label: "Inbox", icon: "inbox", permission: "inbox:read" },
      { to: "templates", label: "Templates", icon: "templates", permission: "campaigns:read" },
      { to: "campaigns", label: "Campaigns", icon: "campaigns", permission: "campaigns:read" },
      { to: "messages", label: "Messages", icon: "messages", permission: "campaigns:read" },
    ],
  },
  {
    label: "Insights",
    items: [
      {
        to: "settings/sending",
        label: "Sending & usage",
        icon: "usage",
        permission: "analytics:read",
      },
      { to: "audit", label: "Audit log", icon: "audit", permission: "audit:read" },
    ],
  },
  {
    label: "Settings",
    items: [
      { to: "settings", label: "Workspace", icon: "settings", permission: "workspace:settings" },
      {
        to: "settings/channels",
        label: "Channels",
        icon: "channels",
        permission: "workspace:settings",
      },
      { to: "members", label: "Members", icon: "members", permission: "members:read" },
      { to: "security", label: "Security", icon: "security", permission: "security:manage" },
      { to: "api-keys", label: "API keys", icon: "keys", permission: "api_keys:manage" },
      {
        to: "settings/retention",
        label: "Data retention",
        icon: "retention",
        permission: "workspace:settings",
      },
      {
        to: "privacy/requests",
        label: "Privacy requests",
        icon: "privacy",
        permission: "privacy:manage",
      },
    ],
  },
];

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role, user, wctx } = await requireWorkspace(args, "workspace:read");
  // Privacy requests waiting for a decision, shown on their menu item to those who decide them.
  const privacyBadge = can(role, "privacy:manage") ? tasksAwaitingDecision(wctx) : 0;
  const nav = NAV.map((group) => ({
    label: group.label,
    items: group.items
      .filter((item) => can(role, item.permission))
      .map(({ to, label, icon }): NavItem => ({
        to,
        label,
        icon,
        badge: to === "privacy/requests" && privacyBadge > 0 ? privacyBadge : undefined,
      })),
  })).filter((group) => group.items.length > 0);
  return {
    workspace: { slug: workspace.slug, name: workspace.name },
    role,
    nav,
    others: listMyWorkspaces(user.id)
      .filter((w) => w.slug !== workspace.slug)
      .map((w) => ({ slug: w.slug, name: w.name })),
  };
}

/**
 * The current page's menu entry: the longest `to` the path starts with, so Contacts is current
 * on a contact's page but Tags & lists is current on contacts/lists, and Home only on Home.
 */
function currentNavItem(path: string, base: string, items: { to: string }[]) {
  let best: string | undefined;
  for (const { to } of items) {
    const href = to ? `${base}/${to}` : base;
    const matches = path === href || (to !== "" && path.startsWith(`${href}/`));
    if (matches && (best === undefined || to.length > best.length)) best = to;
  }
  return best;
}

/** Phone widths, where the menu folds behind its button (matches the CSS breakpoint). */
const PHONE = "(max-width: 860px)";

export default function WorkspaceLayout() {
  const { workspace, role, nav, others } = useLoaderData<typeof loader>();
  // On a phone the menu is folded: its button carries the count so nothing waiting is hidden.
  const attention = nav
    .flatMap((group) => group.items)
    .reduce((sum, item) => sum + (item.badge ?? 0), 0);
  const base = `/w/${workspace.slug}`;
  const { pathname, key } = useLocation();
  const current = currentNavItem(
    pathname.replace(/\/$/, ""),
    base,
    nav.flatMap((g) => g.items),
  );
  const menu = useRef<HTMLDetailsElement>(null);
  // Before hydration the <details> speaks for itself; after, the button says whether it is open.
  const [expanded, setExpanded] = useState<boolean | undefined>(undefined);

  // Wide screens always show the menu (CSS does it before hydration too); on a phone it stays
  // folded and closes again once a page is chosen.
  useEffect(() => {
    const details = menu.current;
    if (!details) return;
    const phone = window.matchMedia(PHONE);
    const sync = () => {
      details.open = !phone.matches;
      setExpanded(details.open);
    };
    sync();
    phone.addEventListener("change", sync);
    return () => phone.removeEventListener("change", sync);
  }, []);
  useEffect(() => {
    if (menu.current && window.matchMedia(PHONE).matches) menu.current.open = false;
  }, [key]);

  return (
    <div className="workspace">
      <aside className="workspace-nav">
        <div className="workspace-name">
          <strong>{workspace.name}</strong>
          <span className="muted">{ROLE_LABELS[role]}</span>
        </div>
        <details
          className="nav-menu"
          ref={menu}
          onToggle={(event) => setExpanded(event.currentTarget.open)}
          onKeyDown={(event) => {
            if (event.key !== "Escape" || !window.matchMedia(PHONE).matches) return;
            event.currentTarget.open = false;
            event.currentTarget.querySelector("summary")?.focus();
          }}
        >
          <summary className="btn btn-secondary nav-menu-toggle" aria-expanded={expanded}>
            <Icon name="menu" />
            Menu
            {attention ? (
              <span className="nav-badge">
                {attention}
                <span className="visually-hidden"> waiting for a decision</span>
              </span>
            ) : null}
          </summary>
          <nav aria-label="Workspace">
            {nav.map((group) => (
              <div className="nav-group" key={group.label ?? "top"}>
                {group.label ? (
                  <h2 className="nav-group-title" id={`nav-${group.label.toLowerCase()}`}>
                    {group.label}
                  </h2>
                ) : null}
                <ul aria-labelledby={group.label ? `nav-${group.label.toLowerCase()}` : undefined}>
                  {group.items.map((item) => (
                    <li key={item.to}>
                      <Link
                        to={item.to ? `${base}/${item.to}` : base}
                        aria-current={item.to === current ? "page" : undefined}
                      >
                        <Icon name={item.icon} />
                        <span className="nav-label">{item.label}</span>
                        {item.badge ? " " : null}
                        {item.badge ? (
                          <span className="nav-badge">
                            {item.badge}
                            <span className="visually-hidden"> waiting for a decision</span>
                          </span>
                        ) : null}
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </nav>
          <div className="workspace-links">
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
          </div>
        </details>
      </aside>
      <div className="workspace-main">
        <Outlet />
      </div>
    </div>
  );
}
