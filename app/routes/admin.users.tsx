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
import { findUserById } from "~/domain/accounts/users.server";
import { ADMIN_PAGE_SIZE, searchUsers, setUserStatus } from "~/domain/admin/admin.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

/** Lists of people and workspaces are never kept by browsers or proxies. */
export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [{ title: "Users — Platform admin — Pleisys Engage" }];

const QUERY_MAX = 200;
const PAGE_MAX = 1_000_000;

/** ?q= and ?page= as typed; anything odd in page falls back to the first page. */
function listParams(url: URL) {
  const q = (url.searchParams.get("q") ?? "").trim().slice(0, QUERY_MAX);
  const page = Number(url.searchParams.get("page") ?? "1");
  return { q, page: Number.isInteger(page) && page >= 1 && page <= PAGE_MAX ? page : 1 };
}

function listUrl(path: string, q: string, page: number): string {
  const search = new URLSearchParams();
  if (q) search.set("q", q);
  if (page > 1) search.set("page", String(page));
  const query = search.toString();
  return query ? `${path}?${query}` : path;
}

export async function loader(args: LoaderFunctionArgs) {
  const { user } = await requireAdmin(args);
  const { q, page } = listParams(new URL(args.request.url));
  const { rows, total } = searchUsers(q, page);
  return {
    q,
    page,
    total,
    pageCount: Math.max(1, Math.ceil(total / ADMIN_PAGE_SIZE)),
    me: user.id,
    users: rows.map((row) => ({
      id: row.id,
      email: row.email,
      name: row.name,
      status: row.status,
      verified: row.emailVerifiedAt !== null,
      mfa: row.totpEnabledAt !== null,
      admin: row.isPlatformAdmin,
      createdAt: row.createdAt.toISOString(),
    })),
  };
}

const UserId = z
  .string({ error: "Choose a user." })
  .trim()
  .min(1, "Choose a user.")
  .max(64, "Choose a user.");

const CONFIRM_SUSPEND_LABEL = "Yes, suspend and sign them out";

const StatusChange = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("suspend"),
    userId: UserId,
    confirm: z.literal("on", { error: `Tick “${CONFIRM_SUSPEND_LABEL}” to confirm.` }),
  }),
  z.object({ intent: z.literal("unsuspend"), userId: UserId }),
]);

export async function action(args: ActionFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  const { q, page } = listParams(new URL(args.request.url));
  const formData = await args.request.formData();
  return submitForm(formData, StatusChange, async (value) => {
    const suspend = value.intent === "suspend";
    setUserStatus(ctx, value.userId, suspend ? "suspended" : "active");
    const email = findUserById(value.userId)?.email ?? "The user";
    return redirectWithFlash(
      listUrl("/admin/users", q, page),
      suspend
        ? `${email} is suspended and has been signed out everywhere.`
        : `${email} can sign in again.`,
    );
  });
}

type UserRow = ReturnType<typeof useLoaderData<typeof loader>>["users"][number];

export default function AdminUsersPage() {
  const { q, page, total, pageCount, users, me } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  return (
    <section aria-labelledby="admin-users-heading">
      <h2 id="admin-users-heading">Users</h2>
      <Form method="get" className="admin-search" role="search">
        <label htmlFor="admin-users-q">Search by email or name</label>
        <input id="admin-users-q" type="search" name="q" defaultValue={q} maxLength={QUERY_MAX} />
        <Button type="submit" variant="secondary">
          Search
        </Button>
        {q ? <Link to="/admin/users">Clear</Link> : null}
      </Form>
      <p className="muted" aria-live="polite">
        {listSummary(total, { one: "user", many: "users" }, q, page, pageCount)}
      </p>
      <FormErrors
        errors={unplacedErrors(
          lastResult,
          users,
          (row) => row.id === lastResult?.initialValue?.userId && row.id !== me,
        )}
      />
      {users.length === 0 ? (
        <EmptyState title={q ? "No users match your search" : "No users on this page"} />
      ) : (
        <div className="table-scroll">
          <table className="table admin-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Verified</th>
                <th scope="col">MFA</th>
                <th scope="col">Admin</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.map((row) => (
                <tr key={row.id}>
                  <td>{row.email}</td>
                  <td>{row.name}</td>
                  <td>
                    <AccountStatusBadge status={row.status} />
                  </td>
                  <td>{row.verified ? "Yes" : "No"}</td>
                  <td>{row.mfa ? "On" : "Off"}</td>
                  <td>{row.admin ? "Yes" : "No"}</td>
                  <td>
                    <time dateTime={row.createdAt}>{row.createdAt.slice(0, 10)}</time>
                  </td>
                  <td>
                    {row.id === me ? (
                      <span className="muted">You</span>
                    ) : (
                      <StatusForm
                        row={row}
                        lastResult={
                          lastResult?.initialValue?.userId === row.id ? lastResult : undefined
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
      <Pager
        label="User pages"
        page={page}
        pages={pageCount}
        href={(n) => listUrl("/admin/users", q, n)}
      />
    </section>
  );
}

function StatusForm({ row, lastResult }: { row: UserRow; lastResult?: SubmissionResult }) {
  return (
    <SuspendForm
      idField="userId"
      id={row.id}
      name={row.email}
      status={row.status}
      confirmLabel={CONFIRM_SUSPEND_LABEL}
      schema={StatusChange}
      lastResult={lastResult}
    />
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
