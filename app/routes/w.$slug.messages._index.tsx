import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { contentSummary, MessageStatusBadge } from "~/components/message-status";
import { Button } from "~/components/ui/button";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import { listMessages } from "~/domain/delivery/outbox.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.sandbox ? "Sandbox messages" : "Messages"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 50;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "campaigns:read");
  const url = new URL(args.request.url);
  const sandbox = ["1", "on", "true"].includes(url.searchParams.get("sandbox") ?? "");
  const before = url.searchParams.get("before");
  const page = listMessages(wctx, { sandbox, before, limit: PAGE_SIZE });
  const tz = workspace.timezone;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    sandbox,
    paged: Boolean(before),
    next: page.nextCursor,
    rows: page.rows.map((m) => ({
      id: m.id,
      created: formatDateTime(m.createdAt, tz),
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
  };
}

export default function MessagesPage() {
  const { workspace, sandbox, paged, next, rows } = useLoaderData<typeof loader>();
  const base = `/w/${workspace.slug}/messages`;
  const filter = sandbox ? "sandbox=1&" : "";
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
      />

      <Form method="get" action={base} className="filters" aria-label="Filter messages">
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
        </div>
      </Form>

      {rows.length === 0 ? (
        <EmptyState title={paged ? "No older messages" : "No messages yet"}>
          {paged
            ? "You have reached the oldest message."
            : sandbox
              ? "Messages on channels without a connected account will appear here."
              : "Messages you send from a contact's page, and from campaigns, appear here."}
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">
              {sandbox ? "Sandbox messages" : "Messages"}, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Channel</th>
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
                      <time dateTime={m.createdIso}>{m.created}</time>
                      <span className="visually-hidden">
                        {" "}
                        {m.channel} message to {m.recipient}
                      </span>
                    </Link>
                  </td>
                  <td>{m.channel}</td>
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
                    {m.kind === "marketing" ? <span className="badge">marketing</span> : null}
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
          {paged ? <Link to={sandbox ? `${base}?sandbox=1` : base}>Newest</Link> : <span />}
          {next ? (
            <Link to={`${base}?${filter}before=${encodeURIComponent(next)}`} rel="next">
              Older →
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
