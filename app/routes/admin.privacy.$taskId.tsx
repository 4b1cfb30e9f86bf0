import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { requireAdmin } from "~/auth/admin-access.server";
import { DsarTaskPanel } from "~/components/dsar-task";
import { findUserById } from "~/domain/accounts/users.server";
import { DecisionForm } from "~/domain/privacy/dsar-decision-form";
import { decideTask, getTask, presentTask } from "~/domain/privacy/dsar-queues.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { parseId } from "~/lib/ids";

export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [
  { title: "Privacy request — Platform admin — Pleisys Engage" },
];

export async function loader(args: LoaderFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const detail = getTask(ctx, parseId(args.params.taskId, "Privacy request"));
  return {
    task: presentTask(detail, "UTC", (userId) =>
      userId ? (findUserById(userId)?.name ?? "A former admin") : "—",
    ),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const id = parseId(args.params.taskId, "Privacy request");
  const formData = await args.request.formData();
  return submitForm(formData, DecisionForm, async (value) =>
    redirectWithFlash(`/admin/privacy/${id}`, await decideTask(ctx, id, value)),
  );
}

export default function AdminPrivacyRequestPage() {
  const { task } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h2>
        {task.typeLabel} <span className="muted">(account data)</span>
      </h2>
      <p>
        <Link to="/admin/privacy">All privacy requests</Link> · times in UTC
      </p>
      <DsarTaskPanel task={task} action={`/admin/privacy/${task.id}`} result={result} />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
