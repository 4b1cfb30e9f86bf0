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
import { contextFor, redirectIfSignedIn, safeRedirect } from "~/auth/session.server";
import { Checkbox, FormErrors, Honeypot } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card } from "~/components/ui/layout";
import { signUp } from "~/domain/accounts/accounts.server";
import { previewInvitation } from "~/domain/workspaces/invitations.server";
import { isGoogleSignInEnabled } from "~/auth/google-sign-in.server";
import { emailSchema } from "~/lib/email-address";
import { isHoneypotFilled, submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Create your account — Pleisys Engage" }];

const SignUp = z.object({
  name: z
    .string({ error: "Enter your name." })
    .trim()
    .min(1, "Enter your name.")
    .max(100, "Use at most 100 characters."),
  email: emailSchema,
  password: z
    .string({ error: "Choose a password." })
    .min(12, "Use at least 12 characters. A few unrelated words make a good passphrase.")
    .max(256, "Use at most 256 characters."),
  ageConfirmed: z.literal("on", { error: "Confirm that you are 18 or older." }),
  policyAccepted: z.literal("on", { error: "Accept the privacy policy to continue." }),
  redirectTo: z.string().max(500).optional(),
});

/** The token of an `/invitations/<token>` path; null for any other path or a garbled one. */
function invitationToken(path: string): string | null {
  const raw = /^\/invitations\/([^/?#]+)$/.exec(path)?.[1];
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

export async function loader(args: LoaderFunctionArgs) {
  await redirectIfSignedIn(args.request);
  const redirectTo = safeRedirect(new URL(args.request.url).searchParams.get("redirectTo"), "");
  // Coming from an invitation: the account must use the invited address to accept it.
  const token = invitationToken(redirectTo);
  const found = token ? previewInvitation(contextFor(args), token) : null;
  return {
    google: isGoogleSignInEnabled(),
    redirectTo,
    invitation: found ? { email: found.email, workspaceName: found.workspaceName } : null,
  };
}

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  // A bot filled the invisible field: answer as if it worked, create nothing.
  if (isHoneypotFilled(formData)) return redirect("/signup/check-email");
  return submitForm(formData, SignUp, async (value) => {
    await signUp(contextFor(args), {
      name: value.name,
      email: value.email,
      password: value.password,
      ageConfirmed: true,
      policyAccepted: true,
      returnTo: safeRedirect(value.redirectTo, "") || null,
    });
    return redirect(`/signup/check-email?email=${encodeURIComponent(value.email)}`);
  });
}

export default function SignUpPage() {
  const { google, redirectTo, invitation } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const navigation = useNavigation();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: SignUp }),
    // Not on blur: an error appearing under a field as it loses focus pushed the boxes below
    // down mid-click, so the click on "I am 18 or older" landed on nothing.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
    defaultValue: invitation ? { email: invitation.email } : undefined,
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Create your account</h1>
        {invitation ? (
          <p className="muted">
            You are invited to join <strong>{invitation.workspaceName}</strong>. After you verify
            your email, you come back to the invitation to accept it.
          </p>
        ) : (
          <p className="muted">Start free. You will set up your workspace next.</p>
        )}
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
          <Field
            label="Your name"
            autoComplete="name"
            errors={fields.name.errors}
            {...getInputProps(fields.name, { type: "text" })}
          />
          <Field
            label="Work email"
            autoComplete="email"
            readOnly={invitation ? true : undefined}
            hint={
              invitation
                ? "The invitation is for this address, so your account uses it. To use another address, ask for an invitation to that one."
                : undefined
            }
            errors={fields.email.errors}
            {...getInputProps(fields.email, { type: "email" })}
          />
          <Field
            label="Password"
            autoComplete="new-password"
            hint="At least 12 characters. A passphrase of a few words is best."
            errors={fields.password.errors}
            {...getInputProps(fields.password, { type: "password" })}
          />
          <Checkbox
            name={fields.ageConfirmed.name}
            label="I am 18 or older"
            errors={fields.ageConfirmed.errors}
          />
          <Checkbox
            name={fields.policyAccepted.name}
            label={
              <>
                I have read and accept the{" "}
                <Link to="/privacy" target="_blank">
                  privacy policy
                </Link>
              </>
            }
            errors={fields.policyAccepted.errors}
          />
          {redirectTo ? <input type="hidden" name="redirectTo" value={redirectTo} /> : null}
          <Honeypot />
          <Button type="submit" disabled={navigation.state === "submitting"}>
            Create account
          </Button>
        </Form>
        {/* Google sign-up does not come back to the invitation, so it is not offered from one. */}
        {google && !invitation ? (
          <Form method="post" action="/auth/google" className="alt-auth">
            <Button variant="secondary" type="submit">
              Continue with Google
            </Button>
          </Form>
        ) : null}
        <p className="muted">
          Already have an account?{" "}
          <Link to={redirectTo ? `/login?redirectTo=${encodeURIComponent(redirectTo)}` : "/login"}>
            Sign in
          </Link>
        </p>
      </Card>
    </div>
  );
}
