import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData, useRevalidator } from "@remix-run/react";
import { useEffect } from "react";
import { requireWorkspace } from "~/auth/workspace.server";
import { ProviderErrorText } from "~/components/provider-error";
import { MESSAGE_STATUS_LABELS, MessageStatusBadge } from "~/components/message-status";
import { Alert } from "~/components/ui/alert";
import { Card, PageHeader } from "~/components/ui/layout";
import { explainProviderError } from "~/domain/analytics/provider-error";
import { emailHtmlForDisplay, unsubscribeHeaders } from "~/domain/delivery/email-compose.server";
import { listIntegrations } from "~/domain/delivery/integrations.server";
import { getMessage, type MessageRow } from "~/domain/delivery/outbox.server";
import { repliesSince } from "~/domain/delivery/customer-replies.server";
import { whatsappWindow } from "~/domain/inbox/window.server";
import { simulationAhead } from "~/domain/delivery/whatsapp-sandbox.server";
import { CHANNEL_LABELS } from "~/lib/channels";
import { formatDateTime } from "~/lib/format";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  {
    title: `${data ? `${data.message.channelLabel} message` : "Message"} — ${data?.workspace.name ?? "Workspace"} — Pleisys Engage`,
  },
];

// The List-Unsubscribe links carry tokens that act for the recipient: never cache this page.
export const headers = () => ({ "Cache-Control": "no-store" });

/** The JSON body the WhatsApp Cloud API gets (POST /<phone-number-id>/messages). */
function whatsappPayload(message: MessageRow): string | null {
  const content = message.content;
  if (content?.channel !== "whatsapp") return null;
  const to = message.recipient.replace(/\D/g, "");
  if (content.type === "media") {
    // The file goes first to POST /<phone-number-id>/media; the message names what that returns.
    const { kind, filename } = content.media;
    const media = {
      id: "<media id returned by the upload>",
      ...(content.caption ? { caption: content.caption } : {}),
      ...(kind === "document" ? { filename } : {}),
    };
    return JSON.stringify(
      {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        type: kind,
        [kind]: media,
      },
      null,
      2,
    );
  }
  const body =
    content.type === "text"
      ? {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to,
          type: "text",
          text: { body: content.text, preview_url: false },
        }
      : {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to,
          type: "template",
          template: {
            name: content.name,
            language: { code: content.language },
            ...(content.bodyParams.length || content.header
              ? {
                  components: [
                    ...(content.header
                      ? [
                          {
                            type: "header",
                            parameters: [
                              {
                                type: content.header.format,
                                [content.header.format]: { link: content.header.link },
                              },
                            ],
                          },
                        ]
                      : []),
                    ...(content.bodyParams.length
                      ? [
                          {
                            type: "body",
                            parameters: content.bodyParams.map((text) => ({ type: "text", text })),
                          },
                        ]
                      : []),
                  ],
                }
              : {}),
          },
        };
  return JSON.stringify(body, null, 2);
}

export async function loader(args: LoaderFunctionArgs) {
  const { workspace, wctx } = await requireWorkspace(args, "campaigns:read");
  const message = getMessage(wctx, args.params.messageId ?? "");
  const tz = workspace.timezone;
  const when = (d: Date | null) =>
    d ? { text: formatDateTime(d, tz), iso: d.toISOString() } : null;
  const sandbox = message.integrationId === null;
  const content = message.content;

  let email: {
    headers: [string, string][];
    html: string;
    /** The sent HTML had an open pixel or tracked links that this copy leaves out. */
    trackingHidden: boolean;
    text: string;
  } | null = null;
  if (content?.channel === "email") {
    let from = content.from ?? null;
    if (!from) {
      const integration = message.integrationId
        ? listIntegrations(workspace.id).find((i) => i.id === message.integrationId)
        : undefined;
      from =
        integration?.fields.fromIdentity ??
        (sandbox
          ? "(the From address of the email account you connect)"
          : "(the From address of the email account that sent it)");
    }
    const headers: [string, string][] = [
      ["From", from],
      ["To", message.recipient],
      ["Subject", content.subject],
    ];
    if (content.replyTo) headers.push(["Reply-To", content.replyTo]);
    if (message.kind === "marketing" && message.contactId !== null) {
      const list = unsubscribeHeaders({
        workspaceId: workspace.id,
        contactId: message.contactId,
        channel: "email",
        messageId: message.id,
      });
      for (const [name, value] of Object.entries(list)) headers.push([name, value]);
    }
    // Shown without its open pixel and tracked links: looking at it is not the recipient opening it.
    const html = emailHtmlForDisplay(content.html);
    email = { headers, html, trackingHidden: html !== content.html, text: content.text };
  }

  const timeline = [
    { label: "Created", at: when(message.createdAt) },
    { label: "Sent", at: when(message.sentAt) },
    { label: "Delivered", at: when(message.deliveredAt) },
    { label: "Read", at: when(message.readAt) },
    { label: "Opened", at: when(message.openedAt) },
    { label: "Clicked", at: when(message.clickedAt) },
    {
      label: message.status === "bounced" ? "Bounced" : "Failed",
      at: when(message.failedAt),
    },
  ].filter((e): e is { label: string; at: { text: string; iso: string } } => e.at !== null);

  // What the person wrote back after this message (WhatsApp, SMS, Telegram), and for WhatsApp
  // the 24-hour window their last message opened.
  const replies =
    message.channel !== "email" && message.contactId !== null && message.sentAt
      ? repliesSince(wctx, message.contactId, message.channel, message.sentAt).map((r) => ({
          id: r.id,
          text: r.text,
          sandbox: r.sandbox,
          at: when(r.at)!,
        }))
      : [];
  const conversation =
    message.channel === "whatsapp" && message.contactId !== null
      ? whatsappWindow(wctx, message.contactId)
      : null;

  return {
    workspace: { name: workspace.name, slug: workspace.slug },
    replies,
    // The sandbox's receipts or reply for this message are still to come: the page refreshes.
    simulating: sandbox && simulationAhead(wctx, message.id),
    window: conversation
      ? {
          openUntil: when(conversation.openUntil),
          lastReplyAt: when(conversation.lastReplyAt),
        }
      : null,
    message: {
      id: message.id,
      channel: message.channel,
      channelLabel: CHANNEL_LABELS[message.channel],
      kind: message.kind,
      recipient: message.recipient,
      contactId: message.contactId,
      status: message.status,
      attempts: message.attempts,
      error: message.error,
      errorPlain: explainProviderError(message.error),
      sandbox,
      timeline,
      email,
      whatsapp: whatsappPayload(message),
      whatsappTemplate:
        content?.channel === "whatsapp" && content.type === "template"
          ? { name: content.name, language: content.language, params: content.bodyParams }
          : null,
      text: content?.channel === "sms" || content?.channel === "telegram" ? content.text : null,
      dltTemplateId: content?.channel === "sms" ? (content.dltTemplateId ?? null) : null,
      writtenAtSend: content === null,
    },
  };
}

const KIND_LABELS = {
  marketing: "Marketing (needs consent, carries unsubscribe)",
  service: "Service (a message to one person)",
  confirmation: "Opt-out confirmation",
} as const;

export default function MessagePage() {
  const {
    workspace,
    message: m,
    replies,
    window: replyWindow,
    simulating,
  } = useLoaderData<typeof loader>();
  const { revalidate, state } = useRevalidator();
  useEffect(() => {
    if (!simulating) return;
    const timer = setInterval(() => {
      if (state === "idle") revalidate();
    }, 2000);
    return () => clearInterval(timer);
  }, [simulating, revalidate, state]);
  const base = `/w/${workspace.slug}`;
  return (
    <>
      <PageHeader
        title={`${m.channelLabel} message to ${m.recipient || "nobody"}`}
        description={
          <>
            <Link to={`${base}/messages`}>Messages</Link> · {m.id}
          </>
        }
      />

      {m.sandbox ? (
        <Alert tone="warning" title="Sandbox: not sent to anyone">
          <p>
            No {m.channelLabel} account was connected when this message was queued, so it stayed in
            Pleisys Engage. Below is what would have been sent.
            {m.channel === "whatsapp"
              ? " Its delivered and read receipts, and any reply, are simulated by the sandbox."
              : null}{" "}
            <Link to={`${base}/settings/channels`}>Connect {m.channelLabel}</Link>
          </p>
        </Alert>
      ) : null}

      <Card title="Status">
        <p>
          <MessageStatusBadge status={m.status} sandbox={m.sandbox} />{" "}
          {m.status === "skipped" ? "This message was not sent." : null}
        </p>
        <dl className="details-grid">
          <div>
            <dt>Recipient</dt>
            <dd>
              {m.contactId !== null ? (
                <Link to={`${base}/contacts/${m.contactId}`}>{m.recipient || "No address"}</Link>
              ) : (
                m.recipient || "No address"
              )}
            </dd>
          </div>
          <div>
            <dt>Kind</dt>
            <dd>{KIND_LABELS[m.kind]}</dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>{m.attempts}</dd>
          </div>
          {m.error ? (
            <div>
              <dt>{m.status === "skipped" ? "Why it was not sent" : "Reason"}</dt>
              <dd>
                <ProviderErrorText plain={m.errorPlain} />
              </dd>
            </div>
          ) : null}
        </dl>
        <h3>Timeline</h3>
        <ol className="status-timeline">
          {m.timeline.map((e) => (
            <li key={e.label}>
              <strong>{e.label}</strong> <time dateTime={e.at.iso}>{e.at.text}</time>
              {(e.label === "Failed" || e.label === "Bounced") && m.error ? ` — ${m.error}` : null}
            </li>
          ))}
          {m.status === "queued" || m.status === "sending" ? (
            <li>
              <strong>{MESSAGE_STATUS_LABELS[m.status]}</strong>: waiting to be handed over
            </li>
          ) : null}
        </ol>
      </Card>

      {replyWindow || replies.length > 0 ? (
        <Card title="Replies">
          {replyWindow ? (
            <p>
              {replyWindow.openUntil ? (
                <>
                  <strong>24-hour window open</strong> until{" "}
                  <time dateTime={replyWindow.openUntil.iso}>{replyWindow.openUntil.text}</time>:
                  free-form WhatsApp messages can be sent to this person until then.
                </>
              ) : (
                <>
                  <strong>24-hour window closed</strong>
                  {replyWindow.lastReplyAt ? (
                    <>
                      {" "}
                      (they last wrote{" "}
                      <time dateTime={replyWindow.lastReplyAt.iso}>
                        {replyWindow.lastReplyAt.text}
                      </time>
                      )
                    </>
                  ) : null}
                  : only an approved template can start a conversation.
                </>
              )}
            </p>
          ) : null}
          {replies.length === 0 ? (
            <p className="muted">No reply yet.</p>
          ) : (
            <ol className="status-timeline" aria-label="Replies">
              {replies.map((r) => (
                <li key={r.id}>
                  <time dateTime={r.at.iso}>{r.at.text}</time>{" "}
                  {r.sandbox ? <span className="badge badge-warning">sandbox</span> : null}{" "}
                  <q>{r.text}</q>
                </li>
              ))}
            </ol>
          )}
        </Card>
      ) : null}

      {m.writtenAtSend ? (
        <p className="muted">
          This campaign message is written from its template, for this person, when it is sent.
        </p>
      ) : null}
      {m.email ? (
        <>
          <Card title={m.sandbox ? "Headers that would be sent" : "Headers"}>
            <div className="table-scroll">
              <table className="table">
                <tbody>
                  {m.email.headers.map(([name, value]) => (
                    <tr key={name}>
                      <th scope="row">{name}</th>
                      <td style={{ wordBreak: "break-all" }}>{value}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Card>
          <Card title="HTML part">
            {m.email.trackingHidden ? (
              <p className="field-hint">
                Shown without the open-tracking image and with each link going straight to its
                address, so looking at it here never counts as an open or a click.
              </p>
            ) : null}
            {/* sandbox="": no scripts, forms, navigation or same-origin access. */}
            <iframe
              title="HTML part of the email"
              sandbox=""
              srcDoc={m.email.html}
              className="message-html"
            />
          </Card>
          <Card title="Text part">
            <pre className="message-preview">{m.email.text}</pre>
          </Card>
        </>
      ) : null}

      {m.whatsapp ? (
        <Card title={m.sandbox ? "What Meta would get" : "What Meta got"}>
          {m.whatsappTemplate ? (
            <p>
              Template <code>{m.whatsappTemplate.name}</code> in{" "}
              <code>{m.whatsappTemplate.language}</code>
              {m.whatsappTemplate.params.length
                ? ` with ${m.whatsappTemplate.params.length} body parameter${m.whatsappTemplate.params.length === 1 ? "" : "s"}.`
                : ", no parameters."}
            </p>
          ) : null}
          <p className="field-hint">
            The JSON body of the Cloud API request (POST /&lt;phone-number-id&gt;/messages).
          </p>
          <pre className="message-preview">{m.whatsapp}</pre>
        </Card>
      ) : null}

      {m.text !== null ? (
        <Card title="Text">
          <pre className="message-preview">{m.text}</pre>
          {m.dltTemplateId ? (
            <p className="field-hint">DLT template ID: {m.dltTemplateId}</p>
          ) : null}
        </Card>
      ) : null}
    </>
  );
}

export { RouteErrorBoundary as ErrorBoundary } from "~/components/route-error-boundary";
