import { httpCall } from "../http.server";
import type { RawWebhook } from "../types";
import { isAllowedSnsUrl, verifySnsMessage } from "./sns.server";

/**
 * SES email receiving: a receipt rule's SNS action publishes each received mail as an SNS
 * Notification whose Message is JSON { notificationType: "Received", mail, receipt, content },
 * content being the raw MIME (base64 or UTF-8, as the action's encoding says). The SNS
 * signature is verified exactly as for delivery events.
 */

export type SesInboundOutcome =
  | { kind: "rejected"; status: 400 | 401 | 403; reason: string }
  | { kind: "handshake"; status: number; body: string }
  /** Verified, but nothing to store (another notification type, mail too large for SNS). */
  | { kind: "ignored"; reason: string }
  | {
      kind: "mail";
      snsMessageId: string;
      raw: Buffer;
      /** The envelope recipients SES accepted the mail for (receipt.recipients). */
      recipients: string[];
      /** SES's spam and virus verdicts: "FAIL" for either means do not treat it as a reply. */
      spam: boolean;
    };

export interface SesInboundOptions {
  /** Exact extra origins for SigningCertURL / SubscribeURL (tests: the SNS fake). */
  allowedOrigins?: readonly string[];
  /** When set, only these topics are taken; others are refused (403). */
  topicArns?: readonly string[];
}

interface ReceivedJson {
  notificationType?: string;
  mail?: { messageId?: string; destination?: string[] };
  receipt?: {
    recipients?: string[];
    action?: { type?: string; encoding?: string };
    spamVerdict?: { status?: string };
    virusVerdict?: { status?: string };
  };
  content?: string;
}

export async function receiveSesInbound(
  request: RawWebhook,
  options: SesInboundOptions = {},
): Promise<SesInboundOutcome> {
  if (request.method.toUpperCase() !== "POST") {
    return { kind: "rejected", status: 400, reason: "SNS delivers with POST" };
  }
  const allowedOrigins = options.allowedOrigins ?? [];
  const verified = await verifySnsMessage(request.body, { allowedOrigins });
  if (!verified.ok) return { kind: "rejected", status: verified.status, reason: verified.reason };
  const sns = verified.message;
  if (options.topicArns && !options.topicArns.includes(sns.TopicArn)) {
    return { kind: "rejected", status: 403, reason: `Unexpected SNS topic ${sns.TopicArn}` };
  }
  if (sns.Type === "UnsubscribeConfirmation") {
    return { kind: "handshake", status: 200, body: "ok" };
  }
  if (sns.Type === "SubscriptionConfirmation") {
    const url = sns.SubscribeURL ?? "";
    if (!isAllowedSnsUrl(url, allowedOrigins)) {
      return { kind: "rejected", status: 401, reason: "The SNS SubscribeURL is not on SNS" };
    }
    try {
      const { status } = await httpCall({ method: "GET", url, timeoutMs: 10_000 });
      return status === 200
        ? { kind: "handshake", status: 200, body: "subscribed" }
        : { kind: "handshake", status: 502, body: `SNS answered HTTP ${status}` };
    } catch (error) {
      return {
        kind: "handshake",
        status: 502,
        body: `could not confirm the subscription: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  let data: ReceivedJson;
  try {
    data = JSON.parse(sns.Message) as ReceivedJson;
  } catch {
    return { kind: "ignored", reason: "the SNS Message is not JSON" };
  }
  if (typeof data !== "object" || data === null || data.notificationType !== "Received") {
    return { kind: "ignored", reason: "not a Received notification" };
  }
  if (typeof data.content !== "string" || data.content === "") {
    // SNS actions carry mail up to 150 KB; larger mail arrives without content.
    return { kind: "ignored", reason: "the notification has no content (mail over 150 KB?)" };
  }
  const encoding = data.receipt?.action?.encoding?.toUpperCase();
  const raw =
    encoding === "BASE64" ? Buffer.from(data.content, "base64") : Buffer.from(data.content, "utf8");
  const recipients = (data.receipt?.recipients ?? data.mail?.destination ?? []).filter(
    (r): r is string => typeof r === "string",
  );
  return {
    kind: "mail",
    snsMessageId: sns.MessageId,
    raw,
    recipients,
    spam:
      data.receipt?.spamVerdict?.status === "FAIL" || data.receipt?.virusVerdict?.status === "FAIL",
  };
}
