import { rootCertificates } from "node:tls";
import { createTransport, type Transporter } from "nodemailer";
import addressparser from "nodemailer/lib/addressparser";
import {
  OutboundAddressError,
  resolveOutboundHost,
  type OutboundOptions,
  type OutboundTarget,
} from "~/lib/outbound-address.server";
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
 *
 * The host is the tenant's: it goes through the outbound-address guard (public addresses and
 * submission ports only, ADR 0015) and the connection is made to the address that was checked.
 * Mail only travels encrypted: implicit TLS or STARTTLS required, TLS 1.2 or newer, with the
 * server's certificate verified for the host name. What the connection says to the tenant is
 * our own words: a remote banner or greeting is never repeated (it would make the page a
 * port scanner's display).
 */

export interface SmtpConfig {
  host: string;
  port: number;
  /** "tls": implicit TLS (usually 465); "starttls": plain then STARTTLS, required (587). */
  tlsMode: "tls" | "starttls";
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
  /** Extra trusted certificate authorities (PEM), besides the system's (SMTP_CA_FILE). */
  ca?: string;
  /** Name resolution and the operator's allowed private hosts (tests pass their own). */
  outbound?: OutboundOptions;
}

/** The ports mail submission and relay use; an operator-allowed private host may use any. */
export const SMTP_PORTS = [25, 465, 587, 2525] as const;

export type SmtpAdapter = ChannelAdapter & {
  /** Closes the pooled connections. */
  close(): void;
};

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

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

/** Replies to these commands are about one message, from a server we already trust. */
const MESSAGE_COMMANDS = new Set(["MAIL FROM", "RCPT TO", "DATA"]);

/**
 * "550 5.1.1 <x@y>: Recipient address rejected" → "5.1.1 <x@y>: Recipient address rejected".
 * Only for replies to MAIL FROM / RCPT TO / DATA: by then the server has passed the address
 * guard, TLS with a verified certificate and login, so its reason (a bounce's "User unknown")
 * is the tenant's own mail server talking. Control characters go, and the length is capped.
 */
function serverText(failure: SmtpFailure): string {
  const text = (failure.response ?? "").trim();
  const plain = text
    .replace(/^\d{3}[ -]?/, "")
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return (plain.length > 200 ? `${plain.slice(0, 200)}…` : plain) || "no reason given";
}

/** What went wrong with the connection itself, in our words. */
function connectionProblem(f: SmtpFailure): { what: string; permanent: boolean } {
  if (f.code === "address-refused") return { what: f.message, permanent: true };
  if (f.code === "address-unresolved") return { what: f.message, permanent: false };
  if (
    f.code === "EAUTH" ||
    f.code === "ENOAUTH" ||
    f.responseCode === 535 ||
    f.responseCode === 530 ||
    (f.command !== undefined && /^AUTH/.test(f.command))
  ) {
    return {
      what: "authentication failed (check the user name and password)",
      permanent: true,
    };
  }
  if (
    f.code === "ETLS" ||
    f.code === "EREQUIRETLS" ||
    (f.responseCode === undefined && TLS_PROBLEM.test(f.message))
  ) {
    return {
      what: "TLS failed (the server must offer STARTTLS or implicit TLS, 1.2 or newer, with a valid certificate for this host name; implicit TLS is usually port 465, STARTTLS 587)",
      permanent: true,
    };
  }
  if (f.code === "ECONNREFUSED" || /ECONNREFUSED/.test(f.message)) {
    return { what: "connection refused", permanent: false };
  }
  if (f.code === "ETIMEDOUT" || /timeout|timed out/i.test(f.message)) {
    return { what: "timed out", permanent: false };
  }
  if (f.code === "EPROTOCOL") {
    return { what: "it did not answer as a mail server", permanent: false };
  }
  return { what: "the connection failed", permanent: false };
}

export function classifySmtpError(error: unknown, where?: string): ErrorClass {
  const f = smtpFailure(error);
  if (f.code === "invalid-message" || f.code === "EMESSAGE" || f.code === "EENVELOPE") {
    if (f.responseCode === undefined) {
      return { kind: "permanent", reason: `Email not sent: ${f.message}` };
    }
  }
  const code = f.responseCode;
  const authFailed = f.code === "EAUTH" || f.code === "ENOAUTH" || code === 535 || code === 530;
  if (
    !authFailed &&
    code !== undefined &&
    f.command !== undefined &&
    MESSAGE_COMMANDS.has(f.command)
  ) {
    const text = serverText(f);
    const reason = `SMTP ${code}: ${text}`;
    if (code >= 500 && code < 600) {
      if (f.command === "MAIL FROM") {
        return { kind: "permanent", reason: `${reason} (the sender address was refused)` };
      }
      if (f.command === "RCPT TO" && BOUNCE_CODES.has(code)) {
        return { kind: "permanent", reason, suppress: "bounce" };
      }
      return { kind: "permanent", reason };
    }
    if (code >= 400 && code < 500) {
      // 421: the server is shedding connections; "too many", "rate", "try later"...: too fast.
      if (code === 421 || /too many|rate|throttl|limit|slow down|try (again )?later/i.test(text)) {
        return { kind: "rate-limited", reason };
      }
      return { kind: "transient", reason };
    }
  }
  if (code === 421) {
    return {
      kind: "rate-limited",
      reason: `SMTP 421: the mail server${where ? ` at ${where}` : ""} is busy; trying again later`,
    };
  }
  const problem = connectionProblem(f);
  const reason = `Could not connect to the mail server${where ? ` at ${where}` : ""}: ${problem.what}`;
  return { kind: problem.permanent ? "permanent" : "transient", reason };
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
  const where = `${config.host}:${config.port}`;
  // Stored integrations from before TLS was required may say "none": they get STARTTLS,
  // required, like every other (mail never goes out in clear).
  const implicitTls = config.tlsMode === "tls";
  let pool: Promise<{ transporter: Transporter; target: OutboundTarget }> | null = null;
  let closed = false;

  /**
   * The pooled transport, built on first use for the address the guard checked: nodemailer
   * gets the IP (so it never looks the name up again) and the name only for SNI and the
   * certificate check. The address stays pinned for this adapter's life (until the
   * integration is edited or tested, or the process restarts).
   */
  function transport(): Promise<{ transporter: Transporter; target: OutboundTarget }> {
    if (pool) return pool;
    const created = (async () => {
      let target: OutboundTarget;
      try {
        target = await resolveOutboundHost(config.host, {
          ...options.outbound,
          port: { port: config.port, allowed: SMTP_PORTS },
        });
      } catch (error) {
        if (error instanceof OutboundAddressError) {
          throw new ProviderError(error.message, {
            code: error.refusal === "unresolvable" ? "address-unresolved" : "address-refused",
            cause: error,
          });
        }
        throw error;
      }
      const servername = target.isLiteral ? undefined : target.host;
      const transporter = createTransport({
        pool: true,
        maxConnections: options.maxConnections ?? 5,
        maxMessages: 100,
        // A pooled connection the server dropped (idle timeout, 421) is retried once on a fresh
        // one; anything beyond that is the delivery engine's retry, not a hidden one here.
        maxRequeues: 1,
        host: target.address,
        port: config.port,
        ...(servername ? { servername } : {}),
        secure: implicitTls,
        requireTLS: !implicitTls,
        ignoreTLS: false,
        opportunisticTLS: false,
        ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        disableFileAccess: true,
        disableUrlAccess: true,
        tls: {
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
          ...(servername ? { servername } : {}),
          ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
        },
      });
      return { transporter, target };
    })();
    // A failed lookup is not kept: the next message looks again.
    created.catch(() => {
      if (pool === created) pool = null;
    });
    pool = created;
    return created;
  }

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
        inReplyTo: content.inReplyTo,
        references: content.references,
      });
    } catch (error) {
      if (error instanceof MimeError) {
        throw new ProviderError(error.message, { code: "invalid-message", cause: error });
      }
      throw error;
    }
    let response: string | undefined;
    try {
      const { transporter } = await transport();
      if (closed) throw new ProviderError("The SMTP adapter was closed", { code: "ECONNECTION" });
      const info = await transporter.sendMail({
        envelope: { from: sender, to: [message.to] },
        raw: built.raw,
      });
      response = typeof info.response === "string" ? info.response : undefined;
    } catch (error) {
      const f = smtpFailure(error);
      throw new ProviderError(classifySmtpError(error, where).reason, {
        code: f.code,
        cause: error,
      });
    }
    const messageId = built.messageId.replace(/^<|>$/g, "");
    const queued = response ? /queued as ([A-Za-z0-9._-]+)/i.exec(response)?.[1] : undefined;
    return { providerMessageId: messageId || queued || "" };
  }

  async function testConnection(): Promise<ConnectionCheck> {
    try {
      const { transporter, target } = await transport();
      await transporter.verify();
      const tls = implicitTls ? "implicit TLS" : "STARTTLS";
      const via = target.isLiteral ? "" : ` (${target.address})`;
      return {
        ok: true,
        detail: `Connected to ${where}${via} over ${tls}${config.user ? `, logged in as ${config.user}` : ""}`,
      };
    } catch (error) {
      return {
        ok: false,
        check: "Mail server connection and sign-in",
        reason: classifySmtpError(error, where).reason,
      };
    }
  }

  return {
    channel: "email",
    send,
    classify: (error) => classifySmtpError(error, where),
    receiveWebhook: async () => ({
      kind: "rejected",
      status: 400,
      reason: "SMTP integrations receive no webhooks",
    }),
    testConnection,
    close: () => {
      closed = true;
      void pool?.then(({ transporter }) => transporter.close()).catch(() => undefined);
    },
  };
}
