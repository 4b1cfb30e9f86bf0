import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { DsarTaskPanel } from "~/components/dsar-task";
import { PageHeader } from "~/components/ui/layout";
import { listAttributeDefinitions } from "~/domain/contacts/attributes.server";
import { DecisionForm } from "~/domain/privacy/dsar-decision-form";
import { decideTask, getTask, presentTask } from "~/domain/privacy/dsar-queues.server";
import { listMembers } from "~/domain/workspaces/workspaces.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.task.typeLabel ?? "Privacy request"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "privacy:manage");
  const id = parseId(args.params.taskId, "Privacy request");
  const detail = getTask(wctx, id);
  const members = new Map(listMembers(workspace.id).map((m) => [m.userId, m.name]));
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    attributeKeys: listAttributeDefinitions(wctx).map((d) => d.key),
    task: presentTask(detail, workspace.timezone, (userId) =>
      userId ? (members.get(userId) ?? "A former member") : "—",
    ),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "privacy:manage");
  const id = parseId(args.params.taskId, "Privacy request");
  const formData = await args.request.formData();
  return submitForm(formData, DecisionForm, async (value) =>
    redirectWithFlash(
      `/w/${workspace.slug}/privacy/requests/${id}`,
      await decideTask(wctx, id, value),
    ),
  );
}

export default function PrivacyRequestPage() {
  const { workspace, task, attributeKeys } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const base = `/w/${workspace.slug}/privacy/requests`;
  return (
    <>
      <PageHeader
        title={task.typeLabel}
        description={
          <>
            <Link to={base}>Privacy requests</Link> · received {task.received}
          </>
        }
      />
      <DsarTaskPanel
        task={task}
        action={`${base}/${task.id}`}
        result={result}
        contactHref={(contactId) => `/w/${workspace.slug}/contacts/${contactId}`}
        attributeKeys={attributeKeys}
      />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
