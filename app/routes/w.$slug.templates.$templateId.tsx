import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { useFormResult } from "~/components/form";
import { TemplateEditor, templateDraft } from "~/components/template-editor";
import {
  TemplatePreview,
  TestSendForm,
  type TemplatePreviewView,
} from "~/components/template-editor-preview";
import {
  WHATSAPP_STATUS_LABELS,
  WhatsAppTemplateDetails,
  type WhatsAppComponentView,
} from "~/components/template-editor-whatsapp";
import { ButtonLink } from "~/components/ui/button";
import { PageHeader } from "~/components/ui/layout";
import { aiConfigured } from "~/domain/ai/copy.server";
import { getContact } from "~/domain/contacts/contacts.server";
import { listContacts } from "~/domain/contacts/search.server";
import { smsSegments } from "~/domain/templates/sms";
import { templateInputFromForm, variableMapFromForm } from "~/domain/templates/template-form";
import {
  getTemplate,
  previewTemplate,
  saveTemplate,
  sendableReason,
  smsRequiresDlt,
  templateVariables,
} from "~/domain/templates/templates.server";
import {
  describeTestSend,
  sendTemplateTest,
  telegramTestContacts,
} from "~/domain/templates/test-send.server";
import {
  canStartConversation,
  getWhatsAppTemplate,
  mapTemplateVariables,
} from "~/domain/templates/whatsapp-sync.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { NotFoundError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { fieldErrorsOf, formErrorOf, resultFor, submittedOf } from "~/lib/form-result";
import { formFailure } from "~/lib/form.server";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.template.name ?? "Template"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

/** The chosen preview contact from `?previewContact=` (or the form); null: the sample. */
function previewContactParam(value: FormDataEntryValue | string | null): number | null {
  if (typeof value !== "string" || value === "") return null;
  try {
    return parseId(value, "Contact");
  } catch {
    return null;
  }
}

const contactLabel = (c: { name: string; email: string | null; phone: string | null }) =>
  [c.name || "(no name)", c.email ?? c.phone].filter(Boolean).join(" · ");

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role, user } = await requireWorkspace(args, "campaigns:read");
  const template = getTemplate(wctx, parseId(args.params.templateId, "Template"));
  const url = new URL(args.request.url);
  const tz = workspace.timezone;

  // Preview: a chosen contact (gone or garbage → the sample contact).
  let previewContact = previewContactParam(url.searchParams.get("previewContact"));
  let chosen: { id: number; label: string } | null = null;
  if (previewContact !== null) {
    try {
      const c = getContact(wctx, previewContact);
      chosen = { id: c.id, label: contactLabel(c) };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      previewContact = null;
    }
  }
  const q = (url.searchParams.get("contactQ") ?? "").slice(0, 200);
  const found = listContacts(wctx, { q, limit: 20 }).rows.map((c) => ({
    id: c.id,
    label: contactLabel(c),
  }));
  const options = chosen && !found.some((o) => o.id === chosen.id) ? [chosen, ...found] : found;
  const content = previewTemplate(wctx, template.id, previewContact);
  const preview: TemplatePreviewView = { contactLabel: chosen?.label ?? "the sample contact" };
  if (content.channel === "email") {
    preview.email = { subject: content.subject, html: content.html, text: content.text };
  } else if (content.channel === "sms") {
    preview.text = content.text;
    preview.sms = smsSegments(content.text);
  } else if (content.channel === "telegram") {
    preview.text = content.text;
    preview.telegramButtons = content.buttons ?? [];
  } else if (content.type === "template") {
    const wa = getWhatsAppTemplate(wctx, template.id);
    const bodyText = wa.components.find((c) => c.type.toUpperCase() === "BODY")?.text;
    preview.whatsapp = {
      name: content.name,
      language: content.language,
      params: content.bodyParams,
      body: (typeof bodyText === "string" ? bodyText : "").replace(
        /\{\{(\d+)\}\}/g,
        (m, n: string) => content.bodyParams[Number(n) - 1] || m,
      ),
    };
  }

  const whatsapp =
    template.channel === "whatsapp"
      ? (() => {
          const wa = getWhatsAppTemplate(wctx, template.id);
          return {
            name: wa.name,
            language: wa.language,
            category: wa.category,
            status: wa.status,
            statusReason: wa.statusReason,
            sandbox: wa.sandbox,
            canStartConversation: canStartConversation(wa),
            components: wa.components as WhatsAppComponentView[],
            variableMap: wa.variableMap,
            placeholders: wa.placeholders,
            synced: wa.syncedAt ? formatDateTime(wa.syncedAt, tz) : null,
          };
        })()
      : null;

  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    user: { email: user.email },
    canWrite: can(role, "campaigns:write"),
    template: {
      id: template.id,
      name: template.name,
      channel: template.channel,
      channelLabel: CHANNEL_LABELS[template.channel],
      status: template.status,
      updated: formatDateTimeCompact(template.updatedAt, tz),
      updatedFull: formatDateTime(template.updatedAt, tz),
      updatedIso: template.updatedAt.toISOString(),
      // WhatsApp rows are Meta's: their content is shown, not edited.
      draft:
        template.channel === "whatsapp"
          ? null
          : templateDraft(template.channel, { name: template.name, ...template.content }),
    },
    whatsapp,
    variables: templateVariables(wctx),
    aiConfigured: aiConfigured(),
    dltRequired: smsRequiresDlt(workspace.id),
    preview,
    picker: { q, selected: previewContact, options },
    testBlocked: sendableReason(template),
    telegramContacts: template.channel === "telegram" ? telegramTestContacts(wctx) : [],
  };
}

const NEEDS = {
  save: "campaigns:write",
  map: "campaigns:write",
  test: "campaigns:write",
} as const satisfies Record<string, Permission>;
type Intent = keyof typeof NEEDS;

export async function action(args: ActionFunctionArgs) {
  const form = await args.request.formData();
  const { workspace, wctx, user, intent } = await requireWorkspaceIntent(args, form, NEEDS);
  const id = parseId(args.params.templateId, "Template");
  const template = getTemplate(wctx, id);
  const page = `/w/${workspace.slug}/templates/${id}`;

  if (intent === "save") {
    const input = templateInputFromForm(form, { dltRequired: smsRequiresDlt(workspace.id) });
    try {
      const saved = saveTemplate(wctx, input, id);
      return redirectWithFlash(page, `Template “${saved.name}” saved.`);
    } catch (error) {
      return formFailure(error, { fields: { intent, ...input } });
    }
  }
  if (intent === "map") {
    try {
      mapTemplateVariables(wctx, id, variableMapFromForm(form));
      return redirectWithFlash(page, "Variable mapping saved.");
    } catch (error) {
      return formFailure(error, { fields: { intent } });
    }
  }
  if (intent === "test") {
    const previewContact = previewContactParam(form.get("previewContact"));
    const telegramContactId = previewContactParam(form.get("telegramContactId"));
    try {
      const result = sendTemplateTest(wctx, {
        templateId: template.id,
        user: { id: user.id, name: user.name, email: user.email },
        phone: typeof form.get("phone") === "string" ? String(form.get("phone")) : null,
        telegramContactId,
        previewContactId: previewContact,
      });
      const back = previewContact === null ? page : `${page}?previewContact=${previewContact}`;
      return redirectWithFlash(
        back,
        describeTestSend(result),
        result.queued ? "success" : "warning",
      );
    } catch (error) {
      return formFailure(error, { fields: { intent } });
    }
  }
  return intent satisfies never;
}

export default function TemplatePage() {
  const {
    workspace,
    user,
    canWrite,
    template,
    whatsapp,
    variables,
    aiConfigured,
    dltRequired,
    preview,
    picker,
    testBlocked,
    telegramContacts,
  } = useLoaderData<typeof loader>();
  const result = useFormResult();
  const navigation = useNavigation();
  const submitting = navigation.state === "submitting" ? navigation.formData?.get("intent") : null;
  const base = `/w/${workspace.slug}/templates`;
  const page = `${base}/${template.id}`;
  // With JavaScript, a template in the sandbox's few-second review shows its verdict by itself.
  const reviewing = whatsapp?.sandbox === true && whatsapp.status === "pending";
  const { revalidate, state } = useRevalidator();
  useEffect(() => {
    if (!reviewing) return;
    const timer = setInterval(() => {
      if (state === "idle") revalidate();
    }, 2000);
    return () => clearInterval(timer);
  }, [reviewing, revalidate, state]);
  const formResult = (intent: Intent) => resultFor(result, intent);
  const saved = formResult("save");
  const status =
    template.channel === "whatsapp"
      ? (WHATSAPP_STATUS_LABELS[template.status] ?? template.status)
      : "Ready";
  return (
    <>
      <PageHeader
        title={template.name}
        description={
          <>
            <Link to={`${base}?channel=${template.channel}`}>
              {template.channelLabel} templates
            </Link>{" "}
            · {status} · last changed{" "}
            <time dateTime={template.updatedIso} title={template.updatedFull}>
              {template.updated}
            </time>
          </>
        }
        actions={<ButtonLink to={base}>Back to templates</ButtonLink>}
      />

      {whatsapp ? (
        <WhatsAppTemplateDetails
          template={whatsapp}
          variables={variables}
          errors={fieldErrorsOf(formResult("map"))}
          formError={formErrorOf(formResult("map"))}
          action={page}
          canWrite={canWrite}
          busy={submitting === "map"}
        />
      ) : template.draft ? (
        <TemplateEditor
          draft={saved ? templateDraft(template.draft.channel, submittedOf(saved)) : template.draft}
          errors={fieldErrorsOf(saved)}
          formError={formErrorOf(saved)}
          action={page}
          variables={variables}
          ai={{ action: `/w/${workspace.slug}/ai/copy`, configured: aiConfigured }}
          smsSegments={smsSegments}
          dltRequired={dltRequired}
          readOnly={!canWrite}
          submitLabel="Save changes"
          cancelTo={base}
          busy={submitting === "save"}
        >
          <ButtonLink to={`${base}?delete=${template.id}`} variant="ghost">
            Delete…
          </ButtonLink>
        </TemplateEditor>
      ) : null}

      <TemplatePreview preview={preview} picker={picker} action={page} />

      {canWrite ? (
        <TestSendForm
          channel={template.channel}
          action={page}
          userEmail={user.email}
          previewContact={picker.selected}
          telegramContacts={telegramContacts}
          errors={fieldErrorsOf(formResult("test"))}
          formError={formErrorOf(formResult("test"))}
          blocked={testBlocked}
          busy={submitting === "test"}
          messagesUrl={`/w/${workspace.slug}/messages`}
        />
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
