import {
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { FormErrors, useFormResult } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import {
  EXPORT_LINK_HOURS,
  exportToken,
  listContactExports,
  startContactExport,
} from "~/domain/contacts/contact-export.server";
import { loadSegmentCatalog, listSegments } from "~/domain/segments/segments.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";
import { resultMessages } from "~/lib/form-result";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Export contacts — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

// The page carries download links: never stored by a browser or proxy.
export const headers = () => ({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });

const STATUS_LABELS = {
  queued: "Waiting to start",
  running: "Writing the file…",
  completed: "Ready",
  failed: "Failed",
} as const;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:export");
  const tz = workspace.timezone;
  const catalog = loadSegmentCatalog(wctx);
  const segments = listSegments(wctx);
  const names = new Map<string, string>([
    ["all", "All contacts"],
    ["selected", "Contacts ticked on the contacts list"],
    ["matching", "Contacts matching a search"],
    ...catalog.lists.map((l): [string, string] => [`list:${l.id}`, `List “${l.name}”`]),
    ...segments.map((s): [string, string] => [`segment:${s.id}`, `Segment “${s.name}”`]),
  ]);
  const base = `/w/${workspace.slug}/contacts/export`;
  const exports = listContactExports(wctx).map((e) => ({
    id: e.id,
    scope:
      names.get(e.scope) ?? (e.scope.startsWith("list:") ? "A deleted list" : "A deleted segment"),
    status: e.expired ? "Expired" : STATUS_LABELS[e.status],
    pending: e.status === "queued" || e.status === "running",
    rows: e.rows,
    error: e.error,
    started: formatDateTimeCompact(e.createdAt, tz),
    startedFull: formatDateTime(e.createdAt, tz),
    startedIso: e.createdAt.toISOString(),
    expires: formatDateTime(e.expiresAt, tz),
    download: e.downloadable
      ? `${base}/${e.id}?token=${encodeURIComponent(exportToken(wctx.workspaceId, e.id))}`
      : null,
  }));
  const requested = new URL(args.request.url).searchParams.get("scope") ?? "all";
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    lists: catalog.lists.map((l) => ({ value: `list:${l.id}`, label: l.name })),
    segments: segments.map((s) => ({ value: `segment:${s.id}`, label: s.name })),
    selected:
      names.has(requested) && !["selected", "matching"].includes(requested) ? requested : "all",
    linkHours: EXPORT_LINK_HOURS,
    exports,
  };
}

const NEEDS = { start: "contacts:export" } as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const form = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, form, NEEDS);
  const page = `/w/${workspace.slug}/contacts/export`;
  const scope = String(form.get("scope") ?? "");
  try {
    startContactExport(wctx, scope);
  } catch (error) {
    return formFailure(error, { fields: { intent, scope } });
  }
  return redirectWithFlash(
    page,
    "Export started. It appears below with a download link when the file is ready.",
  );
}

export default function ExportContactsPage() {
  const { workspace, lists, segments, selected, linkHours, exports } =
    useLoaderData<typeof loader>();
  const result = useFormResult();
  const busy = useNavigation().state === "submitting";
  const page = `/w/${workspace.slug}/contacts/export`;
  const pending = exports.some((e) => e.pending);
  const { revalidate, state } = useRevalidator();

  // With JavaScript, the list refreshes itself while an export is running.
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => {
      if (state === "idle") revalidate();
    }, 2000);
    return () => clearInterval(timer);
  }, [pending, revalidate, state]);

  return (
    <>
      <PageHeader
        title="Export contacts"
        description={`A CSV file with every field, tag, list, consent per channel and custom attribute. Download links work for ${linkHours} hours, for members of ${workspace.name} who can export contacts (owners, admins and marketers).`}
        actions={<ButtonLink to={`/w/${workspace.slug}/contacts`}>Back to contacts</ButtonLink>}
      />

      <Card title="Start an export">
        <Form method="post" action={page}>
          <input type="hidden" name="intent" value="start" />
          <FormErrors errors={resultMessages(result)} />
          <div className="field">
            <label htmlFor="export-scope">Contacts to export</label>
            <select id="export-scope" name="scope" defaultValue={selected}>
              <option value="all">All contacts</option>
              {lists.length ? (
                <optgroup label="A list">
                  {lists.map((l) => (
                    <option key={l.value} value={l.value}>
                      {l.label}
                    </option>
                  ))}
                </optgroup>
              ) : null}
              {segments.length ? (
                <optgroup label="A segment">
                  {segments.map((s) => (
                    <option key={s.value} value={s.value}>
                      {s.label}
                    </option>
                  ))}
                </optgroup>
              ) : null}
            </select>
            <p className="field-hint">
              Spreadsheet formulas in the data are neutralised (cells starting with = + - @ get a
              leading &apos;), so opening the file is safe.
            </p>
          </div>
          <Button type="submit" disabled={busy}>
            Start export
          </Button>
        </Form>
      </Card>

      <section className="admin-section" aria-labelledby="exports-heading">
        <h2 id="exports-heading">Recent exports</h2>
        {exports.length === 0 ? (
          <EmptyState title="No exports yet">Exports you start appear here.</EmptyState>
        ) : (
          <>
            {pending ? (
              <p className="muted" aria-live="polite">
                An export is in progress.{" "}
                <Link to={page} reloadDocument>
                  Refresh
                </Link>{" "}
                to see its status.
              </p>
            ) : null}
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Contacts</th>
                    <th scope="col">Status</th>
                    <th scope="col">Rows</th>
                    <th scope="col">Download</th>
                  </tr>
                </thead>
                <tbody>
                  {exports.map((e) => (
                    <tr key={e.id} data-export-id={e.id}>
                      <th scope="row">
                        <time dateTime={e.startedIso} title={e.startedFull}>
                          {e.started}
                        </time>
                      </th>
                      <td>{e.scope}</td>
                      <td>
                        {e.status}
                        {e.error ? <p className="field-error">{e.error}</p> : null}
                      </td>
                      <td>{e.pending ? "" : e.rows.toLocaleString("en-US")}</td>
                      <td>
                        {e.download ? (
                          <>
                            <a href={e.download} rel="noreferrer" download>
                              Download CSV
                            </a>{" "}
                            <span className="muted">(until {e.expires})</span>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
