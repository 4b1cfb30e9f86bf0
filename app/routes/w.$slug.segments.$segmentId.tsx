import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import {
  Form,
  useActionData,
  useLoaderData,
  type ShouldRevalidateFunction,
} from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { SegmentForm } from "~/components/segment-builder";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import { builderChoices, draftFromDefinition } from "~/domain/segments/segment-draft";
import {
  builderFromForm,
  builderView,
  countryOptions,
  evaluateBuilder,
} from "~/domain/segments/builder.server";
import {
  deleteSegment,
  getSegment,
  loadSegmentCatalog,
  updateSegment,
} from "~/domain/segments/segments.server";
import { ForbiddenError, ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formatDateTime } from "~/lib/format";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.segment.name ?? "Segment"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** Builder buttons answer with the new tree; only saving changes what the loader shows. */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) =>
  formData && !["save", "delete"].includes(String(formData.get("intent")))
    ? false
    : defaultShouldRevalidate;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const segment = getSegment(wctx, parseId(args.params.segmentId, "Segment"));
  const catalog = loadSegmentCatalog(wctx.db);
  const state = evaluateBuilder(wctx, draftFromDefinition(segment.definition), catalog, {
    preview: 10,
  });
  const view = builderView(state, workspace.timezone);
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    segment: {
      id: segment.id,
      name: segment.name,
      updated: formatDateTime(segment.updatedAt, workspace.timezone),
      problem: segment.problem,
    },
    canWrite: can(role, "contacts:write"),
    canExport: can(role, "contacts:export"),
    confirmDelete: new URL(args.request.url).searchParams.has("delete"),
    choices: builderChoices(catalog, countryOptions()),
    view: segment.problem ? { ...view, message: segment.problem } : view,
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx: ctx, role } = await requireWorkspace(args, "contacts:read");
  const id = parseId(args.params.segmentId, "Segment");
  const current = getSegment(ctx, id);
  const form = await args.request.formData();
  const intent = String(form.get("intent") ?? "update");
  const page = `/w/${workspace.slug}/segments`;

  if (intent === "delete") {
    if (!can(role, "contacts:write")) throw new ForbiddenError();
    deleteSegment(ctx, id);
    return redirectWithFlash(page, `Segment “${current.name}” deleted.`);
  }

  const name = String(form.get("name") ?? current.name).slice(0, 200);
  const { state } = builderFromForm(ctx, form, intent, undefined, { preview: 10 });
  const view = builderView(state, workspace.timezone);
  if (intent === "save") {
    if (!can(role, "contacts:write")) throw new ForbiddenError();
    if (!state.definition) {
      return data(
        { view, name, nameErrors: [], formError: "Fix the conditions marked below, then save." },
        { status: 400 },
      );
    }
    try {
      updateSegment(ctx, id, { name, definition: state.definition });
      return redirectWithFlash(`${page}/${id}`, "Segment saved.");
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const nameErrors = error.fieldErrors.name ?? [];
      return data(
        { view, name, nameErrors, formError: nameErrors.length ? null : error.message },
        { status: 400 },
      );
    }
  }
  return data(
    { view, name, nameErrors: [] as string[], formError: null },
    { status: state.message ? 400 : 200 },
  );
}

export default function SegmentPage() {
  const {
    workspace,
    segment,
    canWrite,
    canExport,
    confirmDelete,
    choices,
    view: initial,
  } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const view = result?.view ?? initial;
  const base = `/w/${workspace.slug}`;
  const page = `${base}/segments/${segment.id}`;
  return (
    <>
      <PageHeader
        title={segment.name}
        description={`Last changed ${segment.updated}. Counts are live: contacts join and leave as their data changes.`}
        actions={
          <>
            {canExport ? (
              <ButtonLink
                to={`${base}/contacts/export?scope=${encodeURIComponent(`segment:${segment.id}`)}`}
              >
                Export
              </ButtonLink>
            ) : null}
            <ButtonLink to={`${base}/segments`}>Back to segments</ButtonLink>
          </>
        }
      />
      {confirmDelete && canWrite ? (
        <Card title={`Delete “${segment.name}”?`}>
          <p>
            The segment&apos;s definition is deleted; its contacts stay as they are. Campaigns that
            already sent keep their history.
          </p>
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="delete" />
            <Button variant="danger" type="submit">
              Delete segment
            </Button>
            <ButtonLink to={page}>Cancel</ButtonLink>
          </Form>
        </Card>
      ) : null}
      <SegmentForm
        formId="segment-form"
        action={page}
        countUrl={`${base}/segments/count`}
        contactsUrl={`${base}/contacts`}
        name={result?.name ?? segment.name}
        nameErrors={result?.nameErrors}
        formError={result?.formError}
        draft={view.draft}
        choices={choices}
        errors={view.errors}
        message={view.message}
        count={view.count}
        preview={view.preview}
        revision={view.revision}
        canSave={canWrite}
        submitLabel="Save changes"
      >
        {canWrite && !confirmDelete ? (
          <ButtonLink to={`${page}?delete`} variant="ghost">
            Delete…
          </ButtonLink>
        ) : null}
      </SegmentForm>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
