import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { z } from "zod";
import type { Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { PageHeader } from "~/components/ui/layout";
import { attachmentsByIds } from "~/domain/inbox/attachments.server";
import { STATUS_LABELS } from "~/domain/inbox/conversations.server";
import { emailThreading } from "~/domain/inbox/email-threading.server";
import {
  assignFromConversation,
  labelConversation,
  noteOnConversation,
  openConversation,
  sidebarChoices,
} from "~/domain/inbox/sidebar.server";
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
import {
  Assign,
  LabelChange,
  Note,
  SetTeam,
  SNOOZE_CHOICES,
  Status,
  TemplateReply,
} from "./schemas";
import { AssignmentSection, LabelsSection, NotesSection } from "./sidebar";
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
  const c = openConversation(wctx, member, id);
  const before = new URL(args.request.url).searchParams.get("before") ?? undefined;
  const thread = conversationThread(wctx, id, { before });
  const window = replyWindow(wctx, c);
  const files = new Map(
    attachmentsByIds(
      wctx,
      thread.items.flatMap((i) => (i.type === "in" && i.attachmentId ? [i.attachmentId] : [])),
    ).map((a) => [a.id, a]),
  );
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
    me: member.userId,
    sidebar: sidebarChoices(wctx, c),
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
      assigneeId: c.assigneeId,
      team: c.team?.name ?? null,
      teamId: c.teamId,
      labels: c.labels,
      snoozedUntil: c.snoozedUntil ? formatDateTime(c.snoozedUntil, tz) : null,
      created: formatDateTime(c.createdAt, tz),
    },
    composer: composerData(
      wctx,
      wctx.userId,
      id,
      new URL(args.request.url).searchParams.get("useDraft"),
    ),
    emailSubject:
      c.channel === "email"
        ? emailThreading(wctx, c.id, c.lastCampaign ? `Re: ${c.lastCampaign.name}` : "Your message")
            .subject
        : "",
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
          case "in": {
            const file = item.attachmentId ? files.get(item.attachmentId) : undefined;
            return {
              type: item.type,
              key: item.key,
              at,
              text: item.text,
              campaign: item.campaign,
              automated: item.automated,
              attachment: file
                ? {
                    url: `/w/${workspace.slug}/inbox/attachments/${file.id}`,
                    kind: file.kind,
                    filename: file.filename,
                  }
                : null,
            };
          }
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

const EMPTY = z.object({});

const NEEDS = {
  reply: "inbox:reply",
  insert: "inbox:reply",
  template: "inbox:reply",
  status: "inbox:reply",
  assign: "inbox:reply",
  "assign-me": "inbox:reply",
  team: "inbox:reply",
  "label-add": "inbox:reply",
  "label-remove": "inbox:reply",
  note: "inbox:reply",
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
    case "assign":
      return submitForm(formData, Assign, (value) => {
        const done = assignFromConversation(wctx, member, id, { assigneeId: value.assigneeId });
        return redirectWithFlash(page, done.assigneeId ? "Assigned." : "Unassigned.");
      });
    case "assign-me":
      return submitForm(formData, EMPTY, () => {
        assignFromConversation(wctx, member, id, { assigneeId: member.userId });
        return redirectWithFlash(page, "Assigned to you.");
      });
    case "team":
      return submitForm(formData, SetTeam, (value) => {
        const done = assignFromConversation(wctx, member, id, { teamId: value.teamId });
        return redirectWithFlash(page, done.teamId === null ? "Team removed." : "Team set.");
      });
    case "label-add":
    case "label-remove":
      return submitForm(formData, LabelChange, (value) => {
        const change = intent === "label-add" ? "add" : "remove";
        labelConversation(wctx, member, id, value.labelId, change);
        return redirectWithFlash(page, change === "add" ? "Label added." : "Label removed.");
      });
    case "note":
      return submitForm(formData, Note, (value) => {
        noteOnConversation(wctx, member, id, value.body);
        return redirectWithFlash(page, "Note added.");
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
          <AssignmentSection d={d} result={result} />
          <LabelsSection d={d} result={result} />
          <NotesSection d={d} result={result} />
        </aside>
      </div>
    </>
  );
}
