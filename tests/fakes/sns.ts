// Fake Amazon SNS for HTTP(S) subscriptions: signs messages exactly as SNS does
// (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA over AWS's "Name\nvalue\n" string to
// sign), serves the signing certificate at /SimpleNotificationService-<id>.pem and answers the
// SubscribeURL GET (Action=ConfirmSubscription), recording each confirmation. The key and a
// self-signed X.509 certificate are made at runtime (pure node:crypto, no openssl), once per
// process. The fake is plain http on 127.0.0.1: an adapter must be told to allow its origin.
import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  X509Certificate,
  type KeyObject,
} from "node:crypto";
import { createFakeServer, type FakeServer } from "./base";

// ---------------------------------------------------------------------------------------------
// A minimal DER encoder, just enough for one self-signed certificate.

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...parts: Buffer[]) => der(0x30, ...parts);
const set = (...parts: Buffer[]) => der(0x31, ...parts);
const derNull = () => Buffer.from([0x05, 0x00]);

function integer(value: Buffer): Buffer {
  let bytes = value;
  while (bytes.length > 1 && bytes[0] === 0 && bytes[1]! < 0x80) bytes = bytes.subarray(1);
  return der(0x02, bytes[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128))
      chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-06-10T14:05:02.123Z -> 260610140502Z
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return der(0x17, Buffer.from(text, "ascii"));
}

function commonName(name: string): Buffer {
  return sequence(set(sequence(oid("2.5.4.3"), der(0x0c, Buffer.from(name, "utf8")))));
}

/** The address bytes of a dotted IPv4 address. */
function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split(".").map(Number));
}

/**
 * X.509 v3 extensions: subjectAltName (DNS names and IPv4 addresses, which TLS clients check
 * the host against) and basicConstraints CA:TRUE, so the certificate can be its own trust
 * anchor in a client's `ca` list.
 */
function extensions(altNames: { dns?: string[]; ip?: string[] }): Buffer {
  const names = [
    ...(altNames.dns ?? []).map((n) => der(0x82, Buffer.from(n, "ascii"))),
    ...(altNames.ip ?? []).map((ip) => der(0x87, ipv4Bytes(ip))),
  ];
  const san = sequence(oid("2.5.29.17"), der(0x04, sequence(...names)));
  const basic = sequence(
    oid("2.5.29.19"),
    der(0x01, Buffer.from([0xff])),
    der(0x04, sequence(der(0x01, Buffer.from([0xff])))),
  );
  return der(0xa3, sequence(san, basic));
}

/**
 * A self-signed X.509 v3 certificate (sha256WithRSAEncryption) for `publicKey`, as PEM. With
 * `altNames`, it names those hosts (TLS servers); without, it only carries a key (SNS signing).
 */
export function selfSignedCertificate(
  privateKey: KeyObject,
  publicKey: KeyObject,
  subject = "sns.amazonaws.com",
  altNames?: { dns?: string[]; ip?: string[] },
): string {
  const algorithm = sequence(oid("1.2.840.113549.1.1.11"), derNull());
  const now = Date.now();
  const tbs = sequence(
    der(0xa0, integer(Buffer.from([2]))), // [0] EXPLICIT version v3
    integer(randomBytes(16)),
    algorithm,
    commonName(subject),
    sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    commonName(subject),
    publicKey.export({ type: "spki", format: "der" }),
    ...(altNames ? [extensions(altNames)] : []),
  );
  const signature = sign("sha256", tbs, privateKey);
  const certificate = sequence(tbs, algorithm, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

export interface SnsSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  certificatePem: string;
}

let processKey: SnsSigningKey | undefined;

/** One RSA-2048 key + certificate per process (generation takes ~50-100 ms). */
export function snsSigningKey(): SnsSigningKey {
  if (!processKey) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const certificatePem = selfSignedCertificate(privateKey, publicKey);
    new X509Certificate(certificatePem); // Fails loudly here if the encoder is ever wrong.
    processKey = { privateKey, publicKey, certificatePem };
  }
  return processKey;
}

// ---------------------------------------------------------------------------------------------
// Signing, as SNS does it.

type SnsType = "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation";

const SIGNED_FIELDS: Record<SnsType, string[]> = {
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

/** AWS's string to sign, written independently of the app's copy so tests check one with the other. */
export function snsStringToSignForTests(fields: Record<string, string>): string {
  const type = fields.Type as SnsType;
  return SIGNED_FIELDS[type]
    .filter((name) => fields[name] !== undefined)
    .map((name) => `${name}\n${fields[name]}\n`)
    .join("");
}

/** Adds SignatureVersion, SigningCertURL and Signature to the fields. */
export function signSnsFields(
  fields: Record<string, string>,
  options: { signatureVersion: "1" | "2"; certUrl: string; privateKey: KeyObject },
): Record<string, string> {
  const algorithm = options.signatureVersion === "1" ? "sha1" : "sha256";
  const signature = sign(
    algorithm,
    Buffer.from(snsStringToSignForTests(fields), "utf8"),
    options.privateKey,
  );
  return {
    ...fields,
    SignatureVersion: options.signatureVersion,
    Signature: signature.toString("base64"),
    SigningCertURL: options.certUrl,
  };
}

export interface SignedSnsMessage {
  /** The JSON body exactly as SNS POSTs it. */
  body: string;
  /** The headers SNS sends (lower-case names). */
  headers: Record<string, string>;
  /** The fields, for tampering in tests (re-serialise with JSON.stringify). */
  fields: Record<string, string>;
}

export interface SnsMessageOptions {
  topicArn?: string;
  signatureVersion?: "1" | "2";
  messageId?: string;
  /** ISO time; default now. */
  timestamp?: string;
  /** Another SigningCertURL. SNS does not sign this field: only the adapter's host check stops it. */
  certUrl?: string;
  /** Sign with another key (a forgery). */
  privateKey?: KeyObject;
}

export const DEFAULT_TOPIC_ARN = "arn:aws:sns:ap-south-1:123456789012:engage-ses-events";

function signed(fields: Record<string, string>, options: SnsMessageOptions, certUrl: string) {
  const all = signSnsFields(fields, {
    signatureVersion: options.signatureVersion ?? "1",
    certUrl: options.certUrl ?? certUrl,
    privateKey: options.privateKey ?? snsSigningKey().privateKey,
  });
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=UTF-8",
    "user-agent": "Amazon Simple Notification Service Agent",
    "x-amz-sns-message-type": all.Type!,
    "x-amz-sns-message-id": all.MessageId!,
    "x-amz-sns-topic-arn": all.TopicArn!,
  };
  return { body: JSON.stringify(all, null, 2), headers, fields: all };
}

// ---------------------------------------------------------------------------------------------
// The fake.

export interface SnsConfirmation {
  topicArn: string;
  token: string;
  at: number;
}

export interface SnsFake extends FakeServer {
  /** `${url}/SimpleNotificationService-<id>.pem`; throws before start(). */
  readonly certUrl: string;
  readonly confirmations: SnsConfirmation[];
  /** A signed Notification whose Message is `JSON.stringify(message)` (or a string as is). */
  notification(
    options: SnsMessageOptions & { message: object | string; subject?: string },
  ): SignedSnsMessage;
  /** A signed SubscriptionConfirmation; SubscribeURL defaults to this fake's confirm URL. */
  subscriptionConfirmation(
    options?: SnsMessageOptions & { subscribeUrl?: string; token?: string },
  ): SignedSnsMessage;
  unsubscribeConfirmation(options?: SnsMessageOptions & { token?: string }): SignedSnsMessage;
  /** POSTs a signed message to `url` like SNS; resolves to the status and body. */
  deliver(url: string, message: SignedSnsMessage): Promise<{ status: number; body: string }>;
}

export function createSnsFake(): SnsFake {
  const certId = createHash("sha256").update(randomBytes(16)).digest("hex").slice(0, 32);
  const certPath = `/SimpleNotificationService-${certId}.pem`;
  const confirmations: SnsConfirmation[] = [];
  const server = createFakeServer({
    name: "sns",
    routes: [
      {
        method: "GET",
        path: certPath,
        handler: (_req, res) =>
          res.text(snsSigningKey().certificatePem, 200, {
            "content-type": "application/x-pem-file",
          }),
      },
      {
        method: "GET",
        path: "/",
        handler(req, res) {
          const action = req.query.get("Action");
          const topicArn = req.query.get("TopicArn");
          const token = req.query.get("Token");
          if (action !== "ConfirmSubscription" || !topicArn || !token) {
            return res.text(
              "<ErrorResponse><Error><Code>InvalidParameter</Code></Error></ErrorResponse>",
              400,
              {
                "content-type": "text/xml",
              },
            );
          }
          confirmations.push({ topicArn, token, at: Date.now() });
          const arn = `${topicArn}:${randomUUID()}`;
          return res.text(
            `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${arn}</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`,
            200,
            { "content-type": "text/xml" },
          );
        },
      },
    ],
  });

  const certUrl = () => `${server.url}${certPath}`;

  const extra: Omit<SnsFake, keyof FakeServer> = {
    get certUrl() {
      return certUrl();
    },
    confirmations,
    notification(options) {
      const topicArn = options.topicArn ?? DEFAULT_TOPIC_ARN;
      const fields: Record<string, string> = {
        Type: "Notification",
        MessageId: options.messageId ?? randomUUID(),
        TopicArn: topicArn,
        ...(options.subject !== undefined ? { Subject: options.subject } : {}),
        Message:
          typeof options.message === "string" ? options.message : JSON.stringify(options.message),
        Timestamp: options.timestamp ?? new Date().toISOString(),
        UnsubscribeURL: `${server.url}/?Action=Unsubscribe&SubscriptionArn=${topicArn}:sub`,
      };
      const message = signed(fields, options, certUrl());
      message.headers["x-amz-sns-subscription-arn"] = `${topicArn}:sub`;
      return message;
    },
    subscriptionConfirmation(options = {}) {
      const topicArn = options.topicArn ?? DEFAULT_TOPIC_ARN;
      const token = options.token ?? randomBytes(32).toString("hex");
      const subscribeUrl =
        options.subscribeUrl ??
        `${server.url}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`;
      return signed(
        {
          Type: "SubscriptionConfirmation",
          MessageId: options.messageId ?? randomUUID(),
          Token: token,
          TopicArn: topicArn,
          Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
          SubscribeURL: subscribeUrl,
          Timestamp: options.timestamp ?? new Date().toISOString(),
        },
        options,
        certUrl(),
      );
    },
    unsubscribeConfirmation(options = {}) {
      const topicArn = options.topicArn ?? DEFAULT_TOPIC_ARN;
      const token = options.token ?? randomBytes(32).toString("hex");
      return signed(
        {
          Type: "UnsubscribeConfirmation",
          MessageId: options.messageId ?? randomUUID(),
          Token: token,
          TopicArn: topicArn,
          Message: `You have chosen to deactivate subscription ${topicArn}:sub.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
          SubscribeURL: `${server.url}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`,
          Timestamp: options.timestamp ?? new Date().toISOString(),
        },
        options,
        certUrl(),
      );
    },
    async deliver(url, message) {
      const response = await fetch(url, {
        method: "POST",
        headers: message.headers,
        body: message.body,
      });
      return { status: response.status, body: await response.text() };
    },
  };
  return Object.defineProperties(server, Object.getOwnPropertyDescriptors(extra)) as SnsFake;
}

// ---------------------------------------------------------------------------------------------
// SES event publishing records (the SNS Message), per AWS's documented examples.

export type SesEventType =
  | "Send"
  | "Delivery"
  | "Bounce"
  | "Complaint"
  | "Reject"
  | "Open"
  | "Click"
  | "Rendering Failure"
  | "DeliveryDelay";

export interface SesEventOptions {
  eventType: SesEventType;
  /** mail.messageId: the SES MessageId returned by SendEmail. */
  messageId: string;
  recipient?: string;
  /** ISO time of the event; default now. */
  timestamp?: string;
  /** "notificationType": the older identity notifications (Bounce, Complaint, Delivery only). */
  field?: "eventType" | "notificationType";
  bounceType?: "Permanent" | "Transient" | "Undetermined";
  bounceSubType?: string;
  /** Default: one recipient (`recipient`) with a 5.1.1 / 4.4.7 diagnostic code. */
  bouncedRecipients?: { emailAddress: string; diagnosticCode?: string; status?: string }[];
  complainedRecipients?: { emailAddress: string }[];
  complaintFeedbackType?: string;
  link?: string;
  rejectReason?: string;
  errorMessage?: string;
  tags?: Record<string, string[]>;
}

export function sesEvent(options: SesEventOptions): Record<string, unknown> {
  const recipient = options.recipient ?? "asha@example.com";
  const at = options.timestamp ?? new Date().toISOString();
  const sentAt = new Date(Date.parse(at) - 60_000).toISOString();
  const event: Record<string, unknown> = {
    [options.field ?? "eventType"]: options.eventType,
    mail: {
      timestamp: sentAt,
      source: "Shop <news@shop.example>",
      sourceArn: "arn:aws:ses:ap-south-1:123456789012:identity/shop.example",
      sendingAccountId: "123456789012",
      messageId: options.messageId,
      destination: [recipient],
      headersTruncated: false,
      headers: [
        { name: "From", value: "Shop <news@shop.example>" },
        { name: "To", value: recipient },
      ],
      commonHeaders: { from: ["Shop <news@shop.example>"], to: [recipient] },
      tags: options.tags ?? { "ses:configuration-set": ["engage"] },
    },
  };
  switch (options.eventType) {
    case "Send":
      event.send = {};
      break;
    case "Delivery":
      event.delivery = {
        timestamp: at,
        processingTimeMillis: 1234,
        recipients: [recipient],
        smtpResponse: "250 2.6.0 Message received",
        reportingMTA: "a8-70.smtp-out.amazonses.com",
      };
      break;
    case "Bounce": {
      const type = options.bounceType ?? "Permanent";
      event.bounce = {
        bounceType: type,
        bounceSubType: options.bounceSubType ?? (type === "Permanent" ? "General" : "MailboxFull"),
        bouncedRecipients: options.bouncedRecipients ?? [
          {
            emailAddress: recipient,
            action: "failed",
            status: type === "Permanent" ? "5.1.1" : "4.4.7",
            diagnosticCode:
              type === "Permanent"
                ? "smtp; 550 5.1.1 user unknown"
                : "smtp; 452 4.2.2 mailbox full",
          },
        ],
        timestamp: at,
        feedbackId: `0100${randomBytes(8).toString("hex")}-000000`,
        reportingMTA: "dsn; mta.example.com",
      };
      break;
    }
    case "Complaint":
      event.complaint = {
        complainedRecipients: options.complainedRecipients ?? [{ emailAddress: recipient }],
        timestamp: at,
        feedbackId: `0100${randomBytes(8).toString("hex")}-000000`,
        userAgent: "Mozilla/5.0",
        complaintFeedbackType: options.complaintFeedbackType ?? "abuse",
        arrivalDate: at,
      };
      break;
    case "Reject":
      event.reject = { reason: options.rejectReason ?? "Bad content" };
      break;
    case "Open":
      event.open = { ipAddress: "192.0.2.1", timestamp: at, userAgent: "Mozilla/5.0" };
      break;
    case "Click":
      event.click = {
        ipAddress: "192.0.2.1",
        timestamp: at,
        userAgent: "Mozilla/5.0",
        link: options.link ?? "https://shop.example/sale",
        linkTags: {},
      };
      break;
    case "Rendering Failure":
      event.failure = {
        errorMessage:
          options.errorMessage ?? "Attribute 'name' is not present in the rendering data.",
        templateName: "welcome",
      };
      break;
    case "DeliveryDelay":
      event.deliveryDelay = {
        timestamp: at,
        delayType: "MailboxFull",
        expirationTime: new Date(Date.parse(at) + 86_400_000).toISOString(),
        delayedRecipients: [
          {
            emailAddress: recipient,
            status: "4.2.2",
            diagnosticCode: "smtp; 452 4.2.2 mailbox full",
          },
        ],
      };
      break;
  }
  return event;
}
