import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import {
  ActivityOverTime,
  formatCount,
  formatLocalDay,
  formatRate,
  StatGrid,
} from "~/components/charts";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { queryAnalytics } from "~/domain/analytics/analytics-worker.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { formatDateTime } from "~/lib/format";

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, role, user, wctx } = await requireWorkspace(args, "workspace:read");
  // The overview is campaign data: roles without campaigns:read (agents) see the rest.
  const overview = can(role, "campaigns:read")
    ? await queryAnalytics("workspaceOverview", wctx.workspaceId, workspace.timezone)
    : null;
  return {
    workspace: {
      slug: workspace.slug,
      name: workspace.name,
      requireMfa: workspace.requireMfa,
      timezone: workspace.timezone,
    },
    userName: user.name,
    mfaEnabled: user.mfaEnabled,
    canManage: can(role, "members:manage"),
    canSecure: can(role, "security:manage"),
    canSend: can(role, "campaigns:write"),
    overview: overview && {
      from: overview.from,
      to: overview.to,
      channels: overview.channels.map((c) => ({
        ...c,
        label: CHANNEL_LABELS[c.channel],
        seen: c.channel === "email" ? "Opened" : "Read",
      })),
      recentCampaigns: overview.recentCampaigns.map((c) => ({
        ...c,
        channel: CHANNEL_LABELS[c.channel],
        created: formatDateTime(c.createdAt, workspace.timezone),
        createdAt: c.createdAt.toISOString(),
      })),
    },
  };
}

export default function WorkspaceHome() {
  const { workspace, userName, mfaEnabled, canManage, canSecure, canSend, overview } =
    useLoaderData<typeof loader>();
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

      {overview ? (
        <section aria-labelledby="overview-title">
          <h2 id="overview-title">Last 30 days</h2>
          <p className="muted">
            {formatLocalDay(overview.from)} to {formatLocalDay(overview.to)}, by day in{" "}
            {workspace.timezone}.
          </p>
          {overview.channels.length === 0 ? (
            <EmptyState
              title="Nothing sent in the last 30 days"
              action={
                canSend ? (
                  <Link to={`${base}/campaigns/new`} className="btn btn-primary">
                    Create a campaign
                  </Link>
                ) : undefined
              }
            >
              Messages you send appear here by channel: sent, delivered, read or opened, clicked and
              failed, day by day.
            </EmptyState>
          ) : (
            overview.channels.map((c) => (
              <Card key={c.channel} title={c.label}>
                <StatGrid
                  stats={[
                    ["Sent", formatCount(c.totals.sent)],
                    ["Delivered", formatCount(c.totals.delivered)],
                    ["Delivery rate", formatRate(c.deliveryRate)],
                    [c.seen, formatCount(c.totals.seen)],
                    ["Clicked", formatCount(c.totals.clicked)],
                    ["Failed", formatCount(c.totals.failed)],
                  ]}
                />
                <ActivityOverTime
                  title={`${c.label}: the last 30 days`}
                  description={`${c.label} messages per day from ${formatLocalDay(overview.from)} to ${formatLocalDay(overview.to)}: ${formatCount(c.totals.sent)} sent, ${formatCount(c.totals.delivered)} delivered, ${formatCount(c.totals.failed)} failed.`}
                  seenLabel={c.seen}
                  periodHeader="Day"
                  tableSummary={`${c.label} numbers per day`}
                  points={c.days.map((d) => ({ ...d, at: d.day, label: formatLocalDay(d.day) }))}
                />
              </Card>
            ))
          )}

          <Card title="Recent campaigns">
            {overview.recentCampaigns.length === 0 ? (
              <p className="muted">
                No campaigns yet.
                {canSend ? (
                  <>
                    {" "}
                    <Link to={`${base}/campaigns/new`}>Create your first campaign</Link>.
                  </>
                ) : null}
              </p>
            ) : (
              <div className="table-scroll">
                <table className="table">
                  <caption className="visually-hidden">Recent campaigns and their numbers</caption>
                  <thead>
                    <tr>
                      <th scope="col">Campaign</th>
                      <th scope="col">Channel</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="num">
                        Recipients
                      </th>
                      <th scope="col" className="num">
                        Sent
                      </th>
                      <th scope="col" className="num">
                        Delivered
                      </th>
                      <th scope="col" className="num">
                        Read / opened
                      </th>
                      <th scope="col" className="num">
                        Clicked
                      </th>
                      <th scope="col" className="num">
                        Failed
                      </th>
                      <th scope="col" className="num">
                        Delivery rate
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.recentCampaigns.map((c) => (
                      <tr key={c.id}>
                        <th scope="row">
                          <Link to={`${base}/campaigns/${c.id}/report`}>{c.name}</Link>
                          <div className="muted">
                            <time dateTime={c.createdAt}>{c.created}</time>
                          </div>
                        </th>
                        <td>{c.channel}</td>
                        <td>{c.status.replace(/_/g, " ")}</td>
                        <td className="num">{formatCount(c.recipients)}</td>
                        <td className="num">{formatCount(c.sent)}</td>
                        <td className="num">{formatCount(c.delivered)}</td>
                        <td className="num">{formatCount(c.seen)}</td>
                        <td className="num">{formatCount(c.clicked)}</td>
                        <td className="num">{formatCount(c.failed)}</td>
                        <td className="num">{formatRate(c.deliveryRate)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
        </section>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
