import {
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { Pager } from "~/components/ui/pager";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { useFormResult } from "~/components/form";
import { WhatsAppTemplateStatus } from "~/components/template-editor-whatsapp";
import { Alert } from "~/components/ui/alert";
import { Button, ButtonLink } from "~/components/ui/button";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { connectedChannels } from "~/domain/delivery/contact-reach.server";
import { deleteTemplate, getTemplate, listTemplatePage } from "~/domain/templates/templates.server";
import {
  isSandboxTemplate,
  syncWhatsAppTemplates,
  WhatsAppTemplateError,
} from "~/domain/templates/whatsapp-sync.server";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { NotFoundError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { formFailure } from "~/lib/form.server";
import { resultMessages } from "~/lib/form-result";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `Templates — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const PAGE_SIZE = 25;

function channelParam(value: string | null): Channel | undefined {
  return CHANNELS.find((c) => c === value);
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "campaigns:read");
  const url = new URL(args.request.url);
  const channel = channelParam(url.searchParams.get("channel"));
  const list = listTemplatePage(wctx, {
    channel,
    page: Number(url.searchParams.get("page") ?? "1"),
    pageSize: PAGE_SIZE,
  });
  const canWrite = can(role, "campaigns:write");
  let confirmDelete: { id: number; name: string; channel: string } | null = null;
  const deleteParam = url.searchParams.get("delete");
  if (canWrite && deleteParam) {
    try {
      const t = getTemplate(wctx, parseId(deleteParam, "Template"));
      if (t.channel !== "whatsapp") {
        confirmDelete = { id: t.id, name: t.name, channel: CHANNEL_LABELS[t.channel] };
      }
    } catch (error) {
      // An id that is gone (deleted meanwhile) or garbage: nothing to confirm.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  const tz = workspace.timezone;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canWrite,
    whatsappConnected: connectedChannels(workspace.id).includes("whatsapp"),
    channel: channel ?? null,
    page: list.page,
    pages: list.pages,
    total: list.total,
    confirmDelete,
    rows: list.rows.map((t) => ({
      id: t.id,
      name: t.name,
      channel: t.channel,
      channelLabel: CHANNEL_LABELS[t.channel],
      language: t.language,
      status: t.status,
      statusReason: t.statusReason,
      sandbox: isSandboxTemplate(t),
      updated: formatDateTimeCompact(t.updatedAt, tz),
      updatedFull: formatDateTime(t.updatedAt, tz),
      updatedIso: t.updatedAt.toISOString(),
    })),
  };
}

const NEEDS = {
  delete: "campaigns:write",
  sync: "campaigns:write",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const form = await args.request.formData();
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, form, NEEDS);
  const page = `/w/${workspace.slug}/templates`;
  try {
    if (intent === "delete") {
      const id = parseId(String(form.get("templateId") ?? ""), "Template");
      if (form.get("confirm") !== "yes") {
        return formFailure("Confirm the deletion: choose Delete…, then Delete template.", {
          fields: { intent },
        });
      }
      const template = getTemplate(wctx, id);
      deleteTemplate(wctx, id);
      return redirectWithFlash(page, `Template “${template.name}” deleted.`);
    }
    const r = await syncWhatsAppTemplates(wctx);
    const changed = r.added + r.updated + r.removed;
    return redirectWithFlash(
      `${page}?channel=whatsapp`,
      changed === 0
        ? `WhatsApp templates synced: no changes (${r.unchanged} unchanged).`
        : `WhatsApp templates synced: ${r.added} added, ${r.updated} updated, ${r.removed} no longer on Meta, ${r.unchanged} unchanged.`,
    );
  } catch (error) {
    // Meta being unreachable is shown beside the button too (with its 502), not as an error page.
    if (error instanceof WhatsAppTemplateError) {
      return formFailure(error.message, { status: error.status, fields: { intent } });
    }
    // Not found stays a 404 page; other refusals (in use, not connected) are shown.
    return formFailure(error, { fields: { intent } });
  }
}

const STATUS_TONE: Record<string, string> = {
  approved: "badge-success",
  ready: "badge-success",
  pending: "badge-warning",
  paused: "badge-warning",
  rejected: "badge-danger",
  disabled: "badge-danger",
};

export default function TemplatesPage() {
  const {
    workspace,
    canWrite,
    whatsappConnected,
    channel,
    page,
    pages,
    total,
    confirmDelete,
    rows,
  } = useLoaderData<typeof loader>();
  const failed = resultMessages(useFormResult())[0];
  const navigation = useNavigation();
  const syncing = navigation.formData?.get("intent") === "sync";
  const base = `/w/${workspace.slug}/templates`;
  const pageUrl = (n: number) => {
    const params = new URLSearchParams();
    if (channel) params.set("channel", channel);
    if (n > 1) params.set("page", String(n));
    const query = params.toString();
    return query ? `${base}?${query}` : base;
  };
  const cancelUrl = pageUrl(page);
  return (
    <>
      <PageHeader
        title="Templates"
        description="Messages written once per channel, personalised for each contact when a campaign sends them."
        actions={
          canWrite ? (
            <>
              {whatsappConnected ? (
                <Form method="post" action={base} className="inline-form">
                  <input type="hidden" name="intent" value="sync" />
                  <Button type="submit" variant="secondary" disabled={syncing}>
                    {syncing ? "Syncing…" : "Sync WhatsApp templates"}
                  </Button>
                </Form>
              ) : null}
              <ButtonLink to={`${base}/new`} variant="primary">
                New template
              </ButtonLink>
            </>
          ) : null
        }
      />

      {failed ? (
        <Alert tone="error" title="That did not work">
          {failed}
        </Alert>
      ) : null}

      {canWrite && !whatsappConnected ? (
        <p className="muted">
          WhatsApp is in the sandbox: new WhatsApp templates get a simulated review here, and
          campaigns with them reach nobody.{" "}
          <Link to={`/w/${workspace.slug}/settings/channels`}>Connect WhatsApp</Link> to submit
          templates to Meta and sync the ones you have there.
        </p>
      ) : null}

      {confirmDelete ? (
        <Card title={`Delete “${confirmDelete.name}”?`}>
          <p>
            The {confirmDelete.channel} template is deleted for good. Messages already sent with it
            keep their content. A campaign that still needs it blocks the deletion.
          </p>
          <Form method="post" action={base} className="inline-form">
            <input type="hidden" name="intent" value="delete" />
            <input type="hidden" name="templateId" value={confirmDelete.id} />
            <input type="hidden" name="confirm" value="yes" />
            <Button variant="danger" type="submit">
              Delete template
            </Button>
            <ButtonLink to={cancelUrl}>Cancel</ButtonLink>
          </Form>
        </Card>
      ) : null}

      <Form method="get" action={base} className="filters" aria-label="Filter templates">
        <div className="field">
          <label htmlFor="channel-filter">Channel</label>
          <select id="channel-filter" name="channel" defaultValue={channel ?? ""}>
            <option value="">All channels</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {CHANNEL_LABELS[c]}
              </option>
            ))}
          </select>
        </div>
        <div className="filters-actions">
          <Button type="submit" variant="secondary">
            Filter
          </Button>
        </div>
      </Form>

      {rows.length === 0 ? (
        <EmptyState
          title={channel ? `No ${CHANNEL_LABELS[channel]} templates` : "No templates yet"}
          action={
            canWrite ? (
              <ButtonLink
                to={channel ? `${base}/new?channel=${channel}` : `${base}/new`}
                variant="primary"
              >
                New template
              </ButtonLink>
            ) : null
          }
        >
          Write a message once — an email, an SMS, a Telegram message or a WhatsApp template — and
          use it in campaigns with each contact&apos;s name and details filled in.
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">
              Templates{channel ? ` (${CHANNEL_LABELS[channel]})` : ""}, {total} in all
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="col-medium">
                  Channel
                </th>
                <th scope="col">Status</th>
                <th scope="col">Last changed</th>
                {canWrite ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id}>
                  <th scope="row">
                    <Link to={`${base}/${t.id}`}>{t.name}</Link>
                    {t.language ? <span className="muted"> · {t.language}</span> : null}
                  </th>
                  <td className="col-medium">{t.channelLabel}</td>
                  <td>
                    {t.channel === "whatsapp" ? (
                      <WhatsAppTemplateStatus
                        status={t.status}
                        reason={t.statusReason}
                        sandbox={t.sandbox}
                      />
                    ) : (
                      <span className={["badge", STATUS_TONE[t.status]].filter(Boolean).join(" ")}>
                        {t.status === "ready" ? "Ready" : t.status}
                      </span>
                    )}
                  </td>
                  <td>
                    <time dateTime={t.updatedIso} title={t.updatedFull}>
                      {t.updated}
                    </time>
                  </td>
                  {canWrite ? (
                    <td>
                      {t.channel === "whatsapp" ? (
                        <span className="muted">
                          {t.sandbox ? "Reviewed in the sandbox" : "Managed in WhatsApp Manager"}
                        </span>
                      ) : (
                        <Link
                          to={`${pageUrl(page)}${channel || page > 1 ? "&" : "?"}delete=${t.id}`}
                        >
                          Delete…<span className="visually-hidden"> {t.name}</span>
                        </Link>
                      )}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Pager label="Template pages" page={page} pages={pages} href={pageUrl} />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
