// Fake Amazon SES v2 (SendEmail only), speaking the REST-JSON wire format the AWS SDK uses:
// POST /v2/email/outbound-emails with a JSON body, answering {"MessageId": "..."}; errors are
// a status, an `x-amzn-ErrorType` header and {"message": "..."}. Point the SDK at it with
// `endpoint` (the app: SES_ENDPOINT).
import { randomBytes } from "node:crypto";
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
  simple?: { subject?: string; text?: string; html?: string };
  template?: { name?: string; data?: string };
  configurationSetName?: string;
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

export function createSesFake(): FakeServer {
  return createFakeServer({
    name: "ses",
    routes: [
      {
        method: "POST",
        path: "/v2/email/outbound-emails",
        handler(req, res) {
          const auth = CREDENTIAL.exec(req.headers.authorization ?? "");
          if (!auth) {
            return sesError(
              403,
              "MissingAuthenticationTokenException",
              "Missing Authentication Token",
            );
          }
          if (auth[3] !== "ses") {
            return sesError(403, "InvalidSignatureException", "Credential should be scoped to ses");
          }
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
          };
          if (content.Raw) {
            const data = content.Raw.Data ?? "";
            if (!data || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
              return sesError(400, "BadRequestException", "Raw.Data must be base64");
            }
            sent.raw = Buffer.from(data, "base64").toString("utf8");
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
          const log = (res.state.sent ??= []) as SesSentEmail[];
          log.push(sent);
          return res.json({ MessageId: sent.messageId });
        },
      },
    ],
  });
}

/** Everything the fake accepted, oldest first. */
export function sesSentEmails(fake: FakeServer): SesSentEmail[] {
  return (fake.state.sent as SesSentEmail[] | undefined) ?? [];
}
