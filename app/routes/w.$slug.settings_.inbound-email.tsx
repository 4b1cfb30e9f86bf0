import type { SubmissionResult } from "@conform-to/react";
import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { CopyField } from "~/components/copy-field";
import { FormErrors } from "~/components/form";
import { Alert } from "~/components/ui/alert";
import { Button } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  inboundEmailSetup,
  rotateInboundEmailSecret,
  saveMailgunSigningKey,
} from "~/domain/delivery/inbound-email-secret.server";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Inbound email — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

// A newly generated secret is on this page's answer: never stored by a browser or proxy.
export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "workspace:settings");
  const setup = inboundEmailSetup(wctx);
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    domain: setup.domain,
    forwardUrl: setup.forwardUrl,
    sesUrl: setup.sesUrl,
    configured: setup.configured,
    mailgun: setup.mailgun,
    mailgunUrl: setup.mailgunUrl,
    rotatedAt: setup.rotatedAt ? formatDateTime(setup.rotatedAt, workspace.timezone) : null,
  };
}

const NEEDS = {
  rotate: "workspace:settings",
  "mailgun-save": "workspace:settings",
  "mailgun-remove": "workspace:settings",
} as const satisfies Record<string, Permission>;
const Rotate = z.object({ intent: z.literal("rotate") });
const MailgunKey = z.object({
  signingKey: z
    .string({ error: "Enter the Mailgun HTTP webhook signing key." })
    .trim()
    .min(8, "Enter the Mailgun HTTP webhook signing key.")
    .max(200, "That key is too long.")
    .regex(/^[\x21-\x7e]+$/, "The key has no spaces or special characters."),
});
const Empty = z.object({});

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { wctx, workspace, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/settings/inbound-email`;
  switch (intent) {
    case "rotate":
      return submitForm(formData, Rotate, () => {
        const secret = rotateInboundEmailSecret(wctx);
        // On this response only (no redirect): the secret is never shown again.
        return data({ secret }, { headers: { "Cache-Control": "no-store" } });
      });
    case "mailgun-save":
      return submitForm(formData, MailgunKey, (value) => {
        saveMailgunSigningKey(wctx, value.signingKey);
        return redirectWithFlash(page, "Mailgun signing key saved.");
      });
    case "mailgun-remove":
      return submitForm(formData, Empty, () => {
        saveMailgunSigningKey(wctx, null);
        return redirectWithFlash(page, "Mailgun signing key removed.");
      });
  }
}

export default function InboundEmailPage() {
  const { workspace, domain, forwardUrl, sesUrl, configured, rotatedAt, mailgun, mailgunUrl } =
    useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as
    { secret: string } | SubmissionResult<string[]> | undefined;
  const secret = actionData && "secret" in actionData ? actionData.secret : null;
  const failed = actionData && !("secret" in actionData) ? actionData : undefined;
  const errorsOf = (intents: string[]) =>
    failed && intents.includes(String(failed.initialValue?.intent ?? "rotate"))
      ? Object.values(failed.error ?? {}).flatMap((m) => m ?? [])
      : [];
  const errors = errorsOf(["rotate"]);
  const mailgunErrors = errorsOf(["mailgun-save", "mailgun-remove"]);
  const busy = useNavigation().state === "submitting";
  return (
    <>
      <PageHeader
        title="Inbound email"
        description={`Replies to ${workspace.name}'s email come back into the inbox, threaded with the message they answer. With reply addresses on, mail to an email's unsubscribe address unsubscribes its sender.`}
      />
      <Card title="Reply addresses">
        {domain ? (
          <p>
            Every email gets its own reply address on <code>{domain}</code>, and its
            List-Unsubscribe mailto address is there too. Mail to these addresses reaches this
            workspace through the platform&apos;s SES receiving endpoint.
          </p>
        ) : (
          <Alert tone="info" title="Reply addresses are off on this server">
            The server has no inbound email domain (INBOUND_EMAIL_DOMAIN), so emails go out without
            a reply address. A mail forwarder can still post replies below; they are threaded by
            their In-Reply-To header or the sender&apos;s address.
          </Alert>
        )}
        <CopyField
          label="SES receiving endpoint (for the server's operator)"
          value={sesUrl}
          hint="Subscribe this URL to the SNS topic of the SES receipt rule."
        />
      </Card>
      <Card title="Mail forwarder webhook">
        <p>
          For servers without SES: a mail forwarder (a Cloudflare Email Worker, your own MTA) posts
          each raw message to this URL, signed with this workspace&apos;s secret (Standard Webhooks:
          webhook-id, webhook-timestamp, webhook-signature). The setup and the signature recipe are
          in <code>docs/inbound-email.md</code> of the Pleisys Engage repository.
        </p>
        <CopyField label="Forwarder URL" value={forwardUrl} />
        {secret ? (
          <section className="new-secret" aria-labelledby="new-secret-heading">
            <h3 id="new-secret-heading">Your new signing secret</h3>
            <Alert tone="warning" title="Copy this secret now: it is shown only once.">
              It is stored encrypted and cannot be shown again. Any previous secret no longer works.
            </Alert>
            <pre className="secret-value" aria-label="Signing secret">
              <code>{secret}</code>
            </pre>
          </section>
        ) : (
          <p>
            {configured
              ? `A signing secret is set (generated ${rotatedAt ?? ""}). Generating a new one stops the old one at once.`
              : "No signing secret yet: the forwarder webhook refuses every request until you generate one."}
          </p>
        )}
        <FormErrors errors={errors} />
        <Form method="post" className="inline-form">
          <input type="hidden" name="intent" value="rotate" />
          <Button type="submit" variant={configured ? "secondary" : "primary"} disabled={busy}>
            {configured ? "Generate a new secret" : "Generate a secret"}
          </Button>
        </Form>
      </Card>
      <Card title="Mailgun route">
        <p>
          A Mailgun route whose action forwards to this URL posts the raw message here (the URL ends
          in <code>.mime</code>, so Mailgun sends it whole). Mailgun signs each post with your
          account&apos;s HTTP webhook signing key (Mailgun: Sending → Webhooks); save it here.
        </p>
        <CopyField label="Mailgun forward URL" value={mailgunUrl} />
        <p>
          {mailgun
            ? "A Mailgun signing key is saved: signed Mailgun forwards are taken."
            : "No Mailgun signing key: Mailgun forwards are refused."}
        </p>
        <FormErrors errors={mailgunErrors} />
        <Form method="post">
          <input type="hidden" name="intent" value="mailgun-save" />
          <Field
            label="Mailgun HTTP webhook signing key"
            name="signingKey"
            type="password"
            autoComplete="off"
            required
          />
          <div className="inline-form">
            <Button type="submit" variant="secondary" disabled={busy}>
              {mailgun ? "Replace the key" : "Save the key"}
            </Button>
          </div>
        </Form>
        {mailgun ? (
          <Form method="post" className="inline-form">
            <input type="hidden" name="intent" value="mailgun-remove" />
            <Button type="submit" variant="danger" disabled={busy}>
              Remove the key
            </Button>
          </Form>
        ) : null}
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
