import {
  data,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { can, type Permission } from "~/auth/permissions";
import { requireWorkspace, requireWorkspaceIntent } from "~/auth/workspace.server";
import { CopyField } from "~/components/copy-field";
import { Checkbox, FormErrors } from "~/components/form";
import { contentSummary } from "~/components/message-status";
import { Button, ButtonLink } from "~/components/ui/button";
import { PageHeader } from "~/components/ui/layout";
import { formatAttributeValue } from "~/domain/contacts/attributes.server";
import { parseId } from "~/lib/ids";
import { changeMembership, listGroups } from "~/domain/contacts/groups.server";
import { deleteContact, eraseContact, getContactDetails } from "~/domain/contacts/contacts.server";
import { listContactTimeline } from "~/domain/contacts/timeline.server";
import { setConsent } from "~/domain/contacts/consent.server";
import { SUPPRESSION_REASON_LABELS } from "~/domain/contacts/suppressions.server";
import { connectedChannels, reachableChannels } from "~/domain/delivery/contact-reach.server";
import { listMessages, queueMessages } from "~/domain/delivery/outbox.server";
import { replyWindow } from "~/domain/inbox/window.server";
import { composeServiceMessage } from "~/domain/delivery/service-message.server";
import { contactTelegramLink, telegramBot } from "~/domain/delivery/telegram-links.server";
import { countryName } from "~/domain/workspaces/options";
import { CHANNEL_LABELS } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { redirectWithFlash } from "~/lib/flash.server";
import { submitForm } from "~/lib/form.server";
import { resultFor, resultMessages, type FormResult } from "~/lib/form-result";
import { formatDateTime } from "~/lib/format";
import { MessagesSection, TimelineSection } from "./activity";
import { ConsentSection } from "./consent-section";
import { DetailsCards } from "./details";
import { ListsSection, TagsSection } from "./memberships";
import {
  AddList,
  AddTag,
  Consent,
  Delete,
  RemoveList,
  RemoveTag,
  Send,
  TelegramLink,
} from "./schemas";
import { SendMessageForm } from "./send-message-form";
import { timelineSentence } from "./timeline.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data?.contact.title ?? "Contact"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

export const headers = () => ({ "Cache-Control": "no-store" });

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
      tagNames: write ? listGroups(wctx, "tag", { counts: false }).map((t) => t.name) : [],
      otherLists: write
        ? listGroups(wctx, "list", { counts: false })
            .filter((l) => !memberOf.has(l.id))
            .map((l) => ({ id: l.id, name: l.name }))
        : [],
      timeline: timeline.events.map((e) => ({
        id: e.id,
        at: when(e.at),
        text: timelineSentence(e),
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
            const w = replyWindow(wctx, { contactId, channel: "whatsapp" });
            return w.state === "open" ? when(w.closesAt) : null;
          })()
        : null,
      telegram: bot
        ? { linked: reachable.includes("telegram"), canLink: bot.username !== null }
        : null,
    },
    { status: timelineError ? 400 : 200 },
  );
}

export type ContactPageData = ReturnType<typeof useLoaderData<typeof loader>>;

/** Sending a message is campaign work; everything else on this page edits the contact. */
const NEEDS = {
  send: "campaigns:write",
  "telegram-link": "contacts:write",
  consent: "contacts:write",
  "add-tag": "contacts:write",
  "remove-tag": "contacts:write",
  "add-list": "contacts:write",
  "remove-list": "contacts:write",
  delete: "contacts:write",
} as const satisfies Record<string, Permission>;

export async function action(args: ActionFunctionArgs) {
  const formData = await args.request.formData();
  // Membership comes first even for a form we do not know: another workspace's page is not found.
  const { workspace, wctx, intent } = await requireWorkspaceIntent(args, formData, NEEDS);
  const contactId = parseId(args.params.contactId, "Contact");
  const page = `/w/${workspace.slug}/contacts/${contactId}`;
  switch (intent) {
    case "send":
      return submitForm(formData, Send, (value) => {
        const summary = queueMessages(wctx, [
          {
            contactId,
            channel: value.channel,
            kind: "service",
            content: composeServiceMessage(value),
          },
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
    case "telegram-link":
      return submitForm(formData, TelegramLink, async () => {
        const link = contactTelegramLink(wctx, contactId);
        if (!link.url) {
          return redirectWithFlash(
            page,
            "Test the Telegram connection in Channels first: the link needs the bot's name.",
            "warning",
          );
        }
        return data({ telegramLink: link.url }, { headers: { "Cache-Control": "no-store" } });
      });
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
        const added = changeMembership(wctx, "tag", contactId, "add", { name: value.name }).changed;
        return redirectWithFlash(
          page,
          added ? `Tagged “${value.name}”.` : "The contact already has that tag.",
          added ? "success" : "info",
        );
      });
    case "remove-tag":
      return submitForm(formData, RemoveTag, (value) => {
        changeMembership(wctx, "tag", contactId, "remove", { id: value.tagId });
        return redirectWithFlash(page, "Tag removed.");
      });
    case "add-list":
      return submitForm(formData, AddList, (value) => {
        const added = changeMembership(wctx, "list", contactId, "add", {
          id: value.listId,
        }).changed;
        return redirectWithFlash(
          page,
          added ? "Added to the list." : "The contact is already on that list.",
          added ? "success" : "info",
        );
      });
    case "remove-list":
      return submitForm(formData, RemoveList, (value) => {
        changeMembership(wctx, "list", contactId, "remove", { id: value.listId });
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
    default: {
      // Unreachable: the compiler refuses an intent in the enum without a case here.
      const unhandled: never = intent;
      throw new Error(`No handler for the intent ${String(unhandled)}`);
    }
  }
}

export default function ContactPage() {
  const d = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>() as
    FormResult | { telegramLink: string } | undefined;
  const telegramLink = actionData && "telegramLink" in actionData ? actionData.telegramLink : null;
  const result = actionData && !("telegramLink" in actionData) ? actionData : undefined;
  const busy = useNavigation().state === "submitting";
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
            <FormErrors errors={resultMessages(resultFor(result, "delete"))} />
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

      <DetailsCards d={d} base={base} />
      <ConsentSection d={d} page={page} busy={busy} consentResult={resultFor(result, "consent")} />
      <TagsSection d={d} base={base} page={page} busy={busy} result={result} />
      <ListsSection d={d} base={base} page={page} busy={busy} result={result} />

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
                result={resultFor(result, "send")}
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

      {d.messages ? <MessagesSection d={d} messages={d.messages} /> : null}
      <TimelineSection d={d} page={page} />
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
