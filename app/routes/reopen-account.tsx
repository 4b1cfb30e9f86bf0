import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { contextFor } from "~/auth/session.server";
import { FormErrors, Honeypot } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import { readReopenLink, reopenAccount, requestReopenLink } from "~/domain/accounts/closure.server";
import { emailSchema } from "~/lib/email-address";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { isHoneypotFilled, submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Reopen your account — Pleisys Engage" }];

export const headers = () => ({ "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" });

const Reopen = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("request"), email: emailSchema }),
  z.object({ intent: z.literal("reopen"), token: z.string().min(1).max(4096) }),
]);

export function loader({ request }: LoaderFunctionArgs) {
  const token = new URL(request.url).searchParams.get("token");
  if (!token) return { token: null, link: null };
  const found = readReopenLink(token, new Date());
  return {
    token,
    link: found
      ? { email: found.user.email, until: found.reopenUntil.toISOString().slice(0, 10) }
      : null,
  };
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  return submitForm(formData, Reopen, async (value) => {
    const ctx = contextFor(args);
    if (value.intent === "request") {
      // Same answer whatever the address, so the form does not tell who has a closed account.
      if (!isHoneypotFilled(formData)) await requestReopenLink(ctx, value.email);
      return { sent: true as const };
    }
    const done = await reopenAccount(ctx, value.token);
    if (!done) {
      throw new ValidationError(
        "This link no longer works: the account was reopened already, or its 90 days have passed.",
      );
    }
    return redirectWithFlash(
      "/login",
      done.workspacesRestored
        ? `Your account is open again, with ${done.workspacesRestored === 1 ? "the workspace" : `${done.workspacesRestored} workspaces`} it was closed with. Sign in to continue.`
        : "Your account is open again. Sign in to continue.",
    );
  });
}

export default function ReopenAccountPage() {
  const { token, link } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const sent = lastResult && "sent" in lastResult;
  const submission = lastResult && !("sent" in lastResult) ? lastResult : undefined;
  const [form, fields] = useForm({
    id: "reopen-request",
    lastResult: submission,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: Reopen }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Reopen your account</h1>
        {token && link ? (
          <Form method="post">
            <FormErrors errors={submission?.error?.[""] ?? undefined} />
            <p>
              Reopen the account of <strong>{link.email}</strong>? You can do this until{" "}
              {link.until} (UTC).
            </p>
            <input type="hidden" name="intent" value="reopen" />
            <input type="hidden" name="token" value={token} />
            <Button type="submit" disabled={navigation.state === "submitting"}>
              Reopen my account
            </Button>
          </Form>
        ) : (
          <>
            {token ? (
              <Alert tone="warning">
                This link no longer works: the account was reopened already, or its 90 days have
                passed. Ask for a new link below if your account is still closed.
              </Alert>
            ) : null}
            {sent ? (
              <Alert tone="success">
                If that address has a closed account that can still be reopened, we have emailed it
                a link. It works until the account&apos;s deletion date.
              </Alert>
            ) : null}
            <Form method="post" {...getFormProps(form)}>
              <FormErrors errors={form.errors} id={form.errorId} />
              <input type="hidden" name="intent" value="request" />
              <Field
                label="Email address of the closed account"
                autoComplete="email"
                errors={fields.email?.errors}
                {...getInputProps(fields.email!, { type: "email" })}
              />
              <Honeypot />
              <Button type="submit" disabled={navigation.state === "submitting"}>
                Email me a reopen link
              </Button>
            </Form>
          </>
        )}
        <p className="muted">
          <Link to="/login">Back to sign in</Link>
        </p>
      </Card>
    </div>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
