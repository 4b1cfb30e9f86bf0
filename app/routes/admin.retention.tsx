import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { Pager } from "~/components/ui/pager";
import { z } from "zod";
import { requireAdmin } from "~/auth/admin-access.server";
import { FormErrors } from "~/components/form";
import { RetentionRulesTable } from "~/components/retention";
import { Button } from "~/components/ui/button";
import { Card, EmptyState } from "~/components/ui/layout";
import { CLOSED_PAGE_SIZE, listClosedAccounts } from "~/domain/accounts/closure.server";
import { recentJobRuns } from "~/domain/operations/job-runs.server";
import {
  RETENTION_COUNT_LABELS,
  RETENTION_JOBS,
  RETENTION_RULES,
} from "~/domain/privacy/retention-policy";
import {
  DELETED_PAGE_SIZE,
  listDeletedWorkspaces,
  restoreWorkspace,
} from "~/domain/workspaces/deletion.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const headers = () => ({ "Cache-Control": "no-store" });

export const meta: MetaFunction = () => [
  { title: "Data retention — Platform admin — Pleisys Engage" },
];

const PAGE_MAX = 1_000_000;

function pageParam(url: URL, name: string): number {
  const page = Number(url.searchParams.get(name) ?? "1");
  return Number.isInteger(page) && page >= 1 && page <= PAGE_MAX ? page : 1;
}

export async function loader(args: LoaderFunctionArgs) {
  await requireAdmin(args);
  const url = new URL(args.request.url);
  const accountsPage = pageParam(url, "accounts");
  const workspacesPage = pageParam(url, "workspaces");
  const now = new Date();
  const closed = listClosedAccounts(accountsPage);
  const deleted = listDeletedWorkspaces(now, workspacesPage);
  return {
    rules: RETENTION_RULES,
    runs: recentJobRuns(RETENTION_JOBS, 15).map((run) => ({
      id: run.id,
      name: run.name,
      trigger: run.trigger,
      startedAt: run.startedAt.toISOString(),
      outcome: run.outcome,
      error: run.error,
      counts: Object.entries(JSON.parse(run.counts ?? "{}") as Record<string, number>).filter(
        ([, n]) => n > 0,
      ),
    })),
    closed: {
      page: accountsPage,
      pageCount: Math.max(1, Math.ceil(closed.total / CLOSED_PAGE_SIZE)),
      total: closed.total,
      rows: closed.rows.map((row) => ({
        id: row.id,
        name: row.name,
        email: row.email,
        closedAt: row.closedAt.toISOString(),
        purgeOn: row.purgeOn.toISOString(),
      })),
    },
    deleted: {
      page: workspacesPage,
      pageCount: Math.max(1, Math.ceil(deleted.total / DELETED_PAGE_SIZE)),
      total: deleted.total,
      rows: deleted.rows.map((row) => ({
        ...row,
        deletedAt: row.deletedAt.toISOString(),
        purgeOn: row.purgeOn.toISOString(),
      })),
    },
  };
}

const CONFIRM_RESTORE_LABEL = "Yes, restore it and let its members back in";

const Restore = z.object({
  workspaceId: z.string({ error: "Choose a workspace." }).trim().min(1).max(64),
  confirm: z.literal("on", { error: `Tick “${CONFIRM_RESTORE_LABEL}” to confirm.` }),
});

export async function action(args: ActionFunctionArgs) {
  const { ctx } = await requireAdmin(args);
  return submitForm(await args.request.formData(), Restore, async (value) => {
    await restoreWorkspace(ctx, value.workspaceId);
    return redirectWithFlash("/admin/retention", "The workspace is restored and active again.");
  });
}

const day = (iso: string) => iso.slice(0, 10);

function pageLink(name: "accounts" | "workspaces", page: number): string {
  return page > 1 ? `/admin/retention?${name}=${page}` : "/admin/retention";
}

export default function AdminRetentionPage() {
  const { rules, runs, closed, deleted } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const errors: string[] = lastResult?.error
    ? Object.values(lastResult.error).flatMap((messages) => (messages ?? []) as string[])
    : [];
  return (
    <section aria-labelledby="admin-retention-heading">
      <h2 id="admin-retention-heading">Data retention</h2>
      <Card title="Policies">
        <RetentionRulesTable rules={rules} caption="Retention periods" />
      </Card>

      <Card title="Last runs">
        {runs.length === 0 ? (
          <EmptyState title="No retention job has run yet">
            They run daily; an operator can start one with{" "}
            <code>npm run engage -- jobs run retention</code>.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table admin-table">
              <caption className="visually-hidden">Last runs of the retention jobs</caption>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Started</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">What it did</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => (
                  <tr key={run.id}>
                    <td>
                      <code>{run.name}</code>
                    </td>
                    <td>
                      <time dateTime={run.startedAt}>
                        {run.startedAt.slice(0, 16).replace("T", " ")} UTC
                      </time>
                    </td>
                    <td>{run.error ? `${run.outcome}: ${run.error}` : run.outcome}</td>
                    <td>
                      {run.counts.length === 0 ? (
                        <span className="muted">Nothing was due</span>
                      ) : (
                        <ul>
                          {run.counts.map(([key, n]) => (
                            <li key={key}>
                              {RETENTION_COUNT_LABELS[key] ?? key}: {n.toLocaleString("en-IN")}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title={`Closed accounts (${closed.total})`}>
        {closed.rows.length === 0 ? (
          <EmptyState title="No closed accounts" />
        ) : (
          <div className="table-scroll">
            <table className="table admin-table">
              <caption className="visually-hidden">
                Closed accounts and their deletion dates
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Closed</th>
                  <th scope="col">Deleted on</th>
                </tr>
              </thead>
              <tbody>
                {closed.rows.map((row) => (
                  <tr key={row.id}>
                    <td>{row.name}</td>
                    <td>{row.email}</td>
                    <td>
                      <time dateTime={row.closedAt}>{day(row.closedAt)}</time>
                    </td>
                    <td>
                      <time dateTime={row.purgeOn}>{day(row.purgeOn)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p className="muted">
          The owner reopens a closed account with the link we emailed, or asks for a new one from
          the sign-in page, until its deletion date.
        </p>
        <Pager
          label="Pages of accounts"
          page={closed.page}
          pages={closed.pageCount}
          href={(n) => pageLink("accounts", n)}
        />
      </Card>

      <Card title={`Deleted workspaces (${deleted.total})`}>
        <FormErrors errors={errors} />
        {deleted.rows.length === 0 ? (
          <EmptyState title="No deleted workspaces" />
        ) : (
          <div className="table-scroll">
            <table className="table admin-table">
              <caption className="visually-hidden">
                Deleted workspaces and their purge dates
              </caption>
              <thead>
                <tr>
                  <th scope="col">Workspace</th>
                  <th scope="col">Deleted</th>
                  <th scope="col">Data erased by</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deleted.rows.map((row) => (
                  <tr key={row.id}>
                    <td>
                      {row.name}
                      {row.slug ? (
                        <>
                          {" "}
                          <code>{row.slug}</code>
                        </>
                      ) : null}
                    </td>
                    <td>
                      <time dateTime={row.deletedAt}>{day(row.deletedAt)}</time>
                    </td>
                    <td>
                      {row.purged ? (
                        "Erased"
                      ) : (
                        <time dateTime={row.purgeOn}>{day(row.purgeOn)}</time>
                      )}
                    </td>
                    <td>
                      {row.restorable ? (
                        <Form method="post" className="inline-form">
                          <input type="hidden" name="workspaceId" value={row.id} />
                          <div className="field field-checkbox">
                            <input
                              id={`restore-confirm-${row.id}`}
                              type="checkbox"
                              name="confirm"
                              value="on"
                            />
                            <label htmlFor={`restore-confirm-${row.id}`}>
                              {CONFIRM_RESTORE_LABEL}
                            </label>
                          </div>
                          <Button
                            type="submit"
                            variant="secondary"
                            disabled={navigation.state === "submitting"}
                            aria-label={`Restore ${row.name}`}
                          >
                            Restore
                          </Button>
                        </Form>
                      ) : (
                        <span className="muted">Can no longer be restored</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager
          label="Pages of workspaces"
          page={deleted.page}
          pages={deleted.pageCount}
          href={(n) => pageLink("workspaces", n)}
        />
      </Card>
    </section>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
