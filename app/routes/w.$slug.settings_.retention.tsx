import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { RetentionRulesTable } from "~/components/retention";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { RETENTION_RULES } from "~/domain/privacy/retention-policy";
import { readWorkspaceRetentionRuns } from "~/domain/privacy/retention-run.server";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Data retention — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "workspace:settings");
  return {
    workspace: { name: workspace.name, timezone: workspace.timezone },
    rules: RETENTION_RULES,
    runs: readWorkspaceRetentionRuns(wctx),
  };
}

export default function WorkspaceRetentionPage() {
  const { workspace, rules, runs } = useLoaderData<typeof loader>();
  return (
    <>
      <PageHeader
        title="Data retention"
        description={`How long ${workspace.name}'s data is kept, as our privacy policy promises, and what the daily retention run deleted here.`}
      />
      <Card title="Policies">
        <RetentionRulesTable rules={rules} caption="Retention periods" />
      </Card>
      <Card title="Last runs in this workspace">
        {runs.length === 0 ? (
          <EmptyState title="No retention run has visited this workspace yet">
            The retention job runs daily; its results show here.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Last retention runs</caption>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Message contents cleared</th>
                  <th scope="col">AI draft texts cleared</th>
                  <th scope="col">Webhook events deleted</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => (
                  <tr key={run.at}>
                    <td>
                      <time dateTime={run.at}>
                        {formatDateTime(new Date(run.at), workspace.timezone)}
                      </time>
                    </td>
                    <td>{run.messagesCleared.toLocaleString("en-IN")}</td>
                    <td>{(run.aiDraftsCleared ?? 0).toLocaleString("en-IN")}</td>
                    <td>{run.webhookEventsDeleted.toLocaleString("en-IN")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
