import { data, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors, Select } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import { AUDIT_ACTION_GROUPS, workspaceAuditFilter } from "~/domain/audit/audit-export.server";
import { listAuditEvents, type AuditRow } from "~/domain/audit/audit-queries.server";
import { listMembers } from "~/domain/workspaces/workspaces.server";
import { ValidationError, type FieldErrors } from "~/lib/errors";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Audit log — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 50;

/** "2026-06-10 19:35:02 GMT+5:30": sortable, unambiguous, in the workspace's zone. */
function formatTime(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")} ${get("timeZoneName")}`;
}

const ACTOR_TYPES: Record<AuditRow["actorType"], string> = {
  user: "User",
  admin: "Platform admin",
  system: "System",
  api_key: "API key",
  cli: "Operator (command line)",
};

function describeDetails(details: string | null): string {
  if (!details) return "";
  return details.length > 300 ? `${details.slice(0, 300)}…` : details;
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace } = await requireWorkspace(args, "audit:read");
  const params = new URL(args.request.url).searchParams;
  const query = {
    action: params.get("action")?.trim() ?? "",
    from: params.get("from")?.trim() ?? "",
    to: params.get("to")?.trim() ?? "",
  };
  const beforeParam = params.get("before")?.trim() ?? "";
  const base = {
    workspace: { name: workspace.name, slug: workspace.slug, timezone: workspace.timezone },
    groups: AUDIT_ACTION_GROUPS.map((g) => ({ value: g.value, label: g.label })),
    query,
  };

  let errors: FieldErrors = {};
  let message: string | null = null;
  let filter: ReturnType<typeof workspaceAuditFilter> | null = null;
  try {
    filter = workspaceAuditFilter(workspace.id, workspace.timezone, query);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    errors = error.fieldErrors;
    message = error.message;
  }
  const before = /^\d{1,15}$/.test(beforeParam) ? Number(beforeParam) : undefined;
  if (beforeParam && !before) {
    message = "That page link is not valid. Start again from the newest events.";
  }
  if (!filter || message) {
    return data(
      { ...base, errors, message, rows: [], nextBefore: null, paged: false },
      { status: 400 },
    );
  }

  const { rows, nextBefore } = listAuditEvents(filter, { limit: PAGE_SIZE, before });
  const people = new Map(
    listMembers(workspace.id).map((m) => [m.userId, `${m.name} (${m.email})`]),
  );
  const who = (type: string | null, id: string | null) => {
    if (!type) return "";
    if (type === "user" && id && people.has(id)) return people.get(id)!;
    const label = ACTOR_TYPES[type as AuditRow["actorType"]] ?? type;
    return id ? `${label} ${id}` : label;
  };
  return data({
    ...base,
    errors,
    message,
    rows: rows.map((r) => ({
      id: r.id,
      at: formatTime(r.at, workspace.timezone),
      atIso: r.at.toISOString(),
      actor: who(r.actorType, r.actorId),
      action: r.action,
      target: r.targetType
        ? r.targetType === "user"
          ? who("user", r.targetId)
          : `${r.targetType} ${r.targetId ?? ""}`.trim()
        : "",
      ip: r.ip ?? "",
      details: describeDetails(r.details),
    })),
    nextBefore,
    paged: before !== undefined,
  });
}

function search(query: Record<string, string>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...query, ...extra })) {
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export default function AuditLogPage() {
  const { workspace, groups, query, errors, message, rows, nextBefore, paged } =
    useLoaderData<typeof loader>();
  const page = `/w/${workspace.slug}/audit`;
  const filtered = Boolean(query.action || query.from || query.to);
  return (
    <>
      <PageHeader
        title="Audit log"
        description={`Who did what in ${workspace.name}, newest first. Times are in ${workspace.timezone}. Entries are kept for 7 years and cannot be edited.`}
        actions={
          message ? null : (
            <a
              className="btn btn-secondary"
              href={`/w/${workspace.slug}/audit.csv${search(query)}`}
            >
              Export CSV
            </a>
          )
        }
      />

      <Form method="get" className="filters" aria-label="Filter the audit log">
        <Select
          name="action"
          label="Kind of event"
          options={[{ value: "", label: "All events" }, ...groups]}
          defaultValue={query.action}
          errors={errors.action}
        />
        <Field
          label="From"
          name="from"
          type="date"
          defaultValue={query.from}
          errors={errors.from}
        />
        <Field label="To" name="to" type="date" defaultValue={query.to} errors={errors.to} />
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Apply filters
          </Button>
          {filtered ? <ButtonLink to={page}>Clear</ButtonLink> : null}
        </div>
      </Form>

      <FormErrors errors={message ? [message] : undefined} />

      {message ? null : rows.length === 0 ? (
        <EmptyState title={filtered ? "No events match these filters" : "No events yet"}>
          {filtered
            ? "Try a wider date range or another kind of event."
            : "Changes to members, settings, security and API keys are recorded here."}
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table audit-table">
            <caption className="visually-hidden">
              Audit events{paged ? ", older page" : ""}, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col" className="col-low">
                  IP address
                </th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <time dateTime={r.atIso}>{r.at}</time>
                  </th>
                  <td>{r.actor}</td>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td>{r.target}</td>
                  <td className="col-low">{r.ip ? <code>{r.ip}</code> : null}</td>
                  <td className="audit-details">{r.details}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {!message && (paged || nextBefore !== null) ? (
        <nav className="pager" aria-label="Audit log pages">
          {paged ? <Link to={`${page}${search(query)}`}>Newest</Link> : null}
          {nextBefore !== null ? (
            <Link to={`${page}${search(query, { before: String(nextBefore) })}`} rel="next">
              Older
            </Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
