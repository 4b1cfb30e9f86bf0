import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import { requireUser } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  changePassword,
  requestEmailChange,
  updateProfile,
} from "~/domain/accounts/accounts.server";
import { RETENTION } from "~/domain/privacy/retention-policy";
import { emailSchema } from "~/lib/email-address";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Your account — Pleisys Engage" }];

const Profile = z.object({
  intent: z.literal("profile"),
  name: z.string({ error: "Enter your name." }).trim().min(1, "Enter your name.").max(100),
});
const Email = z.object({
  intent: z.literal("email"),
  email: emailSchema,
  password: z.string().max(1024).optional(),
});
const Password = z.object({
  intent: z.literal("password"),
  current: z.string().max(1024).optional(),
  newPassword: z
    .string({ error: "Choose a new password." })
    .min(12, "Use at least 12 characters. A few unrelated words make a good passphrase.")
    .max(256),
});
const AccountForm = z.discriminatedUnion("intent", [Profile, Email, Password]);

export async function loader(args: LoaderFunctionArgs) {
  const { user } = await requireUser(args);
  return { user };
}

export async function action(args: ActionFunctionArgs) {
  const { user, ctx, auth } = await requireUser(args);
  return submitForm(await args.request.formData(), AccountForm, async (value) => {
    if (value.intent === "profile") {
      updateProfile(ctx, user.id, { name: value.name });
      return redirectWithFlash("/account", "Your profile is saved.");
    }
    if (value.intent === "email") {
      await requestEmailChange(ctx, user.id, { email: value.email, password: value.password });
      return { emailSentTo: value.email };
    }
    await changePassword(ctx, user.id, {
      current: value.current,
      password: value.newPassword,
      keepSessionToken: auth.token,
    });
    return redirectWithFlash(
      "/account",
      user.hasPassword
        ? "Your password is changed. Other sessions were signed out."
        : "Your password is set. You can now sign in with it too.",
    );
  });
}

function useIntentForm(intent: string, schema: z.ZodType) {
  const result = useActionData<typeof action>();
  const mine =
    result && "initialValue" in result && result.initialValue?.intent === intent
      ? result
      : undefined;
  return useForm({
    id: `${intent}-form`,
    lastResult: mine,
    onValidate: ({ formData }) => parseWithZod(formData, { schema }),
    // On submit, then on input: an error appearing as a field loses focus moves the
    // fields below it out from under the pointer mid-click.
    shouldValidate: "onSubmit",
    shouldRevalidate: "onInput",
  });
}

export default function AccountPage() {
  const { user } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [profileForm, profile] = useIntentForm("profile", Profile);
  const [emailForm, email] = useIntentForm("email", Email);
  const [passwordForm, password] = useIntentForm("password", Password);
  const emailSentTo = result && "emailSentTo" in result ? result.emailSentTo : null;
  return (
    <>
      <PageHeader
        title="Your account"
        description={
          <>
            Signed in as {user.email}. Sessions and two-factor authentication are on the{" "}
            <Link to="/account/security">Security</Link> page.
          </>
        }
      />
      <Card title="Profile">
        <Form method="post" {...getFormProps(profileForm)}>
          <FormErrors errors={profileForm.errors} id={profileForm.errorId} />
          <input type="hidden" name="intent" value="profile" />
          <Field
            label="Name"
            autoComplete="name"
            defaultValue={user.name}
            errors={profile.name?.errors}
            {...getInputProps(profile.name!, { type: "text" })}
          />
          <Button type="submit">Save profile</Button>
        </Form>
      </Card>
      <Card title="Email address">
        {emailSentTo ? (
          <Alert tone="success">
            We sent a confirmation link to {emailSentTo}. Your address changes when you open it.
          </Alert>
        ) : null}
        <Form method="post" {...getFormProps(emailForm)}>
          <FormErrors errors={emailForm.errors} id={emailForm.errorId} />
          <input type="hidden" name="intent" value="email" />
          <Field
            label="New email address"
            autoComplete="email"
            errors={email.email?.errors}
            {...getInputProps(email.email!, { type: "email" })}
          />
          {user.hasPassword ? (
            <Field
              label="Your password"
              autoComplete="current-password"
              errors={email.password?.errors}
              {...getInputProps(email.password!, { type: "password" })}
            />
          ) : null}
          <Button type="submit" variant="secondary">
            Change email
          </Button>
        </Form>
      </Card>
      <Card title={user.hasPassword ? "Password" : "Set a password"}>
        {!user.hasPassword ? (
          <p className="muted">You sign in with Google. Set a password to sign in with it too.</p>
        ) : null}
        <Form method="post" {...getFormProps(passwordForm)}>
          <FormErrors errors={passwordForm.errors} id={passwordForm.errorId} />
          <input type="hidden" name="intent" value="password" />
          {user.hasPassword ? (
            <Field
              label="Current password"
              autoComplete="current-password"
              errors={password.current?.errors}
              {...getInputProps(password.current!, { type: "password" })}
            />
          ) : null}
          <Field
            label="New password"
            autoComplete="new-password"
            hint="At least 12 characters. A passphrase of a few words is best."
            errors={password.newPassword?.errors}
            {...getInputProps(password.newPassword!, { type: "password" })}
          />
          <Button type="submit" variant="secondary">
            {user.hasPassword ? "Change password" : "Set password"}
          </Button>
        </Form>
      </Card>
      <section className="card danger-zone" aria-labelledby="close-account-heading">
        <h2 id="close-account-heading" className="card-title">
          Close your account
        </h2>
        <p>
          Closing signs you out everywhere. You can reopen the account for{" "}
          {RETENTION.closedAccountDays} days; after that it is deleted for good.
        </p>
        <ButtonLink variant="danger" to="/account/close">
          Close account…
        </ButtonLink>
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
