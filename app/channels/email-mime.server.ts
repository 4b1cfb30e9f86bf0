import MailComposer from "nodemailer/lib/mail-composer";

/**
 * The one raw MIME builder for every email we send: platform mail (app/emails/transport) and
 * the marketing email adapters (SES, SMTP). nodemailer's MailComposer writes RFC 5322 with CRLF
 * line ends, text + HTML as multipart/alternative, RFC 2047 encoded non-ASCII headers, and never
 * reads files or URLs. Extra headers (List-Unsubscribe, List-Unsubscribe-Post, ...) are passed
 * through as given; long values may be folded, which unfolding undoes.
 */

export interface MimeMessage {
  /** RFC 5322 From, e.g. `Shop <news@shop.example>` or a plain address. */
  from: string;
  /** One plain address. */
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
  /** The Message-ID this answers, without angle brackets (written as In-Reply-To). */
  inReplyTo?: string;
  /** The thread's Message-IDs, oldest first, without angle brackets (written as References). */
  references?: string[];
}

export interface BuiltMime {
  raw: Buffer;
  /** The Message-ID header as written, with its angle brackets. */
  messageId: string;
}

/** Thrown for a message that can never be built (header injection, reserved header names). */
export class MimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MimeError";
  }
}

const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Headers MailComposer writes itself: a caller's copy would duplicate or contradict them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "from",
  "sender",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "in-reply-to",
  "references",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "return-path",
]);

/** Throws MimeError for a header that is reserved, badly named or more than one line. */
export function checkHeaders(headers: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new MimeError(`The header name ${JSON.stringify(name)} is not allowed`);
    }
    if (value.length > 2000 || CONTROL.test(value)) {
      throw new MimeError(`The value of the ${name} header must be one line`);
    }
  }
}

// id-left@id-right as written between angle brackets: nothing that could end or split it.
// eslint-disable-next-line no-control-regex
const MESSAGE_ID = /^[^\s<>\u0000-\u001f\u007f]{1,250}$/;

/** Whether an id (without angle brackets) can be written as In-Reply-To / References. */
export function isSendableMessageId(id: string): boolean {
  return MESSAGE_ID.test(id);
}

export async function buildRawMime(message: MimeMessage): Promise<BuiltMime> {
  checkHeaders(message.headers);
  for (const id of [message.inReplyTo ?? "", ...(message.references ?? [])]) {
    if (id !== "" && !isSendableMessageId(id)) {
      throw new MimeError(`${JSON.stringify(id.slice(0, 80))} is not a Message-ID`);
    }
  }
  for (const [field, value] of [
    ["From", message.from],
    ["To", message.to],
    ["Subject", message.subject],
    ["Reply-To", message.replyTo ?? ""],
  ] as const) {
    if (CONTROL.test(value)) throw new MimeError(`The ${field} header must be one line`);
  }
  const node = new MailComposer({
    from: message.from,
    to: message.to,
    ...(message.replyTo ? { replyTo: message.replyTo } : {}),
    subject: message.subject,
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
    ...(message.references?.length ? { references: message.references } : {}),
    text: message.text,
    html: message.html,
    headers: message.headers ?? {},
    newline: "windows",
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  const raw = await node.build();
  return { raw, messageId: node.messageId() };
}
