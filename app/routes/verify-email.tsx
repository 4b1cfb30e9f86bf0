import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { contextFor, getAuth, requireUser } from "~/auth/session.server";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card } from "~/components/ui/layout";
import { resendVerification, verifyEmail } from "~/domain/accounts/accounts.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { z } from "zod";

export const meta: MetaFunction = () => [{ title: "Verify your email — Pleisys Engage" }];

export async function loader(args: LoaderFunctionArgs) {
  const token = new URL(args.request.url).searchParams.get("token");
  const auth = await getAuth(args.request);
  if (token) {
    const verified = verifyEmail(contextFor(args), token);
    if (verified) {
      return auth?.user.id === verified.userId && !auth.session.mfaPending
        ? redirectWithFlash("/workspaces", "Your email address is verified.")
        : redirectWithFlash("/login", "Your email address is verified. Sign in to continue.");
    }
    return { state: "invalid" as const, email: auth?.user.email ?? null };
  }
  if (!auth) throw redirect("/login");
  if (auth.user.emailVerifiedAt) throw redirect("/workspaces");
  return { state: "pending" as const, email: auth.user.email };
}

export async function action(args: ActionFunctionArgs) {
  const { user, ctx } = await requireUser(args, { allowUnverified: true });
  return submitForm(await args.request.formData(), z.object({}), async () => {
    await resendVerification(ctx, user.id);
    return { sent: true as const };
  });
}

export default function VerifyEmailPage() {
  const { state, email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const sent = result && "sent" in result;
  const error = result && "error" in result ? Object.values(result.error ?? {}).flat() : [];
  return (
    <div className="auth-page">
      <Card>
        {state === "invalid" ? (
          <>
            <h1>This link has expired</h1>
            <p>
              Verification links work once, for 24 hours. Sign in and ask for a new one from this
              page.
            </p>
          </>
        ) : (
          <>
            <h1>Verify your email</h1>
            <p>
              We sent a link to <strong>{email}</strong>. Open it to verify your address and start
              using Pleisys Engage.
            </p>
          </>
        )}
        {sent ? <Alert tone="success">A new link is on its way.</Alert> : null}
        {error.length ? <Alert tone="error">{error.join(" ")}</Alert> : null}
        {email ? (
          <Form method="post">
            <Button type="submit" variant="secondary">
              Send a new link
            </Button>
          </Form>
        ) : null}
      </Card>
    </div>
  );
}
