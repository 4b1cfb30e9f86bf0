import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { useLoaderData, type ShouldRevalidateFunction } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import { useFormResult } from "~/components/form";
import { SegmentForm } from "~/components/segment-builder";
import { ButtonLink } from "~/components/ui/button";
import { PageHeader } from "~/components/ui/layout";
import {
  builderButton,
  builderChoices,
  draftFromDefinition,
} from "~/domain/segments/segment-draft";
import { emptyDefinition } from "~/domain/segments/segment-definition";
import {
  builderFromForm,
  builderView,
  countryOptions,
  evaluateBuilder,
  saveRefusal,
  type BuilderExtra,
} from "~/domain/segments/builder.server";
import { createSegment, loadSegmentCatalog } from "~/domain/segments/segments.server";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure, type FormResult } from "~/lib/form.server";
import { fieldErrorsOf, formErrorOf, submittedOf } from "~/lib/form-result";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `New segment — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** Builder buttons answer with the new tree; only saving changes what the loader shows. */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) => (formData && builderButton(formData) !== "save" ? false : defaultShouldRevalidate);

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "contacts:write");
  const catalog = loadSegmentCatalog(wctx);
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
  const intent = builderButton(form);
  const name = String(form.get("name") ?? "").slice(0, 200);
  const { state } = builderFromForm(ctx, form, intent, undefined, { preview: 10 });
  const extra: BuilderExtra = { view: builderView(state, workspace.timezone) };
  if (intent === "save") {
    if (!state.definition) {
      return formFailure("Fix the conditions marked below, then save.", {
        fields: { name },
        extra,
      });
    }
    try {
      const segment = createSegment(ctx, { name, definition: state.definition });
      return redirectWithFlash(`/w/${workspace.slug}/segments/${segment.id}`, "Segment saved.");
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return formFailure(saveRefusal(error), { fields: { name }, extra });
    }
  }
  // A builder step is no failure; a step the tree refuses says why in the builder's message.
  const step: FormResult<BuilderExtra> = { initialValue: { name }, extra };
  return data(step, { status: state.message ? 400 : 200 });
}

export default function NewSegmentPage() {
  const { workspace, choices, view: initial } = useLoaderData<typeof loader>();
  const result = useFormResult<BuilderExtra>();
  const view = result?.extra?.view ?? initial;
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
        name={String(submittedOf(result).name ?? "")}
        nameErrors={fieldErrorsOf(result).name}
        formError={formErrorOf(result)}
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
