import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import {
  contentSummary,
  MESSAGE_STATUS_LABELS,
  MessageStatusBadge,
  type MessageStatusName,
} from "~/components/message-status";
import { Button, ButtonLink } from "~/components/ui/button";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import { listCampaignsPage } from "~/domain/campaigns/campaigns.server";
import { readMessageLogFilters } from "~/domain/delivery/message-log.server";
import { listMessages } from "~/domain/delivery/outbox.server";
import { CHANNEL_LABELS, CHANNELS } from "~/lib/channels";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.sandbox ? "Sandbox messages" : "Messages"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 50;

/** The campaign menu lists the newest ones; an older campaign's log is linked from its report. */
const CAMPAIGN_MENU = 200;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  const url = new URL(args.request.url);
  const { filters, problem } = readMessageLogFilters(url.searchParams);
  const before = url.searchParams.get("before");
  const page = problem ? null : listMessages(wctx, { ...filters, before, limit: PAGE_SIZE });
  const tz = workspace.timezone;
  const campaigns = listCampaignsPage(wctx, { limit: CAMPAIGN_MENU }).rows.map((c) => ({
    value: String(c.id),
    label: c.name,
  }));
  const chosen = filters.campaignId !== undefined ? String(filters.campaignId) : "";
  if (chosen && !campaigns.some((c) => c.value === chosen)) {
    campaigns.push({ value: chosen, label: `Campaign #${chosen}` });
  }
  const keep = [...url.searchParams.entries()].filter(([k, v]) => k !== "before" && v !== "");
  return data(
    {
      workspace: { name: workspace.name, slug: workspace.slug },
      sandbox: Boolean(filters.sandbox),
      filtered: Boolean(filters.channel || filters.status || filters.campaignId !== undefined),
      query: {
        channel: filters.channel ?? "",
        status: filters.status ?? "",
        campaign: chosen,
      },
      keep,
      campaigns,
      canExport: can(role, "contacts:export"),
      problem,
      paged: Boolean(before),
      next: page?.nextCursor ?? null,
      rows: (page?.rows ?? []).map((m) => ({
        id: m.id,
        created: formatDateTimeCompact(m.createdAt, tz),
        createdFull: formatDateTime(m.createdAt, tz),
        createdIso: m.createdAt.toISOString(),
        channel: CHANNEL_LABELS[m.channel],
        recipient: m.recipient,
        contactId: m.contactId,
        kind: m.kind,
        summary: contentSummary(m.content),
        status: m.status,
        sandbox: m.integrationId === null,
        error: m.error,
      })),
    },
    { status: problem ? 400 : 200 },
  );
}

function withParams(base: string, keep: [string, string][], extra: Record<string, string> = {}) {
  const params = new URLSearchParams(keep);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

export default function MessagesPage() {
  const d = useLoaderData<typeof loader>();
  const { workspace, sandbox, paged, next, rows } = d;
  const base = `/w/${workspace.slug}/messages`;
  const filtering = d.filtered || sandbox;
  return (
    <>
      <PageHeader
        title={sandbox ? "Sandbox messages" : "Messages"}
        description={
          sandbox ? (
            <>
              Messages on channels with no connected account. Nothing here left Pleisys Engage: each
              one is kept exactly as it would have been sent, and marked delivered. Connect an
              account in <Link to={`/w/${workspace.slug}/settings/channels`}>Channels</Link> to send
              for real.
            </>
          ) : (
            "Every message sent or queued from this workspace, newest first."
          )
        }
        actions={
          d.canExport && !d.problem ? (
            <ButtonLink to={withParams(`${base}.csv`, d.keep)} reloadDocument>
              Download CSV
            </ButtonLink>
          ) : null
        }
      />

      <Form method="get" action={base} className="filters" aria-label="Filter messages">
        <Select
          name="channel"
          label="Channel"
          options={[
            { value: "", label: "All channels" },
            ...CHANNELS.map((c) => ({ value: c, label: CHANNEL_LABELS[c] })),
          ]}
          defaultValue={d.query.channel}
        />
        <Select
          name="status"
          label="Status"
          options={[
            { value: "", label: "Any status" },
            ...(Object.keys(MESSAGE_STATUS_LABELS) as MessageStatusName[]).map((s) => ({
              value: s,
              label: MESSAGE_STATUS_LABELS[s],
            })),
          ]}
          defaultValue={d.query.status}
        />
        <Select
          name="campaign"
          label="Campaign"
          options={[{ value: "", label: "Any campaign or none" }, ...d.campaigns]}
          defaultValue={d.query.campaign}
        />
        <div className="field field-checkbox">
          <input
            id="sandbox-only"
            type="checkbox"
            name="sandbox"
            value="1"
            defaultChecked={sandbox}
          />
          <label htmlFor="sandbox-only">Sandbox only</label>
        </div>
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Apply
          </Button>
          {filtering ? <ButtonLink to={base}>Clear</ButtonLink> : null}
        </div>
      </Form>

      <FormErrors errors={d.problem ? [d.problem] : undefined} />

      {d.problem ? null : rows.length === 0 ? (
        paged ? (
          <EmptyState title="No older messages">You have reached the oldest message.</EmptyState>
        ) : d.filtered ? (
          <EmptyState
            title="No messages match"
            action={
              <p>
                <ButtonLink to={base}>Show all messages</ButtonLink>
              </p>
            }
          >
            No message has this channel, status and campaign together. Try fewer filters.
          </EmptyState>
        ) : (
          <EmptyState title="No messages yet">
            {sandbox
              ? "Messages on channels without a connected account will appear here."
              : "Messages you send from a contact's page, and from campaigns, appear here."}
          </EmptyState>
        )
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">
              {sandbox ? "Sandbox messages" : "Messages"}, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col" className="col-medium">
                  Channel
                </th>
                <th scope="col">Recipient</th>
                <th scope="col">Message</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.id}>
                  <td>
                    <Link to={`${base}/${m.id}`}>
                      <time dateTime={m.createdIso} title={m.createdFull}>
                        {m.created}
                      </time>
                      <span className="visually-hidden">
                        {" "}
                        {m.channel} message to {m.recipient}
                      </span>
                    </Link>
                  </td>
                  <td className="col-medium">{m.channel}</td>
                  <td>
                    {m.contactId !== null ? (
                      <Link to={`/w/${workspace.slug}/contacts/${m.contactId}`}>
                        {m.recipient || "No address"}
                      </Link>
                    ) : (
                      m.recipient || <span className="muted">No address</span>
                    )}
                  </td>
                  <td>
                    {m.summary}
                    {m.kind === "marketing" ? (
                      <>
                        {" "}
                        <span className="badge">marketing</span>
                      </>
                    ) : null}
                  </td>
                  <td>
                    <MessageStatusBadge status={m.status} sandbox={m.sandbox} />
                  </td>
                  <td>{m.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {paged || next ? (
        <nav className="pager" aria-label="Message pages">
          {paged ? <Link to={withParams(base, d.keep)}>Newest</Link> : <span />}
          {next ? (
            <Link to={withParams(base, d.keep, { before: next })} rel="next">
              Older →
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
