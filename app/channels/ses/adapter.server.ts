import {
  GetAccountCommand,
  SendEmailCommand,
  SESv2Client,
  SESv2ServiceException,
} from "@aws-sdk/client-sesv2";
import { buildRawMime, MimeError } from "../email-mime.server";
import { httpCall } from "../http.server";
import {
  ProviderError,
  type ChannelAdapter,
  type ChannelEvent,
  type ConnectionCheck,
  type ErrorClass,
  type OutgoingMessage,
  type RawWebhook,
  type SendResult,
  type WebhookOutcome,
} from "../types";
import { isAllowedSnsUrl, verifySnsMessage, type SnsMessage } from "./sns.server";

/**
 * Marketing email through Amazon SES v2: SendEmail with a raw MIME message (so List-Unsubscribe
 * and List-Unsubscribe-Post reach the recipient as we wrote them), tagged with our workspace and
 * message ids. Delivery, bounce, complaint, open and click events come back through an SNS topic
 * that the configuration set publishes to, POSTed to our webhook and verified here.
 */

export interface SesConfig {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Event publishing (SNS destination) is set up on the configuration set. */
  configurationSet?: string;
  /** `Shop <news@shop.example>` or a plain address; a verified SES identity. */
  fromIdentity: string;
  /** The one SNS topic whose messages this integration accepts (entered, or learnt). */
  snsTopicArn?: string;
}

export interface SesAdapterOptions {
  /** SES API endpoint override (SES_ENDPOINT): tests, `npm run fakes`, VPC endpoints. */
  endpoint?: string;
  /**
   * Exact origins (e.g. `http://127.0.0.1:4105`) allowed for SNS SigningCertURL and SubscribeURL
   * besides https://sns.<region>.amazonaws.com[.cn]. Tests only.
   */
  snsCertOrigins?: string[];
  /** When set, SNS messages from any other topic are refused (403). */
  snsTopicArns?: string[];
  /**
   * With no `config.snsTopicArn`: called with the topic of the first verified SNS message; it
   * records that topic as this integration's own and returns the topic now pinned (another
   * one when something else got there first). Messages of any other topic are then refused.
   */
  pinSnsTopic?: (topicArn: string) => string;
  /** Per SES call; default 15 s. */
  timeoutMs?: number;
}

export type SesAdapter = ChannelAdapter & {
  /** Closes the SDK client's keep-alive connections. */
  close(): void;
};

/** SES tag values allow only these characters (and at most 256 of them). */
const TAG_VALUE = /[^A-Za-z0-9_\-@.]/g;

export function sesTagValue(value: string): string {
  const cleaned = value.replace(TAG_VALUE, "_").slice(0, 256);
  return cleaned === "" ? "_" : cleaned;
}

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

// ---------------------------------------------------------------------------------------------
// Errors.

const RATE_LIMITED = new Set([
  "TooManyRequestsException",
  "ThrottlingException",
  "Throttling",
  "LimitExceededException",
]);

const CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "InvalidClientTokenId",
  "AccessDenied",
  "AccessDeniedException",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
]);

/** What the operator must do, by SES exception name. */
function configurationReason(code: string, message: string, config: SesConfig): string | null {
  switch (code) {
    case "SendingPausedException":
      return `SES ${code}: sending is paused for this account or configuration set; resume it in the SES console (${message})`;
    case "AccountSuspendedException":
      return `SES ${code}: the SES account is suspended and cannot send; contact AWS Support (${message})`;
    case "MailFromDomainNotVerifiedException":
      return `SES ${code}: the custom MAIL FROM domain of the sending identity is not verified; fix its MX/SPF DNS records (${message})`;
    case "NotFoundException":
      return config.configurationSet
        ? `SES ${code}: the configuration set "${config.configurationSet}" does not exist in ${config.region}; create it or correct its name (${message})`
        : `SES ${code}: ${message}`;
    default:
      return CREDENTIALS.has(code)
        ? `SES ${code}: the access key was refused; check the access key id and secret and that the key may call ses:SendEmail in ${config.region} (${message})`
        : null;
  }
}

function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof SESv2ServiceException) {
    return new ProviderError(error.message || error.name, {
      status: error.$metadata?.httpStatusCode,
      code: error.name,
      cause: error,
    });
  }
  const err = error as { name?: unknown; code?: unknown; message?: unknown } | null;
  const name = typeof err?.name === "string" ? err.name : "";
  const code = typeof err?.code === "string" ? err.code : undefined;
  const timedOut = name === "TimeoutError" || code === "ETIMEDOUT" || name === "AbortError";
  return new ProviderError(
    `SES could not be reached: ${typeof err?.message === "string" ? err.message : String(error)}`,
    { code: timedOut ? "timeout" : (code ?? "network"), cause: error },
  );
}

export function classifySesError(error: unknown, config: SesConfig): ErrorClass {
  const e = toProviderError(error);
  const code = e.code ?? "";
  const text = e.message;
  if (code === "invalid-message") {
    return { kind: "permanent", reason: `Email not sent: ${text}` };
  }
  if (/daily message quota exceeded/i.test(text)) {
    return {
      kind: "rate-limited",
      retryAfterMs: 15 * 60_000,
      reason: `SES ${code || "Throttling"}: the 24-hour sending quota is used up (${text})`,
    };
  }
  if (RATE_LIMITED.has(code) || e.status === 429 || /maximum sending rate exceeded/i.test(text)) {
    // MaxSendRate is per second: one second is enough unless SES said otherwise.
    const perSecond = /maximum sending rate exceeded/i.test(text) ? 1_000 : undefined;
    return {
      kind: "rate-limited",
      retryAfterMs: e.retryAfterMs ?? perSecond,
      reason: `SES ${code || e.status}: ${text}`,
    };
  }
  const configuration = configurationReason(code, text, config);
  if (configuration) return { kind: "permanent", reason: configuration };
  if (e.status === 401 || e.status === 403) {
    return {
      kind: "permanent",
      reason: `SES ${code || e.status}: the access key was refused; check the access key id and secret (${text})`,
    };
  }
  if (e.status !== undefined && e.status >= 400 && e.status < 500) {
    // MessageRejected, BadRequestException and any other client error: this message won't go.
    return { kind: "permanent", reason: `SES ${code || e.status}: ${text}` };
  }
  return {
    kind: "transient",
    retryAfterMs: e.retryAfterMs,
    reason: e.status ? `SES ${code || "error"} (HTTP ${e.status}): ${text}` : text,
  };
}

// ---------------------------------------------------------------------------------------------
// SES events (event publishing via a configuration set, or identity notifications).

interface SesRecipient {
  emailAddress?: string;
  diagnosticCode?: string;
  status?: string;
}

interface SesEventJson {
  eventType?: string;
  notificationType?: string;
  mail?: { messageId?: string; timestamp?: string };
  bounce?: {
    bounceType?: string;
    bounceSubType?: string;
    bouncedRecipients?: SesRecipient[];
    timestamp?: string;
  };
  complaint?: {
    complainedRecipients?: SesRecipient[];
    complaintFeedbackType?: string;
    complaintSubType?: string | null;
    timestamp?: string;
  };
  delivery?: { timestamp?: string };
  open?: { timestamp?: string };
  click?: { timestamp?: string; link?: string };
  reject?: { reason?: string };
  failure?: { errorMessage?: string; templateName?: string };
}

function date(value: string | undefined, fallback: Date): Date {
  const t = value ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? fallback : new Date(t);
}

/** SES event JSON (one SNS Notification) → our status events. Unknown types give none. */
export function sesEventsFromNotification(sns: SnsMessage): ChannelEvent[] {
  let data: SesEventJson;
  try {
    data = JSON.parse(sns.Message) as SesEventJson;
  } catch {
    return []; // e.g. a test message published by hand from the SNS console.
  }
  if (typeof data !== "object" || data === null) return [];
  const type = data.eventType ?? data.notificationType;
  const providerMessageId = data.mail?.messageId;
  if (!type || typeof providerMessageId !== "string" || !providerMessageId) return [];
  const snsAt = date(sns.Timestamp, new Date());
  const mailAt = date(data.mail?.timestamp, snsAt);
  const base = { type: "status" as const, eventId: sns.MessageId, providerMessageId };

  switch (type) {
    case "Send":
      return [{ ...base, status: "sent", at: mailAt }];
    case "Delivery":
      return [{ ...base, status: "delivered", at: date(data.delivery?.timestamp, snsAt) }];
    case "Open":
      return [{ ...base, status: "opened", at: date(data.open?.timestamp, snsAt) }];
    case "Click":
      return [{ ...base, status: "clicked", at: date(data.click?.timestamp, snsAt) }];
    case "Reject":
      return [
        {
          ...base,
          status: "failed",
          at: mailAt,
          reason: `SES rejected the message: ${data.reject?.reason ?? "unknown reason"}`,
        },
      ];
    case "Rendering Failure":
    case "RenderingFailure":
      return [
        {
          ...base,
          status: "failed",
          at: mailAt,
          reason: `SES could not render the template: ${data.failure?.errorMessage ?? "unknown error"}`,
        },
      ];
    case "Bounce": {
      const bounce = data.bounce ?? {};
      const at = date(bounce.timestamp, snsAt);
      const permanent = bounce.bounceType === "Permanent";
      const kind = [bounce.bounceType, bounce.bounceSubType].filter(Boolean).join("/") || "Bounce";
      const recipients = bounce.bouncedRecipients?.length ? bounce.bouncedRecipients : [{}];
      return recipients.map((r, i) => ({
        ...base,
        eventId: recipients.length > 1 ? `${sns.MessageId}:${i}` : sns.MessageId,
        status: "bounced" as const,
        at,
        permanent,
        reason: r.diagnosticCode ? `${kind}: ${r.diagnosticCode}` : kind,
        ...(r.emailAddress ? { recipient: r.emailAddress } : {}),
      }));
    }
    case "Complaint": {
      const complaint = data.complaint ?? {};
      const at = date(complaint.timestamp, snsAt);
      const detail = [complaint.complaintFeedbackType, complaint.complaintSubType]
        .filter(Boolean)
        .join(", ");
      const reason = detail ? `Complaint: ${detail}` : "Complaint";
      const recipients = complaint.complainedRecipients?.length
        ? complaint.complainedRecipients
        : [{}];
      return recipients.map((r, i) => ({
        ...base,
        eventId: recipients.length > 1 ? `${sns.MessageId}:${i}` : sns.MessageId,
        status: "complained" as const,
        at,
        reason,
        ...(r.emailAddress ? { recipient: r.emailAddress } : {}),
      }));
    }
    default:
      // DeliveryDelay (SES keeps trying), Subscription, AmazonSnsSubscriptionSucceeded, ...
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// The adapter.

export function createSesAdapter(config: SesConfig, options: SesAdapterOptions = {}): SesAdapter {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const allowedOrigins = options.snsCertOrigins ?? [];
  // Any AWS account can sign a valid SNS message and point it at our URL: only the topic the
  // tenant's configuration set publishes to may confirm a subscription or report events.
  let pinnedTopic: string | null = config.snsTopicArn ?? null;
  const client = new SESv2Client({
    region: config.region,
    endpoint: options.endpoint,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    // The delivery engine owns retries and pacing; the SDK must not multiply them.
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: 5_000,
      requestTimeout: timeoutMs,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
  });

  async function send(message: OutgoingMessage): Promise<SendResult> {
    const { content } = message;
    if (content.channel !== "email") {
      throw new ProviderError(`SES sends email, not ${content.channel}`, {
        code: "invalid-message",
      });
    }
    if (message.to.length > 254 || !ADDRESS.test(message.to)) {
      throw new ProviderError(`${JSON.stringify(message.to)} is not one plain email address`, {
        code: "invalid-message",
      });
    }
    let raw: Buffer;
    try {
      ({ raw } = await buildRawMime({
        from: content.from ?? config.fromIdentity,
        to: message.to,
        replyTo: content.replyTo,
        subject: content.subject,
        text: content.text,
        html: content.html,
        headers: message.headers,
        inReplyTo: content.inReplyTo,
        references: content.references,
      }));
    } catch (error) {
      if (error instanceof MimeError) {
        throw new ProviderError(error.message, { code: "invalid-message", cause: error });
      }
      throw error;
    }
    try {
      const result = await client.send(
        new SendEmailCommand({
          Destination: { ToAddresses: [message.to] },
          Content: { Raw: { Data: raw } },
          ...(config.configurationSet ? { ConfigurationSetName: config.configurationSet } : {}),
          EmailTags: [
            { Name: "workspace", Value: sesTagValue(message.workspaceId) },
            { Name: "message", Value: sesTagValue(message.id) },
          ],
        }),
      );
      if (!result.MessageId) {
        throw new ProviderError("SES accepted the message without a MessageId", {
          code: "no-message-id",
        });
      }
      return { providerMessageId: result.MessageId };
    } catch (error) {
      throw toProviderError(error);
    }
  }

  async function receiveWebhook(request: RawWebhook): Promise<WebhookOutcome> {
    try {
      if (request.method.toUpperCase() !== "POST") {
        return { kind: "rejected", status: 400, reason: "SNS delivers with POST" };
      }
      const verified = await verifySnsMessage(request.body, { allowedOrigins });
      if (!verified.ok)
        return { kind: "rejected", status: verified.status, reason: verified.reason };
      const sns = verified.message;
      const headerType = request.headers["x-amz-sns-message-type"];
      if (headerType !== undefined && headerType !== sns.Type) {
        return {
          kind: "rejected",
          status: 400,
          reason: "x-amz-sns-message-type does not match the message Type",
        };
      }
      if (options.snsTopicArns && !options.snsTopicArns.includes(sns.TopicArn)) {
        return { kind: "rejected", status: 403, reason: `Unexpected SNS topic ${sns.TopicArn}` };
      }
      if (pinnedTopic === null && options.pinSnsTopic) {
        pinnedTopic = options.pinSnsTopic(sns.TopicArn);
      }
      if (pinnedTopic !== null && pinnedTopic !== sns.TopicArn) {
        return {
          kind: "rejected",
          status: 403,
          reason: `Unexpected SNS topic ${sns.TopicArn}: this integration takes messages of ${pinnedTopic} only`,
        };
      }
      switch (sns.Type) {
        case "SubscriptionConfirmation":
          return await confirmSubscription(sns);
        case "UnsubscribeConfirmation":
          return { kind: "handshake", status: 200, body: "ok", contentType: "text/plain" };
        case "Notification":
          return { kind: "events", events: sesEventsFromNotification(sns) };
      }
    } catch (error) {
      // Never throw to the route: an unexpected failure is reported as not understood.
      return {
        kind: "rejected",
        status: 400,
        reason: `Could not process the SNS message: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  async function confirmSubscription(sns: SnsMessage): Promise<WebhookOutcome> {
    const url = sns.SubscribeURL ?? "";
    if (!isAllowedSnsUrl(url, allowedOrigins)) {
      return {
        kind: "rejected",
        status: 401,
        reason: "The SNS SubscribeURL is not an https URL on an Amazon SNS host",
      };
    }
    let status: number;
    try {
      ({ status } = await httpCall({ method: "GET", url, timeoutMs: 10_000 }));
    } catch (error) {
      // Not 2xx, so SNS sends the confirmation again later.
      return {
        kind: "handshake",
        status: 502,
        body: `could not confirm the subscription: ${error instanceof Error ? error.message : String(error)}`,
        contentType: "text/plain",
      };
    }
    if (status !== 200) {
      return {
        kind: "handshake",
        status: 502,
        body: `SNS answered HTTP ${status} to the subscription confirmation`,
        contentType: "text/plain",
      };
    }
    return { kind: "handshake", status: 200, body: "subscribed", contentType: "text/plain" };
  }

  async function testConnection(): Promise<ConnectionCheck> {
    try {
      const account = await client.send(new GetAccountCommand({}));
      const quota = account.SendQuota ?? {};
      const rate = quota.MaxSendRate;
      const limits =
        `up to ${quota.Max24HourSend ?? "?"} emails per 24 hours at ${rate ?? "?"}/s` +
        (quota.SentLast24Hours !== undefined
          ? `, ${quota.SentLast24Hours} sent in the last 24 hours`
          : "");
      if (account.SendingEnabled === false) {
        return {
          ok: false,
          check: "Sending enabled",
          reason: `SES sending is disabled for this account in ${config.region}; re-enable it in the SES console (${limits})`,
        };
      }
      const access = account.ProductionAccessEnabled
        ? "production access"
        : "sandbox (only verified recipients; request production access in the SES console)";
      return {
        ok: true,
        detail: `SES ${config.region}: sending enabled, ${access}, ${limits}`,
        ...(typeof rate === "number" && rate > 0 ? { ratePerSecond: rate } : {}),
      };
    } catch (error) {
      return {
        ok: false,
        check: "Access key, secret and region",
        reason: classifySesError(error, config).reason,
      };
    }
  }

  return {
    channel: "email",
    send,
    classify: (error) => classifySesError(error, config),
    receiveWebhook,
    testConnection,
    close: () => client.destroy(),
  };
}
