import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { contextFor, getAuth, safeRedirect, startSession } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import { recordSignIn } from "~/domain/accounts/accounts.server";
import { verifySecondFactor } from "~/domain/accounts/mfa.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Two-factor authentication — Pleisys Engage" }];

const SecondFactor = z.object({
  code: z
    .string({ error: "Enter the 6-digit code from your app, or a recovery code." })
    .trim()
    .min(6, "Enter the 6-digit code from your app, or a recovery code.")
    .max(32),
  redirectTo: z.string().optional(),
});

async function pendingAuth(request: Request) {
  const auth = await getAuth(request);
  if (!auth) throw redirect("/login");
  if (!auth.session.mfaPending) throw redirect("/workspaces");
  return auth;
}

export async function loader({ request }: LoaderFunctionArgs) {
  await pendingAuth(request);
  const redirectTo = safeRedirect(new URL(request.url).searchParams.get("redirectTo"));
  return { redirectTo };
}

export async function action(args: ActionFunctionArgs) {
  const auth = await pendingAuth(args.request);
  const formData = await args.request.formData();
  return submitForm(formData, SecondFactor, async (value) => {
    const ctx = contextFor(args, { type: "user", id: auth.user.id });
    verifySecondFactor(ctx, auth.user.id, value.code);
    // A new session id for the new privilege level; the half-signed-in one ends.
    const cookie = await startSession(ctx, auth.user.id, { replacing: auth.token });
    await recordSignIn(
      ctx,
      auth.user,
      auth.user.googleSub && !auth.user.passwordHash ? "google" : "password",
    );
    return redirect(safeRedirect(value.redirectTo), { headers: { "Set-Cookie": cookie } });
  });
}

export default function SecondFactorPage() {
  const { redirectTo } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: SecondFactor }),
    shouldValidate: "onSubmit",
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Two-factor authentication</h1>
        <p className="muted">
          Open your authenticator app and enter the code for Pleisys Engage. Lost your phone? Use
          one of your recovery codes instead.
        </p>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label="Authentication code"
            autoComplete="one-time-code"
            inputMode="text"
            autoFocus
            errors={fields.code.errors}
            {...getInputProps(fields.code, { type: "text" })}
          />
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <Button type="submit">Verify</Button>
        </Form>
        <Form method="post" action="/logout">
          <Button variant="ghost" type="submit">
            Cancel and sign out
          </Button>
        </Form>
        <p className="muted">
          <Link to="/privacy">Privacy policy</Link>
        </p>
      </Card>
    </div>
  );
}
