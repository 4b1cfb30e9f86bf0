import { createPublicKey, verify, X509Certificate, type KeyObject } from "node:crypto";
import { httpCall } from "../http.server";

/**
 * Amazon SNS HTTP(S) message verification, as AWS documents it: the string to sign is a fixed
 * list of "Name\nvalue\n" pairs per message type; SignatureVersion 1 is SHA1withRSA, 2 is
 * SHA256withRSA, over that string, with the public key of the X.509 certificate at
 * SigningCertURL. The certificate is trusted because it is fetched over HTTPS from an SNS host
 * (sns.<region>.amazonaws.com[.cn]), so that URL is checked before anything is fetched.
 */

export type SnsMessageType =
  "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation";

export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: "1" | "2";
  Signature: string;
  SigningCertURL: string;
  /** Notification only, and only when the publisher set one. */
  Subject?: string;
  /** Subscription and unsubscribe confirmations. */
  SubscribeURL?: string;
  Token?: string;
  UnsubscribeURL?: string;
}

export type SnsVerification =
  { ok: true; message: SnsMessage } | { ok: false; status: 400 | 401; reason: string };

/** Fields of the string to sign, in AWS's documented order. */
const SIGNED_FIELDS: Record<SnsMessageType, readonly (keyof SnsMessage)[]> = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: [
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
  ],
  UnsubscribeConfirmation: [
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
  ],
};

const ALGORITHM = { "1": "sha1", "2": "sha256" } as const;

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** Messages older than this are refused as replays (SNS signs its publish time). */
export const SNS_MAX_AGE_MS = 60 * 60 * 1000;
/** Tolerated clock skew for a Timestamp in the future. */
const SNS_MAX_SKEW_MS = 5 * 60 * 1000;

function isString(value: unknown): value is string {
  return typeof value === "string";
}

/**
 * Parses the POST body. Only a JSON object with the fields its Type needs passes; anything else
 * is a 400 (not understood), nothing about authenticity yet.
 */
export function parseSnsMessage(
  body: Buffer | string,
): { ok: true; message: SnsMessage } | { ok: false; status: 400; reason: string } {
  let data: unknown;
  try {
    data = JSON.parse(typeof body === "string" ? body : body.toString("utf8"));
  } catch {
    return { ok: false, status: 400, reason: "The SNS message is not JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, status: 400, reason: "The SNS message is not a JSON object" };
  }
  const record = data as Record<string, unknown>;
  const type = record.Type;
  if (
    type !== "Notification" &&
    type !== "SubscriptionConfirmation" &&
    type !== "UnsubscribeConfirmation"
  ) {
    return { ok: false, status: 400, reason: `Unknown SNS message Type ${JSON.stringify(type)}` };
  }
  const required = [
    ...SIGNED_FIELDS[type].filter((f) => f !== "Subject"),
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
  ];
  const missing = required.filter((f) => !isString(record[f]));
  if (missing.length > 0) {
    return { ok: false, status: 400, reason: `The SNS message lacks ${missing.join(", ")}` };
  }
  if (record.Subject !== undefined && record.Subject !== null && !isString(record.Subject)) {
    return { ok: false, status: 400, reason: "The SNS Subject is not a string" };
  }
  const message = { ...record } as unknown as SnsMessage;
  // SNS for Lambda/SQS writes "Subject": null; HTTP bodies omit it. Both mean "no subject".
  if (record.Subject === null) delete message.Subject;
  return { ok: true, message };
}

/** The exact bytes SNS signed: "Name\nvalue\n" for each field of the type, in order. */
export function snsStringToSign(message: SnsMessage): string {
  let out = "";
  for (const field of SIGNED_FIELDS[message.Type]) {
    const value = message[field];
    if (value === undefined) continue; // Only Subject is optional.
    out += `${field}\n${value}\n`;
  }
  return out;
}

/**
 * True for an https URL on an SNS host (default port, no user info), or a URL whose origin is
 * exactly one of `allowedOrigins` (test fakes on http://127.0.0.1:PORT).
 */
export function isAllowedSnsUrl(url: string, allowedOrigins: readonly string[] = []): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  for (const origin of allowedOrigins) {
    try {
      if (new URL(origin).origin === parsed.origin) return true;
    } catch {
      // An unparseable allow-list entry allows nothing.
    }
  }
  return parsed.protocol === "https:" && parsed.port === "" && SNS_HOST.test(parsed.hostname);
}

/** Checks the signature with a known certificate (PEM). Pure: no I/O. */
export function verifySnsSignature(message: SnsMessage, certificate: KeyObject | string): boolean {
  const algorithm = ALGORITHM[message.SignatureVersion];
  if (!algorithm) return false;
  const signature = Buffer.from(message.Signature, "base64");
  if (signature.length === 0) return false;
  try {
    const key = typeof certificate === "string" ? createPublicKey(certificate) : certificate;
    return verify(algorithm, Buffer.from(snsStringToSign(message), "utf8"), key, signature);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates, cached in memory by URL (SNS rotates them rarely; a new URL is a new cert).

const MAX_CACHED = 64;
const certificates = new Map<string, Promise<KeyObject>>();

/** The public key of the certificate at `url`; fetched once per URL and process. */
export function snsCertificateKey(url: string, timeoutMs = 10_000): Promise<KeyObject> {
  const cached = certificates.get(url);
  if (cached) return cached;
  const pending = (async () => {
    const reply = await httpCall({ method: "GET", url, timeoutMs });
    if (reply.status !== 200) {
      throw new Error(`The SNS signing certificate answered HTTP ${reply.status}`);
    }
    const certificate = new X509Certificate(reply.text);
    const now = Date.now();
    if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) < now) {
      throw new Error("The SNS signing certificate is not valid now");
    }
    return certificate.publicKey;
  })();
  // Failures are not cached: the next message tries again.
  pending.catch(() => {
    if (certificates.get(url) === pending) certificates.delete(url);
  });
  if (certificates.size >= MAX_CACHED) {
    const oldest = certificates.keys().next().value;
    if (oldest !== undefined) certificates.delete(oldest);
  }
  certificates.set(url, pending);
  return pending;
}

/** Tests: forget every cached certificate. */
export function clearSnsCertificateCache(): void {
  certificates.clear();
}

export interface VerifySnsOptions {
  /** Exact origins allowed besides the real SNS hosts (tests: the fake's http://127.0.0.1:PORT). */
  allowedOrigins?: readonly string[];
  now?: number;
  maxAgeMs?: number;
}

/**
 * Parses and verifies one SNS POST body: 400 when it is not an SNS message, 401 when anything
 * about its authenticity fails (cert URL, age, certificate, signature).
 */
export async function verifySnsMessage(
  body: Buffer | string,
  options: VerifySnsOptions = {},
): Promise<SnsVerification> {
  const parsed = parseSnsMessage(body);
  if (!parsed.ok) return parsed;
  const { message } = parsed;
  const allowed = options.allowedOrigins ?? [];
  if (message.SignatureVersion !== "1" && message.SignatureVersion !== "2") {
    return { ok: false, status: 401, reason: "Unsupported SNS SignatureVersion" };
  }
  if (!isAllowedSnsUrl(message.SigningCertURL, allowed)) {
    return {
      ok: false,
      status: 401,
      reason: "The SNS SigningCertURL is not an https URL on an Amazon SNS host",
    };
  }
  if (!new URL(message.SigningCertURL).pathname.endsWith(".pem")) {
    return { ok: false, status: 401, reason: "The SNS SigningCertURL is not a .pem file" };
  }
  const sentAt = Date.parse(message.Timestamp);
  const now = options.now ?? Date.now();
  if (Number.isNaN(sentAt)) {
    return { ok: false, status: 401, reason: "The SNS Timestamp is not a date" };
  }
  if (now - sentAt > (options.maxAgeMs ?? SNS_MAX_AGE_MS)) {
    return { ok: false, status: 401, reason: "The SNS message is too old (possible replay)" };
  }
  if (sentAt - now > SNS_MAX_SKEW_MS) {
    return { ok: false, status: 401, reason: "The SNS Timestamp is in the future" };
  }
  let key: KeyObject;
  try {
    key = await snsCertificateKey(message.SigningCertURL);
  } catch (error) {
    return {
      ok: false,
      status: 401,
      reason: `Could not load the SNS signing certificate: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!verifySnsSignature(message, key)) {
    return { ok: false, status: 401, reason: "The SNS signature does not match" };
  }
  return { ok: true, message };
}
