import { getFormProps, getInputProps, useForm } from "@conform-to/react";
import { parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData } from "@remix-run/react";
import QRCode from "qrcode";
import { useEffect, useRef, useState } from "react";
import { z } from "zod";
import { requireUser, startSession } from "~/auth/session.server";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Icon } from "~/components/ui/icons";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  beginTotpEnrolment,
  confirmTotpEnrolment,
  disableTotp,
  pendingEnrolment,
  regenerateRecoveryCodes,
  remainingRecoveryCodes,
} from "~/domain/accounts/mfa.server";
import { data } from "@remix-run/node";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";

export const meta: MetaFunction = () => [{ title: "Two-factor authentication — Pleisys Engage" }];

const Confirm = z.object({
  intent: z.literal("confirm"),
  code: z
    .string({ error: "Enter the 6-digit code from your app." })
    .trim()
    .regex(/^\d{6}$/, "Enter the 6-digit code from your app."),
});
const Reauth = {
  password: z.string().max(1024).optional(),
  code: z.string().trim().max(32).optional(),
};
const Disable = z.object({ intent: z.literal("disable"), ...Reauth });
const Regenerate = z.object({ intent: z.literal("regenerate"), ...Reauth });
const MfaForm = z.discriminatedUnion("intent", [Confirm, Disable, Regenerate]);

export async function loader(args: LoaderFunctionArgs) {
  const { user, ctx } = await requireUser(args);
  const required = new URL(args.request.url).searchParams.get("required");
  if (user.mfaEnabled) {
    return { user, required, enabled: true as const, left: remainingRecoveryCodes(user.id) };
  }
  const enrolment = pendingEnrolment(user.id) ?? beginTotpEnrolment(ctx, user.id);
  const qr = await QRCode.toString(enrolment.otpauthUrl, { type: "svg", margin: 1, width: 200 });
  return {
    user,
    required,
    enabled: false as const,
    secret: enrolment.secret,
    qr: `data:image/svg+xml;base64,${Buffer.from(qr).toString("base64")}`,
  };
}

export async function action(args: ActionFunctionArgs) {
  const { user, ctx, auth } = await requireUser(args);
  return submitForm(await args.request.formData(), MfaForm, async (value) => {
    if (value.intent === "confirm") {
      const { recoveryCodes } = await confirmTotpEnrolment(ctx, user.id, value.code);
      // Privilege changed: a new session id, the old one ends.
      const cookie = await startSession(ctx, user.id, { replacing: auth.token });
      return data({ recoveryCodes }, { headers: { "Set-Cookie": cookie } });
    }
    const proof = { password: value.password || undefined, code: value.code || undefined };
    if (value.intent === "regenerate") {
      return { recoveryCodes: await regenerateRecoveryCodes(ctx, user.id, proof) };
    }
    await disableTotp(ctx, user.id, proof);
    return redirectWithFlash("/account/security", "Two-factor authentication is off.", "warning");
  });
}

/** The file a person saves: what the codes are for, then one code a line. */
function recoveryCodesFile(codes: string[]) {
  return [
    "Pleisys Engage recovery codes",
    "Each code signs you in once if you lose your phone.",
    "",
    ...codes,
    "",
  ].join("\n");
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  const list = useRef<HTMLOListElement>(null);
  const [hydrated, setHydrated] = useState(false);
  const [status, setStatus] = useState("");
  useEffect(() => setHydrated(true), []);

  async function copy() {
    try {
      await navigator.clipboard.writeText(codes.join("\n"));
      setStatus("Copied.");
    } catch {
      // No clipboard permission (e.g. plain http): select the codes so Ctrl+C / Cmd+C copies them.
      const selection = window.getSelection();
      if (list.current && selection) {
        selection.selectAllChildren(list.current);
        setStatus("Selected: press Ctrl+C (or ⌘C) to copy.");
      }
    }
  }

  return (
    <Card title="Save your recovery codes">
      <Alert tone="warning">
        Each code signs you in once if you lose your phone. Store them somewhere safe, like a
        password manager. You will not see them again.
      </Alert>
      <ol className="recovery-codes" aria-label="Recovery codes" ref={list}>
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div className="recovery-actions">
        {hydrated ? (
          <Button type="button" variant="secondary" onClick={() => void copy()}>
            <Icon name="copy" />
            Copy codes
          </Button>
        ) : null}
        <a
          className="btn btn-secondary"
          href={`data:text/plain;charset=utf-8,${encodeURIComponent(recoveryCodesFile(codes))}`}
          download="pleisys-engage-recovery-codes.txt"
        >
          <Icon name="download" />
          Download (.txt)
        </a>
        <span className="copy-status" role="status" aria-live="polite">
          {status}
        </span>
      </div>
      <ButtonLink to="/account/security" variant="primary">
        I have saved my codes
      </ButtonLink>
    </Card>
  );
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
  });
}

export default function MfaPage() {
  const loaded = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [confirmForm, confirm] = useIntentForm("confirm", Confirm);
  const [disableForm, disable] = useIntentForm("disable", Disable);
  const [regenerateForm, regenerate] = useIntentForm("regenerate", Regenerate);
  if (result && "recoveryCodes" in result) return <RecoveryCodes codes={result.recoveryCodes} />;
  const hasPassword = loaded.user.hasPassword;
  return (
    <>
      <PageHeader
        title="Two-factor authentication"
        description="A code from an authenticator app on your phone, as well as your password."
      />
      {loaded.required ? (
        <Alert tone="warning">
          The workspace “{loaded.required}” requires two-factor authentication. Turn it on to
          continue.
        </Alert>
      ) : null}
      {!loaded.enabled ? (
        <Card title="Set up your authenticator app">
          <ol className="steps">
            <li>
              Scan this QR code with an authenticator app (Google Authenticator, Microsoft
              Authenticator, 1Password, Authy…).
              <div className="qr">
                <img
                  src={loaded.qr}
                  alt="QR code for your authenticator app"
                  width={200}
                  height={200}
                />
              </div>
            </li>
            <li>
              Can’t scan it? Enter this key by hand:{" "}
              <code className="secret" aria-label="Set-up key">
                {loaded.secret}
              </code>
            </li>
            <li>Enter the 6-digit code the app shows.</li>
          </ol>
          <Form method="post" {...getFormProps(confirmForm)}>
            <FormErrors errors={confirmForm.errors} id={confirmForm.errorId} />
            <input type="hidden" name="intent" value="confirm" />
            <Field
              label="Code from the app"
              autoComplete="one-time-code"
              inputMode="numeric"
              errors={confirm.code?.errors}
              {...getInputProps(confirm.code!, { type: "text" })}
            />
            <Button type="submit">Turn on two-factor authentication</Button>
          </Form>
        </Card>
      ) : (
        <>
          <Card title="Recovery codes">
            <p>
              You have {loaded.left} unused recovery code{loaded.left === 1 ? "" : "s"}. Making new
              codes cancels the old ones.
            </p>
            <Form method="post" {...getFormProps(regenerateForm)}>
              <FormErrors errors={regenerateForm.errors} id={regenerateForm.errorId} />
              <input type="hidden" name="intent" value="regenerate" />
              {hasPassword ? (
                <Field
                  label="Your password"
                  autoComplete="current-password"
                  errors={regenerate.password?.errors}
                  {...getInputProps(regenerate.password!, { type: "password" })}
                />
              ) : (
                <Field
                  label="Code from your app"
                  autoComplete="one-time-code"
                  errors={regenerate.code?.errors}
                  {...getInputProps(regenerate.code!, { type: "text" })}
                />
              )}
              <Button type="submit" variant="secondary">
                Make new recovery codes
              </Button>
            </Form>
          </Card>
          <Card title="Turn off two-factor authentication">
            <p>Your account will be protected by your password alone.</p>
            <Form method="post" {...getFormProps(disableForm)}>
              <FormErrors errors={disableForm.errors} id={disableForm.errorId} />
              <input type="hidden" name="intent" value="disable" />
              {hasPassword ? (
                <Field
                  label="Confirm with your password"
                  autoComplete="current-password"
                  errors={disable.password?.errors}
                  {...getInputProps(disable.password!, { type: "password" })}
                />
              ) : (
                <Field
                  label="Confirm with a code from your app"
                  autoComplete="one-time-code"
                  errors={disable.code?.errors}
                  {...getInputProps(disable.code!, { type: "text" })}
                />
              )}
              <Button type="submit" variant="danger">
                Turn off
              </Button>
            </Form>
          </Card>
        </>
      )}
      <p>
        <Link to="/account/security">Back to Security</Link>
      </p>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
