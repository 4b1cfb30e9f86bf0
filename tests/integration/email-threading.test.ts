import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contacts, inboundMessages } from "~/db/schema/tenant";
import { conversations } from "~/db/schema/tenant-inbox";
import { eraseContact } from "~/domain/contacts/contacts.server";
import { suppressionKey } from "~/domain/contacts/suppression-hash.server";
import type { WorkspaceContext } from "~/domain/context";
import {
  rotateInboundEmailSecret,
  signForwardedEmail,
} from "~/domain/delivery/inbound-email-secret.server";
import { receiveInboundEmail } from "~/domain/delivery/inbound-email.server";
import { saveIntegration } from "~/domain/delivery/integrations.server";
import { processWebhookEvents } from "~/domain/delivery/webhooks.server";
import { setConversationStatus } from "~/domain/inbox/conversations.server";
import { emailThreading } from "~/domain/inbox/email-threading.server";
import { updateInboxSettings } from "~/domain/inbox/inbox-settings.server";
import type { InboxMember } from "~/domain/inbox/members.server";
import { sendReply } from "~/domain/inbox/replies.server";
import { conversationThread } from "~/domain/inbox/thread.server";
import { collectContactBundle } from "~/domain/privacy/dsar-bundle.server";
import { reloadEnv } from "~/lib/env.server";
import { rawEmail } from "../fakes/ses-inbound";
import { createSesFake, sesSentEmails, type SesFake } from "../fakes/ses";
import { createSmtpFake, type SmtpFake } from "../fakes/smtp";
import { dispatchAll } from "../support/delivery";
import { makeWorkspace } from "../support/workspaces";

/**
 * Our answers in an email conversation thread in the customer's mail client: the customer's
 * mail arrives through the signed forwarder path, the agent's reply, the outside-hours
 * auto-reply and the CSAT question go through the real dispatcher to the SES and SMTP fakes,
 * and the raw mail each fake received carries "Re: <their subject>", In-Reply-To and References.
 */

let ses: SesFake;
let smtp: SmtpFake;
let viaSes: WorkspaceContext;
let viaSmtp: WorkspaceContext;
const secrets = new Map<string, string>();
const owner: InboxMember = { userId: "u-owner", name: "Olive", role: "owner", teamIds: [] };

/** The customer's mail, forwarded and signed as a mail forwarder would, then applied. */
async function customerMails(ctx: WorkspaceContext, mail: Parameters<typeof rawEmail>[0]) {
  const body = rawEmail(mail);
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const answer = await receiveInboundEmail("forward", {
    method: "POST",
    url: `https://engage.test/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`,
    headers: {
      "content-type": "message/rfc822",
      "webhook-id": id,
      "webhook-timestamp": timestamp,
      "webhook-signature": signForwardedEmail(secrets.get(ctx.workspaceId)!, id, timestamp, body),
    },
    body,
  });
  expect(answer.status).toBe(200);
  await processWebhookEvents(ctx.workspaceId);
}

function conversationOf(ctx: WorkspaceContext, email: string): number {
  return ctx.db
    .select({ id: conversations.id })
    .from(conversations)
    .innerJoin(contacts, eq(contacts.id, conversations.contactId))
    .where(eq(contacts.email, email))
    .get()!.id;
}

function sesHeadersTo(address: string): Record<string, string>[] {
  return sesSentEmails(ses)
    .filter((e) => e.destination.to.includes(address))
    .map((e) => e.headers!);
}

function smtpHeadersTo(address: string): Record<string, string>[] {
  return smtp.messages.filter((m) => m.rcptTo.includes(address)).map((m) => m.headers);
}

/** Business hours on a day three days from now only: it is closed now, whatever the zone. */
function closedNow(ctx: WorkspaceContext) {
  const day = new Intl.DateTimeFormat("en-US", {
    weekday: "short",
    timeZone: ctx.workspace.timeZone,
  })
    .format(new Date(Date.now() + 3 * 24 * 3600_000))
    .toLowerCase();
  updateInboxSettings(ctx, {
    reopenWithinDays: 7,
    agentCapacity: 5,
    businessHoursEnabled: true,
    hours: { mon: "", tue: "", wed: "", thu: "", fri: "", sat: "", sun: "", [day]: "09:00-10:00" },
    outsideHoursReply: "We are closed now and will answer in the morning.",
    csatEnabled: true,
    csatQuestion: "How did we do? Reply 1 to 5.",
  });
}

beforeAll(async () => {
  ses = createSesFake();
  smtp = createSmtpFake();
  await Promise.all([ses.start(), smtp.start()]);
  process.env.SES_ENDPOINT = ses.url;
  process.env.OUTBOUND_ALLOWED_PRIVATE_HOSTS = smtp.host;
  process.env.SMTP_CA_FILE = smtp.writeCertificate();
  reloadEnv();
  viaSes = await makeWorkspace("thread-ses");
  viaSmtp = await makeWorkspace("thread-smtp");
  saveIntegration(viaSes, viaSes.workspaceId, "email-ses", {
    region: "ap-south-1",
    accessKeyId: "AKIDTHREAD",
    secretAccessKey: "secret",
    fromIdentity: "Shop <help@shop.example>",
    ratePerSecond: 50,
  });
  saveIntegration(viaSmtp, viaSmtp.workspaceId, "email-smtp", {
    host: smtp.host,
    port: smtp.port,
    tlsMode: "starttls",
    fromIdentity: "Shop <help@shop.example>",
    ratePerSecond: 20,
  });
  for (const ctx of [viaSes, viaSmtp]) secrets.set(ctx.workspaceId, rotateInboundEmailSecret(ctx));
});

afterAll(async () => {
  delete process.env.OUTBOUND_ALLOWED_PRIVATE_HOSTS;
  delete process.env.SMTP_CA_FILE;
  reloadEnv();
  await Promise.all([ses.stop(), smtp.stop()]);
});

describe("the agent's email reply", () => {
  it("over SES: Re: their subject, In-Reply-To their Message-ID, References ending with it", async () => {
    await customerMails(viaSes, {
      from: "Asha <asha@example.com>",
      to: "help@shop.example",
      subject: "RE: Re: Order 1042 not delivered",
      text: "Where is my parcel?",
      messageId: "<cust-2@mail.example.com>",
      inReplyTo: "<ours-1@shop.example>",
      references: "<cust-root@mail.example.com> <ours-1@shop.example>",
    });
    const id = conversationOf(viaSes, "asha@example.com");
    // The thread shows their mail as it shows ours: subject, then text.
    expect(conversationThread(viaSes, id).items.find((i) => i.type === "in")?.text).toBe(
      "RE: Re: Order 1042 not delivered\n\nWhere is my parcel?",
    );
    // What the page pre-fills: no stacked prefixes.
    expect(emailThreading(viaSes, id, "Your message")).toEqual({
      subject: "Re: Order 1042 not delivered",
      inReplyTo: "cust-2@mail.example.com",
      references: ["cust-root@mail.example.com", "ours-1@shop.example", "cust-2@mail.example.com"],
    });
    sendReply(viaSes, owner, id, {
      channel: "email",
      emailSubject: "Re: Order 1042 not delivered",
      emailBody: "It left our warehouse today.",
    });
    await dispatchAll(viaSes);
    const [headers] = sesHeadersTo("asha@example.com");
    expect(headers).toMatchObject({
      subject: "Re: Order 1042 not delivered",
      "in-reply-to": "<cust-2@mail.example.com>",
      references: "<cust-root@mail.example.com> <ours-1@shop.example> <cust-2@mail.example.com>",
    });
  });

  it("over SMTP, answering the latest of two mails; the subject the agent typed is kept", async () => {
    await customerMails(viaSmtp, {
      from: "ravi@example.com",
      to: "help@shop.example",
      subject: "Refund",
      text: "I want a refund.",
      messageId: "<r-1@mail.example.net>",
    });
    await customerMails(viaSmtp, {
      from: "ravi@example.com",
      to: "help@shop.example",
      subject: "Re: Refund",
      text: "Any news?",
      messageId: "<r-2@mail.example.net>",
      inReplyTo: "<r-1@mail.example.net>",
    });
    const id = conversationOf(viaSmtp, "ravi@example.com");
    expect(emailThreading(viaSmtp, id, "Your message").subject).toBe("Re: Refund");
    sendReply(viaSmtp, owner, id, {
      channel: "email",
      emailSubject: "Your refund is on its way",
      emailBody: "Done.",
    });
    await dispatchAll(viaSmtp);
    const [headers] = smtpHeadersTo("ravi@example.com");
    expect(headers).toMatchObject({
      subject: "Your refund is on its way",
      "in-reply-to": "<r-2@mail.example.net>",
      references: "<r-1@mail.example.net> <r-2@mail.example.net>",
    });
  });
  it("a subject left blank becomes Re: their subject", async () => {
    const id = conversationOf(viaSmtp, "ravi@example.com");
    sendReply(viaSmtp, owner, id, { channel: "email", emailSubject: " ", emailBody: "Also..." });
    await dispatchAll(viaSmtp);
    const sent = smtpHeadersTo("ravi@example.com");
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({
      subject: "Re: Refund",
      "in-reply-to": "<r-2@mail.example.net>",
    });
  });
});

describe("the auto-reply and the CSAT question by email", () => {
  it("carry the same threading (SES)", async () => {
    closedNow(viaSes);
    await customerMails(viaSes, {
      from: "meera@example.com",
      to: "help@shop.example",
      subject: "Wrong size",
      text: "The shoes are too small.",
      messageId: "<m-1@mail.example.org>",
    });
    await dispatchAll(viaSes);
    const expected = {
      subject: "Re: Wrong size",
      "in-reply-to": "<m-1@mail.example.org>",
      references: "<m-1@mail.example.org>",
    };
    const [autoReply] = sesHeadersTo("meera@example.com");
    expect(autoReply).toMatchObject(expected);

    const id = conversationOf(viaSes, "meera@example.com");
    setConversationStatus(viaSes, owner, id, "resolved");
    await dispatchAll(viaSes);
    const sent = sesHeadersTo("meera@example.com");
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject(expected);
  });

  it("carry the same threading (SMTP)", async () => {
    closedNow(viaSmtp);
    await customerMails(viaSmtp, {
      from: "kiran@example.com",
      to: "help@shop.example",
      subject: "Invoice",
      text: "Please send the invoice.",
      messageId: "<k-1@mail.example.org>",
    });
    await dispatchAll(viaSmtp);
    const id = conversationOf(viaSmtp, "kiran@example.com");
    setConversationStatus(viaSmtp, owner, id, "resolved");
    await dispatchAll(viaSmtp);
    const sent = smtpHeadersTo("kiran@example.com");
    expect(sent).toHaveLength(2);
    for (const headers of sent) {
      expect(headers).toMatchObject({
        subject: "Re: Invoice",
        "in-reply-to": "<k-1@mail.example.org>",
        references: "<k-1@mail.example.org>",
      });
    }
  });
});

describe("privacy of the stored headers", () => {
  it("DSAR export lists the subject and Message-ID; erasure removes them with the contact", async () => {
    await customerMails(viaSes, {
      from: "priya@example.com",
      to: "help@shop.example",
      subject: "My address changed",
      text: "New address inside.",
      messageId: "<p-1@mail.example.com>",
      references: "<p-0@mail.example.com>",
    });
    const bundle = collectContactBundle(
      viaSes.db.$client,
      { email: "priya@example.com", phone: null },
      suppressionKey(viaSes.db),
      new Date(),
    );
    const section = bundle.sections.find((s) => s.name === "conversations")!;
    expect(section.columns).toEqual(
      expect.arrayContaining(["email_subject", "email_message_id", "email_references"]),
    );
    expect(section.rows).toEqual([
      expect.objectContaining({
        email_subject: "My address changed",
        email_message_id: "p-1@mail.example.com",
        email_references: "p-0@mail.example.com",
      }),
    ]);

    const contactId = viaSes.db
      .select({ id: contacts.id })
      .from(contacts)
      .where(eq(contacts.email, "priya@example.com"))
      .get()!.id;
    eraseContact(viaSes, contactId);
    const left = viaSes.db.$client
      .prepare(
        `SELECT count(*) AS n FROM inbound_messages
          WHERE email_subject = ? OR email_message_id = ? OR email_references LIKE ?`,
      )
      .get("My address changed", "p-1@mail.example.com", "%p-0@%") as { n: number };
    expect(left.n).toBe(0);
    // Other customers' threads are untouched.
    expect(
      viaSes.db
        .select()
        .from(inboundMessages)
        .all()
        .some((r) => r.emailMessageId === "cust-2@mail.example.com"),
    ).toBe(true);
  });
});
