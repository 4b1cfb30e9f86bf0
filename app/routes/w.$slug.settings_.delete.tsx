import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { requireWorkspace } from "~/auth/workspace.server";
import { FormErrors } from "~/components/form";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { PageHeader } from "~/components/ui/layout";
import { deleteWorkspace } from "~/domain/workspaces/deletion.server";
import { RETENTION } from "~/domain/privacy/retention-policy";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Delete workspace — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const DeleteWorkspace = z.object({
  confirmSlug: z
    .string({ error: "Type the workspace's address to confirm." })
    .trim()
    .min(1, "Type the workspace's address to confirm.")
    .max(64),
  password: z.string().max(1024).optional(),
  code: z
    .string()
    .trim()
    .max(32)
    .optional()
    .transform((value) => value || undefined),
});

export async function loader(args: LoaderFunctionArgs) {
  // Only the owner may delete, so only the owner sees the page.
  const { workspace, user } = await requireWorkspace(args, "ownership:transfer");
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    hasPassword: user.hasPassword,
    mfaEnabled: user.mfaEnabled,
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx, auth } = await requireWorkspace(args, "ownership:transfer");
  return submitForm(await args.request.formData(), DeleteWorkspace, async (value) => {
    const { purgeOn, restorableUntil } = await deleteWorkspace(
      wctx,
      workspace,
      wctx.userId,
      value,
      {
        authenticatedAt: auth.session.authenticatedAt,
      },
    );
    return redirectWithFlash(
      "/workspaces",
      `${workspace.name} is deleted. Our support team can restore it until ${restorableUntil.toISOString().slice(0, 10)}; its data is erased for good by ${purgeOn.toISOString().slice(0, 10)} (UTC).`,
    );
  });
}

export default function DeleteWorkspacePage() {
  const { workspace, hasPassword, mfaEnabled } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "delete-workspace",
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: DeleteWorkspace }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  return (
    <>
      <PageHeader
        title="Delete workspace"
        description={`Deleting ${workspace.name} closes it for everyone at once.`}
      />
      <section className="card danger-zone" aria-labelledby="delete-workspace-heading">
        <h2 id="delete-workspace-heading" className="card-title">
          Delete {workspace.name}?
        </h2>
        <ul>
          <li>
            Nobody can open it any more: its pages, API keys and channel webhooks stop working now,
            and no campaign or message is sent from it.
          </li>
          <li>
            Its contacts, messages and everything else in it are erased for good within{" "}
            {RETENTION.deletedWorkspaceDays} days of deletion, with its backups. Until a day before
            that our support team can restore it if you change your mind.
          </li>
          <li>Its usage records and the audit log are kept for 7 years, as the law requires.</li>
        </ul>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label={`Type the workspace's address, ${workspace.slug}, to confirm`}
            autoComplete="off"
            spellCheck={false}
            errors={fields.confirmSlug.errors}
            {...getInputProps(fields.confirmSlug, { type: "text" })}
          />
          {hasPassword ? (
            <Field
              label="Your password"
              autoComplete="current-password"
              errors={fields.password.errors}
              {...getInputProps(fields.password, { type: "password" })}
            />
          ) : null}
          {mfaEnabled ? (
            <Field
              label={
                hasPassword
                  ? "Or a code from your authenticator app"
                  : "A code from your authenticator app"
              }
              autoComplete="one-time-code"
              inputMode="numeric"
              errors={fields.code.errors}
              {...getInputProps(fields.code, { type: "text" })}
            />
          ) : null}
          {!hasPassword && !mfaEnabled ? (
            <p className="muted">
              You sign in with Google: this works within 10 minutes of signing in. If it has been
              longer, sign out and sign in again first.
            </p>
          ) : null}
          <div className="filters-actions">
            <Button variant="danger" type="submit" disabled={navigation.state === "submitting"}>
              Delete this workspace
            </Button>
            <ButtonLink to={`/w/${workspace.slug}/settings`}>Cancel</ButtonLink>
          </div>
        </Form>
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
