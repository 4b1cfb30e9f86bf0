// Fake SMTP server on 127.0.0.1 (the `smtp-server` package): records each envelope and raw
// message, optionally requires AUTH, offers STARTTLS (or speaks implicit TLS with `secure`) with
// a self-signed certificate made at runtime for 127.0.0.1, localhost and any `hostnames` given,
// and injects SMTP replies on demand: a 550/451 to the next RCPT TO, a failed AUTH, a refused
// DATA. Clients verify certificates, so a test trusts `certificatePem` explicitly: the SMTP
// adapter's `ca` option, or SMTP_CA_FILE (see writeCertificate) for a server process.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { selfSignedCertificate, snsSigningKey } from "./sns";

export interface SmtpFakeMessage {
  /** MAIL FROM address. */
  mailFrom: string;
  /** RCPT TO addresses accepted. */
  rcptTo: string[];
  /** The authenticated user, if any. */
  user?: string;
  /** True when the session ran over TLS (implicit or STARTTLS). */
  secure: boolean;
  /** The message as received (CRLF line ends, dot-unstuffed). */
  raw: string;
  /** Top-level headers, lower-case names, first occurrence, unfolded (not RFC 2047 decoded). */
  headers: Record<string, string>;
  /** The queue id we answered "250 OK: queued as <id>" with. */
  queueId: string;
  at: number;
}

export interface SmtpFakeOptions {
  /** When set, AUTH PLAIN/LOGIN with one of these user → password pairs is required. */
  users?: Record<string, string>;
  /** Implicit TLS from the first byte (port 465 style); otherwise plain with STARTTLS offered. */
  secure?: boolean;
  /** Do not offer STARTTLS (a server that only speaks plain text). */
  disableStartTls?: boolean;
  port?: number;
  /** Names its certificate is valid for besides localhost (and 127.0.0.1). */
  hostnames?: string[];
}

export interface SmtpFake {
  readonly host: string;
  /** The server's self-signed certificate (PEM): what a client must trust to reach it. */
  readonly certificatePem: string;
  /** Writes certificatePem to a temp file and returns its path (for SMTP_CA_FILE). */
  writeCertificate(): string;
  /** Throws before start(). */
  readonly port: number;
  readonly messages: SmtpFakeMessage[];
  /** How many AUTH attempts succeeded / failed. */
  readonly auth: { ok: number; failed: number };
  start(): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
  /** The next `times` RCPT TO commands get `code text` (e.g. 550 "5.1.1 User unknown"). */
  failNextRecipient(code: number, text: string, times?: number): void;
  /** The next `times` AUTH attempts fail with 535 even with the right password. */
  failNextAuth(times?: number): void;
  /** The next `times` messages are refused after DATA with `code text`. */
  failNextData(code: number, text: string, times?: number): void;
  clearFaults(): void;
  clear(): void;
}

interface ReplyFault {
  code: number;
  text: string;
  remaining: number;
}

function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

/** Unfolded top-level headers, lower-case names, first occurrence wins. */
export function parseHeaders(raw: string): Record<string, string> {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= line.slice(colon + 1).trim();
  }
  return headers;
}

function take(faults: ReplyFault[]): ReplyFault | undefined {
  const fault = faults[0];
  if (!fault) return undefined;
  fault.remaining -= 1;
  if (fault.remaining <= 0) faults.shift();
  return fault;
}

export function createSmtpFake(options: SmtpFakeOptions = {}): SmtpFake {
  const host = "127.0.0.1";
  const messages: SmtpFakeMessage[] = [];
  const auth = { ok: 0, failed: 0 };
  let recipientFaults: ReplyFault[] = [];
  let dataFaults: ReplyFault[] = [];
  let authFailures = 0;
  let port: number | null = null;

  // smtp-server's bundled certificate has expired; a fresh one keeps TLS errors meaningful.
  const { privateKey, publicKey } = snsSigningKey();
  // A subject of its own: two fakes' certificates trusted together must not look like one
  // issuer to the TLS client's chain building.
  const subject = `smtp-fake-${randomBytes(6).toString("hex")}`;
  const certificatePem = selfSignedCertificate(privateKey, publicKey, subject, {
    dns: ["localhost", ...(options.hostnames ?? [])],
    ip: [host],
  });
  const server = new SMTPServer({
    secure: options.secure ?? false,
    key: privateKey.export({ type: "pkcs8", format: "pem" }),
    cert: certificatePem,
    authOptional: options.users === undefined,
    allowInsecureAuth: true,
    disabledCommands: options.disableStartTls ? ["STARTTLS"] : [],
    logger: false,
    closeTimeout: 100,
    onAuth(attempt, _session, callback) {
      const expected = attempt.username ? options.users?.[attempt.username] : undefined;
      const injected = authFailures > 0;
      if (injected) authFailures -= 1;
      if (!injected && expected !== undefined && attempt.password === expected) {
        auth.ok += 1;
        callback(null, { user: attempt.username });
        return;
      }
      auth.failed += 1;
      callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
    },
    onRcptTo(_address, _session, callback) {
      const fault = take(recipientFaults);
      callback(fault ? smtpError(fault.code, fault.text) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const fault = take(dataFaults);
        if (fault) {
          callback(smtpError(fault.code, fault.text));
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const queueId = randomBytes(6).toString("hex").toUpperCase();
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          mailFrom: mailFrom ? mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          ...(typeof session.user === "string" ? { user: session.user } : {}),
          secure: session.secure,
          raw,
          headers: parseHeaders(raw),
          queueId,
          at: Date.now(),
        });
        callback(null, `OK: queued as ${queueId}`);
      });
    },
  });
  server.on("error", () => {
    // Client sockets dropping mid-session are normal in tests; never crash the process.
  });

  return {
    host,
    certificatePem,
    writeCertificate() {
      const path = join(mkdtempSync(join(tmpdir(), "smtp-fake-ca-")), "ca.pem");
      writeFileSync(path, certificatePem);
      return path;
    },
    get port() {
      if (port === null) throw new Error("smtp fake not started");
      return port;
    },
    messages,
    auth,
    async start() {
      if (port !== null) return { host, port };
      await new Promise<void>((resolve, reject) => {
        server.server.once("error", reject);
        server.listen(options.port ?? 0, host, () => {
          server.server.off("error", reject);
          resolve();
        });
      });
      port = (server.server.address() as AddressInfo).port;
      return { host, port };
    },
    async stop() {
      if (port === null) return;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      port = null;
    },
    failNextRecipient(code, text, times = 1) {
      recipientFaults.push({ code, text, remaining: times });
    },
    failNextAuth(times = 1) {
      authFailures += times;
    },
    failNextData(code, text, times = 1) {
      dataFaults.push({ code, text, remaining: times });
    },
    clearFaults() {
      recipientFaults = [];
      dataFaults = [];
      authFailures = 0;
    },
    clear() {
      messages.length = 0;
      auth.ok = 0;
      auth.failed = 0;
    },
  };
}
