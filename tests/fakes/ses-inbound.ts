// SES email receiving, as a receipt rule with an SNS action publishes it: a "Received"
// notification (mail, receipt, content = the raw MIME, base64 or UTF-8 as the action's encoding
// says), signed by the SNS fake and POSTed to a URL like SNS does. Plus a small raw RFC 822
// writer for the mail itself.
import { randomBytes, randomUUID } from "node:crypto";
import type { SnsFake } from "./sns";

export interface RawEmailOptions {
  from: string;
  to: string;
  subject?: string;
  /** Plain-text body (omit for HTML-only mail). */
  text?: string;
  html?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string;
  /** Charset of the text part; the body is written in it (latin1 = iso-8859-1). */
  charset?: "utf-8" | "iso-8859-1";
  headers?: Record<string, string>;
}

/** A reply as a mail client writes it: CRLF, quoted-printable-free 8bit or base64 parts. */
export function rawEmail(options: RawEmailOptions): Buffer {
  const messageId = options.messageId ?? `<${randomUUID()}@mail.example.com>`;
  const head = [
    `From: ${options.from}`,
    `To: ${options.to}`,
    `Subject: ${options.subject ?? "Re: Monsoon sale"}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${messageId}`,
    ...(options.inReplyTo ? [`In-Reply-To: ${options.inReplyTo}`] : []),
    ...(options.references ? [`References: ${options.references}`] : []),
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    "MIME-Version: 1.0",
  ];
  const charset = options.charset ?? "utf-8";
  const part = (type: string, body: string) => {
    const bytes = Buffer.from(body, charset === "utf-8" ? "utf8" : "latin1");
    return [
      `Content-Type: ${type}; charset=${charset}`,
      "Content-Transfer-Encoding: base64",
      "",
      bytes.toString("base64").replace(/.{76}/g, "$&\r\n"),
    ].join("\r\n");
  };
  let body: string;
  if (options.text !== undefined && options.html !== undefined) {
    const boundary = `b_${randomBytes(8).toString("hex")}`;
    head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body = [
      `--${boundary}`,
      part("text/plain", options.text),
      `--${boundary}`,
      part("text/html", options.html),
      `--${boundary}--`,
      "",
    ].join("\r\n");
    return Buffer.from(`${head.join("\r\n")}\r\n\r\n${body}`, "latin1");
  }
  const [type, content] =
    options.text !== undefined ? ["text/plain", options.text] : ["text/html", options.html ?? ""];
  const single = part(type, content).split("\r\n");
  head.push(single[0]!, single[1]!);
  return Buffer.from(`${head.join("\r\n")}\r\n\r\n${single.slice(3).join("\r\n")}`, "latin1");
}

export interface SesReceivedOptions {
  raw: Buffer;
  /** The envelope recipients (receipt.recipients). */
  recipients: string[];
  encoding?: "BASE64" | "UTF-8";
  spam?: boolean;
}

/** The SNS Message of a "Received" notification, per AWS's documented example. */
export function sesReceived(options: SesReceivedOptions): Record<string, unknown> {
  const encoding = options.encoding ?? "BASE64";
  const at = new Date().toISOString();
  return {
    notificationType: "Received",
    mail: {
      timestamp: at,
      source: "sender@mail.example.com",
      messageId: randomBytes(16).toString("hex"),
      destination: options.recipients,
      headersTruncated: false,
      headers: [],
      commonHeaders: {},
    },
    receipt: {
      timestamp: at,
      processingTimeMillis: 420,
      recipients: options.recipients,
      spamVerdict: { status: options.spam ? "FAIL" : "PASS" },
      virusVerdict: { status: "PASS" },
      spfVerdict: { status: "PASS" },
      dkimVerdict: { status: "PASS" },
      dmarcVerdict: { status: "PASS" },
      action: {
        type: "SNS",
        topicArn: "arn:aws:sns:ap-south-1:123456789012:engage-inbound",
        encoding,
      },
    },
    content: encoding === "BASE64" ? options.raw.toString("base64") : options.raw.toString("utf8"),
  };
}

/** Delivers one received mail to `url` as a signed SNS Notification; resolves to the answer. */
export function deliverInboundMail(
  sns: SnsFake,
  url: string,
  options: SesReceivedOptions,
): Promise<{ status: number; body: string }> {
  return sns.deliver(
    url,
    sns.notification({
      message: sesReceived(options),
      topicArn: "arn:aws:sns:ap-south-1:123456789012:engage-inbound",
      subject: "Amazon SES Email Receipt Notification",
    }),
  );
}
