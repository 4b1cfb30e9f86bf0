import { redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { ROLE_LABELS } from "~/auth/permissions";
import { requireUser } from "~/auth/session.server";
import { ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import { listMyWorkspaces } from "~/domain/workspaces/workspaces.server";

export const meta: MetaFunction = () => [{ title: "Your workspaces — Pleisys Engage" }];

export async function loader(args: LoaderFunctionArgs) {
  const { user } = await requireUser(args);
  const workspaces = listMyWorkspaces(user.id);
  // Onboarding: someone with no workspace yet goes straight to creating one.
  if (workspaces.length === 0) throw redirect("/workspaces/new");
  return { workspaces };
}

export default function WorkspacesPage() {
  const { workspaces } = useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader
        title="Your workspaces"
        actions={<ButtonLink to="/workspaces/new">New workspace</ButtonLink>}
      />
      <Card>
        <ul className="workspace-list">
          {workspaces.map((w) => (
            <li key={w.id}>
              <Link to={`/w/${w.slug}`}>{w.name}</Link>{" "}
              <span className="muted">
                {ROLE_LABELS[w.role]}
                {w.status === "suspended" ? " · suspended" : ""}
              </span>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}
