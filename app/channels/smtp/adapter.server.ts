import { createTransport } from "nodemailer";
import addressparser from "nodemailer/lib/addressparser";
import { buildRawMime, MimeError } from "../email-mime.server";
import {
  ProviderError,
  type ChannelAdapter,
  type ConnectionCheck,
  type ErrorClass,
  type OutgoingMessage,
  type SendResult,
} from "../types";

/**
 * Marketing email through the customer's own SMTP server (nodemailer, pooled connections).
 * The message is the same raw MIME as the SES adapter's. SMTP has no delivery webhooks: what
 * we learn is the server's reply to each command, classified here.
 */

export interface SmtpConfig {
  host: string;
  port: number;
  /** "tls": implicit TLS (usually 465); "starttls": plain then STARTTLS, required (587); "none". */
  tlsMode: "tls" | "starttls" | "none";
  user?: string;
  password?: string;
  /** `Shop <news@shop.example>` or a plain address; its address is also the envelope sender. */
  fromIdentity: string;
}

export interface SmtpAdapterOptions {
  /** Connect, greeting and per-command inactivity timeout; default 15 s. */
  timeoutMs?: number;
  /** Parallel connections in the pool; default 5. */
  maxConnections?: number;
  /** Accept a self-signed server certificate. Tests only. */
  allowSelfSigned?: boolean;
}

export type SmtpAdapter = ChannelAdapter & {
  /** Closes the pooled connections. */
  close(): void;
};

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

const TRANSIENT_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "EMAXLIMIT",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "EPROTOCOL",
]);

/** Socket errors that are really certificate or TLS-version mismatches: configuration, not luck. */
const TLS_PROBLEM =
  /certificate|self[- ]signed|altname|unable to verify|wrong version number|ssl routines/i;

/** Recipient-level 5xx replies to RCPT TO that mean "this address does not exist". */
const BOUNCE_CODES = new Set([550, 551, 553]);

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message: string;
}

/** nodemailer's error (possibly wrapped as the cause of our ProviderError), flattened. */
function smtpFailure(error: unknown): SmtpFailure {
  let e: unknown = error;
  if (error instanceof ProviderError && error.cause !== undefined) e = error.cause;
  const record = (e ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const outerCode = error instanceof ProviderError ? error.code : undefined;
  return {
    code: str(record.code) ?? outerCode,
    responseCode: typeof record.responseCode === "number" ? record.responseCode : undefined,
    response: str(record.response),
    command: str(record.command),
    message: e instanceof Error ? e.message : String(e),
  };
}

/** "550 5.1.1 <x@y>: Recipient address rejected" → "5.1.1 <x@y>: Recipient address rejected". */
function serverText(failure: SmtpFailure): string {
  const text = (failure.response ?? failure.message).trim();
  return text.replace(/^\d{3}[ -]?/, "").replace(/\s+/g, " ") || failure.message;
}

export function classifySmtpError(error: unknown): ErrorClass {
  const f = smtpFailure(error);
  if (f.code === "invalid-message" || f.code === "EMESSAGE" || f.code === "EENVELOPE") {
    if (f.responseCode === undefined) {
      return { kind: "permanent", reason: `Email not sent: ${f.message}` };
    }
  }
  if (
    f.code === "EAUTH" ||
    f.code === "ENOAUTH" ||
    f.responseCode === 535 ||
    f.responseCode === 530
  ) {
    const detail = f.responseCode ? `SMTP ${f.responseCode}: ${serverText(f)}` : f.message;
    return {
      kind: "permanent",
      reason: `${detail}: the server refused to log in; check the SMTP user and password`,
    };
  }
  if (
    f.code === "ETLS" ||
    f.code === "EREQUIRETLS" ||
    (f.responseCode === undefined && TLS_PROBLEM.test(f.message))
  ) {
    return {
      kind: "permanent",
      reason: `SMTP TLS failed (${f.message}): check the TLS mode and port (implicit TLS is usually 465, STARTTLS 587)`,
    };
  }
  const code = f.responseCode;
  if (code !== undefined && code >= 500 && code < 600) {
    const text = serverText(f);
    const reason = `SMTP ${code}: ${text}`;
    if (f.command === "MAIL FROM") {
      return { kind: "permanent", reason: `${reason} (the sender address was refused)` };
    }
    if (f.command === "RCPT TO" && BOUNCE_CODES.has(code)) {
      return { kind: "permanent", reason, suppress: "bounce" };
    }
    return { kind: "permanent", reason };
  }
  if (code !== undefined && code >= 400 && code < 500) {
    const text = serverText(f);
    const reason = `SMTP ${code}: ${text}`;
    // 421: the server is shedding connections; "too many", "rate", "try later"...: we send too fast.
    if (code === 421 || /too many|rate|throttl|limit|slow down|try (again )?later/i.test(text)) {
      return { kind: "rate-limited", reason };
    }
    return { kind: "transient", reason };
  }
  if (f.code && TRANSIENT_CODES.has(f.code)) {
    return { kind: "transient", reason: `SMTP server unreachable (${f.code}): ${f.message}` };
  }
  return { kind: "transient", reason: `SMTP error${f.code ? ` (${f.code})` : ""}: ${f.message}` };
}

function envelopeSender(from: string): string | null {
  const [first] = addressparser(from, { flatten: true });
  const address = first && "address" in first ? first.address : undefined;
  return address && ADDRESS.test(address) ? address : null;
}

export function createSmtpAdapter(
  config: SmtpConfig,
  options: SmtpAdapterOptions = {},
): SmtpAdapter {
  const timeout = options.timeoutMs ?? 15_000;
  const transporter = createTransport({
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: 100,
    // A pooled connection the server dropped (idle timeout, 421) is retried once on a fresh
    // one; anything beyond that is the delivery engine's retry, not a hidden one here.
    maxRequeues: 1,
    host: config.host,
    port: config.port,
    secure: config.tlsMode === "tls",
    requireTLS: config.tlsMode === "starttls",
    ignoreTLS: config.tlsMode === "none",
    ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
    ...(options.allowSelfSigned ? { tls: { rejectUnauthorized: false } } : {}),
  });

  async function send(message: OutgoingMessage): Promise<SendResult> {
    const { content } = message;
    if (content.channel !== "email") {
      throw new ProviderError(`SMTP sends email, not ${content.channel}`, {
        code: "invalid-message",
      });
    }
    if (message.to.length > 254 || !ADDRESS.test(message.to)) {
      throw new ProviderError(`${JSON.stringify(message.to)} is not one plain email address`, {
        code: "invalid-message",
      });
    }
    const from = content.from ?? config.fromIdentity;
    const sender = envelopeSender(from);
    if (!sender) {
      throw new ProviderError(`The sender ${JSON.stringify(from)} has no valid address`, {
        code: "invalid-message",
      });
    }
    let built: { raw: Buffer; messageId: string };
    try {
      built = await buildRawMime({
        from,
        to: message.to,
        replyTo: content.replyTo,
        subject: content.subject,
        text: content.text,
        html: content.html,
        headers: message.headers,
      });
    } catch (error) {
      if (error instanceof MimeError) {
        throw new ProviderError(error.message, { code: "invalid-message", cause: error });
      }
      throw error;
    }
    let response: string | undefined;
    try {
      const info = await transporter.sendMail({
        envelope: { from: sender, to: [message.to] },
        raw: built.raw,
      });
      response = typeof info.response === "string" ? info.response : undefined;
    } catch (error) {
      const f = smtpFailure(error);
      throw new ProviderError(
        f.responseCode ? `SMTP ${f.responseCode}: ${serverText(f)}` : f.message,
        { code: f.code, cause: error },
      );
    }
    const messageId = built.messageId.replace(/^<|>$/g, "");
    const queued = response ? /queued as ([A-Za-z0-9._-]+)/i.exec(response)?.[1] : undefined;
    return { providerMessageId: messageId || queued || "" };
  }

  async function testConnection(): Promise<ConnectionCheck> {
    try {
      await transporter.verify();
      const tls = { tls: "implicit TLS", starttls: "STARTTLS", none: "no TLS" }[config.tlsMode];
      return {
        ok: true,
        detail: `Connected to ${config.host}:${config.port} (${tls})${config.user ? `, logged in as ${config.user}` : ""}`,
      };
    } catch (error) {
      return { ok: false, reason: classifySmtpError(error).reason };
    }
  }

  return {
    channel: "email",
    send,
    classify: classifySmtpError,
    receiveWebhook: async () => ({
      kind: "rejected",
      status: 400,
      reason: "SMTP integrations receive no webhooks",
    }),
    testConnection,
    close: () => transporter.close(),
  };
}
