// Fake Amazon SES v2 (SendEmail and GetAccount), speaking the REST-JSON wire format the AWS SDK
// uses: POST /v2/email/outbound-emails with a JSON body, answering {"MessageId": "..."}, and
// GET /v2/email/account; errors are a status, an `x-amzn-ErrorType` header and
// {"message": "..."}. Point the SDK at it with `endpoint` (the app: SES_ENDPOINT).
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createFakeServer, type FakeReply, type FakeServer, type Fault } from "./base";

export interface SesSentEmail {
  messageId: string;
  /** The access key id from the SigV4 Authorization header. */
  accessKeyId: string;
  /** The signing region from the Authorization header's credential scope. */
  region: string;
  fromEmailAddress?: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  /** Content.Raw.Data decoded: the full MIME message as the recipient would get it. */
  raw?: string;
  /** The raw message's top-level headers: lower-case names, first occurrence, unfolded. */
  headers?: Record<string, string>;
  simple?: { subject?: string; text?: string; html?: string };
  template?: { name?: string; data?: string };
  configurationSetName?: string;
  /** EmailTags as sent, in order. */
  emailTags: { name: string; value: string }[];
}

interface SendEmailBody {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  Content?: {
    Raw?: { Data?: string };
    Simple?: {
      Subject?: { Data?: string };
      Body?: { Text?: { Data?: string }; Html?: { Data?: string } };
    };
    Template?: { TemplateName?: string; TemplateData?: string };
  };
  ConfigurationSetName?: string;
  EmailTags?: { Name?: string; Value?: string }[];
}

/** The AWS error shape: `x-amzn-ErrorType` names the exception, the body carries the message. */
export function sesError(status: number, type: string, message: string): FakeReply {
  return {
    status,
    headers: {
      "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
    },
    json: { message },
  };
}

/** A fault for `fake.injectFault`, e.g. `sesFault(429, "TooManyRequestsException")`. */
export function sesFault(status: number, type: string, message = `${type} (injected)`): Fault {
  const reply = sesError(status, type, message);
  return { kind: "status", status, headers: reply.headers, json: reply.json };
}

const CREDENTIAL = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request,/;

/** Header value of a raw MIME message (first occurrence, unfolded), for simple checks. */
function rawHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** Every top-level header of a raw MIME message (lower-case names, first occurrence, unfolded). */
function rawHeaders(raw: string): Record<string, string> {
  const head = (raw.split(/\r?\n\r?\n/, 1)[0] ?? "").replace(/\r?\n[ \t]+/g, " ");
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return headers;
}

/** What GetAccount reports; mutable on a running fake via `fake.account`. */
export interface SesFakeAccount {
  max24HourSend: number;
  maxSendRate: number;
  sendingEnabled: boolean;
  productionAccessEnabled: boolean;
}

export interface SesFakeOptions {
  /**
   * Over this many accepted sends per access key in any 1,000 ms window, SendEmail answers 429
   * TooManyRequestsException "Maximum sending rate exceeded." Default: no limit.
   */
  maxSendRate?: number;
  /**
   * false: accepted messages are only counted (`sentCount`), not kept for `sesSentEmails`, and
   * the base request log is emptied on each send so long benches stay flat in memory.
   */
  record?: boolean;
  account?: Partial<SesFakeAccount>;
}

export interface SesFake extends FakeServer {
  readonly account: SesFakeAccount;
  /** Accepted sends so far (all keys), also with `record: false`. */
  readonly sentCount: number;
  /** Most sends accepted for this access key in any sliding 1,000 ms window. */
  maxRatePerSecond(accessKeyId: string): number;
  /** Forgets rate history and the sent counter. */
  resetRates(): void;
}

/**
 * Accept times within the last second, as a queue (array + head index): each send is pushed
 * once and dropped once, so both operations are O(1) amortised.
 */
class SlidingWindow {
  private times: number[] = [];
  private head = 0;
  max = 0;

  size(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - 1000) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(now: number): void {
    this.times.push(now);
    this.max = Math.max(this.max, this.size(now));
  }
}

const TAG = /^[A-Za-z0-9_\-@.]{1,256}$/;

export function createSesFake(options: SesFakeOptions = {}): SesFake {
  const record = options.record ?? true;
  const account: SesFakeAccount = {
    max24HourSend: 50_000,
    maxSendRate: options.maxSendRate ?? 14,
    sendingEnabled: true,
    productionAccessEnabled: true,
    ...options.account,
  };
  let windows = new Map<string, SlidingWindow>();
  let sentCount = 0;

  function authorize(authorization: string | undefined): RegExpExecArray | FakeReply {
    const auth = CREDENTIAL.exec(authorization ?? "");
    if (!auth) {
      return sesError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    if (auth[3] !== "ses") {
      return sesError(403, "InvalidSignatureException", "Credential should be scoped to ses");
    }
    return auth;
  }

  const server = createFakeServer({
    name: "ses",
    routes: [
      {
        method: "GET",
        path: "/v2/email/account",
        handler(req, res) {
          const auth = authorize(req.headers.authorization);
          if (!Array.isArray(auth)) return auth;
          return res.json({
            DedicatedIpAutoWarmupEnabled: false,
            EnforcementStatus: "HEALTHY",
            ProductionAccessEnabled: account.productionAccessEnabled,
            SendingEnabled: account.sendingEnabled,
            SendQuota: {
              Max24HourSend: account.max24HourSend,
              MaxSendRate: account.maxSendRate,
              SentLast24Hours: sentCount,
            },
          });
        },
      },
      {
        method: "POST",
        path: "/v2/email/outbound-emails",
        handler(req, res) {
          if (!record) server.requests.length = 0;
          const auth = authorize(req.headers.authorization);
          if (!Array.isArray(auth)) return auth;
          let body: SendEmailBody;
          try {
            body = req.json<SendEmailBody>();
          } catch {
            return sesError(400, "BadRequestException", "The request body is not valid JSON");
          }
          const content = body.Content ?? {};
          const kinds = [content.Raw, content.Simple, content.Template].filter(Boolean).length;
          if (kinds !== 1) {
            return sesError(
              400,
              "BadRequestException",
              "Content must contain exactly one of Simple, Raw or Template",
            );
          }
          const emailTags: { name: string; value: string }[] = [];
          for (const tag of body.EmailTags ?? []) {
            if (!TAG.test(tag.Name ?? "") || !TAG.test(tag.Value ?? "")) {
              return sesError(
                400,
                "BadRequestException",
                "Tag names and values may contain only ASCII letters, digits, _ - @ and . (1 to 256)",
              );
            }
            emailTags.push({ name: tag.Name!, value: tag.Value! });
          }
          const sent: SesSentEmail = {
            messageId: `0100${randomBytes(20).toString("hex")}-000000`,
            accessKeyId: auth[1]!,
            region: auth[2]!,
            fromEmailAddress: body.FromEmailAddress,
            destination: {
              to: body.Destination?.ToAddresses ?? [],
              cc: body.Destination?.CcAddresses ?? [],
              bcc: body.Destination?.BccAddresses ?? [],
            },
            configurationSetName: body.ConfigurationSetName,
            emailTags,
          };
          if (content.Raw) {
            const data = content.Raw.Data ?? "";
            if (!data || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
              return sesError(400, "BadRequestException", "Raw.Data must be base64");
            }
            sent.raw = Buffer.from(data, "base64").toString("utf8");
            sent.headers = rawHeaders(sent.raw);
            if (!body.FromEmailAddress && !rawHeader(sent.raw, "from")) {
              return sesError(400, "MessageRejected", "Missing final '@domain'");
            }
            const headerTo = rawHeader(sent.raw, "to");
            if (sent.destination.to.length === 0 && headerTo) sent.destination.to = [headerTo];
          } else if (content.Simple) {
            if (!body.FromEmailAddress) {
              return sesError(400, "BadRequestException", "FromEmailAddress is required");
            }
            sent.simple = {
              subject: content.Simple.Subject?.Data,
              text: content.Simple.Body?.Text?.Data,
              html: content.Simple.Body?.Html?.Data,
            };
          } else {
            sent.template = {
              name: content.Template?.TemplateName,
              data: content.Template?.TemplateData,
            };
          }
          const { to, cc, bcc } = sent.destination;
          if (to.length + cc.length + bcc.length === 0) {
            return sesError(400, "MessageRejected", "Missing destination");
          }
          if (to.length + cc.length + bcc.length > 50) {
            return sesError(400, "MessageRejected", "Too many recipients (limit 50)");
          }
          let window = windows.get(sent.accessKeyId);
          if (!window) windows.set(sent.accessKeyId, (window = new SlidingWindow()));
          const now = performance.now();
          if (options.maxSendRate !== undefined && window.size(now) >= options.maxSendRate) {
            return sesError(429, "TooManyRequestsException", "Maximum sending rate exceeded.");
          }
          window.add(now);
          sentCount += 1;
          if (record) ((res.state.sent ??= []) as SesSentEmail[]).push(sent);
          return res.json({ MessageId: sent.messageId });
        },
      },
    ],
  });

  // defineProperties, not Object.assign: `sentCount` must stay a live getter.
  return Object.defineProperties(server, {
    account: { value: account, enumerable: true },
    sentCount: { get: () => sentCount, enumerable: true },
    maxRatePerSecond: {
      value: (accessKeyId: string): number => windows.get(accessKeyId)?.max ?? 0,
    },
    resetRates: {
      value: (): void => {
        windows = new Map();
        sentCount = 0;
      },
    },
  }) as SesFake;
}

/** Everything the fake accepted, oldest first (empty with `record: false`). */
export function sesSentEmails(fake: FakeServer): SesSentEmail[] {
  return (fake.state.sent as SesSentEmail[] | undefined) ?? [];
}
