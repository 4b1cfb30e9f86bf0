import { getFormProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { clearPendingGoogleSignup, readPendingGoogleSignup } from "~/auth/google-sign-in.server";
import { contextFor, startSession } from "~/auth/session.server";
import { Checkbox, FormErrors } from "~/components/form";
import { Button } from "~/components/ui/button";
import { Card } from "~/components/ui/layout";
import { recordSignIn } from "~/domain/accounts/accounts.server";
import { signUpWithGoogle } from "~/domain/accounts/google-identity.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Finish signing up — Pleisys Engage" }];

const Consent = z.object({
  ageConfirmed: z.literal("on", { error: "Confirm that you are 18 or older." }),
  policyAccepted: z.literal("on", { error: "Accept the privacy policy to continue." }),
});

export async function loader({ request }: LoaderFunctionArgs) {
  const identity = await readPendingGoogleSignup(request);
  if (!identity) throw redirect("/signup");
  return { email: identity.email, name: identity.name };
}

export async function action(args: ActionFunctionArgs) {
  const identity = await readPendingGoogleSignup(args.request);
  if (!identity) throw redirect("/signup");
  return submitForm(await args.request.formData(), Consent, async () => {
    const ctx = contextFor(args);
    const user = signUpWithGoogle(ctx, identity, { ageConfirmed: true, policyAccepted: true });
    const headers = new Headers();
    headers.append("Set-Cookie", await clearPendingGoogleSignup());
    if (user.totpEnabledAt) {
      headers.append("Set-Cookie", await startSession(ctx, user.id, { mfaPending: true }));
      return redirect("/login/mfa", { headers });
    }
    headers.append("Set-Cookie", await startSession(ctx, user.id));
    await recordSignIn(ctx, user, "google");
    return redirect("/workspaces", { headers });
  });
}

export default function GoogleSignUpPage() {
  const { email, name } = useLoaderData<typeof loader>();
  const lastResult = useActionData<typeof action>();
  const [form, fields] = useForm({
    lastResult,
    onValidate: ({ formData }) => parseWithZod(formData, { schema: Consent }),
  });
  return (
    <div className="auth-page">
      <Card>
        <h1>Finish signing up</h1>
        <p>
          You are signing up as <strong>{name || email}</strong> ({email}) with Google.
        </p>
        <Form method="post" {...getFormProps(form)}>
          <FormErrors errors={form.errors} id={form.errorId} />
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
          <Button type="submit">Create account</Button>
        </Form>
      </Card>
    </div>
  );
}
