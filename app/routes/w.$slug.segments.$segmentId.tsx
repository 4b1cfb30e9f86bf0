import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, useLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import { can } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { useFormResult } from "~/components/form";
import { SegmentForm } from "~/components/segment-builder";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  builderButton,
  builderChoices,
  draftFromDefinition,
} from "~/domain/segments/segment-draft";
import {
  builderFromForm,
  builderView,
  countryOptions,
  evaluateBuilder,
  saveRefusal,
  type BuilderExtra,
} from "~/domain/segments/builder.server";
import {
  deleteSegment,
  getSegment,
  loadSegmentCatalog,
  updateSegment,
} from "~/domain/segments/segments.server";
import { ForbiddenError, ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure, type FormResult } from "~/lib/form.server";
import { fieldErrorsOf, formErrorOf, submittedOf } from "~/lib/form-result";
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
  formData && !["save", "delete"].includes(builderButton(formData))
    ? false
    : defaultShouldRevalidate;

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const segment = getSegment(wctx, parseId(args.params.segmentId, "Segment"));
  const catalog = loadSegmentCatalog(wctx);
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
  const intent = builderButton(form);
  const page = `/w/${workspace.slug}/segments`;

  if (intent === "delete") {
    if (!can(role, "contacts:write")) throw new ForbiddenError();
    deleteSegment(ctx, id);
    return redirectWithFlash(page, `Segment “${current.name}” deleted.`);
  }

  const name = String(form.get("name") ?? current.name).slice(0, 200);
  const { state } = builderFromForm(ctx, form, intent, undefined, { preview: 10 });
  const extra: BuilderExtra = { view: builderView(state, workspace.timezone) };
  if (intent === "save") {
    if (!can(role, "contacts:write")) throw new ForbiddenError();
    if (!state.definition) {
      return formFailure("Fix the conditions marked below, then save.", {
        fields: { name },
        extra,
      });
    }
    try {
      updateSegment(ctx, id, { name, definition: state.definition });
      return redirectWithFlash(`${page}/${id}`, "Segment saved.");
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return formFailure(saveRefusal(error), { fields: { name }, extra });
    }
  }
  // A builder step is no failure; a step the tree refuses says why in the builder's message.
  const step: FormResult<BuilderExtra> = { initialValue: { name }, extra };
  return data(step, { status: state.message ? 400 : 200 });
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
  const result = useFormResult<BuilderExtra>();
  const view = result?.extra?.view ?? initial;
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
        name={String(submittedOf(result).name ?? segment.name)}
        nameErrors={fieldErrorsOf(result).name}
        formError={formErrorOf(result)}
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
