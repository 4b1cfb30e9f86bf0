import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { waitedFor } from "~/components/inbox/format";
import { Button } from "~/components/ui/button";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import {
  inboxTeams,
  listConversations,
  readInboxQuery,
} from "~/domain/inbox/conversation-list.server";
import { CONVERSATION_STATUSES, STATUS_LABELS } from "~/domain/inbox/status-labels";
import { canReply, loadInboxMember } from "~/domain/inbox/members.server";
import { forYou } from "~/domain/inbox/sidebar.server";
import { getAgentState, setAvailability, touchAgent } from "~/domain/inbox/agents.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { resultFor, type FormResult } from "~/lib/form-result";
import { Availability, ForYou } from "./for-you";
import { CHANNEL_LABELS } from "~/lib/channels";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";
import {
  simulateCustomerMessage,
  SIMULATED_MESSAGE_MAX,
  whatsappIsSandbox,
} from "~/domain/delivery/sandbox-inbox.server";
import { TryInbox } from "./try-inbox";
import { InboxListActions } from "./live";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Inbox — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "inbox:read");
  const member = loadInboxMember(wctx, wctx.userId, role);
  // An open inbox page is what keeps an agent online for auto-assignment.
  if (canReply(member)) touchAgent(wctx, member.userId);
  const filter = readInboxQuery(new URL(args.request.url).searchParams);
  const page = listConversations(wctx, member, filter);
  const now = wctx.now();
  const tz = workspace.timezone;
  const view = typeof filter.view === "string" ? filter.view : `team-${filter.view.teamId}`;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    viewer: { id: wctx.userId, canReadReports: can(role, "analytics:read") },
    query: { view, status: filter.status, order: filter.order, q: filter.q ?? "" },
    teams: inboxTeams(wctx, member),
    available: canReply(member) ? getAgentState(wctx, member.userId).available : null,
    forYou: forYou(wctx, member).map((n) => ({
      id: n.id,
      conversationId: n.conversationId,
      kind: n.kind,
      contact: n.contact,
      actor: n.actor,
      at: {
        iso: n.createdAt.toISOString(),
        text: formatDateTimeCompact(n.createdAt, tz, now),
        full: formatDateTime(n.createdAt, tz),
      },
    })),
    rows: page.rows.map((r) => ({
      id: r.id,
      contact: r.contact.name || r.contact.phone || r.contact.email || `Contact ${r.contact.id}`,
      channel: CHANNEL_LABELS[r.channel],
      preview: r.preview,
      last: {
        iso: r.lastMessageAt.toISOString(),
        text: formatDateTimeCompact(r.lastMessageAt, tz, now),
        full: formatDateTime(r.lastMessageAt, tz),
      },
      waiting: r.waitingSince ? waitedFor(now.getTime() - r.waitingSince.getTime()) : null,
      assignee: r.assignee?.name || null,
      team: r.team?.name ?? null,
      labels: r.labels,
    })),
    nextCursor: page.nextCursor,
    sandbox: can(role, "inbox:reply") && whatsappIsSandbox(wctx),
  };
}

const NEEDS = {
  availability: "inbox:reply",
  simulate: "inbox:reply",
} as const satisfies Record<string, Permission>;

const AvailabilityForm = z.object({ available: z.literal("on").optional() });

const Simulate = z.object({
  phone: z.string({ error: "Enter the customer's phone number." }).trim().max(40),
  name: z.string().trim().max(100, "The name is longer than 100 characters.").optional(),
  message: z
    .string({ error: "Write the customer's message." })
    .trim()
    .min(1, "Write the customer's message.")
    .max(SIMULATED_MESSAGE_MAX, `The message is longer than ${SIMULATED_MESSAGE_MAX} characters.`),
});

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/inbox`;
  switch (intent) {
    case "availability":
      return submitForm(formData, AvailabilityForm, (value) => {
        const state = setAvailability(wctx, wctx.userId, value.available === "on");
        return redirectWithFlash(
          page,
          state.available
            ? "You are available for new conversations."
            : "You will not be given new conversations.",
        );
      });
    case "simulate":
      return submitForm(formData, Simulate, (value) => {
        simulateCustomerMessage(wctx, value);
        return redirectWithFlash(page, "Simulated customer message received.");
      });
  }
}

export default function InboxPage() {
  const { workspace, viewer, query, teams, rows, nextCursor, sandbox, available, forYou } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as FormResult<unknown> | undefined;
  const base = `/w/${workspace.slug}/inbox`;
  const link = (change: Record<string, string | null>) => {
    const params = new URLSearchParams();
    const merged: Record<string, string | null> = { ...query, cursor: null, ...change };
    for (const [k, v] of Object.entries(merged)) {
      const defaults: Record<string, string> = { view: "all", status: "open", order: "newest" };
      if (v && v !== defaults[k]) params.set(k, v);
    }
    const search = params.toString();
    return search ? `${base}?${search}` : base;
  };
  const views = [
    { id: "all", label: "All" },
    { id: "mine", label: "Mine" },
    { id: "unassigned", label: "Unassigned" },
    ...teams.map((t) => ({ id: `team-${t.id}`, label: t.name })),
  ];
  return (
    <>
      <PageHeader
        title="Inbox"
        description="Conversations with the people who write back, on every channel."
        actions={
          <InboxListActions
            slug={workspace.slug}
            viewerId={viewer.id}
            canReadReports={viewer.canReadReports}
          />
        }
      />
      {available !== null ? (
        <Availability available={available} result={resultFor(result, "availability")} />
      ) : null}
      <ForYou slug={workspace.slug} items={forYou} />
      <nav className="inbox-tabs" aria-label="Views">
        {views.map((v) => (
          <Link
            key={v.id}
            to={link({ view: v.id })}
            aria-current={query.view === v.id ? "page" : undefined}
          >
            {v.label}
          </Link>
        ))}
      </nav>
      <nav className="inbox-tabs inbox-tabs-secondary" aria-label="Status">
        {CONVERSATION_STATUSES.map((s) => (
          <Link
            key={s}
            to={link({ status: s })}
            aria-current={query.status === s ? "page" : undefined}
          >
            {STATUS_LABELS[s]}
          </Link>
        ))}
      </nav>
      <Form method="get" className="filters inbox-filters" role="search">
        {query.view !== "all" ? <input type="hidden" name="view" value={query.view} /> : null}
        {query.status !== "open" ? (
          <input type="hidden" name="status" value={query.status} />
        ) : null}
        <div className="field">
          <label htmlFor="inbox-q">Search</label>
          <input
            id="inbox-q"
            name="q"
            type="search"
            defaultValue={query.q}
            placeholder="Name, email, phone or words"
          />
        </div>
        <div className="field">
          <label htmlFor="inbox-order">Order</label>
          <select id="inbox-order" name="order" defaultValue={query.order}>
            <option value="newest">Newest first</option>
            <option value="oldest-waiting">Oldest waiting first</option>
          </select>
        </div>
        <div className="filters-actions">
          <Button variant="secondary">Apply</Button>
        </div>
      </Form>
      {rows.length === 0 ? (
        <EmptyState title={query.q ? "No conversations match" : "No conversations here"}>
          {query.q
            ? "Try another name, number or word."
            : "When a customer writes to one of your channels, the conversation appears here."}
        </EmptyState>
      ) : (
        <ul className="inbox-list" aria-label="Conversations">
          {rows.map((r) => (
            <li key={r.id}>
              <Link to={`${base}/${r.id}`} className="inbox-row">
                <span className="inbox-row-head">
                  <strong className="inbox-contact">{r.contact}</strong>
                  <span className="badge">{r.channel}</span>
                  <time dateTime={r.last.iso} title={r.last.full} className="muted">
                    {r.last.text}
                  </time>
                </span>
                <span className="inbox-preview">{r.preview || "—"}</span>
                <span className="inbox-row-meta muted">
                  {r.waiting ? (
                    <span className="badge badge-warning">Waiting {r.waiting}</span>
                  ) : null}
                  <span>{r.assignee ? `Assigned to ${r.assignee}` : "Unassigned"}</span>
                  {r.team ? <span>Team {r.team}</span> : null}
                  {r.labels.map((l) => (
                    <span key={l.id} className={`badge inbox-label inbox-label-${l.color}`}>
                      {l.name}
                    </span>
                  ))}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {nextCursor ? (
        <p className="pager">
          <Link className="btn btn-secondary" to={link({ cursor: nextCursor })}>
            Load more
          </Link>
        </p>
      ) : null}
      {sandbox ? <TryInbox action={base} result={resultFor(result, "simulate")} /> : null}
    </>
  );
}
