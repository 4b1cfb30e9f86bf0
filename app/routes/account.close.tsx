import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { endSession, requireUser } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { PageHeader } from "~/components/ui/layout";
import { closeAccount, closurePreview } from "~/domain/accounts/closure.server";
import { RETENTION } from "~/domain/privacy/retention-policy";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Close your account — Pleisys Engage" }];

export const headers = () => ({ "Cache-Control": "no-store" });

const CloseAccount = z.object({
  confirmEmail: z
    .string({ error: "Type your email address to confirm." })
    .trim()
    .min(1, "Type your email address to confirm.")
    .max(254),
  password: z.string().max(1024).optional(),
  code: z
    .string()
    .trim()
    .max(32)
    .optional()
    .transform((value) => value || undefined),
});

export async function loader(args: LoaderFunctionArgs) {
  const { user } = await requireUser(args);
  return {
    user: {
      email: user.email,
      hasPassword: user.hasPassword,
      mfaEnabled: user.mfaEnabled,
    },
    preview: closurePreview(user.id),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { user, ctx, auth } = await requireUser(args);
  return submitForm(await args.request.formData(), CloseAccount, async (value) => {
    const { reopenUntil } = await closeAccount(ctx, user.id, value, {
      authenticatedAt: auth.session.authenticatedAt,
    });
    const headers = new Headers({ "Set-Cookie": await endSession(args.request) });
    return redirectWithFlash(
      "/login",
      `Your account is closed. We emailed you a link to reopen it until ${reopenUntil.toISOString().slice(0, 10)} (UTC).`,
      "success",
      { headers },
    );
  });
}

export default function CloseAccountPage() {
  const { user, preview } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "close-account",
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: CloseAccount }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  const blocked = preview.transferFirst.length > 0;
  return (
    <>
      <PageHeader title="Close your account" description={`Signed in as ${user.email}.`} />
      {blocked ? (
        <Alert tone="warning" title="Transfer ownership first">
          You own {preview.transferFirst.join(", ")}, which other people use. Make another member
          the owner (on the workspace&apos;s Members page) before closing your account.
        </Alert>
      ) : null}
      <section className="card danger-zone" aria-labelledby="close-heading">
        <h2 id="close-heading" className="card-title">
          Close your account?
        </h2>
        <ul>
          <li>You are signed out everywhere and can no longer sign in.</li>
          {preview.deletedWithAccount.length ? (
            <li>
              Workspaces you own alone are deleted with it: {preview.deletedWithAccount.join(", ")}.
            </li>
          ) : null}
          <li>
            For {RETENTION.closedAccountDays} days you can reopen it with the link we email you (or
            ask for a new one from the sign-in page). After that your account data is deleted for
            good; the audit log and usage records keep only an anonymous id.
          </li>
        </ul>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label={`Type your email address, ${user.email}, to confirm`}
            autoComplete="off"
            spellCheck={false}
            errors={fields.confirmEmail.errors}
            {...getInputProps(fields.confirmEmail, { type: "text" })}
          />
          {user.hasPassword ? (
            <Field
              label="Your password"
              autoComplete="current-password"
              errors={fields.password.errors}
              {...getInputProps(fields.password, { type: "password" })}
            />
          ) : null}
          {user.mfaEnabled ? (
            <Field
              label={
                user.hasPassword
                  ? "Or a code from your authenticator app"
                  : "A code from your authenticator app"
              }
              autoComplete="one-time-code"
              inputMode="numeric"
              errors={fields.code.errors}
              {...getInputProps(fields.code, { type: "text" })}
            />
          ) : null}
          {!user.hasPassword && !user.mfaEnabled ? (
            <p className="muted">
              You sign in with Google: this works within 10 minutes of signing in. If it has been
              longer, <Link to="/logout">sign out</Link> and sign in again first.
            </p>
          ) : null}
          <div className="filters-actions">
            <Button
              variant="danger"
              type="submit"
              disabled={blocked || navigation.state === "submitting"}
            >
              Close my account
            </Button>
            <ButtonLink to="/account">Cancel</ButtonLink>
          </div>
        </Form>
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
