/** How a message's status reads everywhere it is shown (history, contact page, one message). */

export type MessageStatusName =
  "queued" | "sending" | "sent" | "delivered" | "read" | "failed" | "bounced" | "skipped";

export const MESSAGE_STATUS_LABELS: Record<MessageStatusName, string> = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Failed",
  bounced: "Bounced",
  skipped: "Not sent",
};

const TONES: Record<MessageStatusName, string> = {
  queued: "badge",
  sending: "badge",
  sent: "badge",
  delivered: "badge badge-success",
  read: "badge badge-success",
  failed: "badge badge-danger",
  bounced: "badge badge-danger",
  skipped: "badge badge-warning",
};

export function MessageStatusBadge({
  status,
  sandbox,
}: {
  status: MessageStatusName;
  sandbox?: boolean;
}) {
  return (
    <>
      <span className={TONES[status]}>{MESSAGE_STATUS_LABELS[status]}</span>
      {sandbox ? (
        <span className="badge badge-warning" title="Kept in Pleisys Engage, not sent to anyone">
          sandbox
        </span>
      ) : null}
    </>
  );
}

type ContentLike =
  | { channel: "email"; subject: string }
  | { channel: "whatsapp"; type: "text"; text: string }
  | { channel: "whatsapp"; type: "template"; name: string }
  | { channel: "whatsapp"; type: "media"; media: { filename: string }; caption?: string }
  | { channel: "sms" | "telegram"; text: string };

/** One line saying what a message is: the subject, template or the start of the text. */
export function contentSummary(content: ContentLike | null, max = 80): string {
  // Campaign messages are written from their template when they are sent.
  if (!content) return "Campaign message (written when sent)";
  const line =
    content.channel === "email"
      ? content.subject
      : content.channel === "whatsapp" && content.type === "template"
        ? `Template ${content.name}`
        : content.channel === "whatsapp" && content.type === "media"
          ? [content.media.filename, content.caption].filter(Boolean).join(": ")
          : content.text;
  const flat = line.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
