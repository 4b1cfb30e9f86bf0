import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { useActionData, useLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { SegmentForm } from "~/components/segment-builder";
import { ButtonLink } from "~/components/ui/button";
import { PageHeader } from "~/components/ui/layout";
import { builderChoices, draftFromDefinition } from "~/domain/segments/segment-draft";
import { emptyDefinition } from "~/domain/segments/segment-definition";
import {
  builderFromForm,
  builderView,
  countryOptions,
  evaluateBuilder,
} from "~/domain/segments/builder.server";
import { createSegment, loadSegmentCatalog } from "~/domain/segments/segments.server";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `New segment — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** Builder buttons answer with the new tree; only saving changes what the loader shows. */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) => (formData && formData.get("intent") !== "save" ? false : defaultShouldRevalidate);

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const catalog = loadSegmentCatalog(wctx.db);
  const state = evaluateBuilder(wctx, draftFromDefinition(emptyDefinition()), catalog, {
    preview: 10,
  });
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    choices: builderChoices(catalog, countryOptions()),
    view: builderView(state, workspace.timezone),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx: ctx } = await requireWorkspace(args, "contacts:write");
  const form = await args.request.formData();
  const intent = String(form.get("intent") ?? "update");
  const name = String(form.get("name") ?? "").slice(0, 200);
  const { state } = builderFromForm(ctx, form, intent, undefined, { preview: 10 });
  const view = builderView(state, workspace.timezone);
  if (intent === "save") {
    if (!state.definition) {
      return data(
        { view, name, nameErrors: [], formError: "Fix the conditions marked below, then save." },
        { status: 400 },
      );
    }
    try {
      const segment = createSegment(ctx, { name, definition: state.definition });
      return redirectWithFlash(`/w/${workspace.slug}/segments/${segment.id}`, "Segment saved.");
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

export default function NewSegmentPage() {
  const { workspace, choices, view: initial } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const view = result?.view ?? initial;
  const base = `/w/${workspace.slug}`;
  return (
    <>
      <PageHeader
        title="New segment"
        description="Choose who belongs in this audience. The count updates as you go; campaigns use the segment as it is when they send."
        actions={<ButtonLink to={`${base}/segments`}>Back to segments</ButtonLink>}
      />
      <SegmentForm
        formId="segment-form"
        action={`${base}/segments/new`}
        countUrl={`${base}/segments/count`}
        contactsUrl={`${base}/contacts`}
        name={result?.name ?? ""}
        nameErrors={result?.nameErrors}
        formError={result?.formError}
        draft={view.draft}
        choices={choices}
        errors={view.errors}
        message={view.message}
        count={view.count}
        preview={view.preview}
        revision={view.revision}
        canSave
        submitLabel="Save segment"
      />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
