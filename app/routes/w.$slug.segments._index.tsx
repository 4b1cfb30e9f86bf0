import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useFetcher, useLoaderData } from "@remix-run/react";
import { useEffect } from "react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { ButtonLink } from "~/components/ui/button";
import { EmptyState, PageHeader } from "~/components/ui/layout";
import { describeDefinition } from "~/domain/segments/segment-draft";
import {
  countSavedSegments,
  listSegments,
  loadSegmentCatalog,
} from "~/domain/segments/segments.server";
import { formatDateTimeCompact } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Segments — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const segments = listSegments(wctx);
  const catalog = loadSegmentCatalog(wctx);
  // Counts computed within a small time budget (or reused for a minute); the rest load lazily.
  const counts = countSavedSegments(wctx, segments);
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite: can(role, "contacts:write"),
    canExport: can(role, "contacts:export"),
    segments: segments.map((s) => {
      const counted = counts.get(s.id);
      return {
        id: s.id,
        name: s.name,
        summary: s.problem ?? describeDefinition(s.definition, catalog),
        count: counted?.count ?? null,
        problem: s.problem ?? counted?.problem ?? null,
        updated: formatDateTimeCompact(s.updatedAt, workspace.timezone),
        updatedIso: s.updatedAt.toISOString(),
      };
    }),
  };
}

/** A count the page couldn't afford up front: fetched once the page runs (JavaScript). */
function LazyCount({ url, name }: { url: string; name: string }) {
  const fetcher = useFetcher<{ count?: number; message?: string }>();
  const { load } = fetcher;
  useEffect(() => {
    load(url);
  }, [load, url]);
  if (fetcher.data?.count !== undefined) return <>{fetcher.data.count.toLocaleString("en-US")}</>;
  if (fetcher.data?.message) return <span className="field-error">{fetcher.data.message}</span>;
  return (
    <span className="muted">
      {fetcher.state === "idle" ? "Open the segment to count it" : "Counting…"}
      <span className="visually-hidden"> {name}</span>
    </span>
  );
}

export default function SegmentsPage() {
  const { workspace, canWrite, canExport, segments } = useLoaderData<typeof loader>();
  const base = `/w/${workspace.slug}`;
  return (
    <>
      <PageHeader
        title="Segments"
        description="Saved audiences: contacts chosen by attributes, tags, lists, consent, where they are and how they engage. Campaigns send to a segment as it is at sending time."
        actions={
          <>
            {canExport ? (
              <ButtonLink to={`${base}/contacts/export`}>Export contacts</ButtonLink>
            ) : null}
            {canWrite ? (
              <ButtonLink to={`${base}/segments/new`} variant="primary">
                New segment
              </ButtonLink>
            ) : null}
          </>
        }
      />
      {segments.length === 0 ? (
        <EmptyState
          title="No segments yet"
          action={
            canWrite ? (
              <ButtonLink to={`${base}/segments/new`} variant="primary">
                Build your first segment
              </ButtonLink>
            ) : null
          }
        >
          A segment is a saved set of conditions, for example “WhatsApp consent granted and city is
          Mumbai”.
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Conditions</th>
                <th scope="col">Contacts</th>
                <th scope="col">Last changed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {segments.map((s) => (
                <tr key={s.id}>
                  <th scope="row">
                    <Link to={`${base}/segments/${s.id}`}>{s.name}</Link>
                  </th>
                  <td>{s.summary}</td>
                  <td data-testid={`segment-count-${s.id}`}>
                    {s.problem ? (
                      <span className="field-error">{s.problem}</span>
                    ) : s.count !== null ? (
                      s.count.toLocaleString("en-US")
                    ) : (
                      <LazyCount url={`${base}/segments/count?segmentId=${s.id}`} name={s.name} />
                    )}
                  </td>
                  <td>
                    <time dateTime={s.updatedIso}>{s.updated}</time>
                  </td>
                  <td>
                    {canExport ? (
                      <Link
                        to={`${base}/contacts/export?scope=${encodeURIComponent(`segment:${s.id}`)}`}
                      >
                        Export<span className="visually-hidden"> {s.name}</span>
                      </Link>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
