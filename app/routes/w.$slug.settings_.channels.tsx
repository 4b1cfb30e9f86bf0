import type { SubmissionResult } from "@conform-to/react";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import {
  Form,
  Link,
  useActionData,
  useLoaderData,
  useNavigate,
  useNavigation,
} from "@remix-run/react";
import { useEffect, useState } from "react";
import { z } from "zod";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { CopyField } from "~/components/copy-field";
import { FormErrors, Select } from "~/components/form";
import { ProviderErrorText } from "~/components/provider-error";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { ConfirmCard } from "~/components/ui/confirm-card";
import { Field } from "~/components/ui/field";
import { Card, PageHeader } from "~/components/ui/layout";
import {
  DEFAULT_RATE,
  PROVIDER_CHANNEL,
  PROVIDER_FIELDS,
  PROVIDER_LABELS,
  PROVIDERS,
  targetFieldLabels,
  type Provider,
} from "~/domain/delivery/integration-fields";
import { explainProviderError } from "~/domain/analytics/provider-error";
import {
  checkIntegration,
  listIntegrations,
  removeIntegration,
  saveIntegrationChecked,
  suggestVerifyToken,
  type IntegrationCheck,
} from "~/domain/delivery/integrations.server";
import {
  telegramBotUsername,
  workspaceTelegramLink,
} from "~/domain/delivery/telegram-links.server";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { AppError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";
import { logger } from "~/lib/logger.server";
import { messagingTierLabel } from "~/lib/whatsapp-limits";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Channels — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

// Masked credentials and the Telegram link token are on this page.
export const headers = () => ({ "Cache-Control": "no-store" });

const CHANNEL_PROVIDERS: Record<Channel, Provider[]> = {
  email: ["email-ses", "email-smtp"],
  whatsapp: ["whatsapp"],
  sms: ["sms"],
  telegram: ["telegram"],
};

/** Every credential field: their values never come back to the browser, even on errors. */
const SECRET_FIELD_NAMES = [
  ...new Set(
    PROVIDERS.flatMap((p) => PROVIDER_FIELDS[p].filter((f) => f.secret).map((f) => f.name)),
  ),
];

const WEBHOOK_HINTS: Partial<Record<Provider, string>> = {
  whatsapp:
    "Where Meta sends delivery reports and customers' replies. In your Meta app: WhatsApp → Configuration → Webhook → Edit. Paste this as the callback URL and the verify token below, press Verify and save, then subscribe to “messages”.",
  "email-ses":
    "Create an SNS topic for your configuration set's bounce, complaint and delivery events and subscribe this HTTPS URL to it; the subscription is confirmed automatically, and from then on only that topic's messages are accepted.",
  sms: "Set this as the status callback and the incoming-message webhook of your number or messaging service.",
  telegram: "Registered with Telegram for you when you test the connection.",
};

/** Starting values the provider schemas also default to. */
const SELECT_DEFAULTS: Record<string, string> = { messagingTier: "TIER_1K", tlsMode: "starttls" };
const PLACEHOLDERS: Record<string, string> = { port: "587", region: "ap-south-1" };

const Save = z.looseObject({
  provider: z.enum(PROVIDERS, { error: "Choose a provider." }),
});
const ById = z.object({
  integrationId: z
    .string({ error: "Choose a connected channel." })
    .trim()
    .min(1, "Choose a connected channel.")
    .max(64, "Choose a connected channel."),
});

/** Shown as copyable values next to the webhook URL instead of in the list of settings. */
const COPY_FIELDS = new Set(["verifyToken"]);

function displayValue(name: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  return name === "messagingTier" ? messagingTierLabel(value) : value;
}

/**
 * The badge: "connected" only when the last check ran on the credentials as saved and passed;
 * "failed" when it ran on them and failed; "unchecked" when they were never checked or changed
 * since.
 */
function checkStatus(found: {
  lastCheckCurrent: boolean;
  lastCheckOk: boolean | null;
}): "connected" | "failed" | "unchecked" {
  if (!found.lastCheckCurrent) return "unchecked";
  return found.lastCheckOk ? "connected" : "failed";
}

/** A check's outcome as a one-line message: the plain words first, then what to do. */
function checkMessage(label: string, check: IntegrationCheck): string {
  if (check.ok) return `${label} is connected: ${check.detail}.`;
  const plain = explainProviderError(check.detail);
  const where = check.step ? ` at “${check.step}”` : "";
  const words = plain ? [plain.summary, plain.action].filter(Boolean).join(" ") : check.detail;
  return `${label} check failed${where}: ${words}`;
}

/** Runs the connection check; a check that could not run at all is reported, not thrown. */
async function runCheck(
  wctx: Parameters<typeof checkIntegration>[0],
  workspaceId: string,
  integrationId: string,
): Promise<IntegrationCheck> {
  try {
    return await checkIntegration(wctx, workspaceId, integrationId);
  } catch (error) {
    if (error instanceof AppError) throw error;
    logger.error({ err: error, workspaceId }, "connection test could not run");
    return { ok: false, detail: "The check could not run. Try again in a moment.", step: null };
  }
}

function isProvider(value: string | null): value is Provider {
  return value !== null && (PROVIDERS as readonly string[]).includes(value);
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "workspace:settings");
  const url = new URL(args.request.url);
  const tz = workspace.timezone;
  const integrations = listIntegrations(workspace.id);
  const emailChoice = url.searchParams.get("email");
  const editParam = url.searchParams.get("edit");
  const disconnectId = url.searchParams.get("disconnect");

  const channels = CHANNELS.map((channel) => {
    const found = integrations.find((i) => i.channel === channel);
    let integration = null;
    if (found) {
      const specs = PROVIDER_FIELDS[found.provider];
      let telegram: { url: string | null } | undefined;
      if (channel === "telegram") {
        // The link is made once the bot's username is known (learnt by Test connection).
        telegram = {
          url: telegramBotUsername(workspace.id) ? workspaceTelegramLink(wctx).url : null,
        };
      }
      integration = {
        id: found.id,
        provider: found.provider,
        providerLabel: PROVIDER_LABELS[found.provider],
        ratePerSecond: found.ratePerSecond,
        fields: specs
          .filter((f) => f.name !== "ratePerSecond" && !COPY_FIELDS.has(f.name))
          .map((f) => ({
            name: f.name,
            label: f.label,
            secret: Boolean(f.secret),
            value: displayValue(f.name, found.fields[f.name]),
          })),
        /** Non-secret values to start the edit form with. */
        values: Object.fromEntries(
          specs.filter((f) => !f.secret).map((f) => [f.name, found.fields[f.name] ?? ""]),
        ) as Record<string, string>,
        /** Masked stored secrets, to say which one is kept when left blank. */
        storedSecrets: Object.fromEntries(
          specs
            .filter((f) => f.secret && found.fields[f.name])
            .map((f) => [f.name, found.fields[f.name]!]),
        ) as Record<string, string>,
        webhookUrl: found.webhookUrl,
        webhookHint: WEBHOOK_HINTS[found.provider] ?? null,
        verifyToken: found.provider === "whatsapp" ? (found.fields.verifyToken ?? null) : null,
        status: checkStatus(found),
        lastCheck: found.lastCheckedAt
          ? {
              at: formatDateTime(found.lastCheckedAt, tz),
              iso: found.lastCheckedAt.toISOString(),
              ok: Boolean(found.lastCheckOk),
              detail: found.lastCheckDetail ?? "",
              plain: found.lastCheckOk ? null : explainProviderError(found.lastCheckDetail),
              step: found.lastCheckStep,
            }
          : null,
        telegram,
      };
    }
    const providers = CHANNEL_PROVIDERS[channel];
    const chosen =
      channel === "email" && isProvider(emailChoice) && providers.includes(emailChoice)
        ? emailChoice
        : (found?.provider ?? providers[0]!);
    return {
      channel,
      label: CHANNEL_LABELS[channel],
      /** A random verify token to start the WhatsApp form with (the owner may type their own). */
      suggested:
        channel === "whatsapp" && !found?.fields.verifyToken
          ? { verifyToken: suggestVerifyToken() }
          : {},
      providers: providers.map((p) => ({ value: p, label: PROVIDER_LABELS[p] })),
      chosen,
      editing: Boolean(found) && editParam === channel,
      integration,
    };
  });

  const disconnecting = disconnectId
    ? (channels.find((c) => c.integration?.id === disconnectId) ?? null)
    : null;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    channels,
    disconnecting: disconnecting
      ? {
          id: disconnecting.integration!.id,
          label: disconnecting.label,
          providerLabel: disconnecting.integration!.providerLabel,
        }
      : null,
    disconnectNotFound: Boolean(disconnectId && !disconnecting),
  };
}

const NEEDS = {
  save: "workspace:settings",
  test: "workspace:settings",
  disconnect: "workspace:settings",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const page = `/w/${workspace.slug}/settings/channels`;
  switch (intent) {
    case "save":
      return submitForm(
        formData,
        Save,
        async (value) => {
          const { provider, intent: _intent, ...fields } = value;
          // A blank field is "not given": secrets keep their stored value, rates their default.
          const input = Object.fromEntries(
            Object.entries(fields).filter(([, v]) => typeof v === "string" && v.trim() !== ""),
          );
          const { id } = await saveIntegrationChecked(wctx, workspace.id, provider, input);
          const label = CHANNEL_LABELS[PROVIDER_CHANNEL[provider]];
          // Saving checks the connection at once, so the badge says whether these work.
          const check = await runCheck(wctx, workspace.id, id);
          return redirectWithFlash(
            page,
            `${label} saved with ${PROVIDER_LABELS[provider]}. ${checkMessage(label, check)}`,
            check.ok ? "success" : "error",
          );
        },
        { hideFields: SECRET_FIELD_NAMES },
      );
    case "test":
      return submitForm(formData, ById, async (value) => {
        const found = listIntegrations(workspace.id).find((i) => i.id === value.integrationId);
        const label = found ? CHANNEL_LABELS[found.channel] : "The channel";
        const result = await runCheck(wctx, workspace.id, value.integrationId);
        return redirectWithFlash(
          page,
          checkMessage(label, result),
          result.ok ? "success" : "error",
        );
      });
    case "disconnect":
      return submitForm(formData, ById, (value) => {
        const found = listIntegrations(workspace.id).find((i) => i.id === value.integrationId);
        removeIntegration(wctx, workspace.id, value.integrationId);
        const label = found ? CHANNEL_LABELS[found.channel] : "The channel";
        return redirectWithFlash(
          page,
          `${label} disconnected. New messages on it go to the sandbox: nothing leaves Pleisys Engage.`,
        );
      });
  }
}

type ChannelView = ReturnType<typeof useLoaderData<typeof loader>>["channels"][number];

function ProviderFields({
  provider,
  values,
  storedSecrets,
  errors,
}: {
  provider: Provider;
  values: Record<string, string>;
  storedSecrets: Record<string, string>;
  errors: Record<string, string[] | null | undefined>;
}) {
  return (
    <>
      {PROVIDER_FIELDS[provider].map((spec) => {
        const label = spec.optional ? `${spec.label} (optional)` : spec.label;
        const fieldErrors = errors[spec.name] ?? undefined;
        if (spec.type === "select") {
          return (
            <Select
              key={spec.name}
              name={spec.name}
              label={label}
              hint={spec.hint}
              options={(spec.options ?? []).map((o) => ({
                value: o,
                label: spec.name === "messagingTier" ? messagingTierLabel(o) : o,
              }))}
              defaultValue={values[spec.name] || SELECT_DEFAULTS[spec.name] || spec.options?.[0]}
              errors={fieldErrors}
            />
          );
        }
        if (spec.secret) {
          const stored = storedSecrets[spec.name];
          const moved = targetFieldLabels(provider);
          const hint = [
            spec.hint,
            stored
              ? `Leave blank to keep the current value (${stored})${
                  moved ? `, unless you change the ${moved}: then enter it again` : ""
                }.`
              : null,
          ]
            .filter(Boolean)
            .join(" ");
          return (
            <Field
              key={spec.name}
              name={spec.name}
              label={label}
              type="password"
              autoComplete="new-password"
              spellCheck={false}
              hint={hint || undefined}
              errors={fieldErrors}
            />
          );
        }
        const rate = spec.name === "ratePerSecond";
        return (
          <Field
            key={spec.name}
            name={spec.name}
            label={label}
            type={spec.type === "number" ? "number" : "text"}
            inputMode={spec.type === "number" ? "numeric" : undefined}
            min={spec.type === "number" ? 1 : undefined}
            autoComplete="off"
            spellCheck={false}
            placeholder={rate ? String(DEFAULT_RATE[provider]) : PLACEHOLDERS[spec.name]}
            defaultValue={values[spec.name] ?? ""}
            hint={
              rate && !spec.hint
                ? `Blank: ${DEFAULT_RATE[provider]} per second.`
                : rate
                  ? `${spec.hint} Blank: ${DEFAULT_RATE[provider]} per second.`
                  : spec.hint
            }
            errors={fieldErrors}
          />
        );
      })}
    </>
  );
}

function EmailProviderChoice({
  page,
  view,
  chosen,
}: {
  page: string;
  view: ChannelView;
  chosen: Provider;
}) {
  const navigate = useNavigate();
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const id = "email-provider-choice";
  return (
    <Form method="get" action={page} className="inline-form">
      {view.editing ? <input type="hidden" name="edit" value="email" /> : null}
      <label htmlFor={id}>Email provider</label>
      <select
        id={id}
        name="email"
        defaultValue={chosen}
        onChange={(e) => {
          const params = new URLSearchParams({ email: e.currentTarget.value });
          if (view.editing) params.set("edit", "email");
          navigate(`${page}?${params.toString()}`, { replace: true, preventScrollReset: true });
        }}
      >
        {view.providers.map((p) => (
          <option key={p.value} value={p.value}>
            {p.label}
          </option>
        ))}
      </select>
      {hydrated ? null : (
        <Button variant="secondary" type="submit">
          Show its fields
        </Button>
      )}
    </Form>
  );
}

/** What a first-time owner needs from Meta, in the order Meta's screens show it. */
function WhatsAppSetupGuide() {
  return (
    <section className="setup-guide" aria-labelledby="whatsapp-guide-heading">
      <h4 id="whatsapp-guide-heading">What you need from Meta</h4>
      <ol className="steps">
        <li>
          A Meta app with the WhatsApp product and your business phone number added to it
          (developers.facebook.com → My Apps).
        </li>
        <li>
          On the app&apos;s <strong>WhatsApp → API Setup</strong> page: the{" "}
          <strong>Phone number ID</strong> and the <strong>WhatsApp Business Account ID</strong>.
        </li>
        <li>
          A permanent <strong>access token</strong>: Meta Business Settings → Users → System users.
          Add one, give it the app and the WhatsApp account, and generate a token with
          whatsapp_business_messaging and whatsapp_business_management.
        </li>
        <li>
          The <strong>app secret</strong>: App settings → Basic. It proves that delivery reports and
          replies really come from Meta.
        </li>
        <li>
          Connect below: the connection is checked straight away. Then this card shows the{" "}
          <strong>callback URL</strong> and the <strong>verify token</strong> to paste into WhatsApp
          → Configuration → Webhook, so delivery reports and replies reach Pleisys Engage.
        </li>
      </ol>
    </section>
  );
}

const STATUS_BADGES = {
  connected: { className: "badge badge-success", text: "Connected" },
  failed: { className: "badge badge-danger", text: "Check failed" },
  unchecked: { className: "badge badge-warning", text: "Not checked" },
} as const;

function ConnectForm({
  page,
  view,
  result,
  busy,
}: {
  page: string;
  view: ChannelView;
  result: SubmissionResult<string[]> | undefined;
  busy: boolean;
}) {
  const failedProvider = result?.initialValue?.provider as Provider | undefined;
  const ours =
    failedProvider && PROVIDER_CHANNEL[failedProvider] === view.channel ? result : undefined;
  const provider: Provider = (ours ? failedProvider : undefined) ?? (view.chosen as Provider);
  const sameAsStored = view.integration?.provider === provider;
  const values: Record<string, string> = {
    ...(view.suggested as Record<string, string>),
    ...(sameAsStored ? view.integration!.values : {}),
    ...Object.fromEntries(
      Object.entries((ours?.initialValue ?? {}) as Record<string, unknown>)
        .filter(([, v]) => typeof v === "string")
        .map(([k, v]) => [k, v as string]),
    ),
  };
  const errors = ours?.error ?? {};
  const editing = view.editing;
  return (
    <>
      {view.providers.length > 1 ? (
        <EmailProviderChoice page={page} view={view} chosen={provider} />
      ) : null}
      <Form
        method="post"
        action={`${page}${editing ? `?edit=${view.channel}` : ""}`}
        aria-label={`${editing ? "Edit" : "Connect"} ${view.label}`}
      >
        <input type="hidden" name="intent" value="save" />
        <input type="hidden" name="provider" value={provider} />
        <h3>
          {editing ? "Edit" : "Connect"} {PROVIDER_LABELS[provider]}
        </h3>
        {editing && !sameAsStored ? (
          <Alert tone="warning">
            Saving replaces the {view.integration!.providerLabel} account for {view.label}.
          </Alert>
        ) : null}
        <FormErrors errors={errors[""] ?? undefined} />
        {provider === "whatsapp" && !editing ? <WhatsAppSetupGuide /> : null}
        <ProviderFields
          provider={provider}
          values={values}
          storedSecrets={sameAsStored ? (view.integration?.storedSecrets ?? {}) : {}}
          errors={errors}
        />
        {provider === "whatsapp" && !editing ? null : (
          <p className="field-hint">
            Saving checks the connection with the provider straight away.
          </p>
        )}
        <div className="filters-actions">
          <Button type="submit" disabled={busy}>
            {editing ? "Save changes" : `Connect ${view.label}`}
          </Button>
          {editing ? <ButtonLink to={page}>Cancel</ButtonLink> : null}
        </div>
      </Form>
    </>
  );
}

/** What the last check found, in words: the badge's explanation. */
function CheckOutcome({ view }: { view: ChannelView }) {
  const i = view.integration!;
  if (i.status === "unchecked") {
    return (
      <Alert tone="warning" title="Not checked yet">
        {i.lastCheck
          ? "The settings changed after the last check. "
          : "These settings have not been checked with the provider. "}
        Press Test connection to check them before you send.
      </Alert>
    );
  }
  if (i.status === "connected") {
    return (
      <Alert tone="success" title="The connection works">
        {i.lastCheck?.detail}
      </Alert>
    );
  }
  return (
    <Alert
      tone="error"
      title={i.lastCheck?.step ? `The check failed at: ${i.lastCheck.step}` : "The check failed"}
    >
      <ProviderErrorText plain={i.lastCheck?.plain ?? null} />
    </Alert>
  );
}

function ConnectedDetails({
  page,
  view,
  busy,
}: {
  page: string;
  view: ChannelView;
  busy: boolean;
}) {
  const i = view.integration!;
  return (
    <>
      <p>
        Set up with <strong>{i.providerLabel}</strong>.
      </p>
      <dl className="role-list">
        {i.fields.map((f) => (
          <div key={f.name}>
            <dt>{f.label}</dt>
            <dd>{f.value ?? <span className="muted">Not set</span>}</dd>
          </div>
        ))}
        <div>
          <dt>Messages per second</dt>
          <dd>{i.ratePerSecond}</dd>
        </div>
        <div>
          <dt>Last check</dt>
          <dd>
            {i.lastCheck ? (
              <>
                {i.lastCheck.ok ? "Passed" : "Failed"}{" "}
                <span className="muted">
                  (<time dateTime={i.lastCheck.iso}>{i.lastCheck.at}</time>)
                </span>
                {i.status === "unchecked" ? " — before the last change" : null}
              </>
            ) : (
              "Never"
            )}
          </dd>
        </div>
      </dl>
      <CheckOutcome view={view} />
      {i.webhookUrl ? (
        <CopyField
          label={`${view.label} webhook URL`}
          value={i.webhookUrl}
          hint={i.webhookHint ?? undefined}
        />
      ) : null}
      {i.verifyToken ? (
        <CopyField
          label="Webhook verify token"
          value={i.verifyToken}
          hint="Enter it in the same webhook settings as the callback URL: Meta sends it back once, so Pleisys Engage can confirm the URL is yours."
        />
      ) : null}
      {i.webhookUrl ? null : (
        <p className="field-hint">
          SMTP servers send no delivery reports: messages count as delivered once the server accepts
          them, and bounces arrive in the From mailbox.
        </p>
      )}
      {i.telegram ? (
        i.telegram.url ? (
          <CopyField
            label="Telegram bot link"
            value={i.telegram.url}
            hint="Share it (website, QR code, receipts): whoever opens it and presses Start becomes a contact you can message on Telegram. For one known contact, use the link on their contact page."
          />
        ) : (
          <p className="field-hint">Test the connection to get the bot&apos;s link.</p>
        )
      ) : null}
      <div className="filters-actions">
        <Form method="post" action={page} className="inline-form">
          <input type="hidden" name="intent" value="test" />
          <input type="hidden" name="integrationId" value={i.id} />
          <Button type="submit" variant="secondary" disabled={busy}>
            Test connection<span className="visually-hidden"> of {view.label}</span>
          </Button>
        </Form>
        <ButtonLink to={`${page}?edit=${view.channel}`}>
          Edit<span className="visually-hidden"> {view.label}</span>
        </ButtonLink>
        <ButtonLink to={`${page}?disconnect=${encodeURIComponent(i.id)}`} variant="danger">
          Disconnect…<span className="visually-hidden"> {view.label}</span>
        </ButtonLink>
      </div>
    </>
  );
}

export default function ChannelsPage() {
  const { workspace, channels, disconnecting, disconnectNotFound } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as SubmissionResult<string[]> | undefined;
  const busy = useNavigation().state === "submitting";
  const page = `/w/${workspace.slug}/settings/channels`;
  const sandboxLink = `/w/${workspace.slug}/messages?sandbox=1`;
  const otherErrors =
    result && result.initialValue?.intent !== "save"
      ? Object.values(result.error ?? {}).flatMap((m) => m ?? [])
      : [];

  return (
    <>
      <PageHeader
        title="Channels"
        description={
          <>
            <Link to={`/w/${workspace.slug}/settings`}>Settings</Link> · The accounts your messages
            go out through. A channel without one runs in the sandbox: messages are kept here,
            exactly as they would be sent, and nothing leaves Pleisys Engage. Email replies:{" "}
            <Link to={`/w/${workspace.slug}/settings/inbound-email`}>Inbound email</Link>.
          </>
        }
      />

      {disconnecting ? (
        <ConfirmCard
          id="disconnect-heading"
          title={<>Disconnect {disconnecting.label}?</>}
          action={page}
          intent="disconnect"
          fields={{ integrationId: disconnecting.id }}
          confirmLabel={`Disconnect ${disconnecting.label}`}
          cancelTo={page}
          busy={busy}
        >
          <p>
            The {disconnecting.providerLabel} credentials are deleted from Pleisys Engage. New{" "}
            {disconnecting.label} messages then go to the sandbox and reach nobody, until you
            connect an account again.
          </p>
        </ConfirmCard>
      ) : null}
      {disconnectNotFound ? (
        <FormErrors errors={["That channel is not connected (any more)."]} />
      ) : null}
      <FormErrors errors={otherErrors} />

      {channels.map((view) => {
        const headingId = `channel-${view.channel}-heading`;
        return (
          <section key={view.channel} className="card" aria-labelledby={headingId}>
            <h2 id={headingId} className="card-title">
              {view.label}{" "}
              {view.integration ? (
                <span className={STATUS_BADGES[view.integration.status].className}>
                  {STATUS_BADGES[view.integration.status].text}
                </span>
              ) : (
                <span className="badge">Sandbox</span>
              )}
            </h2>
            {view.integration ? (
              <ConnectedDetails page={page} view={view} busy={busy} />
            ) : (
              <p>
                {view.label} runs in the <strong>sandbox</strong>: nothing leaves Pleisys Engage.
                {view.channel === "whatsapp"
                  ? " Templates get a simulated review; messages get simulated delivered and read receipts, and some a simulated customer reply, and are kept so you can check them; see "
                  : " Messages are marked delivered and kept so you can check them; see "}
                <Link to={sandboxLink}>Sandbox messages</Link>.
              </p>
            )}
            {!view.integration || view.editing ? (
              <ConnectForm page={page} view={view} result={result} busy={busy} />
            ) : null}
          </section>
        );
      })}

      <Card title="Opt-outs and tracking">
        <p>
          STOP words and email open and click tracking are set in{" "}
          <Link to={`/w/${workspace.slug}/settings`}>workspace settings</Link>.
        </p>
      </Card>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
