import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearSnsCertificateCache } from "~/channels/ses/sns.server";
import type { ChannelEvent } from "~/channels/types";
import { contacts, inboundMessages, messages, webhookEvents } from "~/db/schema/tenant";
import { suppressionKey } from "~/domain/contacts/suppression-hash.server";
import { isSuppressed } from "~/domain/contacts/suppressions.server";
import type { WorkspaceContext } from "~/domain/context";
import { createHmac } from "node:crypto";
import {
  rotateInboundEmailSecret,
  saveMailgunSigningKey,
  signForwardedEmail,
} from "~/domain/delivery/inbound-email-secret.server";
import { saveIntegration } from "~/domain/delivery/integrations.server";
import { queueMessages } from "~/domain/delivery/outbox.server";
import { messageAddress } from "~/domain/delivery/reply-address.server";
import { processWebhookEvents } from "~/domain/delivery/webhooks.server";
import { conversationThread } from "~/domain/inbox/thread.server";
import { reloadEnv } from "~/lib/env.server";
import { deliverInboundMail, rawEmail } from "../fakes/ses-inbound";
import { createSesFake, sesSentEmails, type SesFake } from "../fakes/ses";
import { parseHeaders } from "../fakes/smtp";
import { createSnsFake, type SnsFake } from "../fakes/sns";
import { giveConsent, insertContact } from "../support/contacts";
import { dispatchAll } from "../support/delivery";
import { startWebhookRoute, type WebhookRoute } from "../support/webhook-route";
import { makeWorkspace } from "../support/workspaces";

/**
 * Email replies end to end: an email sent through the real SES adapter to the SES fake carries
 * its own reply+ and unsubscribe+ addresses; the customer's answer comes back as an SES
 * "Received" notification signed by the SNS fake, or from a mail forwarder signed with the
 * workspace's secret, through the webhook route, and lands as an inbound email message.
 */

const DOMAIN = "in.engage.test";
let ses: SesFake;
let sns: SnsFake;
let route: WebhookRoute;
let a: WorkspaceContext;
let b: WorkspaceContext;

async function sendTo(ctx: WorkspaceContext, email: string) {
  const contactId = insertContact(ctx.db, { name: email.split("@")[0], email });
  giveConsent(ctx.db, contactId, "email", "granted", "checkout opt-in");
  const summary = queueMessages(ctx, [
    {
      contactId,
      channel: "email",
      kind: "marketing",
      content: { channel: "email", subject: "Monsoon sale", html: "<p>Sale!</p>", text: "Sale!" },
    },
  ]);
  const messageId = summary.ids[0]!;
  await dispatchAll(ctx);
  const sent = sesSentEmails(ses).find((e) =>
    e.emailTags.some((t) => t.name === "message" && t.value === messageId),
  )!;
  const row = ctx.db
    .select()
    .from(messages)
    .all()
    .find((m) => m.id === messageId)!;
  return {
    contactId,
    messageId,
    headers: parseHeaders(sent.raw!),
    provider: row.providerMessageId!,
  };
}

function inbound(ctx: WorkspaceContext) {
  return ctx.db.select().from(inboundMessages).all();
}

function storedEvents(ctx: WorkspaceContext) {
  return ctx.db
    .select()
    .from(webhookEvents)
    .all()
    .map((r) => JSON.parse(r.event) as Extract<ChannelEvent, { type: "inbound" }>);
}

async function forward(
  ctx: WorkspaceContext,
  body: Buffer,
  sign: (b: Buffer) => Record<string, string>,
) {
  const response = await fetch(
    `${route.url}/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`,
    {
      method: "POST",
      headers: { "content-type": "message/rfc822", ...sign(body) },
      body: new Uint8Array(body),
    },
  );
  return { status: response.status, body: await response.text() };
}

function signed(secret: string, at = Math.floor(Date.now() / 1000)) {
  return (body: Buffer) => {
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    const timestamp = String(at);
    return {
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": signForwardedEmail(secret, id, timestamp, body),
    };
  };
}

beforeAll(async () => {
  ses = createSesFake();
  sns = createSnsFake();
  route = await startWebhookRoute();
  await Promise.all([ses.start(), sns.start()]);
  process.env.SES_ENDPOINT = ses.url;
  process.env.SNS_CERT_ORIGINS = sns.url;
  process.env.BASE_URL = route.url;
  process.env.INBOUND_EMAIL_DOMAIN = DOMAIN;
  reloadEnv();
  clearSnsCertificateCache();
  a = await makeWorkspace("inbound-a");
  b = await makeWorkspace("inbound-b");
  for (const ctx of [a, b]) {
    saveIntegration(ctx, ctx.workspaceId, "email-ses", {
      region: "ap-south-1",
      accessKeyId: `AKID${ctx.workspaceId}`,
      secretAccessKey: "secret",
      fromIdentity: "Shop <news@shop.example>",
      ratePerSecond: 50,
    });
  }
});

afterAll(async () => {
  delete process.env.INBOUND_EMAIL_DOMAIN;
  reloadEnv();
  await Promise.all([ses.stop(), sns.stop(), route.stop()]);
});

describe("SES inbound: replies through the signed reply address", () => {
  it("sends a per-message Reply-To and unsubscribe mailto, and threads the reply to its contact", async () => {
    const sent = await sendTo(a, "asha@example.com");
    const replyTo = messageAddress("reply", {
      workspaceId: a.workspaceId,
      messageId: sent.messageId,
    })!;
    expect(sent.headers["reply-to"]).toBe(replyTo);
    expect(sent.headers["list-unsubscribe"]).toContain(`<mailto:unsubscribe+`);
    expect(sent.headers["list-unsubscribe"]).toContain(`@${DOMAIN}?subject=`);

    const answer = await deliverInboundMail(sns, `${route.url}/webhooks/inbound-email/ses`, {
      recipients: [replyTo],
      raw: rawEmail({
        // The customer answers from another address of theirs: the token still names the contact.
        from: "Asha R <asha.personal@example.org>",
        to: replyTo,
        subject: "Re: Monsoon sale",
        text: "Is the blue one in stock?\r\n\r\nOn Mon, Shop <news@shop.example> wrote:\r\n> Sale!",
      }),
    });
    expect(answer).toEqual({ status: 200, body: "ok" });
    await processWebhookEvents(a.workspaceId);
    const rows = inbound(a);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      contactId: sent.contactId,
      channel: "email",
      sender: "asha.personal@example.org",
      text: "Is the blue one in stock?",
      // What answers need to thread in the customer's mail client.
      emailSubject: "Re: Monsoon sale",
      emailMessageId: expect.stringMatching(/@mail\.example\.com$/),
    });
    const event = storedEvents(a).find((e) => e.type === "inbound")!;
    expect(event.email).toMatchObject({
      subject: "Re: Monsoon sale",
      purpose: "reply",
      messageId: sent.messageId,
    });
    expect(inbound(b)).toHaveLength(0);
  });

  it("accepts UTF-8 encoded SNS content and flags auto-replies so nothing answers them", async () => {
    const sent = await sendTo(a, "ravi@example.com");
    const replyTo = messageAddress("reply", {
      workspaceId: a.workspaceId,
      messageId: sent.messageId,
    })!;
    const answer = await deliverInboundMail(sns, `${route.url}/webhooks/inbound-email/ses`, {
      recipients: [replyTo],
      encoding: "UTF-8",
      raw: rawEmail({
        from: "ravi@example.com",
        to: replyTo,
        subject: "Out of office",
        text: "I am away until Monday.",
        headers: { "Auto-Submitted": "auto-replied" },
      }),
    });
    expect(answer.status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    const row = inbound(a).find((r) => r.contactId === sent.contactId)!;
    expect(row.text).toBe("I am away until Monday.");
    // Kept on the row, so the conversation shows it as an automatic reply.
    expect(row.automated).toBe(true);
    expect(
      conversationThread(a, row.conversationId!).items.find(
        (i) => i.type === "in" && i.id === row.id,
      ),
    ).toMatchObject({ automated: true });
    const event = storedEvents(a).find(
      (e) => e.type === "inbound" && e.from === "ravi@example.com",
    )!;
    expect(event.automated).toBe(true);
  });

  it("drops mail whose token is missing or forged with a 200, storing nothing", async () => {
    const before = storedEvents(a).length + storedEvents(b).length;
    const sent = await sendTo(a, "meera@example.com");
    const good = messageAddress("reply", {
      workspaceId: a.workspaceId,
      messageId: sent.messageId,
    })!;
    const forged = good.replace(
      /-([a-z2-7]{16})@/,
      (_m, mac: string) =>
        `-${mac.endsWith("a") ? mac.slice(0, -1) + "b" : mac.slice(0, -1) + "a"}@`,
    );
    for (const to of [forged, `support@${DOMAIN}`]) {
      const answer = await deliverInboundMail(sns, `${route.url}/webhooks/inbound-email/ses`, {
        recipients: [to],
        raw: rawEmail({ from: "meera@example.com", to, text: "hello" }),
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/^dropped: /);
    }
    expect(storedEvents(a).length + storedEvents(b).length).toBe(before + 0);
  });

  it("refuses an SNS message with a bad signature (401)", async () => {
    const message = sns.notification({ message: { notificationType: "Received" } });
    const tampered = { ...message, body: message.body.replace("Received", "Receivedx") };
    const answer = await sns.deliver(`${route.url}/webhooks/inbound-email/ses`, tampered);
    expect(answer.status).toBe(401);
  });
});

describe("unsubscribe mailto", () => {
  it("suppresses the contact on email and keeps no conversation message", async () => {
    const sent = await sendTo(a, "kiran@example.com");
    const to = messageAddress("unsubscribe", {
      workspaceId: a.workspaceId,
      messageId: sent.messageId,
    })!;
    expect(sent.headers["list-unsubscribe"]).toContain(`<mailto:${to}?subject=`);
    const before = inbound(a).length;
    const answer = await deliverInboundMail(sns, `${route.url}/webhooks/inbound-email/ses`, {
      recipients: [to],
      raw: rawEmail({ from: "kiran@example.com", to, subject: "unsubscribe", text: "" }),
    });
    expect(answer.status).toBe(200);
    await processWebhookEvents(a.workspaceId);
    expect(
      isSuppressed(
        a.db,
        suppressionKey(a.db),
        { email: "kiran@example.com", phone: null },
        "email",
      ),
    ).toBe(true);
    expect(inbound(a)).toHaveLength(before);
  });
});

describe("forwarder webhook (Standard Webhooks signature)", () => {
  let secret: string;
  beforeAll(() => {
    secret = rotateInboundEmailSecret(b);
  });

  it("threads by In-Reply-To when the reply address is missing", async () => {
    const sent = await sendTo(b, "nila@example.com");
    const body = rawEmail({
      from: "nila.other@example.net",
      to: "support@shop.example",
      subject: "Re: Monsoon sale",
      text: "Do you ship to Chennai?",
      inReplyTo: `<${sent.provider}@ap-south-1.amazonses.com>`,
    });
    const answer = await forward(b, body, signed(secret));
    expect(answer).toEqual({ status: 200, body: "ok" });
    await processWebhookEvents(b.workspaceId);
    const row = inbound(b).find((r) => r.sender === "nila.other@example.net")!;
    expect(row).toMatchObject({
      contactId: sent.contactId,
      channel: "email",
      text: "Do you ship to Chennai?",
    });
  });

  it("creates a contact for an unknown sender without a token (no consent)", async () => {
    const body = rawEmail({
      from: "New Person <new@example.com>",
      to: "hello@shop.example",
      text: "Hi there",
    });
    expect((await forward(b, body, signed(secret))).status).toBe(200);
    await processWebhookEvents(b.workspaceId);
    const contact = b.db
      .select()
      .from(contacts)
      .all()
      .find((c) => c.email === "new@example.com")!;
    expect(contact.name).toBe("New Person");
    expect(inbound(b).find((r) => r.contactId === contact.id)?.text).toBe("Hi there");
  });

  it("refuses a bad signature, a stale timestamp and another workspace's secret (401), storing nothing", async () => {
    const before = storedEvents(b).length;
    const body = rawEmail({ from: "x@example.com", to: "hello@shop.example", text: "forged" });
    const bad = await forward(b, body, (m) => ({
      ...signed(secret)(m),
      "webhook-signature": "v1,AAAA",
    }));
    expect(bad.status).toBe(401);
    const stale = await forward(b, body, signed(secret, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);
    const otherSecret = rotateInboundEmailSecret(a);
    expect((await forward(b, body, signed(otherSecret))).status).toBe(401);
    const unsigned = await forward(b, body, () => ({}));
    expect(unsigned.status).toBe(401);
    expect(storedEvents(b)).toHaveLength(before);
  });

  it("stops accepting the old secret once rotated", async () => {
    const old = secret;
    secret = rotateInboundEmailSecret(b);
    const body = rawEmail({ from: "y@example.com", to: "hello@shop.example", text: "hi" });
    expect((await forward(b, body, signed(old))).status).toBe(401);
    expect((await forward(b, body, signed(secret))).status).toBe(200);
  });
});

describe("Mailgun route forwards (body-mime)", () => {
  const key = "key-mailgun-signing-0123456789";

  async function mailgun(
    ctx: WorkspaceContext,
    mime: Buffer,
    sign: { signature?: string; at?: number } = {},
  ) {
    const timestamp = String(sign.at ?? Math.floor(Date.now() / 1000));
    const token = "tok".repeat(10);
    const form = new FormData();
    form.set("timestamp", timestamp);
    form.set("token", token);
    form.set(
      "signature",
      sign.signature ?? createHmac("sha256", key).update(`${timestamp}${token}`).digest("hex"),
    );
    form.set("recipient", "hello@shop.example");
    form.set("body-mime", mime.toString("latin1"));
    const response = await fetch(`${route.url}/webhooks/inbound-email/${ctx.workspaceId}.mime`, {
      method: "POST",
      body: form,
    });
    return { status: response.status, body: await response.text() };
  }

  it("takes a signed forward and refuses a bad or stale signature", async () => {
    const mime = rawEmail({
      from: "gun@example.com",
      to: "hello@shop.example",
      text: "Via Mailgun",
    });
    expect((await mailgun(a, mime)).status).toBe(401); // no key saved yet
    saveMailgunSigningKey(a, key);
    expect((await mailgun(a, mime, { signature: "0".repeat(64) })).status).toBe(401);
    expect((await mailgun(a, mime, { at: Math.floor(Date.now() / 1000) - 900 })).status).toBe(401);
    expect(inbound(a).some((r) => r.sender === "gun@example.com")).toBe(false);
    expect(await mailgun(a, mime)).toEqual({ status: 200, body: "ok" });
    await processWebhookEvents(a.workspaceId);
    expect(inbound(a).find((r) => r.sender === "gun@example.com")?.text).toBe("Via Mailgun");
  });
});
