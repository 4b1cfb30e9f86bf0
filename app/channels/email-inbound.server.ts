import PostalMime, { type Address, type Email } from "postal-mime";

/**
 * Inbound email (a customer's reply, a mail to the unsubscribe address) as raw RFC 822 bytes,
 * parsed with postal-mime: charsets and transfer encodings decoded, RFC 2047 headers decoded.
 * Only what the inbox needs is kept: who sent it, to whom, the threading headers, whether a
 * machine wrote it, and the new text without the quoted history.
 */

export interface InboundEmail {
  /** Message-ID without angle brackets; empty when the mail has none. */
  messageId: string;
  /** The sender's address, trimmed and lower-cased; empty when there is none. */
  from: string;
  fromName: string;
  /** Every To / Cc / Delivered-To address, lower-cased. */
  recipients: string[];
  subject: string;
  /** In-Reply-To and References ids, without angle brackets, nearest first. */
  replyingTo: string[];
  /**
   * The thread this mail belongs to as an answer would cite it: its References ids oldest first,
   * then its In-Reply-To id when References lacks it (RFC 5322 3.6.4).
   */
  references: string[];
  /** Auto-Submitted other than "no", or Precedence bulk/list/junk: never auto-answer it. */
  automated: boolean;
  /** The new text: quoted history stripped (the full text when stripping leaves nothing). */
  text: string;
  /** The whole text part (or the HTML part as text). */
  fullText: string;
  date: Date | null;
}

export class InboundEmailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InboundEmailError";
  }
}

/** Inbound mail larger than this is refused before parsing. */
export const MAX_INBOUND_EMAIL_BYTES = 10 * 1024 * 1024;

function header(email: Email, name: string): string {
  return email.headers.find((h) => h.key === name)?.value.trim() ?? "";
}

function addresses(list: Address[] | undefined): string[] {
  const out: string[] = [];
  for (const entry of list ?? []) {
    if (entry.group) out.push(...entry.group.map((m) => m.address));
    else if (entry.address) out.push(entry.address);
  }
  return out.map((a) => a.trim().toLowerCase()).filter(Boolean);
}

/** `<a@b> <c@d>` → ["a@b", "c@d"]. */
export function messageIds(value: string | undefined): string[] {
  const ids = [...(value ?? "").matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  if (ids.length === 0 && value?.trim() && !/\s/.test(value.trim())) ids.push(value.trim());
  return ids;
}

export function isAutomated(autoSubmitted: string, precedence: string): boolean {
  const auto = autoSubmitted.split(";")[0]!.trim().toLowerCase();
  if (auto !== "" && auto !== "no") return true;
  return ["bulk", "list", "junk"].includes(precedence.trim().toLowerCase());
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

/** HTML-only mail as plain text; quoted blocks (blockquote, Gmail/Outlook quotes) dropped. */
export function htmlToText(html: string, dropQuotes: boolean): string {
  let s = html.replace(/<(style|script|head)\b[^>]*>[\s\S]*?<\/\1>/gi, "");
  if (dropQuotes) {
    s = s
      .replace(/<blockquote\b[\s\S]*?<\/blockquote>/gi, "")
      .replace(/<div class="?gmail_quote[\s\S]*$/i, "")
      .replace(/<div id="?(appendonsend|divRplyFwdMsg)[\s\S]*$/i, "");
  }
  return s
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|li|tr|h[1-6])>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (all, code: string) => {
      if (code[0] === "#") {
        const n =
          code[1] === "x" || code[1] === "X"
            ? parseInt(code.slice(2), 16)
            : parseInt(code.slice(1), 10);
        return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : all;
      }
      return ENTITIES[code.toLowerCase()] ?? all;
    })
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Lines that open a quoted reply in the common clients (Gmail, Apple Mail, Outlook, Thunderbird). */
const QUOTE_OPENERS = [
  /^On\b[\s\S]{0,300}\bwrote:\s*$/i,
  /^Le\b[\s\S]{0,300}\ba écrit\s*:\s*$/i,
  /^Am\b[\s\S]{0,300}\bschrieb\b[\s\S]{0,100}:\s*$/i,
  /^-{2,}\s*Original Message\s*-{2,}\s*$/i,
  /^_{10,}\s*$/,
  /^From:\s.+$/i,
];

/**
 * The new part of a reply: everything above the first "On ... wrote:" (also when the client
 * wrapped that line in two) or "-----Original Message-----" line, without lines starting with
 * ">". The full text when that would leave nothing.
 */
export function stripQuotedHistory(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const joined = i + 1 < lines.length ? `${line} ${lines[i + 1]!.trim()}` : line;
    const opens = (l: string) => QUOTE_OPENERS.some((re) => re.test(l));
    if (opens(line) || (/^(On|Le|Am)\b/i.test(line) && opens(joined))) {
      // "From:" only opens a quote when an Outlook header block follows.
      if (/^From:/i.test(line) && !/^(Sent|Date|To|Subject):/i.test(lines[i + 1]?.trim() ?? "")) {
        continue;
      }
      end = i;
      break;
    }
  }
  const kept = lines
    .slice(0, end)
    .filter((l) => !l.trimStart().startsWith(">"))
    .join("\n")
    // A signature separator ends the message, as far as the inbox is concerned.
    .replace(/\n-- \n[\s\S]*$/, "")
    .trim();
  return kept === "" ? text.trim() : kept;
}

export async function parseInboundEmail(raw: Buffer | string): Promise<InboundEmail> {
  const size = typeof raw === "string" ? Buffer.byteLength(raw) : raw.length;
  if (size === 0) throw new InboundEmailError("The email is empty");
  if (size > MAX_INBOUND_EMAIL_BYTES) throw new InboundEmailError("The email is too large");
  let email: Email;
  try {
    email = await PostalMime.parse(raw, { maxNestingDepth: 50, maxPartCount: 500 });
  } catch (error) {
    throw new InboundEmailError(
      `The email could not be parsed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const from = email.from?.address ? email.from : undefined;
  if (!from?.address && email.headers.length === 0) {
    throw new InboundEmailError("This is not an email (no headers)");
  }
  const plain = email.text?.trim() ?? "";
  const fullText = plain !== "" ? plain : htmlToText(email.html ?? "", false);
  const stripped =
    plain !== "" ? stripQuotedHistory(plain) : htmlToText(email.html ?? "", true) || fullText;
  const date = email.date ? new Date(email.date) : null;
  return {
    messageId: messageIds(email.messageId)[0] ?? "",
    from: (from?.address ?? "").trim().toLowerCase(),
    fromName: from?.name?.trim() ?? "",
    recipients: [
      ...new Set([
        ...addresses(email.to),
        ...addresses(email.cc),
        ...(email.deliveredTo ? [email.deliveredTo.trim().toLowerCase()] : []),
      ]),
    ],
    subject: email.subject?.trim() ?? "",
    replyingTo: [
      ...new Set([...messageIds(email.inReplyTo), ...messageIds(email.references).reverse()]),
    ],
    references: [...new Set([...messageIds(email.references), ...messageIds(email.inReplyTo)])],
    automated: isAutomated(header(email, "auto-submitted"), header(email, "precedence")),
    text: stripQuotedHistory(stripped),
    fullText,
    date: date && !Number.isNaN(date.getTime()) ? date : null,
  };
}
