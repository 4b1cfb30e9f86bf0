import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Pager } from "~/components/ui/pager";
import { z } from "zod";
import { requireWorkspace } from "~/auth/workspace.server";
import { Checkbox, FormErrors } from "~/components/form";
import { PrivacyQueueFilter, PrivacyQueueTable, privacyQueueUrl } from "~/components/privacy-queue";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  listWorkspaceTasks,
  openTaskCounts,
  presentTaskRow,
  type TaskFilter,
} from "~/domain/privacy/dsar-queues.server";
import { setDsarAutoApprove } from "~/domain/workspaces/workspaces.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Privacy requests — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "privacy:manage");
  const params = new URL(args.request.url).searchParams;
  const filter: TaskFilter = params.get("show") === "all" ? "all" : "open";
  const pageParam = Number(params.get("page") ?? "1");
  const page =
    Number.isInteger(pageParam) && pageParam >= 1 && pageParam <= 100_000 ? pageParam : 1;
  const result = listWorkspaceTasks(wctx, { filter, page });
  return {
    workspace: {
      name: workspace.name,
      slug: workspace.slug,
      autoApprove: workspace.dsarAutoApprove,
    },
    filter,
    page: result.page,
    pages: result.pages,
    total: result.total,
    counts: openTaskCounts(wctx),
    rows: result.rows.map((row) => presentTaskRow(row, workspace.timezone)),
  };
}

const AutoApprove = z.object({ autoApprove: z.literal("on").optional() });

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "privacy:manage");
  const formData = await args.request.formData();
  return submitForm(formData, AutoApprove, (value) => {
    const on = value.autoApprove === "on";
    setDsarAutoApprove(wctx, workspace.id, on);
    return redirectWithFlash(
      `/w/${workspace.slug}/privacy/requests`,
      on
        ? "New privacy requests are now approved and carried out automatically."
        : "New privacy requests now wait for an owner or admin to decide.",
    );
  });
}

export default function PrivacyRequestsPage() {
  const { workspace, filter, page, pages, total, counts, rows } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const base = `/w/${workspace.slug}/privacy/requests`;
  const pageUrl = (n: number) => privacyQueueUrl(base, filter, n);
  return (
    <>
      <PageHeader
        title="Privacy requests"
        description="People asking for their data, a correction, erasure or an end to all messages. Our privacy policy promises an answer within 30 days. Owners and admins get reminders 7 and 2 days before a request is due; one still unanswered after that is escalated to the platform operator."
      />
      {counts.overdue ? (
        <Alert tone="error">
          {counts.overdue === 1
            ? "1 request is overdue. Decide it now."
            : `${counts.overdue} requests are overdue. Decide them now.`}
        </Alert>
      ) : null}

      <PrivacyQueueFilter filter={filter} label="Filter privacy requests" action={base} />

      {rows.length === 0 ? (
        filter === "open" ? (
          <EmptyState title="No open privacy requests">
            When someone asks about their data through your privacy page or Pleisys Engage&apos;s,
            the request appears here. <Link to={`${base}?show=all`}>Show all requests</Link>
          </EmptyState>
        ) : (
          <EmptyState title="No privacy requests yet">
            Requests about your contacts appear here once the person has confirmed who they are.
          </EmptyState>
        )
      ) : (
        <PrivacyQueueTable
          rows={rows}
          caption={`Privacy requests, soonest due first (${total.toLocaleString("en-US")})`}
          href={(row) => `${base}/${row.id}`}
        />
      )}

      <Pager label="Privacy request pages" page={page} pages={pages} href={pageUrl} />

      <Card title="Automatic approval">
        <Form method="post" action={base}>
          <FormErrors errors={lastResult?.error?.[""] ?? undefined} />
          <Checkbox
            name="autoApprove"
            label="Approve privacy requests automatically"
            defaultChecked={workspace.autoApprove}
          />
          <p className="field-hint">
            Access, export, erasure and opt-out requests are then carried out within minutes of the
            person confirming who they are. A correction still waits for you to enter the corrected
            values.
          </p>
          <Button type="submit" variant="secondary" disabled={busy}>
            Save
          </Button>
        </Form>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
