import { listSummary } from "~/lib/format";
import { unplacedErrors } from "~/lib/form-result";
import type { SubmissionResult } from "@conform-to/react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireAdmin } from "~/auth/admin-access.server";
import { FormErrors } from "~/components/form";
import { AccountStatusBadge } from "~/components/account-status";
import { SuspendForm } from "~/components/suspend-form";
import { Button } from "~/components/ui/button";
import { EmptyState } from "~/components/ui/layout";
import { Pager } from "~/components/ui/pager";
import { ADMIN_PAGE_SIZE, searchWorkspaces, setWorkspaceStatus } from "~/domain/admin/admin.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

/** Lists of people and workspaces are never kept by browsers or proxies. */
export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [{ title: "Workspaces — Platform admin — Pleisys Engage" }];

const QUERY_MAX = 200;
const PAGE_MAX = 1_000_000;

/** ?q= and ?page= as typed; anything odd in page falls back to the first page. */
function listParams(url: URL) {
  const q = (url.searchParams.get("q") ?? "").trim().slice(0, QUERY_MAX);
  const page = Number(url.searchParams.get("page") ?? "1");
  return { q, page: Number.isInteger(page) && page >= 1 && page <= PAGE_MAX ? page : 1 };
}

function listUrl(q: string, page: number): string {
  const search = new URLSearchParams();
  if (q) search.set("q", q);
  if (page > 1) search.set("page", String(page));
  const query = search.toString();
  return query ? `/admin/workspaces?${query}` : "/admin/workspaces";
}

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  const { q, page } = listParams(new URL(args.request.url));
  const { rows, total } = searchWorkspaces(q, page);
  return {
    q,
    page,
    total,
    pageCount: Math.max(1, Math.ceil(total / ADMIN_PAGE_SIZE)),
    workspaces: rows.map((row) => ({
      id: row.id,
      slug: row.slug,
      name: row.name,
      status: row.status,
      members: row.members,
      createdAt: row.createdAt.toISOString(),
    })),
  };
}

const WorkspaceId = z
  .string({ error: "Choose a workspace." })
  .trim()
  .min(1, "Choose a workspace.")
  .max(64, "Choose a workspace.");

const CONFIRM_SUSPEND_LABEL = "Yes, suspend it and lock its members out";

const StatusChange = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("suspend"),
    workspaceId: WorkspaceId,
    confirm: z.literal("on", { error: `Tick “${CONFIRM_SUSPEND_LABEL}” to confirm.` }),
  }),
  z.object({ intent: z.literal("unsuspend"), workspaceId: WorkspaceId }),
]);

export async function action(args: ActionFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const { q, page } = listParams(new URL(args.request.url));
  const formData = await args.request.formData();
  return submitForm(formData, StatusChange, async (value) => {
    const suspend = value.intent === "suspend";
    setWorkspaceStatus(ctx, value.workspaceId, suspend ? "suspended" : "active");
    return redirectWithFlash(
      listUrl(q, page),
      suspend
        ? "The workspace is suspended. Its members can no longer open it."
        : "The workspace is active again.",
    );
  });
}

type WorkspaceRow = ReturnType<typeof useLoaderData<typeof loader>>["workspaces"][number];

export default function AdminWorkspacesPage() {
  const { q, page, total, pageCount, workspaces } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  return (
    <section aria-labelledby="admin-workspaces-heading">
      <h2 id="admin-workspaces-heading">Workspaces</h2>
      <Form method="get" className="admin-search" role="search">
        <label htmlFor="admin-workspaces-q">Search by address (slug) or name</label>
        <input
          id="admin-workspaces-q"
          type="search"
          name="q"
          defaultValue={q}
          maxLength={QUERY_MAX}
        />
        <Button type="submit" variant="secondary">
          Search
        </Button>
        {q ? <Link to="/admin/workspaces">Clear</Link> : null}
      </Form>
      <p className="muted" aria-live="polite">
        {listSummary(total, { one: "workspace", many: "workspaces" }, q, page, pageCount)}
      </p>
      <FormErrors
        errors={unplacedErrors(
          lastResult,
          workspaces,
          (row) => row.id === lastResult?.initialValue?.workspaceId && row.status !== "deleted",
        )}
      />
      {workspaces.length === 0 ? (
        <EmptyState title={q ? "No workspaces match your search" : "No workspaces on this page"} />
      ) : (
        <div className="table-scroll">
          <table className="table admin-table">
            <thead>
              <tr>
                <th scope="col">Slug</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Members</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {workspaces.map((row) => (
                <tr key={row.id}>
                  <td>
                    <code>{row.slug}</code>
                  </td>
                  <td>{row.name}</td>
                  <td>
                    <AccountStatusBadge status={row.status} />
                  </td>
                  <td>{row.members}</td>
                  <td>
                    <time dateTime={row.createdAt}>{row.createdAt.slice(0, 10)}</time>
                  </td>
                  <td>
                    {row.status === "deleted" ? (
                      <span className="muted">Deleted</span>
                    ) : (
                      <StatusForm
                        row={row}
                        lastResult={
                          lastResult?.initialValue?.workspaceId === row.id ? lastResult : undefined
                        }
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Workspace pages" page={page} pages={pageCount} href={(n) => listUrl(q, n)} />
    </section>
  );
}

function StatusForm({ row, lastResult }: { row: WorkspaceRow; lastResult?: SubmissionResult }) {
  return (
    <SuspendForm
      idField="workspaceId"
      id={row.id}
      name={row.slug}
      status={row.status}
      confirmLabel={CONFIRM_SUSPEND_LABEL}
      schema={StatusChange}
      lastResult={lastResult}
    />
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
