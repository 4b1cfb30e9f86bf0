import { and, eq } from "drizzle-orm";
import {
  InboundEmailError,
  parseInboundEmail,
  type InboundEmail,
} from "~/channels/email-inbound.server";
import { receiveSesInbound } from "~/channels/ses/inbound.server";
import type { ChannelEvent, RawWebhook } from "~/channels/types";
import { getControlDb } from "~/db/control.server";
import { integrations, workspaces } from "~/db/schema/control";
import { getEnv } from "~/lib/env.server";
import { logger } from "~/lib/logger.server";
import {
  checkForwardSignature,
  checkMailgunSignature,
  inboundEmailSecretOf,
  mailgunSigningKeyOf,
} from "./inbound-email-secret.server";
import { readMessageAddress, type AddressPurpose } from "./reply-address.server";
import { SANDBOX_EVENTS, storeVerifiedEvents, type WebhookAnswer } from "./webhooks.server";

/**
 * Inbound email endpoints (docs/inbound-email.md), mounted beside the provider webhooks:
 *   POST /webhooks/inbound-email/ses                      SES receipt rule → SNS notification
 *   POST /webhooks/inbound-email/forward?workspace=<id>   raw RFC 822 from a mail forwarder,
 *                                                         signed with the workspace's secret
 *   POST /webhooks/inbound-email/<workspace id>.mime      a Mailgun route's forward (body-mime),
 *                                                         signed with its Mailgun signing key
 * Verified mail becomes an inbound event on the email channel, stored in the workspace before
 * the 200 and applied like every other webhook event (threaded, or suppressing the sender when
 * it came to an unsubscribe address).
 */

export const INBOUND_EMAIL_SEGMENT = "inbound-email";

const text = (status: number, body: string): WebhookAnswer => ({
  status,
  body,
  contentType: "text/plain; charset=utf-8",
});

export async function receiveInboundEmail(kind: string, raw: RawWebhook): Promise<WebhookAnswer> {
  if (kind === "ses") return receiveFromSes(raw);
  if (kind === "forward") return receiveForwarded(raw);
  const mailgun = /^(ws_[0-9a-z]{1,32})\.mime$/.exec(kind);
  if (mailgun) return receiveFromMailgun(mailgun[1]!, raw);
  return text(404, "Unknown webhook");
}

/** Mail we take but do not store still gets a 2xx: SNS and forwarders would retry it forever. */
function dropped(reason: string, detail: Record<string, unknown> = {}): WebhookAnswer {
  logger.warn({ ...detail, reason }, "inbound email dropped");
  return text(200, `dropped: ${reason}`);
}

async function receiveFromSes(raw: RawWebhook): Promise<WebhookAnswer> {
  const env = getEnv();
  const outcome = await receiveSesInbound(raw, {
    allowedOrigins: env.SNS_CERT_ORIGINS ?? [],
    topicArns: env.INBOUND_EMAIL_SNS_TOPIC_ARNS,
  });
  if (outcome.kind === "rejected") return text(outcome.status, outcome.reason);
  if (outcome.kind === "handshake") return text(outcome.status, outcome.body);
  if (outcome.kind === "ignored") return dropped(outcome.reason);
  const detail = { snsMessageId: outcome.snsMessageId };
  if (outcome.spam) return dropped("SES marked it as spam or a virus", detail);
  const email = await parsed(outcome.raw);
  if (typeof email === "string") return dropped(email, detail);
  // Only what we signed names the workspace: the envelope recipients first, then the headers.
  const target = ourAddress([...outcome.recipients, ...email.recipients]);
  if (!target.ok) return dropped(target.reason, detail);
  return store(target.workspaceId, email, target.purpose, target.messageId);
}

/** The workspace named in the URL (?workspace=), when it exists. */
function urlWorkspace(raw: RawWebhook): string | null {
  const workspaceId = new URL(raw.url, "http://localhost").searchParams.get("workspace") ?? "";
  return /^ws_[0-9a-z]{1,32}$/.test(workspaceId) && workspaceActive(workspaceId)
    ? workspaceId
    : null;
}

async function receiveForwarded(raw: RawWebhook): Promise<WebhookAnswer> {
  if (raw.method.toUpperCase() !== "POST") return text(405, "POST the message");
  const workspaceId = urlWorkspace(raw);
  if (!workspaceId) return text(404, "Unknown workspace");
  const secret = await inboundEmailSecretOf(workspaceId);
  if (!secret) return text(401, "This workspace has no inbound email secret");
  const problem = checkForwardSignature(secret, raw.headers, raw.body);
  if (problem) return text(401, problem);
  return storeForWorkspace(workspaceId, raw.body);
}

/**
 * A Mailgun route's forward() to a URL ending in "mime": multipart form data with the raw
 * message in `body-mime`, signed with the workspace's Mailgun HTTP webhook signing key.
 */
async function receiveFromMailgun(workspaceId: string, raw: RawWebhook): Promise<WebhookAnswer> {
  if (raw.method.toUpperCase() !== "POST") return text(405, "POST the message");
  if (!workspaceActive(workspaceId)) return text(404, "Unknown workspace");
  const key = await mailgunSigningKeyOf(workspaceId);
  if (!key) return text(401, "This workspace has no Mailgun signing key");
  let form: FormData;
  try {
    form = await new Request("http://localhost/", {
      method: "POST",
      headers: { "content-type": raw.headers["content-type"] ?? "" },
      body: new Uint8Array(raw.body),
    }).formData();
  } catch {
    return text(400, "The body is not form data");
  }
  const field = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" ? value : "";
  };
  const problem = checkMailgunSignature(key, {
    timestamp: field("timestamp"),
    token: field("token"),
    signature: field("signature"),
  });
  if (problem) return text(401, problem);
  const mime = form.get("body-mime");
  if (mime === null) return text(400, "body-mime is missing (forward to a URL ending in mime)");
  const body =
    typeof mime === "string" ? Buffer.from(mime, "utf8") : Buffer.from(await mime.arrayBuffer());
  return storeForWorkspace(workspaceId, body);
}

/** Verified mail for a workspace named by the request (its URL and signature). */
async function storeForWorkspace(workspaceId: string, raw: Buffer): Promise<WebhookAnswer> {
  const email = await parsed(raw);
  if (typeof email === "string") return text(400, email);
  const target = ourAddress(email.recipients);
  // A token of another workspace says nothing here; the signature already named this one.
  const mine = target.ok && target.workspaceId === workspaceId ? target : null;
  return store(workspaceId, email, mine?.purpose ?? "reply", mine?.messageId);
}

async function parsed(raw: Buffer): Promise<InboundEmail | string> {
  try {
    const email = await parseInboundEmail(raw);
    if (!email.from) return "the email has no sender address";
    return email;
  } catch (error) {
    if (error instanceof InboundEmailError) return error.message;
    throw error;
  }
}

type Target =
  | { ok: true; workspaceId: string; messageId: string; purpose: AddressPurpose }
  | { ok: false; reason: string };

function ourAddress(recipients: string[]): Target {
  let reason = "no recipient is a reply or unsubscribe address";
  for (const recipient of recipients) {
    const read = readMessageAddress(recipient);
    if (read.ok) {
      if (!workspaceActive(read.target.workspaceId)) {
        return { ok: false, reason: "the workspace no longer exists" };
      }
      return { ok: true, purpose: read.purpose, ...read.target };
    }
    if (read.reason === "the token does not verify") reason = `${recipient}: ${read.reason}`;
  }
  return { ok: false, reason };
}

function workspaceActive(workspaceId: string): boolean {
  const row = getControlDb()
    .select({ status: workspaces.status })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  return row !== undefined && row.status !== "deleted";
}

/** Replies are stored under the workspace's email integration, so they join its conversations. */
function emailIntegrationId(workspaceId: string): string {
  const row = getControlDb()
    .select({ id: integrations.id })
    .from(integrations)
    .where(and(eq(integrations.workspaceId, workspaceId), eq(integrations.channel, "email")))
    .get();
  return row?.id ?? SANDBOX_EVENTS;
}

/** The inbound event for one verified email. */
export function inboundEmailEvent(
  email: InboundEmail,
  purpose: AddressPurpose,
  messageId: string | undefined,
  receivedAt: Date,
): Extract<ChannelEvent, { type: "inbound" }> {
  // Mail without a Message-ID still needs one stable key for de-duplication.
  const id = email.messageId || `no-id:${email.from}:${email.date?.getTime() ?? ""}:${email.text}`;
  return {
    type: "inbound",
    eventId: id.slice(0, 500),
    providerMessageId: id.slice(0, 500),
    from: email.from,
    ...(email.fromName ? { name: email.fromName } : {}),
    text: email.text.slice(0, 20_000),
    at: email.date && email.date.getTime() <= receivedAt.getTime() ? email.date : receivedAt,
    ...(email.automated ? { automated: true } : {}),
    email: {
      subject: email.subject.slice(0, 998),
      purpose,
      ...(messageId ? { messageId } : {}),
      replyingTo: email.replyingTo.slice(0, 20),
      // Kept so answers thread in the customer's mail client; the root and the nearest ids matter.
      ...(email.messageId && email.messageId.length <= 250
        ? { headerMessageId: email.messageId }
        : {}),
      references: email.references.filter((id) => id.length <= 250).slice(-20),
    },
  };
}

async function store(
  workspaceId: string,
  email: InboundEmail,
  purpose: AddressPurpose,
  messageId: string | undefined,
): Promise<WebhookAnswer> {
  const event = inboundEmailEvent(email, purpose, messageId, new Date());
  await storeVerifiedEvents(workspaceId, emailIntegrationId(workspaceId), "email", [event]);
  return text(200, "ok");
}
