import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { Pager } from "~/components/ui/pager";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { AiWriter } from "~/components/ai-writer";
import { aiConfigured } from "~/domain/ai/copy.server";
import {
  CAMPAIGN_STATUS_LABELS,
  CAMPAIGN_STATUSES,
  CampaignStatusBadge,
  type CampaignStatusName,
} from "~/components/campaign-status";
import { Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import { listCampaignsPage } from "~/domain/campaigns/campaigns.server";
import { listMembers } from "~/domain/workspaces/workspaces.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Campaigns — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 25;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  const params = new URL(args.request.url).searchParams;
  const statusParam = params.get("status") ?? "";
  const status = (CAMPAIGN_STATUSES as readonly string[]).includes(statusParam)
    ? (statusParam as CampaignStatusName)
    : undefined;
  const pageParam = Number(params.get("page") ?? "1");
  const page =
    Number.isInteger(pageParam) && pageParam >= 1 && pageParam <= 100_000 ? pageParam : 1;
  const { rows, total } = listCampaignsPage(wctx, {
    status,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const members = new Map(listMembers(workspace.id).map((m) => [m.userId, m.name]));
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite: can(role, "campaigns:write"),
    ai: { action: `/w/${workspace.slug}/ai/copy`, configured: aiConfigured() },
    status: status ?? "",
    page,
    pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
    total,
    campaigns: rows.map((c) => ({
      id: c.id,
      name: c.name,
      channel: CHANNEL_LABELS[c.channel],
      status: c.status,
      queued: c.queued,
      // The queue writes a message for everyone in the audience, the skipped ones included.
      toQueue: Math.max(c.total, c.review?.audience ?? 0),
      created: formatDateTimeCompact(c.createdAt, workspace.timezone),
      createdFull: formatDateTime(c.createdAt, workspace.timezone),
      createdIso: c.createdAt.toISOString(),
      createdBy: c.createdBy ? (members.get(c.createdBy) ?? "A former member") : "—",
    })),
  };
}

export default function CampaignsPage() {
  const { workspace, canWrite, ai, status, page, pages, total, campaigns } =
    useLoaderData<typeof loader>();
  const base = `/w/${workspace.slug}/campaigns`;
  const pageUrl = (n: number) => {
    const params = new URLSearchParams();
    if (status) params.set("status", status);
    if (n > 1) params.set("page", String(n));
    const query = params.toString();
    return query ? `${base}?${query}` : base;
  };
  const newCampaign = canWrite ? (
    <ButtonLink to={`${base}/new`} variant="primary">
      New campaign
    </ButtonLink>
  ) : null;
  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Send a template to a segment or a list, now or at a time. Each campaign is reviewed before it is sent: who gets it, who is skipped and why, what it costs and how long it takes."
        actions={newCampaign}
      />
      {canWrite ? (
        <details className="card">
          <summary>Need an idea? Write a campaign message with AI</summary>
          <AiWriter
            action={ai.action}
            configured={ai.configured}
            title="Campaign ideas with AI"
            // A chosen idea goes to the clipboard, ready for a new template.
            onUse={(text) => void navigator.clipboard?.writeText(text)}
          />
        </details>
      ) : null}

      <Form method="get" action={base} className="filters" aria-label="Filter campaigns">
        <Select
          name="status"
          label="Status"
          defaultValue={status}
          options={[
            { value: "", label: "Any status" },
            ...CAMPAIGN_STATUSES.map((s) => ({ value: s, label: CAMPAIGN_STATUS_LABELS[s] })),
          ]}
        />
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Apply
          </Button>
        </div>
      </Form>

      {campaigns.length === 0 ? (
        status || page > 1 ? (
          <EmptyState title="No campaigns match">
            <Link to={base}>Show all campaigns</Link>
          </EmptyState>
        ) : (
          <EmptyState title="No campaigns yet" action={newCampaign}>
            A campaign sends one template (or an A/B test of up to four) to a segment or a list, on
            email, WhatsApp, SMS or Telegram.
          </EmptyState>
        )
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">
              Campaigns, newest first ({total.toLocaleString("en-US")})
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="col-medium">
                  Channel
                </th>
                <th scope="col">Status</th>
                <th scope="col">Queued</th>
                <th scope="col">Created</th>
                <th scope="col" className="col-low">
                  Created by
                </th>
              </tr>
            </thead>
            <tbody>
              {campaigns.map((c) => (
                <tr
                  key={c.id}
                  className={c.status === "pending_approval" ? "row-attention" : undefined}
                >
                  <th scope="row">
                    <Link to={`${base}/${c.id}`}>{c.name}</Link>
                  </th>
                  <td className="col-medium">{c.channel}</td>
                  <td>
                    <CampaignStatusBadge status={c.status} />
                  </td>
                  <td>
                    {c.status === "draft"
                      ? "—"
                      : `${c.queued.toLocaleString("en-US")} / ${c.toQueue.toLocaleString("en-US")}`}
                  </td>
                  <td>
                    <time dateTime={c.createdIso} title={c.createdFull}>
                      {c.created}
                    </time>
                  </td>
                  <td className="col-low">{c.createdBy}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Pager
        label="Campaign pages"
        page={page}
        pages={pages}
        href={pageUrl}
        previous="← Newer"
        next="Older →"
      />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
