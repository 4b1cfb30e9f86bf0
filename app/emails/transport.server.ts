import { SendEmailCommand, SESv2Client, SESv2ServiceException } from "@aws-sdk/client-sesv2";
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { buildRawMime, checkHeaders, MimeError } from "~/channels/email-mime.server";
import { getEnv, type Env } from "~/lib/env.server";
import { logger } from "~/lib/logger.server";

/**
 * Platform (transactional) mail transport. With SES_REGION and both SES keys set, mail goes
 * through SES v2 as a raw MIME message built here (so custom headers such as List-Unsubscribe
 * reach the recipient unchanged). Otherwise each message is written, never sent, as an .eml
 * file under DATA_DIR/mail/ (mode 0600), where the dev mailbox lists it.
 */

export interface OutgoingMail {
  /** Exactly one address, without a display name. */
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers (e.g. List-Unsubscribe). Standard address/MIME headers cannot be overridden. */
  headers?: Record<string, string>;
}

export interface SentMail {
  /** SES MessageId, or the file mailbox id. */
  id: string;
}

/**
 * invalid: the message itself is malformed (our bug, never retried).
 * rejected: the provider refused this message or address (MessageRejected): retrying won't help.
 * throttled: sending too fast or over quota: retry later.
 * configuration: credentials, sender identity or account state: the operator must act.
 * unavailable: network, timeouts, provider 5xx, full disk: retry later.
 */
export type MailFailure = "invalid" | "rejected" | "throttled" | "configuration" | "unavailable";

export class MailTransportError extends Error {
  readonly failure: MailFailure;
  readonly retryable: boolean;
  /** The provider's error name, e.g. "MessageRejected" or "TooManyRequestsException". */
  readonly providerCode?: string;
  readonly httpStatus?: number;
  constructor(
    message: string,
    options: {
      failure: MailFailure;
      providerCode?: string;
      httpStatus?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "MailTransportError";
    this.failure = options.failure;
    this.retryable = options.failure === "throttled" || options.failure === "unavailable";
    this.providerCode = options.providerCode;
    this.httpStatus = options.httpStatus;
  }
}

export interface SesSettings {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Override of the SES API endpoint (tests, `npm run fakes`, VPC endpoints). */
  endpoint?: string;
}

export interface MailTransportConfig {
  /** The From header, e.g. `Pleisys Engage <no-reply@engage.pleisys.com>`. */
  from: string;
  /** Where file mail goes: `<dataDir>/mail/`. */
  dataDir: string;
  /** When present, mail is sent through SES; otherwise it is written to files. */
  ses?: SesSettings;
}

export interface MailTransport {
  readonly kind: "ses" | "file";
  send(message: OutgoingMail): Promise<SentMail>;
}

// ---------------------------------------------------------------------------------------------
// Validation: one recipient, no header injection.

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function invalid(message: string): MailTransportError {
  return new MailTransportError(message, { failure: "invalid" });
}

function validate(message: OutgoingMail): void {
  if (message.to.length > 254 || !ADDRESS.test(message.to)) {
    throw invalid("The recipient must be one plain email address");
  }
  if (!message.subject.trim() || CONTROL.test(message.subject)) {
    throw invalid("The subject must be one non-empty line");
  }
  try {
    checkHeaders(message.headers);
  } catch (error) {
    if (error instanceof MimeError) throw invalid(error.message);
    throw error;
  }
}

/** The RFC 5322 message, CRLF line ends, text and HTML as multipart/alternative. */
export async function buildMime(from: string, message: OutgoingMail): Promise<Buffer> {
  validate(message);
  const { raw } = await buildRawMime({ from, ...message });
  return raw;
}

// ---------------------------------------------------------------------------------------------
// SES v2.

/** SES error names, by what the caller should do about them. */
const SES_FAILURES: Record<string, MailFailure> = {
  MessageRejected: "rejected",
  BadRequestException: "rejected",
  TooManyRequestsException: "throttled",
  LimitExceededException: "throttled",
  ThrottlingException: "throttled",
  MailFromDomainNotVerifiedException: "configuration",
  AccountSuspendedException: "configuration",
  SendingPausedException: "configuration",
  NotFoundException: "configuration",
  AccessDeniedException: "configuration",
  UnrecognizedClientException: "configuration",
  InvalidSignatureException: "configuration",
  SignatureDoesNotMatch: "configuration",
  MissingAuthenticationTokenException: "configuration",
};

function sesFailure(error: unknown): MailTransportError {
  if (error instanceof SESv2ServiceException) {
    const status = error.$metadata?.httpStatusCode;
    const failure =
      SES_FAILURES[error.name] ??
      (status === 429
        ? "throttled"
        : status === 401 || status === 403
          ? "configuration"
          : status !== undefined && status >= 400 && status < 500
            ? "rejected"
            : "unavailable");
    return new MailTransportError(`SES refused the message (${error.name}): ${error.message}`, {
      failure,
      providerCode: error.name,
      httpStatus: status,
      cause: error,
    });
  }
  const code = (error as { code?: unknown; name?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  return new MailTransportError(
    `SES could not be reached (${typeof code === "string" ? code : typeof name === "string" ? name : "error"})`,
    { failure: "unavailable", cause: error },
  );
}

function sesTransport(config: MailTransportConfig & { ses: SesSettings }): MailTransport {
  const client = new SESv2Client({
    region: config.ses.region,
    endpoint: config.ses.endpoint,
    credentials: {
      accessKeyId: config.ses.accessKeyId,
      secretAccessKey: config.ses.secretAccessKey,
    },
    // The SDK retries throttling and 5xx with backoff; a request never hangs a page for long.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
  });
  return {
    kind: "ses",
    async send(message) {
      const raw = await buildMime(config.from, message);
      try {
        const result = await client.send(
          new SendEmailCommand({
            Destination: { ToAddresses: [message.to] },
            Content: { Raw: { Data: raw } },
          }),
        );
        if (!result.MessageId) {
          throw new MailTransportError("SES accepted the message without a MessageId", {
            failure: "unavailable",
          });
        }
        return { id: result.MessageId };
      } catch (error) {
        throw error instanceof MailTransportError ? error : sesFailure(error);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// File mailbox.

/** `20260610T140502123Z-0123456789abcdef`: sorts by time, then by a random suffix. */
const MAILBOX_ID = /^\d{8}T\d{9}Z-[0-9a-f]{16}$/;

export function isMailboxId(id: string): boolean {
  return MAILBOX_ID.test(id);
}

let lastStamp = 0;

/** Strictly increasing within a process, so "newest first" holds for mail sent in one ms. */
function nextStamp(): string {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return new Date(lastStamp).toISOString().replace(/[-:.]/g, "");
}

export function mailDir(dataDir: string): string {
  return join(dataDir, "mail");
}

function fileTransport(config: MailTransportConfig): MailTransport {
  const dir = mailDir(config.dataDir);
  return {
    kind: "file",
    async send(message) {
      const raw = await buildMime(config.from, message);
      const id = `${nextStamp()}-${randomBytes(8).toString("hex")}`;
      const temp = join(dir, `.${id}.tmp`);
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        // Written under a dot name, flushed, then renamed: readers never see half a message.
        const handle = await open(temp, "wx", 0o600);
        try {
          await handle.writeFile(raw);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, join(dir, `${id}.eml`));
      } catch (error) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw new MailTransportError(
          `Could not write the message to the file mailbox (${(error as NodeJS.ErrnoException).code ?? "error"})`,
          { failure: "unavailable", cause: error },
        );
      }
      return { id };
    },
  };
}

export function createMailTransport(config: MailTransportConfig): MailTransport {
  return config.ses ? sesTransport({ ...config, ses: config.ses }) : fileTransport(config);
}

/** SES is used only when the region and both keys are set. */
export function mailConfigFromEnv(env: Env): MailTransportConfig {
  const { SES_REGION, SES_ACCESS_KEY_ID, SES_SECRET_ACCESS_KEY } = env;
  const ses =
    SES_REGION && SES_ACCESS_KEY_ID && SES_SECRET_ACCESS_KEY
      ? {
          region: SES_REGION,
          accessKeyId: SES_ACCESS_KEY_ID,
          secretAccessKey: SES_SECRET_ACCESS_KEY,
          endpoint: env.SES_ENDPOINT,
        }
      : undefined;
  return { from: env.MAIL_FROM, dataDir: env.DATA_DIR, ses };
}

let defaultTransport: MailTransport | undefined;

function transport(): MailTransport {
  if (defaultTransport) return defaultTransport;
  const env = getEnv();
  const config = mailConfigFromEnv(env);
  const partial = [env.SES_REGION, env.SES_ACCESS_KEY_ID, env.SES_SECRET_ACCESS_KEY].some(Boolean);
  if (!config.ses && partial) {
    logger.warn(
      { dir: mailDir(env.DATA_DIR) },
      "SES is partly configured (SES_REGION, SES_ACCESS_KEY_ID and SES_SECRET_ACCESS_KEY are all " +
        "needed): transactional mail is written to files and NOT sent",
    );
  }
  defaultTransport = createMailTransport(config);
  return defaultTransport;
}

/** Sends (SES) or stores (file mailbox) one message. Throws MailTransportError. */
export function sendMail(message: OutgoingMail): Promise<SentMail> {
  return transport().send(message);
}

/** True when mail is written to DATA_DIR/mail instead of being sent. */
export function isFileMailbox(): boolean {
  return transport().kind === "file";
}

// ---------------------------------------------------------------------------------------------
// Reading the file mailbox: just enough MIME to show what we wrote ourselves.

export interface MailboxSummary {
  id: string;
  to: string;
  subject: string;
  /** ISO time: the Date header, else the time in the id. */
  date: string;
}

export interface MailboxMessage extends MailboxSummary {
  from: string;
  /** Top-level headers in order, decoded. */
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
}

interface Part {
  headers: { name: string; value: string }[];
  body: string;
}

function header(part: Part, name: string): string | undefined {
  return part.headers.find((h) => h.name.toLowerCase() === name)?.value;
}

function decodeBytes(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset || "utf-8").decode(bytes);
  } catch {
    return bytes.toString("utf8");
  }
}

function decodeQuotedPrintable(value: string): Buffer {
  const soft = value.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (=?charset?B|Q?...?=); whitespace between two of them is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_m, charset: string, enc: string, data) => {
      const bytes =
        enc.toUpperCase() === "B"
          ? Buffer.from(data as string, "base64")
          : decodeQuotedPrintable((data as string).replace(/_/g, " "));
      return decodeBytes(bytes, charset.split("*")[0]!);
    });
}

function parsePart(raw: string): Part {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : "";
  const headers: { name: string; value: string }[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon > 0)
      headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1) });
  }
  for (const h of headers) h.value = decodeWords(h.value.trim());
  return { headers, body };
}

function contentType(part: Part): { type: string; params: Record<string, string> } {
  const [type = "text/plain", ...rest] = (header(part, "content-type") ?? "text/plain").split(";");
  const params: Record<string, string> = {};
  for (const param of rest) {
    const eq = param.indexOf("=");
    if (eq < 0) continue;
    params[param.slice(0, eq).trim().toLowerCase()] = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
  }
  return { type: type.trim().toLowerCase(), params };
}

function collectBodies(part: Part, out: { text: string | null; html: string | null }, depth = 0) {
  const { type, params } = contentType(part);
  if (type.startsWith("multipart/") && params.boundary && depth < 5) {
    const delimiter = `--${params.boundary}`;
    const sections = part.body.split(new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}`));
    // sections[0] is the preamble; a section starting with "--" is the close delimiter.
    for (const section of sections.slice(1)) {
      if (section.startsWith("--")) break;
      collectBodies(parsePart(section.replace(/^[ \t]*\r?\n/, "")), out, depth + 1);
    }
    return;
  }
  if (/^attachment/i.test(header(part, "content-disposition") ?? "")) return;
  const encoding = (header(part, "content-transfer-encoding") ?? "7bit").toLowerCase();
  const bytes =
    encoding === "base64"
      ? Buffer.from(part.body.replace(/\s+/g, ""), "base64")
      : encoding === "quoted-printable"
        ? decodeQuotedPrintable(part.body)
        : Buffer.from(part.body, "utf8");
  const content = decodeBytes(bytes, params.charset ?? "utf-8").replace(/\r\n/g, "\n");
  if (type === "text/plain" && out.text === null) out.text = content;
  if (type === "text/html" && out.html === null) out.html = content;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function idTime(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id)!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`;
}

function summary(id: string, part: Part): MailboxSummary {
  const dateHeader = header(part, "date");
  const parsed = dateHeader ? new Date(dateHeader) : undefined;
  return {
    id,
    to: header(part, "to") ?? "",
    subject: header(part, "subject") ?? "",
    date: parsed && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : idTime(id),
  };
}

async function readMessageFile(dir: string, id: string): Promise<string | null> {
  try {
    return await readFile(join(dir, `${id}.eml`), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function mailboxIds(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names
    .filter((n) => n.endsWith(".eml") && isMailboxId(n.slice(0, -4)))
    .map((n) => n.slice(0, -4))
    .sort()
    .reverse();
}

/** Newest first. `dataDir` defaults to DATA_DIR. */
export async function listFileMailbox(
  { limit, offset }: { limit: number; offset: number },
  dataDir: string = getEnv().DATA_DIR,
): Promise<{ total: number; items: MailboxSummary[] }> {
  const dir = mailDir(dataDir);
  const ids = await mailboxIds(dir);
  const page = ids.slice(Math.max(0, offset), Math.max(0, offset) + Math.max(0, limit));
  const items: MailboxSummary[] = [];
  for (const id of page) {
    const raw = await readMessageFile(dir, id);
    if (raw !== null) items.push(summary(id, parsePart(raw)));
  }
  return { total: ids.length, items };
}

/** One stored message, or null when the id is malformed or unknown (never a path). */
export async function readFileMailboxMessage(
  id: string,
  dataDir: string = getEnv().DATA_DIR,
): Promise<MailboxMessage | null> {
  if (!isMailboxId(id)) return null;
  const raw = await readMessageFile(mailDir(dataDir), id);
  if (raw === null) return null;
  const root = parsePart(raw);
  const bodies = { text: null as string | null, html: null as string | null };
  collectBodies(root, bodies);
  return {
    ...summary(id, root),
    from: header(root, "from") ?? "",
    headers: root.headers,
    ...bodies,
  };
}
