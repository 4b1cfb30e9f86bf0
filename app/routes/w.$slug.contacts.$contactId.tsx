import type { SubmissionResult } from "@conform-to/react";
import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useState } from "react";
import { z } from "zod";
import type { MessageContent } from "~/channels/types";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace } from "~/auth/workspace.server";
import { CopyField } from "~/components/copy-field";
import { Checkbox, FormErrors, TextArea } from "~/components/form";
import { contentSummary, MessageStatusBadge } from "~/components/message-status";
import { Button, ButtonLink } from "~/components/ui/button";
import { Field } from "~/components/ui/field";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { formatAttributeValue } from "~/domain/contacts/attributes.server";
import {
  addContactToList,
  deleteContact,
  eraseContact,
  getContactDetails,
  listContactTimeline,
  listLists,
  listTags,
  removeContactFromList,
  setConsent,
  tagContact,
  untagContact,
  type TimelineEvent,
} from "~/domain/contacts/contacts.server";
import { SUPPRESSION_REASON_LABELS } from "~/domain/contacts/suppressions.server";
import { connectedChannels, reachableChannels } from "~/domain/delivery/contact-reach.server";
import { listMessages, queueMessages } from "~/domain/delivery/outbox.server";
import { whatsappWindow } from "~/domain/delivery/replies.server";
import { contactTelegramLink, telegramBot } from "~/domain/delivery/telegram-links.server";
import { NOT_COUNTED_REASONS, type NotCountedReason } from "~/domain/delivery/not-counted";
import { countryName } from "~/domain/workspaces/options";
import { CHANNEL_LABELS, CHANNELS, type Channel } from "~/lib/channels";
import { ForbiddenError, ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { formatDateTime } from "~/lib/format";
import { parseId } from "~/lib/ids";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.contact.title ?? "Contact"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

const id = (what: string) =>
  z.coerce
    .number({ error: `Choose ${what}.` })
    .int(`Choose ${what}.`)
    .positive(`Choose ${what}.`)
    .max(Number.MAX_SAFE_INTEGER, `Choose ${what}.`);

const Consent = z.object({
  channel: z.enum(CHANNELS, { error: "Choose a channel." }),
  status: z.enum(["granted", "withdrawn"], { error: "Choose granted or withdrawn." }),
  source: z.string().max(200, "Keep the source under 200 characters.").optional(),
});
const AddTag = z.object({
  name: z
    .string({ error: "Type a tag." })
    .trim()
    .min(1, "Type a tag.")
    .max(60, "Use at most 60 characters."),
});
const RemoveTag = z.object({ tagId: id("a tag") });
const AddList = z.object({ listId: id("a list") });
const RemoveList = z.object({ listId: id("a list") });
const Delete = z.object({ erase: z.literal("on").optional() });

const required = (what: string, max: number) =>
  z
    .string({ error: `Write the ${what}.` })
    .trim()
    .min(1, `Write the ${what}.`)
    .max(max, `Keep the ${what} under ${max.toLocaleString("en")} characters.`);
const Send = z
  .discriminatedUnion(
    "channel",
    [
      z.object({
        channel: z.literal("email"),
        emailSubject: required("subject", 200),
        emailBody: required("email text", 20_000),
      }),
      z.object({
        channel: z.literal("whatsapp"),
        whatsappType: z.enum(["text", "template"], { error: "Choose text or template." }),
        whatsappText: z
          .string()
          .trim()
          .max(4096, "Keep the text under 4,096 characters.")
          .optional(),
        whatsappTemplate: z
          .string()
          .trim()
          .max(512, "Template names are at most 512 characters.")
          .optional(),
        whatsappLanguage: z.string().trim().max(16).optional(),
        whatsappParams: z.string().max(10_000, "Keep the parameters shorter.").optional(),
      }),
      z.object({ channel: z.literal("sms"), smsText: required("SMS text", 1600) }),
      z.object({ channel: z.literal("telegram"), telegramText: required("message", 4096) }),
    ],
    { error: "Choose a channel." },
  )
  .superRefine((value, ctx) => {
    if (value.channel !== "whatsapp") return;
    if (value.whatsappType === "text") {
      if (!value.whatsappText) {
        ctx.addIssue({ code: "custom", path: ["whatsappText"], message: "Write the text." });
      }
      return;
    }
    if (!value.whatsappTemplate || !/^[a-z0-9_]+$/.test(value.whatsappTemplate)) {
      ctx.addIssue({
        code: "custom",
        path: ["whatsappTemplate"],
        message: "Enter the template's name as approved by Meta: lower-case letters, digits, _.",
      });
    }
    if (value.whatsappLanguage && !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(value.whatsappLanguage)) {
      ctx.addIssue({
        code: "custom",
        path: ["whatsappLanguage"],
        message: "Enter a language code such as en, hi or en_US.",
      });
    }
  });

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** The form's values as the content the outbox sends. */
function contentFrom(value: z.output<typeof Send>): MessageContent {
  switch (value.channel) {
    case "email":
      return {
        channel: "email",
        subject: value.emailSubject,
        text: value.emailBody,
        html: value.emailBody.replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/\r?\n/g, "<br>\n"),
      };
    case "whatsapp":
      return value.whatsappType === "text"
        ? { channel: "whatsapp", type: "text", text: value.whatsappText ?? "" }
        : {
            channel: "whatsapp",
            type: "template",
            name: value.whatsappTemplate ?? "",
            language: value.whatsappLanguage || "en",
            bodyParams: (value.whatsappParams ?? "")
              .split(/\r?\n/)
              .map((p) => p.trim())
              .filter(Boolean),
          };
    case "sms":
      return { channel: "sms", text: value.smsText };
    case "telegram":
      return { channel: "telegram", text: value.telegramText };
  }
}

function describe(event: TimelineEvent): string {
  const d = event.data;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  const channel = event.channel ? CHANNEL_LABELS[event.channel] : "";
  switch (event.type) {
    case "contact.created": {
      const by = text(d.by);
      const how =
        by === "api_key"
          ? " through the API"
          : by === "system" || by === "cli"
            ? " by an import"
            : " by a team member";
      return `Contact created${how}`;
    }
    case "contact.updated": {
      const fields = Array.isArray(d.fields) ? d.fields.map(String) : [];
      const attributes = Array.isArray(d.attributes) ? d.attributes.map(String) : [];
      const all = [...fields, ...attributes.map((a) => `attribute ${a}`)];
      return all.length ? `Details changed: ${all.join(", ")}` : "Details changed";
    }
    case "consent.granted":
      return `${channel} consent granted. Source: ${text(d.source)}`;
    case "consent.withdrawn":
      return `${channel} consent withdrawn. Source: ${text(d.source)}`;
    case "tag.added":
      return `Tagged “${text(d.tag)}”`;
    case "tag.removed":
      return `Tag “${text(d.tag)}” removed`;
    case "list.added":
      return `Added to the list “${text(d.list)}”`;
    case "list.removed":
      return `Removed from the list “${text(d.list)}”`;
    case "message.replied":
      return `Wrote on ${channel || "a channel"}: “${text(d.text)}”`;
    case "contact.suppressed": {
      const reason = text(d.reason) as keyof typeof SUPPRESSION_REASON_LABELS;
      const label = SUPPRESSION_REASON_LABELS[reason] ?? reason;
      return `Suppressed on ${channel || "all channels"} (${label.toLowerCase()})`;
    }
    case "message.open_not_counted":
    case "message.click_not_counted": {
      const what = event.type === "message.open_not_counted" ? "Open" : "Click";
      const reason = NOT_COUNTED_REASONS[text(d.reason) as NotCountedReason];
      return `${what} not counted${channel ? ` (${channel})` : ""}: ${reason ?? "not a person"}`;
    }
    default: {
      const words = event.type.replace(/[._]/g, " ");
      const sentence = words.charAt(0).toUpperCase() + words.slice(1);
      return channel ? `${sentence} (${channel})` : sentence;
    }
  }
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const contactId = parseId(args.params.contactId, "Contact");
  const details = getContactDetails(wctx, contactId);
  const url = new URL(args.request.url);
  const eventsCursor = url.searchParams.get("events") ?? undefined;
  let timeline: ReturnType<typeof listContactTimeline>;
  let timelineError: string | null = null;
  try {
    timeline = listContactTimeline(wctx, contactId, { before: eventsCursor, limit: 50 });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    timelineError = error.message;
    timeline = listContactTimeline(wctx, contactId, { limit: 50 });
  }
  const tz = workspace.timezone;
  const when = (d: Date) => ({ text: formatDateTime(d, tz), iso: d.toISOString() });
  const c = details.contact;
  const write = can(role, "contacts:write");
  const memberOf = new Set(details.lists.map((l) => l.id));
  const reachable = reachableChannels(wctx, contactId);
  const connected = connectedChannels(workspace.id);
  const bot = write ? telegramBot(workspace.id) : null;
  return data(
    {
      workspace: { name: workspace.name, slug: workspace.slug },
      canWrite: write,
      contact: {
        id: c.id,
        title: c.name || c.email || c.phone || `Contact #${c.id}`,
        name: c.name,
        email: c.email,
        phone: c.phone,
        country: c.country ? `${countryName(c.country)} (${c.country})` : null,
        created: when(c.createdAt),
        updated: when(c.updatedAt),
      },
      attributes: details.definitions.map((d) => ({
        key: d.key,
        label: d.label,
        value: formatAttributeValue(c.attributes[d.key]),
      })),
      consents: details.consents.map((s) => ({
        channel: s.channel,
        label: CHANNEL_LABELS[s.channel],
        status: s.status,
        source: s.source,
        at: s.at ? when(s.at) : null,
        suppressed: [
          ...new Set(s.suppressed.map((x) => SUPPRESSION_REASON_LABELS[x.reason].toLowerCase())),
        ],
      })),
      suppressed: details.suppressions.length > 0,
      tags: details.tags,
      lists: details.lists.map((l) => ({ id: l.id, name: l.name, added: when(l.addedAt) })),
      tagNames: write ? listTags(wctx, { counts: false }).map((t) => t.name) : [],
      otherLists: write
        ? listLists(wctx, { counts: false })
            .filter((l) => !memberOf.has(l.id))
            .map((l) => ({ id: l.id, name: l.name }))
        : [],
      timeline: timeline.events.map((e) => ({
        id: e.id,
        at: when(e.at),
        text: describe(e),
      })),
      timelineNext: timeline.next,
      timelinePaged: Boolean(eventsCursor) && !timelineError,
      timelineError,
      deleting: write && url.searchParams.has("delete"),
      send: can(role, "campaigns:write")
        ? {
            channels: reachable.map((channel) => ({
              value: channel,
              label: CHANNEL_LABELS[channel],
              sandbox: !connected.includes(channel),
            })),
          }
        : null,
      messages: can(role, "campaigns:read")
        ? listMessages(wctx, { contactId, limit: 10 }).rows.map((m) => ({
            id: m.id,
            at: when(m.createdAt),
            channel: CHANNEL_LABELS[m.channel],
            summary: contentSummary(m.content),
            status: m.status,
            sandbox: m.integrationId === null,
            error: m.error,
          }))
        : null,
      whatsappWindow: can(role, "campaigns:read")
        ? (() => {
            const w = whatsappWindow(wctx, contactId);
            return w.openUntil ? when(w.openUntil) : null;
          })()
        : null,
      telegram: bot
        ? { linked: reachable.includes("telegram"), canLink: bot.username !== null }
        : null,
    },
    { status: timelineError ? 400 : 200 },
  );
}

export async function action(args: ActionFunctionArgs) {
  const { workspace, wctx, role } = await requireWorkspace(args, "contacts:read");
  const contactId = parseId(args.params.contactId, "Contact");
  const formData = await args.request.formData();
  const intent = formData.get("intent");
  // Sending a message is campaign work; everything else on this page edits the contact.
  const needed: Permission = intent === "send" ? "campaigns:write" : "contacts:write";
  if (!can(role, needed)) throw new ForbiddenError();
  const page = `/w/${workspace.slug}/contacts/${contactId}`;
  switch (intent) {
    case "send":
      return submitForm(formData, Send, (value) => {
        const summary = queueMessages(wctx, [
          { contactId, channel: value.channel, kind: "service", content: contentFrom(value) },
        ]);
        const label = CHANNEL_LABELS[value.channel];
        if (summary.queued > 0) {
          const sandbox = !connectedChannels(workspace.id).includes(value.channel);
          return redirectWithFlash(
            page,
            sandbox
              ? `${label} message queued in the sandbox: it is kept here and reaches nobody. See it under Messages.`
              : `${label} message queued. Its status appears under Messages.`,
          );
        }
        const reason = Object.keys(summary.skippedReasons)[0] ?? "it could not be queued";
        return redirectWithFlash(page, `${label} message not sent: ${reason}.`, "warning");
      });
    case "telegram-link": {
      const link = contactTelegramLink(wctx, contactId);
      if (!link.url) {
        return redirectWithFlash(
          page,
          "Test the Telegram connection in Channels first: the link needs the bot's name.",
          "warning",
        );
      }
      return data({ telegramLink: link.url }, { headers: { "Cache-Control": "no-store" } });
    }
    case "consent":
      return submitForm(formData, Consent, (value) => {
        const { changed } = setConsent(wctx, contactId, value.channel, value.status, value.source);
        const label = CHANNEL_LABELS[value.channel];
        return redirectWithFlash(
          page,
          changed
            ? `${label} consent ${value.status === "granted" ? "granted" : "withdrawn"}.`
            : `${label} consent was already like that: nothing changed.`,
          changed ? "success" : "info",
        );
      });
    case "add-tag":
      return submitForm(formData, AddTag, (value) => {
        const { added } = tagContact(wctx, contactId, value.name);
        return redirectWithFlash(
          page,
          added ? `Tagged “${value.name}”.` : "The contact already has that tag.",
          added ? "success" : "info",
        );
      });
    case "remove-tag":
      return submitForm(formData, RemoveTag, (value) => {
        untagContact(wctx, contactId, value.tagId);
        return redirectWithFlash(page, "Tag removed.");
      });
    case "add-list":
      return submitForm(formData, AddList, (value) => {
        const added = addContactToList(wctx, contactId, value.listId);
        return redirectWithFlash(
          page,
          added ? "Added to the list." : "The contact is already on that list.",
          added ? "success" : "info",
        );
      });
    case "remove-list":
      return submitForm(formData, RemoveList, (value) => {
        removeContactFromList(wctx, contactId, value.listId);
        return redirectWithFlash(page, "Removed from the list.");
      });
    case "delete":
      return submitForm(formData, Delete, (value) => {
        if (value.erase) eraseContact(wctx, contactId);
        else deleteContact(wctx, contactId);
        return redirectWithFlash(
          `/w/${workspace.slug}/contacts`,
          value.erase
            ? "Contact erased. Their email and phone stay on the suppression list as unreadable hashes, so they cannot be re-added."
            : "Contact deleted.",
        );
      });
    default:
      throw data(
        { message: "This form asked for something the page does not do." },
        { status: 400 },
      );
  }
}

function messages(result: SubmissionResult<string[]> | undefined): string[] {
  return Object.values(result?.error ?? {}).flatMap((m) => m ?? []);
}

type SendResult = SubmissionResult<string[]> | undefined;

function SendMessageForm({
  page,
  channels,
  result,
  busy,
}: {
  page: string;
  channels: { value: Channel; label: string; sandbox: boolean }[];
  result: SendResult;
  busy: boolean;
}) {
  const initial = (result?.initialValue ?? {}) as Record<string, string | undefined>;
  const errors = result?.error ?? {};
  const err = (name: string) => errors[name] ?? undefined;
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [channel, setChannel] = useState<Channel>(
    (channels.find((c) => c.value === initial.channel) ?? channels[0]!).value,
  );
  const [waType, setWaType] = useState(initial.whatsappType === "template" ? "template" : "text");
  // Without JavaScript every channel's fields show; the server reads the chosen channel's.
  const shown = (c: Channel) => !hydrated || channel === c;
  const has = (c: Channel) => channels.some((x) => x.value === c);
  return (
    <Form method="post" action={page} aria-label="Send a message">
      <input type="hidden" name="intent" value="send" />
      <FormErrors errors={errors[""] ?? undefined} />
      <div className="field">
        <label htmlFor="send-channel">Channel</label>
        <select
          id="send-channel"
          name="channel"
          defaultValue={channel}
          onChange={(e) => setChannel(e.currentTarget.value as Channel)}
          aria-describedby="send-channel-hint"
        >
          {channels.map((c) => (
            <option key={c.value} value={c.value}>
              {c.sandbox ? `${c.label} (sandbox)` : c.label}
            </option>
          ))}
        </select>
        <p id="send-channel-hint" className="field-hint">
          Only channels this contact has an address on. A sandbox channel keeps the message here and
          sends nothing.
        </p>
        {err("channel") ? <p className="field-error">{err("channel")!.join(" ")}</p> : null}
      </div>
      {has("email") ? (
        <fieldset className="field" hidden={!shown("email")} disabled={!shown("email")}>
          <legend>Email</legend>
          <Field
            label="Subject"
            name="emailSubject"
            maxLength={200}
            defaultValue={initial.emailSubject ?? ""}
            errors={err("emailSubject")}
          />
          <TextArea
            label="Email text"
            name="emailBody"
            rows={6}
            defaultValue={initial.emailBody ?? ""}
            errors={err("emailBody")}
          />
        </fieldset>
      ) : null}
      {has("whatsapp") ? (
        <fieldset className="field" hidden={!shown("whatsapp")} disabled={!shown("whatsapp")}>
          <legend>WhatsApp</legend>
          <div role="radiogroup" aria-label="WhatsApp message type" className="inline-form">
            <input
              id="wa-type-text"
              type="radio"
              name="whatsappType"
              value="text"
              defaultChecked={waType === "text"}
              onChange={() => setWaType("text")}
            />
            <label htmlFor="wa-type-text">Text (only within 24 hours of their last message)</label>
            <input
              id="wa-type-template"
              type="radio"
              name="whatsappType"
              value="template"
              defaultChecked={waType === "template"}
              onChange={() => setWaType("template")}
            />
            <label htmlFor="wa-type-template">Approved template</label>
          </div>
          {err("whatsappType") ? (
            <p className="field-error">{err("whatsappType")!.join(" ")}</p>
          ) : null}
          <div hidden={hydrated && waType !== "text"}>
            <TextArea
              label="WhatsApp text"
              name="whatsappText"
              maxLength={4096}
              defaultValue={initial.whatsappText ?? ""}
              errors={err("whatsappText")}
            />
          </div>
          <div hidden={hydrated && waType !== "template"}>
            <Field
              label="Template name"
              name="whatsappTemplate"
              autoComplete="off"
              spellCheck={false}
              defaultValue={initial.whatsappTemplate ?? ""}
              errors={err("whatsappTemplate")}
            />
            <Field
              label="Language code"
              name="whatsappLanguage"
              autoComplete="off"
              spellCheck={false}
              defaultValue={initial.whatsappLanguage ?? "en"}
              hint="As the template was approved: en, hi, en_US…"
              errors={err("whatsappLanguage")}
            />
            <TextArea
              label="Body parameters"
              name="whatsappParams"
              rows={3}
              defaultValue={initial.whatsappParams ?? ""}
              hint="One per line, in order: the first fills {{1}}, the second {{2}}, and so on."
              errors={err("whatsappParams")}
            />
          </div>
        </fieldset>
      ) : null}
      {has("sms") ? (
        <fieldset className="field" hidden={!shown("sms")} disabled={!shown("sms")}>
          <legend>SMS</legend>
          <TextArea
            label="SMS text"
            name="smsText"
            maxLength={1600}
            defaultValue={initial.smsText ?? ""}
            hint="160 characters fit one SMS (70 with Hindi or emoji); longer texts are split."
            errors={err("smsText")}
          />
        </fieldset>
      ) : null}
      {has("telegram") ? (
        <fieldset className="field" hidden={!shown("telegram")} disabled={!shown("telegram")}>
          <legend>Telegram</legend>
          <TextArea
            label="Telegram text"
            name="telegramText"
            maxLength={4096}
            defaultValue={initial.telegramText ?? ""}
            errors={err("telegramText")}
          />
        </fieldset>
      ) : null}
      <Button type="submit" disabled={busy}>
        Send message
      </Button>
    </Form>
  );
}

export default function ContactPage() {
  const d = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as
    SubmissionResult<string[]> | { telegramLink: string } | undefined;
  const telegramLink = actionData && "telegramLink" in actionData ? actionData.telegramLink : null;
  const result = actionData && !("telegramLink" in actionData) ? actionData : undefined;
  const busy = useNavigation().state === "submitting";
  const intent = result?.initialValue?.intent;
  const resultFor = (name: string) => (intent === name ? result : undefined);
  const consentResult = resultFor("consent");
  const consentChannel = consentResult?.initialValue?.channel as Channel | undefined;
  const base = `/w/${d.workspace.slug}/contacts`;
  const page = `${base}/${d.contact.id}`;
  const c = d.contact;

  return (
    <>
      <PageHeader
        title={c.title}
        description={
          <>
            <Link to={base}>Contacts</Link> · Contact #{c.id}
            {d.suppressed ? <span className="badge badge-warning">Suppressed</span> : null}
          </>
        }
        actions={
          d.canWrite ? (
            <>
              <ButtonLink to={`${page}/edit`}>Edit</ButtonLink>{" "}
              <ButtonLink to={`${page}?delete`} variant="danger">
                Delete…
              </ButtonLink>
            </>
          ) : null
        }
      />

      {d.deleting ? (
        <section className="card danger-zone" aria-labelledby="delete-heading">
          <h2 id="delete-heading" className="card-title">
            Delete {c.title}?
          </h2>
          <p>
            The contact, their consent records, tags, list memberships and timeline are deleted for
            good. This can&apos;t be undone.
          </p>
          <Form method="post" action={page}>
            <input type="hidden" name="intent" value="delete" />
            <FormErrors errors={messages(resultFor("delete"))} />
            <Checkbox
              name="erase"
              label="This is an erasure request: keep their email and phone on the suppression list (as unreadable hashes) so they are never imported or messaged again"
            />
            <div className="filters-actions">
              <Button variant="danger" type="submit" disabled={busy}>
                Delete contact
              </Button>
              <ButtonLink to={page}>Cancel</ButtonLink>
            </div>
          </Form>
        </section>
      ) : null}

      <Card title="Details">
        <dl className="details-grid">
          <div>
            <dt>Name</dt>
            <dd>{c.name || <span className="muted">Not given</span>}</dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>{c.email ?? <span className="muted">None</span>}</dd>
          </div>
          <div>
            <dt>Phone</dt>
            <dd>
              {c.phone ?? <span className="muted">None</span>}
              {c.country ? <span className="muted"> · {c.country}</span> : null}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <time dateTime={c.created.iso}>{c.created.text}</time>
            </dd>
          </div>
          <div>
            <dt>Last changed</dt>
            <dd>
              <time dateTime={c.updated.iso}>{c.updated.text}</time>
            </dd>
          </div>
        </dl>
      </Card>

      <Card title="Attributes">
        {d.attributes.length === 0 ? (
          <p className="muted">
            No custom attributes are defined.{" "}
            {d.canWrite ? <Link to={`${base}/attributes`}>Define attributes</Link> : null}
          </p>
        ) : (
          <dl className="details-grid">
            {d.attributes.map((a) => (
              <div key={a.key}>
                <dt>{a.label}</dt>
                <dd>{a.value || <span className="muted">Not set</span>}</dd>
              </div>
            ))}
          </dl>
        )}
      </Card>

      <section className="admin-section" aria-labelledby="consent-heading">
        <h2 id="consent-heading">Consent</h2>
        <p className="muted">
          Messages go out on a channel only with consent there. Granting needs a source you can
          prove, such as “signed up on website form”.
        </p>
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col">Since</th>
                {d.canWrite ? <th scope="col">Change</th> : null}
              </tr>
            </thead>
            <tbody>
              {d.consents.map((s) => {
                const errors =
                  consentChannel === s.channel ? (consentResult?.error ?? {}) : undefined;
                return (
                  <tr key={s.channel}>
                    <th scope="row">{s.label}</th>
                    <td>
                      {s.status === "granted" ? (
                        <span className="badge badge-success">Granted</span>
                      ) : s.status === "withdrawn" ? (
                        <span className="badge badge-warning">Withdrawn</span>
                      ) : (
                        <span className="muted">No consent recorded</span>
                      )}
                      {s.suppressed.length ? (
                        <span className="badge badge-warning">
                          Suppressed: {s.suppressed.join(", ")}
                        </span>
                      ) : null}
                    </td>
                    <td>{s.source ?? ""}</td>
                    <td>{s.at ? <time dateTime={s.at.iso}>{s.at.text}</time> : null}</td>
                    {d.canWrite ? (
                      <td>
                        <Form
                          // A new form after each change, so the source field starts empty.
                          key={`${s.channel}:${s.status ?? ""}:${s.at?.iso ?? ""}`}
                          method="post"
                          action={page}
                          className="inline-form"
                        >
                          <input type="hidden" name="intent" value="consent" />
                          <input type="hidden" name="channel" value={s.channel} />
                          <label className="visually-hidden" htmlFor={`status-${s.channel}`}>
                            New {s.label} consent status
                          </label>
                          <select
                            id={`status-${s.channel}`}
                            name="status"
                            defaultValue={s.status === "granted" ? "withdrawn" : "granted"}
                          >
                            <option value="granted">Granted</option>
                            <option value="withdrawn">Withdrawn</option>
                          </select>
                          <label className="visually-hidden" htmlFor={`source-${s.channel}`}>
                            Source of the {s.label} consent change
                          </label>
                          <input
                            id={`source-${s.channel}`}
                            name="source"
                            type="text"
                            maxLength={200}
                            placeholder="Source, e.g. website form"
                            aria-invalid={errors ? true : undefined}
                          />
                          <Button variant="secondary" type="submit" disabled={busy}>
                            Save<span className="visually-hidden"> {s.label} consent</span>
                          </Button>
                        </Form>
                        {errors ? (
                          <p className="field-error">
                            {Object.values(errors)
                              .flatMap((m) => m ?? [])
                              .join(" ")}
                          </p>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <section className="admin-section" aria-labelledby="tags-heading">
        <h2 id="tags-heading">Tags</h2>
        {d.tags.length === 0 ? <p className="muted">No tags.</p> : null}
        <ul className="checklist">
          {d.tags.map((t) => (
            <li key={t.id}>
              <Link to={`${base}?tag=${t.id}`}>{t.name}</Link>
              {d.canWrite ? (
                <Form method="post" action={page} className="inline-form">
                  <input type="hidden" name="intent" value="remove-tag" />
                  <input type="hidden" name="tagId" value={t.id} />
                  <Button variant="ghost" type="submit" disabled={busy}>
                    Remove<span className="visually-hidden"> tag {t.name}</span>
                  </Button>
                </Form>
              ) : null}
            </li>
          ))}
        </ul>
        <FormErrors errors={[...messages(resultFor("remove-tag"))]} />
        {d.canWrite ? (
          <Form method="post" action={page} className="inline-form">
            <input type="hidden" name="intent" value="add-tag" />
            <label htmlFor="new-tag">Add a tag</label>
            <input
              id="new-tag"
              name="name"
              type="text"
              maxLength={60}
              list="tag-names"
              autoComplete="off"
            />
            <datalist id="tag-names">
              {d.tagNames.map((n) => (
                <option key={n} value={n} />
              ))}
            </datalist>
            <Button variant="secondary" type="submit" disabled={busy}>
              Add tag
            </Button>
          </Form>
        ) : null}
        <FormErrors errors={messages(resultFor("add-tag"))} />
      </section>

      <section className="admin-section" aria-labelledby="lists-heading">
        <h2 id="lists-heading">Lists</h2>
        {d.lists.length === 0 ? <p className="muted">Not on any list.</p> : null}
        <ul className="checklist">
          {d.lists.map((l) => (
            <li key={l.id}>
              <Link to={`${base}?list=${l.id}`}>{l.name}</Link>{" "}
              <span className="muted">
                since <time dateTime={l.added.iso}>{l.added.text}</time>
              </span>
              {d.canWrite ? (
                <Form method="post" action={page} className="inline-form">
                  <input type="hidden" name="intent" value="remove-list" />
                  <input type="hidden" name="listId" value={l.id} />
                  <Button variant="ghost" type="submit" disabled={busy}>
                    Remove<span className="visually-hidden"> from {l.name}</span>
                  </Button>
                </Form>
              ) : null}
            </li>
          ))}
        </ul>
        <FormErrors
          errors={[...messages(resultFor("remove-list")), ...messages(resultFor("add-list"))]}
        />
        {d.canWrite ? (
          d.otherLists.length ? (
            <Form method="post" action={page} className="inline-form">
              <input type="hidden" name="intent" value="add-list" />
              <label htmlFor="add-list">Add to list</label>
              <select id="add-list" name="listId">
                {d.otherLists.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
              <Button variant="secondary" type="submit" disabled={busy}>
                Add
              </Button>
            </Form>
          ) : (
            <p className="muted">
              <Link to={`${base}/lists`}>Create a list</Link> to add this contact to it.
            </p>
          )
        ) : null}
      </section>

      {d.send ? (
        <section className="card" aria-labelledby="send-heading">
          <h2 id="send-heading" className="card-title">
            Send a message
          </h2>
          {d.send.channels.length === 0 ? (
            <p className="muted">
              {c.title} has no email address, phone number or linked Telegram chat to send to.
            </p>
          ) : (
            <>
              <p className="field-hint">
                A one-off service message to this person, such as an answer to their question. It
                needs no marketing consent, but never goes to anyone on the suppression list.
              </p>
              <SendMessageForm
                key={d.messages?.[0]?.id ?? "none"}
                page={page}
                channels={d.send.channels}
                result={resultFor("send")}
                busy={busy}
              />
            </>
          )}
        </section>
      ) : null}

      {d.telegram ? (
        <section className="card" aria-labelledby="telegram-heading">
          <h2 id="telegram-heading" className="card-title">
            Telegram
          </h2>
          <p>
            {d.telegram.linked
              ? "Linked to a Telegram chat with your bot."
              : "Not linked yet: a bot can only write to people who started a chat with it."}
          </p>
          {telegramLink ? (
            <CopyField
              label="Telegram link for this contact"
              value={telegramLink}
              hint="Send it to them: when they open it and press Start, their chat is linked to this contact. It works once."
            />
          ) : d.telegram.canLink ? (
            <Form method="post" action={page}>
              <input type="hidden" name="intent" value="telegram-link" />
              <Button type="submit" variant="secondary" disabled={busy}>
                Telegram link for this contact
              </Button>
            </Form>
          ) : (
            <p className="muted">
              <Link to={`/w/${d.workspace.slug}/settings/channels`}>
                Test the Telegram connection
              </Link>{" "}
              to get the bot&apos;s link.
            </p>
          )}
        </section>
      ) : null}

      {d.messages ? (
        <section className="admin-section" aria-labelledby="messages-heading">
          <h2 id="messages-heading">Messages</h2>
          {d.whatsappWindow ? (
            <p>
              <strong>WhatsApp 24-hour window open</strong> until{" "}
              <time dateTime={d.whatsappWindow.iso}>{d.whatsappWindow.text}</time>: free-form
              WhatsApp messages can be sent until then.
            </p>
          ) : null}
          {d.messages.length === 0 ? (
            <EmptyState title="No messages yet">Messages to this contact appear here.</EmptyState>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <caption className="visually-hidden">The 10 newest messages, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Created</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Message</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {d.messages.map((m) => (
                    <tr key={m.id}>
                      <td>
                        <Link to={`/w/${d.workspace.slug}/messages/${m.id}`}>
                          <time dateTime={m.at.iso}>{m.at.text}</time>
                        </Link>
                      </td>
                      <td>{m.channel}</td>
                      <td>{m.summary}</td>
                      <td>
                        <MessageStatusBadge status={m.status} sandbox={m.sandbox} />
                        {m.error ? <span className="muted"> {m.error}</span> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}

      <section className="admin-section" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <FormErrors errors={d.timelineError ? [d.timelineError] : undefined} />
        {d.timeline.length === 0 ? (
          <EmptyState title="Nothing yet">
            Consent changes, edits and messages appear here.
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Timeline, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What happened</th>
                </tr>
              </thead>
              <tbody>
                {d.timeline.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <time dateTime={e.at.iso}>{e.at.text}</time>
                    </td>
                    <td>{e.text}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {d.timelinePaged || d.timelineNext ? (
          <nav className="pager" aria-label="Timeline pages">
            {d.timelinePaged ? <Link to={page}>Newest</Link> : <span />}
            {d.timelineNext ? (
              <Link to={`${page}?events=${encodeURIComponent(d.timelineNext)}`} rel="next">
                Older
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
