import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { contacts, messages, templates } from "~/db/schema/tenant";
import { RateLimitedError, ValidationError } from "~/lib/errors";
import { insertContact } from "../../../tests/support/contacts";
import { makeWorkspace } from "../../../tests/support/workspaces";
import type { WorkspaceContext } from "../context";
import { getMessage } from "../delivery/outbox.server";
import { saveTemplate } from "./templates.server";
import {
  describeTestSend,
  sendTemplateTest,
  TEST_SEND_POLICY,
  telegramTestContacts,
} from "./test-send.server";

process.env.BASE_URL = "https://engage.test";

let ctx: WorkspaceContext;
let emailId: number;
let smsId: number;
let telegramId: number;
let ravi: number;
const me = { id: "usr_tester_one", name: "Tara Tester", email: "tara@agency.example" };

function refused(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

beforeAll(async () => {
  ctx = await makeWorkspace("test-send");
  emailId = saveTemplate(ctx, {
    channel: "email",
    name: "Welcome",
    subject: 'Hello {{ first_name | default: "there" }}',
    blocks: [{ type: "paragraph", text: "Hi {{ name }}, welcome." }],
  }).id;
  smsId = saveTemplate(ctx, {
    channel: "sms",
    name: "Offer",
    text: "Hi {{ first_name }}, 10% off",
  }).id;
  telegramId = saveTemplate(ctx, {
    channel: "telegram",
    name: "News",
    text: "<b>Hi</b> {{ name }}",
  }).id;
  ravi = insertContact(ctx.db, { name: "Ravi Kumar", email: "ravi@example.com" });
});

describe("sendTemplateTest", () => {
  it("queues an email to the person's own address, rendered as the preview contact", () => {
    const result = sendTemplateTest(ctx, {
      templateId: emailId,
      user: me,
      previewContactId: ravi,
    });
    expect(result).toMatchObject({
      channel: "email",
      recipient: me.email,
      queued: true,
      sandbox: true,
      contactCreated: true,
    });
    const message = getMessage(ctx, result.messageId);
    expect(message.recipient).toBe(me.email);
    expect(message.kind).toBe("service");
    expect(message.integrationId).toBeNull();
    expect(message.content).toMatchObject({ channel: "email", subject: "[Test] Hello Ravi" });
    expect(message.content?.channel === "email" && message.content.html).toContain("Hi Ravi Kumar");
    expect(describeTestSend(result)).toContain("sandbox");

    // The second test reuses the contact made for the address.
    const again = sendTemplateTest(ctx, { templateId: emailId, user: me });
    expect(again.contactCreated).toBe(false);
    expect(getMessage(ctx, again.messageId).contactId).toBe(message.contactId);
    // Without a preview contact, the sample contact fills the variables.
    expect(getMessage(ctx, again.messageId).content).toMatchObject({
      subject: "[Test] Hello Priya",
    });
    const made = ctx.db.select().from(contacts).where(eq(contacts.email, me.email)).all();
    expect(made).toHaveLength(1);
    expect(made[0]!.name).toBe("Tara Tester");
  });

  it("sends SMS to a typed number, refusing one that is not a phone number", () => {
    const user = { ...me, id: "usr_tester_sms" };
    const missing = refused(() => sendTemplateTest(ctx, { templateId: smsId, user }));
    expect(missing.fieldErrors.phone?.[0]).toMatch(/phone number/);
    const bad = refused(() => sendTemplateTest(ctx, { templateId: smsId, user, phone: "12ab" }));
    expect(bad.fieldErrors.phone).toBeDefined();
    const before = ctx.db.select().from(messages).all().length;
    expect(before).toBe(2);

    const result = sendTemplateTest(ctx, {
      templateId: smsId,
      user,
      phone: "98765 43210",
    });
    expect(result).toMatchObject({ recipient: "+919876543210", queued: true });
    expect(getMessage(ctx, result.messageId).content).toMatchObject({
      channel: "sms",
      text: "Hi Priya, 10% off",
    });
  });

  it("sends Telegram only to a contact who linked the bot, and says how to link", () => {
    const user = { ...me, id: "usr_tester_tg" };
    const none = refused(() => sendTemplateTest(ctx, { templateId: telegramId, user }));
    expect(none.fieldErrors.telegramContactId?.[0]).toMatch(/press Start in Telegram/);
    const unlinked = refused(() =>
      sendTemplateTest(ctx, {
        templateId: telegramId,
        user,
        telegramContactId: ravi,
      }),
    );
    expect(unlinked.message).toMatch(/has not linked the Telegram bot/);

    ctx.db.update(contacts).set({ telegramChatId: "5550001" }).where(eq(contacts.id, ravi)).run();
    expect(telegramTestContacts(ctx)).toEqual([{ id: ravi, name: "Ravi Kumar" }]);
    const result = sendTemplateTest(ctx, {
      templateId: telegramId,
      user,
      telegramContactId: ravi,
    });
    expect(result).toMatchObject({ recipient: "Ravi Kumar", queued: true });
    expect(getMessage(ctx, result.messageId).recipient).toBe("5550001");
  });

  it("refuses a WhatsApp template Meta has not approved", () => {
    const now = new Date();
    const id = ctx.db
      .insert(templates)
      .values({
        channel: "whatsapp",
        name: "diwali_offer",
        language: "en",
        category: "MARKETING",
        status: "pending",
        content: JSON.stringify({ components: [{ type: "BODY", text: "Hi" }], variableMap: {} }),
        variables: "[]",
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get().id;
    const error = refused(() =>
      sendTemplateTest(ctx, {
        templateId: id,
        user: { ...me, id: "usr_tester_wa" },
        phone: "+919876543210",
      }),
    );
    expect(error.message).toMatch(/pending, not approved by Meta/);
  });

  it("limits tests per person", () => {
    const user = { ...me, id: "usr_tester_many" };
    for (let i = 0; i < TEST_SEND_POLICY.limit; i++) {
      sendTemplateTest(ctx, { templateId: emailId, user });
    }
    const count = () =>
      ctx.db.select().from(messages).where(eq(messages.recipient, me.email)).all().length;
    const before = count();
    expect(() => sendTemplateTest(ctx, { templateId: emailId, user })).toThrow(RateLimitedError);
    expect(count()).toBe(before);
    // Someone else is not held back.
    sendTemplateTest(ctx, {
      templateId: emailId,
      user: { ...me, id: "usr_tester_other" },
    });
    expect(count()).toBe(before + 1);
  });
});
