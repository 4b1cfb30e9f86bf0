import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { contextFor } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import { isResetLinkValid, resetPassword } from "~/domain/accounts/accounts.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { ValidationError } from "~/lib/errors";

export const meta: MetaFunction = () => [{ title: "Choose a new password — Pleisys Engage" }];

const NewPassword = z.object({
  token: z.string().min(1).max(200),
  password: z
    .string({ error: "Choose a password." })
    .min(12, "Use at least 12 characters. A few unrelated words make a good passphrase.")
    .max(256),
});

export function loader({ request }: LoaderFunctionArgs) {
  const token = new URL(request.url).searchParams.get("token") ?? "";
  return { token, valid: isResetLinkValid(token, new Date()) };
}

export async function action(args: ActionFunctionArgs) {
  return submitForm(await args.request.formData(), NewPassword, async (value) => {
    const done = await resetPassword(contextFor(args), value.token, value.password);
    if (!done) throw new ValidationError("This link has expired. Ask for a new one.");
    return redirectWithFlash(
      "/login",
      "Your password is changed and every other session has been signed out. Sign in with your new password.",
    );
  });
}

export default function ResetPasswordPage() {
  const { token, valid } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: NewPassword }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Choose a new password</h1>
        {valid ? (
          <Form method="post" {...getFormProps(form)}>
            <FormErrors errors={form.errors} id={form.errorId} />
            <input type="hidden" name="token" value={token} />
            <Field
              label="New password"
              autoComplete="new-password"
              hint="At least 12 characters. A passphrase of a few words is best."
              errors={fields.password.errors}
              {...getInputProps(fields.password, { type: "password" })}
            />
            <Button type="submit">Save password</Button>
          </Form>
        ) : (
          <p>
            This link has expired or was already used. Reset links work once, for one hour.{" "}
            <Link to="/forgot-password">Ask for a new one</Link>.
          </p>
        )}
      </Card>
    </div>
  );
}
