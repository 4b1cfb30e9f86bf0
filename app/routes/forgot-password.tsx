import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData } from "@remix-run/react";
import { z } from "zod";
import { contextFor } from "~/auth/session.server";
import { FormErrors, Honeypot } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import { requestPasswordReset } from "~/domain/accounts/accounts.server";
import { emailSchema } from "~/lib/email-address";
import { isHoneypotFilled, submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Reset your password — Pleisys Engage" }];

const ResetRequest = z.object({ email: emailSchema });

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  return submitForm(formData, ResetRequest, async (value) => {
    if (!isHoneypotFilled(formData)) await requestPasswordReset(contextFor(args), value.email);
    return { done: true as const, email: value.email };
  });
}

export default function ForgotPasswordPage() {
  const result = useActionData<typeof action>();
  const done = result && "done" in result ? result : null;
  const [form, fields] = useForm<z.input<typeof ResetRequest>>({
    lastResult: result && !("done" in result) ? result : undefined,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ResetRequest }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Reset your password</h1>
        {done ? (
          <Alert tone="success">
            If an account exists for {done.email}, we sent it a link to choose a new password. The
            link works once, for one hour.
          </Alert>
        ) : (
          <Form method="post" {...getFormProps(form)}>
            <p className="muted">Enter your email and we will send you a link.</p>
            <FormErrors errors={form.errors} id={form.errorId} />
            <Field
              label="Email"
              autoComplete="email"
              errors={fields.email.errors}
              {...getInputProps(fields.email, { type: "email" })}
            />
            <Honeypot />
            <Button type="submit">Send reset link</Button>
          </Form>
        )}
        <p className="muted">
          <Link to="/login">Back to sign in</Link>
        </p>
      </Card>
    </div>
  );
}
