import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { PageHeader } from "~/components/ui/layout";
import { getConversation, STATUS_LABELS } from "~/domain/inbox/conversations.server";
import { canReply, loadInboxMember } from "~/domain/inbox/members.server";
import { sendReply } from "~/domain/inbox/replies.server";
import { composerData, insertAction, readPageForm, replyAction } from "./composer.server";
import { replyTemplates } from "~/domain/inbox/template-picker.server";
import { conversationThread } from "~/domain/inbox/thread.server";
import { replyWindow } from "~/domain/inbox/window.server";
import { setConversationStatus } from "~/domain/inbox/conversations.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import type { FormResult } from "~/lib/form-result";
import { formatDateTime, formatDateTimeCompact } from "~/lib/format";
import { parseId } from "~/lib/ids";
import { Composer } from "./composer";
import { Details } from "./details";
import { SNOOZE_CHOICES, Status, TemplateReply } from "./schemas";
import { StatusActions } from "./status-actions";
import { Thread } from "./thread";
import { WindowBanner, windowLeftText } from "./window-banner";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: `${data?.conversation.contactName ?? "Conversation"} — Inbox — Pleisys Engage` },
];

export const headers = () => ({ "Cache-Control": "no-store" });

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "inbox:read");
  const id = parseId(args.params.conversationId, "Conversation");
  const member = loadInboxMember(wctx, wctx.userId, role);
  const c = getConversation(wctx, member, id);
  const before = new URL(args.request.url).searchParams.get("before") ?? undefined;
  const thread = conversationThread(wctx, id, { before });
  const window = replyWindow(wctx, c);
  const now = wctx.now();
  const tz = workspace.timezone;
  const when = (d: Date) => ({
    iso: d.toISOString(),
    text: formatDateTimeCompact(d, tz, now),
    full: formatDateTime(d, tz),
  });
  const contactName =
    c.contact.name || c.contact.phone || c.contact.email || `Contact ${c.contact.id}`;
  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    canReply: canReply(member),
    conversation: {
      id: c.id,
      status: c.status,
      statusLabel: STATUS_LABELS[c.status],
      channel: c.channel,
      channelLabel: CHANNEL_LABELS[c.channel],
      contactId: c.contact.id,
      contactName,
      contactAddress: c.contact.phone ?? c.contact.email ?? null,
      assignee: c.assignee?.name || null,
      team: c.team?.name ?? null,
      labels: c.labels,
      snoozedUntil: c.snoozedUntil ? formatDateTime(c.snoozedUntil, tz) : null,
      created: formatDateTime(c.createdAt, tz),
    },
    composer: composerData(wctx, wctx.userId, id),
    emailSubject: c.lastCampaign ? `Re: ${c.lastCampaign.name}` : "Your message",
    window:
      window.state === "open"
        ? {
            state: "open" as const,
            closesAt: window.closesAt.toISOString(),
            closesText: formatDateTime(window.closesAt, tz),
            leftText: windowLeftText(window.closesAt.getTime() - now.getTime()),
          }
        : window,
    templates:
      window.state === "template-only" && canReply(member) ? replyTemplates(wctx, c.contactId) : [],
    thread: {
      before: thread.before,
      items: thread.items.map((item) => {
        const at = when(item.at);
        switch (item.type) {
          case "in":
            return { type: item.type, key: item.key, at, text: item.text, campaign: item.campaign };
          case "out":
            return {
              type: item.type,
              key: item.key,
              at,
              text: item.text,
              template: item.template,
              campaign: item.campaign,
              status: item.status,
              error: item.error,
              author: item.author?.name || null,
            };
          case "note":
          case "event":
            return {
              type: item.type,
              key: item.key,
              at,
              text: item.body || (item.kind === "created" ? "Conversation started" : item.kind),
              body: item.body,
              actor: item.actor?.name || null,
            };
        }
      }),
    },
  };
}

export type ConversationPageData = ReturnType<typeof useLoaderData<typeof loader>>;

const NEEDS = {
  reply: "inbox:reply",
  insert: "inbox:reply",
  template: "inbox:reply",
  status: "inbox:reply",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await readPageForm(args.request);
  if (!(formData instanceof FormData)) return formData;
  const { workspace, wctx, role, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const id = parseId(args.params.conversationId, "Conversation");
  const member = loadInboxMember(wctx, wctx.userId, role);
  const page = `/w/${workspace.slug}/inbox/${id}`;
  switch (intent) {
    case "reply":
      return replyAction(wctx, member, id, formData, page);
    case "insert":
      return insertAction(wctx, member, id, formData);
    case "template":
      return submitForm(formData, TemplateReply, (value) => {
        sendReply(wctx, member, id, {
          channel: "whatsapp",
          whatsappType: "template",
          whatsappTemplate: value.templateName,
          whatsappLanguage: value.language,
          whatsappParams: value.params ?? "",
        });
        return redirectWithFlash(page, "Template queued.");
      });
    case "status":
      return submitForm(formData, Status, (value) => {
        const ms = value.status === "snoozed" ? SNOOZE_CHOICES[value.snooze ?? "reply"].ms : null;
        setConversationStatus(wctx, member, id, value.status, {
          snoozeUntil: ms === null ? null : new Date(wctx.now().getTime() + ms),
        });
        return redirectWithFlash(
          page,
          `Conversation ${STATUS_LABELS[value.status].toLowerCase()}.`,
        );
      });
  }
}

export default function ConversationPage() {
  const d = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() as FormResult<unknown> | undefined;
  const c = d.conversation;
  return (
    <>
      <PageHeader
        title={c.contactName}
        description={
          <>
            {c.channelLabel} · {c.statusLabel}
            {c.snoozedUntil ? ` until ${c.snoozedUntil}` : ""} ·{" "}
            <Link to={`/w/${d.workspace.slug}/inbox`}>Back to the inbox</Link>
          </>
        }
      />
      <div className="inbox-conversation">
        <div className="inbox-main">
          <StatusActions d={d} result={result} />
          <Thread d={d} />
          <WindowBanner window={d.window} />
          <Composer d={d} result={result} />
        </div>
        <aside className="inbox-side" aria-label="Conversation details">
          <Details d={d} />
        </aside>
      </div>
    </>
  );
}
