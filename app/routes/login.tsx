import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { isGoogleSignInEnabled } from "~/auth/google-sign-in.server";
import { authenticateWithPassword } from "~/auth/password.server";
import {
  contextFor,
  readSessionToken,
  redirectIfSignedIn,
  safeRedirect,
  startSession,
} from "~/auth/session.server";
import { FormErrors, Honeypot } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import { recordSignIn, SignInFailedError } from "~/domain/accounts/accounts.server";
import { isHoneypotFilled, submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Sign in — Pleisys Engage" }];

const SignIn = z.object({
  email: z.string({ error: "Enter your email address." }).trim().min(1).max(254),
  password: z.string({ error: "Enter your password." }).min(1).max(1024),
  redirectTo: z.string().optional(),
});

export async function loader({ request }: LoaderFunctionArgs) {
  await redirectIfSignedIn(request);
  const url = new URL(request.url);
  return {
    google: isGoogleSignInEnabled(),
    redirectTo: safeRedirect(url.searchParams.get("redirectTo"), ""),
  };
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  return submitForm(formData, SignIn, async (value) => {
    if (isHoneypotFilled(formData)) throw new SignInFailedError();
    const ctx = contextFor(args);
    const user = await authenticateWithPassword(ctx, args.request, formData);
    const replacing = await readSessionToken(args.request);
    const to = safeRedirect(value.redirectTo);
    if (user.totpEnabledAt) {
      const cookie = await startSession(ctx, user.id, { mfaPending: true, replacing });
      return redirect(`/login/mfa?redirectTo=${encodeURIComponent(to)}`, {
        headers: { "Set-Cookie": cookie },
      });
    }
    const cookie = await startSession(ctx, user.id, { replacing });
    await recordSignIn(ctx, user, "password");
    return redirect(to, { headers: { "Set-Cookie": cookie } });
  });
}

export default function SignInPage() {
  const { google, redirectTo } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: SignIn }),
    shouldValidate: "onSubmit",
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Sign in</h1>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label="Email"
            autoComplete="username"
            errors={fields.email.errors}
            {...getInputProps(fields.email, { type: "email" })}
          />
          <Field
            label="Password"
            autoComplete="current-password"
            errors={fields.password.errors}
            {...getInputProps(fields.password, { type: "password" })}
          />
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <Honeypot />
          <Button type="submit" disabled={navigation.state === "submitting"}>
            Sign in
          </Button>
        </Form>
        <p>
          <Link to="/forgot-password">Forgot your password?</Link>
        </p>
        <p>
          <Link to="/reopen-account">Reopen a closed account</Link>
        </p>
        {google ? (
          <Form method="post" action="/auth/google" className="alt-auth">
            <Button variant="secondary" type="submit">
              Continue with Google
            </Button>
          </Form>
        ) : null}
        <p className="muted">
          New to Pleisys Engage? <Link to="/signup">Create an account</Link>
        </p>
      </Card>
    </div>
  );
}
