import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Pager } from "~/components/ui/pager";
import { requireAdmin } from "~/auth/admin-access.server";
import { PrivacyQueueFilter, PrivacyQueueTable, privacyQueueUrl } from "~/components/privacy-queue";
import { EmptyState } from "~/components/ui/layout";
import { formatDateTime } from "~/lib/format";
import {
  listAccountTasks,
  listOverdueWorkspaceTasks,
  presentTaskRow,
  type TaskFilter,
} from "~/domain/privacy/dsar-queues.server";

export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [
  { title: "Privacy requests — Platform admin — Pleisys Engage" },
];

export async function loader(args: LoaderFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const params = new URL(args.request.url).searchParams;
  const filter: TaskFilter = params.get("show") === "all" ? "all" : "open";
  const pageParam = Number(params.get("page") ?? "1");
  const page =
    Number.isInteger(pageParam) && pageParam >= 1 && pageParam <= 100_000 ? pageParam : 1;
  const accounts = listAccountTasks(ctx, { filter, page });
  return {
    filter,
    page: accounts.page,
    pages: accounts.pages,
    total: accounts.total,
    accounts: accounts.rows.map((row) => presentTaskRow(row, "UTC")),
    overdue: listOverdueWorkspaceTasks(ctx).map((row) => ({
      ...presentTaskRow(row, "UTC"),
      workspaceName: row.workspaceName,
      workspaceSlug: row.workspaceSlug,
      mailed: row.escalatedAt ? formatDateTime(row.escalatedAt, "UTC") : null,
    })),
  };
}

export default function AdminPrivacyPage() {
  const { filter, page, pages, total, accounts, overdue } = useLoaderData<typeof loader>();
  const pageUrl = (n: number) => privacyQueueUrl("/admin/privacy", filter, n);
  return (
    <>
      <section aria-labelledby="account-requests-heading">
        <h2 id="account-requests-heading">Requests about accounts</h2>
        <p className="muted">
          Pleisys Engage is the controller of account data: these are decided here. Times in UTC.
        </p>
        <PrivacyQueueFilter filter={filter} label="Filter account requests" />
        {accounts.length === 0 ? (
          <EmptyState
            title={filter === "open" ? "No open account requests" : "No account requests yet"}
          />
        ) : (
          <PrivacyQueueTable
            rows={accounts}
            caption={`Account requests (${total.toLocaleString("en-US")})`}
            href={(row) => `/admin/privacy/${row.id}`}
            className="table admin-table"
            showEscalated
          />
        )}
        <Pager label="Account request pages" page={page} pages={pages} href={pageUrl} />
      </section>

      <section aria-labelledby="overdue-heading">
        <h2 id="overdue-heading">Escalated: overdue in workspaces</h2>
        <p className="muted">
          Workspaces decide requests about their contacts. These were not answered within the 30
          days our privacy policy promises, so they are escalated to the platform operator: every
          platform admin is mailed once per request. Contact the workspace&apos;s owners and see
          that each is answered now.
        </p>
        {overdue.length === 0 ? (
          <EmptyState title="No workspace has an overdue request" />
        ) : (
          <div className="table-scroll">
            <table className="table admin-table">
              <caption className="visually-hidden">Overdue workspace requests</caption>
              <thead>
                <tr>
                  <th scope="col">Workspace</th>
                  <th scope="col">Request</th>
                  <th scope="col">Due</th>
                  <th scope="col">Status</th>
                  <th scope="col">Escalated</th>
                </tr>
              </thead>
              <tbody>
                {overdue.map((row) => (
                  <tr key={row.id} className="row-attention">
                    <th scope="row">
                      {row.workspaceName} <code>{row.workspaceSlug}</code>
                    </th>
                    <td>{row.typeLabel}</td>
                    <td>
                      <time dateTime={row.dueIso}>{row.due}</time>
                      <span className="badge badge-danger">{row.countdown}</span>
                    </td>
                    <td>{row.statusLabel}</td>
                    <td className="admin-cell-wrap">
                      <span className="badge badge-danger">Escalated</span>{" "}
                      {row.mailed
                        ? `Admins mailed ${row.mailed}`
                        : "Admins are mailed on the next run of the dsar-tasks job"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
