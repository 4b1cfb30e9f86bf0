import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { Card, PageHeader } from "~/components/ui/layout";

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role, user } = await requireWorkspace(args, "workspace:read");
  return {
    workspace: { slug: workspace.slug, name: workspace.name, requireMfa: workspace.requireMfa },
    userName: user.name,
    mfaEnabled: user.mfaEnabled,
    canManage: can(role, "members:manage"),
    canSecure: can(role, "security:manage"),
  };
}

export default function WorkspaceHome() {
  const { workspace, userName, mfaEnabled, canManage, canSecure } = useLoaderData<typeof loader>();
  const base = `/w/${workspace.slug}`;
  return (
    <>
      <PageHeader title={`Welcome, ${userName}`} description={workspace.name} />
      <Card title="Get started">
        <ul className="checklist">
          {canManage ? (
            <li>
              <Link to={`${base}/members`}>Invite your team</Link>
            </li>
          ) : null}
          {!mfaEnabled ? (
            <li>
              <Link to="/account/security/mfa">Turn on two-factor authentication</Link>
            </li>
          ) : null}
          {canSecure ? (
            <li>
              <Link to={`${base}/security`}>Review workspace security</Link>
            </li>
          ) : null}
        </ul>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
