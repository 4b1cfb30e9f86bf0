import { generateKeyPairSync } from "node:crypto";
import { appendFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearSnsCertificateCache } from "~/channels/ses/sns.server";
import { getControlDb } from "~/db/control.server";
import { integrations } from "~/db/schema/control";
import { consents, messages, webhookEvents } from "~/db/schema/tenant";
import { encryptSecret } from "~/lib/crypto/vault.server";
import { reloadEnv } from "~/lib/env.server";
import { ValidationError } from "~/lib/errors";
import {
  createSesFake,
  sesSentEmails,
  type SesFake,
  type SesSentEmail,
} from "../../../tests/fakes/ses";
import { createSmtpFake, parseHeaders, type SmtpFake } from "../../../tests/fakes/smtp";
import {
  createSnsFake,
  DEFAULT_TOPIC_ARN,
  sesEvent,
  type SesEventOptions,
  type SnsFake,
} from "../../../tests/fakes/sns";
import { giveConsent, insertContact } from "../../../tests/support/contacts";
import { dispatchAll, storedWebhookEvents } from "../../../tests/support/delivery";
import { makeWorkspace, WORKSPACE_SETTINGS } from "../../../tests/support/workspaces";
import { decodeHtml } from "../../../tests/support/html";
import { suppressionKey } from "../contacts/suppression-hash.server";
import { isSuppressed, suppressionsFor } from "../contacts/suppressions.server";
import type { WorkspaceContext } from "../context";
import { aadFor, encryptedColumns } from "../security/encrypted-columns.server";
import { updateWorkspaceSettings } from "../workspaces/workspaces.server";
import { readClickToken, readOpenToken, readUnsubscribeToken } from "./email-compose.server";
import {
  checkIntegration,
  listIntegrations,
  saveIntegration,
  saveIntegrationChecked,
} from "./integrations.server";
import { queueMessages, type QueueInput } from "./outbox.server";
import { processWebhookEvents, receiveWebhook } from "./webhooks.server";

/**
 * Marketing email end to end through the delivery engine: the real SES adapter (AWS SDK) to the
 * SES fake over HTTP, SNS event notifications signed by the SNS fake and verified against its
 * certificate, and the SMTP adapter (nodemailer) to the SMTP fake. Real SQLite files throughout.
 */

const BASE_URL = "https://engage.test";
const OTHER_TOPIC_ARN = "arn:aws:sns:ap-south-1:999999999999:someone-elses-topic";
let ses: SesFake;
let sns: SnsFake;
let smtp: SmtpFake;
let a: WorkspaceContext;
let b: WorkspaceContext;
let sesA: string;
let sesB: string;

const SES_CONFIG = (accessKeyId: string) => ({
  region: "ap-south-1",
  accessKeyId,
  secretAccessKey: `${accessKeyId}-secret`,
  configurationSet: "engage-events",
  fromIdentity: "Shop <news@shop.example>",
  ratePerSecond: 50,
});

const HTML =
  '<html><body><p>Monsoon sale! <a href="https://shop.example/sale?x=1&amp;y=2">See the sale</a></p></body></html>';

function marketing(subject: string): QueueInput["content"] {
  return { channel: "email", subject, html: HTML, text: "Monsoon sale: https://shop.example/sale" };
}

function emailContact(ctx: WorkspaceContext, email: string, consent = true): number {
  const id = insertContact(ctx.db, { name: email.split("@")[0], email });
  if (consent) giveConsent(ctx.db, id, "email", "granted", "checkout opt-in");
  return id;
}

function row(ctx: WorkspaceContext, id: string) {
  const found = ctx.db
    .select()
    .from(messages)
    .all()
    .find((m) => m.id === id);
  if (!found) throw new Error(`no message ${id}`);
  return found;
}

/** Queues one marketing email to a new consenting contact and dispatches it. */
async function sendOne(ctx: WorkspaceContext, email: string, subject = "Monsoon sale") {
  const contactId = emailContact(ctx, email);
  const summary = queueMessages(ctx, [
    { contactId, channel: "email", kind: "marketing", content: marketing(subject) },
  ]);
  expect(summary.queued).toBe(1);
  const messageId = summary.ids[0]!;
  await dispatchAll(ctx);
  const sent = row(ctx, messageId);
  expect(sent.status).toBe("sent");
  return { contactId, messageId, providerMessageId: sent.providerMessageId! };
}

function sesEmailFor(messageId: string): SesSentEmail {
  const found = sesSentEmails(ses).filter((e) =>
    e.emailTags.some((t) => t.name === "message" && t.value === messageId),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The decoded text/html part of a raw MIME message. */
function htmlPart(raw: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(parseHeaders(raw)["content-type"] ?? "")?.[1];
  if (!boundary) throw new Error("not multipart");
  for (const part of raw.split(`--${boundary}`)) {
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const headers = parseHeaders(part.slice(0, split).replace(/^\r\n/, ""));
    if (!/^text\/html/i.test(headers["content-type"] ?? "")) continue;
    const body = part.slice(split + 4);
    const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
    if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString();
    if (encoding === "quoted-printable") {
      const soft = body.replace(/=\r?\n/g, "");
      const bytes: number[] = [];
      for (let i = 0; i < soft.length; i++) {
        if (soft[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
          bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(soft.charCodeAt(i));
      }
      return Buffer.from(bytes).toString("utf8");
    }
    return body;
  }
  throw new Error("no text/html part");
}

async function postSns(
  integrationId: string,
  message: { body: string; headers: Record<string, string> },
) {
  return receiveWebhook("ses", integrationId, {
    method: "POST",
    url: `${BASE_URL}/webhooks/ses/${integrationId}`,
    headers: message.headers,
    body: Buffer.from(message.body),
  });
}

async function notify(
  ctx: WorkspaceContext,
  integrationId: string,
  event: SesEventOptions,
  options: { messageId?: string } = {},
) {
  const notification = sns.notification({ message: sesEvent(event), ...options });
  const answer = await postSns(integrationId, notification);
  expect(answer.status).toBe(200);
  await processWebhookEvents(ctx.workspaceId);
  return notification;
}

function consentOf(ctx: WorkspaceContext, contactId: number, channel: string) {
  return ctx.db
    .select()
    .from(consents)
    .all()
    .find((c) => c.contactId === contactId && c.channel === channel)?.status;
}

beforeAll(async () => {
  ses = createSesFake();
  sns = createSnsFake();
  smtp = createSmtpFake();
  await Promise.all([ses.start(), sns.start(), smtp.start()]);
  process.env.SES_ENDPOINT = ses.url;
  process.env.SNS_CERT_ORIGINS = sns.url;
  process.env.BASE_URL = BASE_URL;
  process.env.PROVIDER_TIMEOUT_MS = "2000";
  reloadEnv();
  clearSnsCertificateCache();
  a = await makeWorkspace("mail-a");
  b = await makeWorkspace("mail-b");
  sesA = saveIntegration(a, a.workspaceId, "email-ses", SES_CONFIG("AKIDWORKSPACEA")).id;
  sesB = saveIntegration(b, b.workspaceId, "email-ses", SES_CONFIG("AKIDWORKSPACEB")).id;
});

afterAll(async () => {
  await Promise.all([ses.stop(), sns.stop(), smtp.stop()]);
});

describe("SES: sending", () => {
  it("sends a consenting contact's marketing email as raw MIME with RFC 8058 headers, tracking and tags", async () => {
    const { contactId, messageId, providerMessageId } = await sendOne(a, "asha@example.com");
    const email = sesEmailFor(messageId);
    expect(providerMessageId).toBe(email.messageId);
    expect(email.accessKeyId).toBe("AKIDWORKSPACEA");
    expect(email.region).toBe("ap-south-1");
    expect(email.configurationSetName).toBe("engage-events");
    expect(email.destination.to).toEqual(["asha@example.com"]);
    expect(email.emailTags).toEqual([
      { name: "workspace", value: a.workspaceId },
      { name: "message", value: messageId },
    ]);

    const raw = email.raw!;
    const headers = parseHeaders(raw);
    expect(headers.from).toBe("Shop <news@shop.example>");
    expect(headers.subject).toBe("Monsoon sale");
    const listUnsubscribe =
      /^<https:\/\/engage\.test\/u\/([A-Za-z0-9_.-]+)>, <mailto:unsubscribe@engage\.test\?subject=unsubscribe%20([A-Za-z0-9_.-]+)>$/.exec(
        headers["list-unsubscribe"] ?? "",
      );
    expect(listUnsubscribe, headers["list-unsubscribe"]).not.toBeNull();
    const token = listUnsubscribe![1]!;
    expect(listUnsubscribe![2]).toBe(token);
    expect(readUnsubscribeToken(token)).toEqual({
      workspaceId: a.workspaceId,
      contactId,
      channel: "email",
      messageId,
    });
    expect(headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");

    const html = decodeHtml(htmlPart(raw));
    expect(html).toContain(`${BASE_URL}/u/`);
    const pixel = /https:\/\/engage\.test\/t\/o\/([A-Za-z0-9_.-]+)/.exec(html);
    expect(pixel).not.toBeNull();
    expect(readOpenToken(pixel![1]!)).toEqual({ workspaceId: a.workspaceId, messageId });
    const click = /href="https:\/\/engage\.test\/t\/c\/([A-Za-z0-9_.-]+)"/.exec(html);
    expect(click).not.toBeNull();
    expect(readClickToken(click![1]!)).toEqual({
      workspaceId: a.workspaceId,
      messageId,
      url: "https://shop.example/sale?x=1&y=2",
    });
    // The original link is rewritten, not left next to the tracked one.
    expect(html).not.toContain('href="https://shop.example/sale');
  });

  it("with tracking off: the unsubscribe link and headers stay, no pixel and links untouched", async () => {
    updateWorkspaceSettings(b, b.workspaceId, {
      name: "Shop mail-b",
      ...WORKSPACE_SETTINGS,
      trackOpens: false,
      trackClicks: false,
    });
    const { messageId } = await sendOne(b, "bina@example.com");
    const raw = sesEmailFor(messageId).raw!;
    expect(parseHeaders(raw)["list-unsubscribe"]).toMatch(/^<https:\/\/engage\.test\/u\//);
    const html = decodeHtml(htmlPart(raw));
    expect(html).toContain(`${BASE_URL}/u/`);
    expect(html).not.toContain("/t/o/");
    expect(html).not.toContain("/t/c/");
    expect(html).toContain('href="https://shop.example/sale?x=1&y=2"');
  });

  it("does not send to a contact without email consent", async () => {
    const contactId = emailContact(a, "noconsent@example.com", false);
    const before = sesSentEmails(ses).length;
    const summary = queueMessages(a, [
      { contactId, channel: "email", kind: "marketing", content: marketing("No") },
    ]);
    expect(summary.skippedReasons).toEqual({ "No consent on this channel": 1 });
    await dispatchAll(a);
    expect(sesSentEmails(ses)).toHaveLength(before);
  });
});

describe("SES: SNS notifications", () => {
  it("Delivery marks the message delivered, Open sets opened_at, Click sets clicked_at", async () => {
    const sent = await sendOne(a, "dev@example.com");
    await notify(a, sesA, {
      eventType: "Delivery",
      messageId: sent.providerMessageId,
      recipient: "dev@example.com",
    });
    const delivered = row(a, sent.messageId);
    expect(delivered.status).toBe("delivered");
    expect(delivered.deliveredAt).not.toBeNull();
    expect(delivered.openedAt).toBeNull();

    await notify(a, sesA, {
      eventType: "Open",
      messageId: sent.providerMessageId,
      recipient: "dev@example.com",
    });
    const opened = row(a, sent.messageId);
    expect(opened.openedAt).not.toBeNull();
    expect(opened.status).toBe("delivered");

    await notify(a, sesA, {
      eventType: "Click",
      messageId: sent.providerMessageId,
      recipient: "dev@example.com",
    });
    expect(row(a, sent.messageId).clickedAt).not.toBeNull();
  });

  it("a permanent bounce marks it bounced and suppresses the address; the next email is skipped", async () => {
    const sent = await sendOne(a, "gone@example.com");
    const key = suppressionKey(a.db);
    expect(isSuppressed(a.db, key, { email: "gone@example.com" }, "email")).toBe(false);
    await notify(a, sesA, {
      eventType: "Bounce",
      bounceType: "Permanent",
      messageId: sent.providerMessageId,
      recipient: "gone@example.com",
    });
    const bounced = row(a, sent.messageId);
    expect(bounced.status).toBe("bounced");
    expect(bounced.error).toMatch(/Permanent/);
    expect(bounced.error).toMatch(/5\.1\.1/);
    expect(isSuppressed(a.db, key, { email: "gone@example.com" }, "email")).toBe(true);
    expect(suppressionsFor(a.db, key, { email: "gone@example.com" })).toEqual([
      expect.objectContaining({ kind: "email", channel: "email", reason: "bounce" }),
    ]);
    expect(consentOf(a, sent.contactId, "email")).toBe("withdrawn");

    const before = sesSentEmails(ses).length;
    const next = queueMessages(a, [
      { contactId: sent.contactId, channel: "email", kind: "marketing", content: marketing("2") },
    ]);
    expect(next).toMatchObject({ queued: 0, skipped: 1 });
    expect(next.skippedReasons).toEqual({ "On the suppression list": 1 });
    await dispatchAll(a);
    expect(sesSentEmails(ses)).toHaveLength(before);
  });

  it("a transient bounce keeps the message and does not suppress", async () => {
    const sent = await sendOne(a, "full@example.com");
    await notify(a, sesA, {
      eventType: "Bounce",
      bounceType: "Transient",
      messageId: sent.providerMessageId,
      recipient: "full@example.com",
    });
    expect(row(a, sent.messageId).status).toBe("sent");
    expect(isSuppressed(a.db, suppressionKey(a.db), { email: "full@example.com" }, "email")).toBe(
      false,
    );
    expect(consentOf(a, sent.contactId, "email")).toBe("granted");
    const soft = a.db.$client
      .prepare("SELECT count(*) AS n FROM contact_events WHERE contact_id = ? AND type = ?")
      .get(sent.contactId, "message.soft_bounced") as { n: number };
    expect(soft.n).toBe(1);
  });

  it("a complaint suppresses the address with reason complaint", async () => {
    const sent = await sendOne(a, "angry@example.com");
    await notify(a, sesA, {
      eventType: "Complaint",
      messageId: sent.providerMessageId,
      recipient: "angry@example.com",
    });
    const key = suppressionKey(a.db);
    expect(suppressionsFor(a.db, key, { email: "angry@example.com" })).toEqual([
      expect.objectContaining({ kind: "email", channel: "email", reason: "complaint" }),
    ]);
    expect(consentOf(a, sent.contactId, "email")).toBe("withdrawn");
  });

  it("refuses a forged or tampered signature with 401 and stores nothing", async () => {
    const sent = await sendOne(a, "forged@example.com");
    const before = storedWebhookEvents(a);
    const event = sesEvent({
      eventType: "Bounce",
      bounceType: "Permanent",
      messageId: sent.providerMessageId,
      recipient: "forged@example.com",
    });
    const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const forged = sns.notification({ message: event, privateKey: otherKey });
    expect((await postSns(sesA, forged)).status).toBe(401);

    // Signed for a Delivery, then the Message swapped for a bounce.
    const genuine = sns.notification({
      message: sesEvent({ eventType: "Delivery", messageId: sent.providerMessageId }),
    });
    const tampered = { ...genuine.fields, Message: JSON.stringify(event) };
    expect(
      (await postSns(sesA, { headers: genuine.headers, body: JSON.stringify(tampered) })).status,
    ).toBe(401);

    await processWebhookEvents(a.workspaceId);
    expect(storedWebhookEvents(a)).toBe(before);
    expect(row(a, sent.messageId).status).toBe("sent");
    expect(isSuppressed(a.db, suppressionKey(a.db), { email: "forged@example.com" }, "email")).toBe(
      false,
    );
  });

  it("a replayed notification is stored and applied once", async () => {
    const sent = await sendOne(a, "twice@example.com");
    const notification = sns.notification({
      message: sesEvent({
        eventType: "Delivery",
        messageId: sent.providerMessageId,
        recipient: "twice@example.com",
      }),
    });
    expect((await postSns(sesA, notification)).status).toBe(200);
    expect((await postSns(sesA, notification)).status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    const stored = a.db
      .select()
      .from(webhookEvents)
      .all()
      .filter((e) => e.eventId === notification.fields.MessageId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.outcome).toBe("delivered");
    const events = a.db.$client
      .prepare("SELECT count(*) AS n FROM contact_events WHERE contact_id = ? AND type = ?")
      .get(sent.contactId, "message.delivered") as { n: number };
    expect(events.n).toBe(1);
  });

  it("a SubscriptionConfirmation is confirmed by visiting the SubscribeURL", async () => {
    const before = sns.confirmations.length;
    const confirmation = sns.subscriptionConfirmation({ token: "confirm-token-123" });
    const answer = await postSns(sesA, confirmation);
    expect(answer.status).toBe(200);
    expect(sns.confirmations.slice(before)).toEqual([
      expect.objectContaining({ token: "confirm-token-123" }),
    ]);
  });

  it("only the pinned SNS topic counts: another topic's notification and confirmation are refused", async () => {
    // sesA kept DEFAULT_TOPIC_ARN, the topic of the first message it verified.
    expect(listIntegrations(a.workspaceId)[0]!.fields.snsTopicArn).toBe(DEFAULT_TOPIC_ARN);
    const sent = await sendOne(a, "pinned@example.com");
    const before = storedWebhookEvents(a);
    const confirmed = sns.confirmations.length;
    const bounce = sns.notification({
      topicArn: OTHER_TOPIC_ARN,
      message: sesEvent({
        eventType: "Bounce",
        bounceType: "Permanent",
        messageId: sent.providerMessageId,
        recipient: "pinned@example.com",
      }),
    });
    expect((await postSns(sesA, bounce)).status).toBe(403);
    const confirmation = sns.subscriptionConfirmation({
      topicArn: OTHER_TOPIC_ARN,
      token: "other-account-token",
    });
    expect((await postSns(sesA, confirmation)).status).toBe(403);
    await processWebhookEvents(a.workspaceId);
    expect(sns.confirmations.length).toBe(confirmed);
    expect(storedWebhookEvents(a)).toBe(before);
    expect(row(a, sent.messageId).status).toBe("sent");
    expect(isSuppressed(a.db, suppressionKey(a.db), { email: "pinned@example.com" }, "email")).toBe(
      false,
    );
    expect(listIntegrations(a.workspaceId)[0]!.fields.snsTopicArn).toBe(DEFAULT_TOPIC_ARN);
  });

  it("a topic entered in the form is the only one accepted, from the first message on", async () => {
    const d = await makeWorkspace("mail-topic");
    const id = saveIntegration(d, d.workspaceId, "email-ses", {
      ...SES_CONFIG("AKIDWORKSPACED"),
      snsTopicArn: OTHER_TOPIC_ARN,
    }).id;
    const confirmed = sns.confirmations.length;
    const foreign = sns.subscriptionConfirmation({ token: "default-topic-token" });
    expect((await postSns(id, foreign)).status).toBe(403);
    expect(sns.confirmations.length).toBe(confirmed);
    const own = sns.subscriptionConfirmation({ topicArn: OTHER_TOPIC_ARN, token: "own-token" });
    expect((await postSns(id, own)).status).toBe(200);
    expect(sns.confirmations.slice(confirmed)).toEqual([
      expect.objectContaining({ topicArn: OTHER_TOPIC_ARN, token: "own-token" }),
    ]);
  });

  it("another workspace's integration cannot touch this workspace's messages", async () => {
    const sent = await sendOne(a, "victim@example.com");
    const before = row(a, sent.messageId);
    // A bounce naming A's SES message id, posted to B's webhook URL (validly signed by SNS).
    await notify(b, sesB, {
      eventType: "Bounce",
      bounceType: "Permanent",
      messageId: sent.providerMessageId,
      recipient: "victim@example.com",
    });
    await notify(b, sesB, {
      eventType: "Complaint",
      messageId: sent.providerMessageId,
      recipient: "victim@example.com",
    });
    await processWebhookEvents(a.workspaceId);
    expect(row(a, sent.messageId)).toEqual(before);
    expect(isSuppressed(a.db, suppressionKey(a.db), { email: "victim@example.com" }, "email")).toBe(
      false,
    );
    expect(consentOf(a, sent.contactId, "email")).toBe("granted");
    // And nothing of A's landed in B's file either.
    expect(isSuppressed(b.db, suppressionKey(b.db), { email: "victim@example.com" }, "email")).toBe(
      false,
    );
  });
});

describe("SMTP", () => {
  let c: WorkspaceContext;

  beforeAll(async () => {
    // The fake is a private relay as far as the outbound-address guard can tell (127.0.0.1,
    // a random port, a self-signed certificate): allowed here the way an operator would.
    process.env.OUTBOUND_ALLOWED_PRIVATE_HOSTS = smtp.host;
    process.env.SMTP_CA_FILE = smtp.writeCertificate();
    reloadEnv();
    c = await makeWorkspace("mail-smtp");
    await saveIntegrationChecked(c, c.workspaceId, "email-smtp", {
      host: smtp.host,
      port: smtp.port,
      tlsMode: "starttls",
      fromIdentity: "Shop <news@shop.example>",
      ratePerSecond: 20,
    });
  });

  afterAll(() => {
    delete process.env.OUTBOUND_ALLOWED_PRIVATE_HOSTS;
    delete process.env.SMTP_CA_FILE;
    reloadEnv();
  });

  it("sends the marketing email with the unsubscribe headers to the SMTP server", async () => {
    const { contactId, messageId, providerMessageId } = await sendOne(c, "smtp@example.com");
    const received = smtp.messages.filter((m) => m.rcptTo.includes("smtp@example.com"));
    expect(received).toHaveLength(1);
    const message = received[0]!;
    expect(message.secure).toBe(true);
    expect(message.mailFrom).toBe("news@shop.example");
    expect(message.headers["message-id"]).toBe(`<${providerMessageId}>`);
    const token = /^<https:\/\/engage\.test\/u\/([A-Za-z0-9_.-]+)>, <mailto:/.exec(
      message.headers["list-unsubscribe"] ?? "",
    )?.[1];
    expect(token).toBeDefined();
    expect(readUnsubscribeToken(token!)).toMatchObject({ contactId, messageId, channel: "email" });
    expect(message.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(decodeHtml(htmlPart(message.raw))).toContain(`${BASE_URL}/u/${token}`);
  });

  it("a 550 recipient rejection fails the message with the reason and suppresses the address", async () => {
    const contactId = emailContact(c, "nobody@example.com");
    smtp.failNextRecipient(550, "5.1.1 <nobody@example.com>: Recipient address rejected");
    const summary = queueMessages(c, [
      { contactId, channel: "email", kind: "marketing", content: marketing("Hi") },
    ]);
    await dispatchAll(c);
    const failed = row(c, summary.ids[0]!);
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatch(/^SMTP 550: 5\.1\.1 .*Recipient address rejected/);
    const key = suppressionKey(c.db);
    expect(suppressionsFor(c.db, key, { email: "nobody@example.com" })).toEqual([
      expect.objectContaining({ kind: "email", channel: "email", reason: "bounce" }),
    ]);
    expect(consentOf(c, contactId, "email")).toBe("withdrawn");
    expect(smtp.messages.some((m) => m.rcptTo.includes("nobody@example.com"))).toBe(false);
  });
});

describe("SMTP: where stored secrets may go", () => {
  let m: WorkspaceContext;
  let guarded: SmtpFake;
  let id: string;
  const SETTINGS = {
    host: "127.0.0.1",
    tlsMode: "starttls",
    user: "mailer",
    fromIdentity: "Shop <news@shop.example>",
  };

  beforeAll(async () => {
    guarded = createSmtpFake({ users: { mailer: "old-s3cret" } });
    await guarded.start();
    // Two private relays on 127.0.0.1, each with its own self-signed certificate: both
    // trusted, as an operator would list them.
    process.env.OUTBOUND_ALLOWED_PRIVATE_HOSTS = "127.0.0.1";
    const caFile = guarded.writeCertificate();
    appendFileSync(caFile, smtp.certificatePem);
    process.env.SMTP_CA_FILE = caFile;
    reloadEnv();
    m = await makeWorkspace("mail-move");
    id = saveIntegration(m, m.workspaceId, "email-smtp", {
      ...SETTINGS,
      port: guarded.port,
      password: "old-s3cret",
    }).id;
    expect(await checkIntegration(m, m.workspaceId, id)).toMatchObject({ ok: true });
    expect(guarded.auth).toEqual({ ok: 1, failed: 0 });
  });

  afterAll(async () => {
    delete process.env.OUTBOUND_ALLOWED_PRIVATE_HOSTS;
    delete process.env.SMTP_CA_FILE;
    reloadEnv();
    await guarded.stop();
  });

  it("a new port with a blank password is refused, naming the field; nothing changes", async () => {
    let error: unknown;
    try {
      saveIntegration(m, m.workspaceId, "email-smtp", { ...SETTINGS, port: smtp.port });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).fieldErrors).toEqual({
      password: [
        "Enter the password again: the SMTP host or Port changed, and a stored password is never sent to a new destination.",
      ],
    });
    const [kept] = listIntegrations(m.workspaceId);
    expect(kept!.fields).toMatchObject({ port: String(guarded.port), password: "••••cret" });
  });

  it("a new host without the password keeps none of it: the new server never gets it", async () => {
    const authBefore = { ...smtp.auth };
    saveIntegration(m, m.workspaceId, "email-smtp", {
      ...SETTINGS,
      port: smtp.port,
      user: "",
    });
    const [moved] = listIntegrations(m.workspaceId);
    expect(moved!.fields.port).toBe(String(smtp.port));
    expect(moved!.fields).not.toHaveProperty("password");
    expect(await checkIntegration(m, m.workspaceId, id)).toMatchObject({ ok: true });
    expect(smtp.auth).toEqual(authBefore);
    expect(guarded.auth).toEqual({ ok: 1, failed: 0 });
  });

  it("re-entering the password with the new destination is accepted", async () => {
    saveIntegration(m, m.workspaceId, "email-smtp", {
      ...SETTINGS,
      port: guarded.port,
      password: "old-s3cret",
    });
    expect(await checkIntegration(m, m.workspaceId, id)).toMatchObject({ ok: true });
    expect(guarded.auth).toEqual({ ok: 2, failed: 0 });
  });

  it('an integration stored with the old tlsMode "none" reads as STARTTLS and sends encrypted', async () => {
    const column = encryptedColumns.find((c) => c.aadPrefix === "integrations.config_enc")!;
    const legacy = { ...SETTINGS, port: guarded.port, password: "old-s3cret", tlsMode: "none" };
    getControlDb()
      .update(integrations)
      .set({
        configEnc: encryptSecret(JSON.stringify(legacy), aadFor(column, id)),
        updatedAt: new Date(Date.now() + 1000),
      })
      .where(eq(integrations.id, id))
      .run();
    expect(listIntegrations(m.workspaceId)[0]!.fields.tlsMode).toBe("starttls");
    const before = guarded.messages.length;
    await sendOne(m, "legacy@example.com");
    expect(guarded.messages.slice(before).map((x) => x.secure)).toEqual([true]);
  });
});
