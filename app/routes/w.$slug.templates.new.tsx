import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useNavigation } from "@remix-run/react";
import { requireWorkspace } from "~/auth/workspace.server";
import {
  EMPTY_DRAFT,
  TemplateEditor,
  templateDraft,
  type EditorChannel,
} from "~/components/template-editor";
import {
  EMPTY_WHATSAPP_DRAFT,
  WhatsAppTemplateForm,
  whatsappDraft,
} from "~/components/template-editor-whatsapp";
import { useFormResult } from "~/components/form";
import { ButtonLink } from "~/components/ui/button";
import { PageHeader } from "~/components/ui/layout";
import { aiConfigured } from "~/domain/ai/copy.server";
import { connectedChannels } from "~/domain/delivery/contact-reach.server";
import { smsSegments } from "~/domain/templates/sms";
import { templateInputFromForm, whatsappInputFromForm } from "~/domain/templates/template-form";
import {
  saveTemplate,
  smsRequiresDlt,
  templateVariables,
} from "~/domain/templates/templates.server";
import { submitWhatsAppTemplate } from "~/domain/templates/whatsapp-sync.server";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { redirectWithFlash } from "~/lib/flash.server";
import { fieldErrorsOf, formErrorOf, submittedOf } from "~/lib/form-result";
import { formFailure } from "~/lib/form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `New ${data?.channel ? `${CHANNEL_LABELS[data.channel]} ` : ""}template — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const CHANNEL_DESCRIPTIONS: Record<Channel, string> = {
  email: "Subject, preheader and a body built from blocks; sent as responsive HTML and text.",
  whatsapp:
    "Reviewed by Meta (or by the sandbox, until WhatsApp is connected); once approved it can start conversations.",
  sms: "Plain text with a live segment count, and India DLT registration.",
  telegram: "Formatted text with optional link buttons, from your bot.",
};

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "campaigns:write");
  const requested = new URL(args.request.url).searchParams.get("channel");
  const channel = CHANNELS.find((c) => c === requested) ?? null;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    channel,
    variables: templateVariables(wctx),
    aiConfigured: aiConfigured(),
    dltRequired: smsRequiresDlt(workspace.id),
    whatsappConnected: connectedChannels(workspace.id).includes("whatsapp"),
  };
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "campaigns:write");
  const form = await args.request.formData();
  const base = `/w/${workspace.slug}/templates`;
  if (form.get("channel") === "whatsapp") {
    const input = whatsappInputFromForm(form);
    try {
      const template = await submitWhatsAppTemplate(wctx, input);
      return redirectWithFlash(
        `${base}/${template.id}`,
        template.sandbox
          ? `Sandbox: “${template.name}” is in the simulated review. In a few seconds it is approved, or rejected with the reason; reload to see it.`
          : `“${template.name}” was submitted to Meta for review. It can be sent once Meta approves it; sync to see the decision.`,
      );
    } catch (error) {
      return formFailure(error, { fields: { ...input } });
    }
  }
  const input = templateInputFromForm(form, { dltRequired: smsRequiresDlt(workspace.id) });
  try {
    const template = saveTemplate(wctx, input);
    return redirectWithFlash(`${base}/${template.id}`, `Template “${template.name}” created.`);
  } catch (error) {
    return formFailure(error, { fields: { ...input } });
  }
}

export default function NewTemplatePage() {
  const { workspace, channel, variables, aiConfigured, dltRequired, whatsappConnected } =
    useLoaderData<typeof loader>();
  const result = useFormResult();
  const busy = useNavigation().state === "submitting";
  const base = `/w/${workspace.slug}/templates`;
  const ai = { action: `/w/${workspace.slug}/ai/copy`, configured: aiConfigured };

  if (!channel) {
    return (
      <>
        <PageHeader
          title="New template"
          description="Choose the channel first: each has its own kind of message."
          actions={<ButtonLink to={base}>Back to templates</ButtonLink>}
        />
        <ul
          className="feature-grid"
          aria-label="Channels"
          style={{ listStyle: "none", padding: 0 }}
        >
          {CHANNELS.map((c) => (
            <li key={c} className="card">
              <h2 className="card-title">
                <Link to={`${base}/new?channel=${c}`}>{CHANNEL_LABELS[c]}</Link>
              </h2>
              <p>{CHANNEL_DESCRIPTIONS[c]}</p>
            </li>
          ))}
        </ul>
      </>
    );
  }

  const formAction = `${base}/new?channel=${channel}`;
  return (
    <>
      <PageHeader
        title={`New ${CHANNEL_LABELS[channel]} template`}
        description={
          <>
            {CHANNEL_DESCRIPTIONS[channel]} <Link to={`${base}/new`}>Choose another channel</Link>
          </>
        }
      />
      {channel === "whatsapp" ? (
        <WhatsAppTemplateForm
          draft={result ? whatsappDraft(submittedOf(result)) : EMPTY_WHATSAPP_DRAFT}
          errors={fieldErrorsOf(result)}
          formError={formErrorOf(result)}
          action={formAction}
          variables={variables}
          ai={ai}
          connected={whatsappConnected}
          busy={busy}
          cancelTo={base}
        />
      ) : (
        <TemplateEditor
          draft={
            result
              ? templateDraft(channel as EditorChannel, submittedOf(result))
              : { channel: channel as EditorChannel, ...EMPTY_DRAFT }
          }
          errors={fieldErrorsOf(result)}
          formError={formErrorOf(result)}
          action={formAction}
          variables={variables}
          ai={ai}
          smsSegments={smsSegments}
          dltRequired={dltRequired}
          submitLabel="Create template"
          cancelTo={base}
          busy={busy}
        />
      )}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
