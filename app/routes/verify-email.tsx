import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { contextFor, getAuth, requireUser, safeRedirect } from "~/auth/session.server";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Card } from "~/components/ui/layout";
import {
  describeVerifyLink,
  resendVerification,
  verifyEmail,
} from "~/domain/accounts/accounts.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { readIntent, submitForm } from "~/lib/form.server";
import { resultMessages, type FormResult } from "~/lib/form-result";
import { z } from "zod";

export const meta: MetaFunction = () => [{ title: "Verify your email — Pleisys Engage" }];

/**
 * The link in the mail opens this page with its token. A GET only shows it: mail scanners and
 * previews follow links, so the address is verified by the button (a POST).
 */
export async function loader(args: LoaderFunctionArgs) {
  const token = new URL(args.request.url).searchParams.get("token");
  const auth = await getAuth(args.request);
  const email = auth && !auth.session.mfaPending ? auth.user.email : null;
  if (token) {
    return { state: describeVerifyLink(token, new Date()), token, email };
  }
  if (!auth) throw redirect("/login");
  if (auth.user.emailVerifiedAt) throw redirect("/workspaces");
  return { state: "pending" as const, token: null, email: auth.user.email };
}

const Verify = z.object({ token: z.string().min(1).max(200) });

/** The button in the mail's link verifies; the form without an intent sends a new link. */
const INTENTS = { verify: true, resend: true } as const;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  if (readIntent(formData, INTENTS, "resend") === "verify") {
    return submitForm(formData, Verify, async ({ token }) => {
      const verified = verifyEmail(contextFor(args), token);
      if (!verified) {
        const linkState = describeVerifyLink(token, new Date());
        return data({ linkState }, { status: linkState === "already_verified" ? 200 : 410 });
      }
      const auth = await getAuth(args.request);
      // Signed up from an invitation: continue there (through sign-in when this browser has no
      // session). The path was checked when stored; checked again, as it is about to be followed.
      const next = safeRedirect(verified.returnTo, "");
      return auth?.user.id === verified.userId && !auth.session.mfaPending
        ? redirectWithFlash(next || "/workspaces", "Your email address is verified.")
        : redirectWithFlash(
            next ? `/login?redirectTo=${encodeURIComponent(next)}` : "/login",
            "Your email address is verified. Sign in to continue.",
          );
    });
  }
  const { user, ctx } = await requireUser(args, { allowUnverified: true });
  return submitForm(formData, z.object({}), async () => {
    await resendVerification(ctx, user.id);
    return { sent: true as const };
  });
}

export default function VerifyEmailPage() {
  const { state: shown, token, email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const state = result && "linkState" in result ? result.linkState : shown;
  const sent = result && "sent" in result;
  const error = result && "error" in result ? resultMessages(result as FormResult) : [];
  return (
    <div className="auth-page">
      <Card>
        {state === "usable" ? (
          <>
            <h1>Verify your email</h1>
            <p>Confirm that this address is yours to finish setting up your account.</p>
            <Form method="post">
              <input type="hidden" name="intent" value="verify" />
              <input type="hidden" name="token" value={token ?? ""} />
              <Button type="submit" disabled={navigation.state !== "idle"}>
                Verify my email
              </Button>
            </Form>
          </>
        ) : state === "already_verified" ? (
          <>
            <h1>Your email is already verified</h1>
            <p>
              This link was used already and your address is verified. There is nothing more to do.
            </p>
            <p>
              <Link to={email ? "/workspaces" : "/login"}>
                {email ? "Go to your workspaces" : "Sign in"}
              </Link>
            </p>
          </>
        ) : state === "invalid" ? (
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
        {email && state !== "usable" && state !== "already_verified" ? (
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
