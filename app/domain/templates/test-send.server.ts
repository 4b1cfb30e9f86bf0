import { and, asc, eq, isNotNull } from "drizzle-orm";
import type { MessageContent } from "~/channels/types";
import { contacts } from "~/db/schema/tenant";
import { CHANNEL_LABELS } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import { normalisePhone } from "~/lib/phone";
import { recordAudit } from "../audit/audit.server";
import { createContact, DuplicateContactError, getContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import { connectedChannels } from "../delivery/contact-reach.server";
import { queueMessages } from "../delivery/outbox.server";
import { consume, type LimitPolicy } from "../security/rate-limit.server";
import {
  getTemplate,
  renderForContact,
  SAMPLE_CONTACT,
  sendableReason,
  type Template,
} from "./templates.server";

/**
 * "Send a test to yourself" from the template editor. The test goes through the normal outbox,
 * so it is paced, checked against suppression and shown under Messages like any other message
 * (kept in the sandbox when the channel has no connected account). The outbox sends to
 * contacts, so the person's own address is found among the workspace's contacts, or added as a
 * contact the first time. Tests are "service" messages (one person, no consent needed) and are
 * rendered with the preview contact's values, so the tester sees what that contact would get.
 */

const MINUTE = 60_000;

/** Per user: enough to iterate on a template, too few to use tests as a way to send mail. */
export const TEST_SEND_POLICY: LimitPolicy = {
  limit: 10,
  windowMs: 10 * MINUTE,
  lockoutMs: 10 * MINUTE,
  maxLockoutMs: 60 * MINUTE,
};

export function testSendRateKey(userId: string): string {
  return `template-test:${userId}`;
}

export interface TestSendRequest {
  templateId: number;
  /** The signed-in person: email tests go to their own address (never one from a form). */
  user: { id: string; name: string; email: string };
  /** SMS and WhatsApp: the number to send to, as typed. */
  phone?: string | null;
  /** Telegram: a contact who has linked the workspace's bot. */
  telegramContactId?: number | null;
  /** Whose values fill the variables; the sample contact when missing. */
  previewContactId?: number | null;
}

export interface TestSendResult {
  messageId: string;
  channel: Template["channel"];
  recipient: string;
  /** Queued to be sent; false when the outbox skipped it (e.g. the address is suppressed). */
  queued: boolean;
  /** Why it was skipped. */
  reason: string | null;
  /** No account connected for the channel: kept in the sandbox. */
  sandbox: boolean;
  /** A contact was added for the recipient's address. */
  contactCreated: boolean;
}

export const TELEGRAM_LINK_HELP =
  "A Telegram bot cannot message anyone first. Open the contact's page, send them their " +
  "Telegram link, and once they press Start in Telegram they can get messages (and tests).";

/** Contacts who have linked the workspace's Telegram bot, for the test-send picker. */
export function telegramTestContacts(
  ctx: WorkspaceContext,
  limit = 50,
): { id: number; name: string }[] {
  // Read-only, like the outbox's own reads of contacts: the chat id is the Telegram address.
  return ctx.db
    .select({ id: contacts.id, name: contacts.name })
    .from(contacts)
    .where(isNotNull(contacts.telegramChatId))
    .orderBy(asc(contacts.nameKey), asc(contacts.id))
    .limit(limit)
    .all()
    .map((c) => ({ id: c.id, name: c.name || `Contact #${c.id}` }));
}

function linkedTelegramContact(ctx: WorkspaceContext, id: number): { name: string } | null {
  return (
    ctx.db
      .select({ name: contacts.name })
      .from(contacts)
      .where(and(eq(contacts.id, id), isNotNull(contacts.telegramChatId)))
      .get() ?? null
  );
}

/** The contact with this address, or a new one named after the tester. */
function contactFor(
  ctx: WorkspaceContext,
  address: { email: string } | { phone: string },
  name: string,
): { id: number; created: boolean } {
  try {
    const contact = createContact(ctx, {
      name,
      email: null,
      phone: null,
      ...address,
      attributes: {},
    });
    return { id: contact.id, created: true };
  } catch (error) {
    if (error instanceof DuplicateContactError) return { id: error.existingId, created: false };
    throw error;
  }
}

function testContent(content: MessageContent): MessageContent {
  // The inbox shows tests for what they are; nothing else changes.
  return content.channel === "email"
    ? { ...content, subject: `[Test] ${content.subject}` }
    : content;
}

/**
 * Queues one test of a saved template. ValidationError (field `phone` or `telegramContactId`)
 * for a missing or invalid recipient or a template that cannot be sent (WhatsApp: not
 * approved); RateLimitedError after TEST_SEND_POLICY.limit tests in its window.
 */
export function sendTemplateTest(ctx: WorkspaceContext, request: TestSendRequest): TestSendResult {
  const template = getTemplate(ctx, request.templateId);
  const notSendable = sendableReason(template);
  if (notSendable) {
    throw new ValidationError(`${notSendable} Only approved templates can be sent.`);
  }
  const preview =
    request.previewContactId == null ? SAMPLE_CONTACT : getContact(ctx, request.previewContactId);

  let address: { email: string } | { phone: string } | null = null;
  let telegram: { id: number; name: string } | null = null;
  switch (template.channel) {
    case "email":
      address = { email: request.user.email };
      break;
    case "sms":
    case "whatsapp": {
      const typed = request.phone?.trim() ?? "";
      if (!typed) {
        throw new ValidationError("Enter your phone number.", {
          phone: ["Enter the phone number to send the test to, e.g. +91 98765 43210."],
        });
      }
      const phone = normalisePhone(typed, ctx.workspace.country);
      if (!phone.ok) throw new ValidationError(phone.reason, { phone: [phone.reason] });
      address = { phone: phone.e164 };
      break;
    }
    case "telegram": {
      const id = request.telegramContactId;
      const linked = id ? linkedTelegramContact(ctx, id) : null;
      if (!id || !linked) {
        const message = id
          ? `That contact has not linked the Telegram bot. ${TELEGRAM_LINK_HELP}`
          : `Choose a contact who has linked the Telegram bot. ${TELEGRAM_LINK_HELP}`;
        throw new ValidationError(message, { telegramContactId: [message] });
      }
      telegram = { id, name: linked.name || `Contact #${id}` };
      break;
    }
  }

  // Counted once the request is valid, before anything is written.
  consume([[testSendRateKey(request.user.id), TEST_SEND_POLICY]], ctx.now());

  const recipient = telegram
    ? { id: telegram.id, created: false }
    : contactFor(ctx, address!, request.user.name);
  const content = testContent(renderForContact(ctx, template, preview));
  const summary = queueMessages(ctx, [
    { contactId: recipient.id, channel: template.channel, kind: "service", content },
  ]);
  const messageId = summary.ids[0]!;
  const reason = Object.keys(summary.skippedReasons)[0] ?? null;
  const result: TestSendResult = {
    messageId,
    channel: template.channel,
    recipient: telegram?.name ?? (address && "email" in address ? address.email : address!.phone),
    queued: summary.queued > 0,
    reason,
    sandbox: !connectedChannels(ctx.workspaceId).includes(template.channel),
    contactCreated: recipient.created,
  };
  recordAudit(ctx, {
    action: "template.test_sent",
    workspaceId: ctx.workspaceId,
    target: { type: "template", id: template.id },
    details: {
      channel: template.channel,
      messageId,
      queued: result.queued,
      contactId: recipient.id,
    },
  });
  return result;
}

/** A sentence for the page after a test send. */
export function describeTestSend(result: TestSendResult): string {
  const label = CHANNEL_LABELS[result.channel];
  if (!result.queued) {
    return `The ${label} test to ${result.recipient} was not sent: ${result.reason ?? "it could not be queued"}.`;
  }
  const added = result.contactCreated ? ` (added as a contact so the outbox can reach it)` : "";
  return result.sandbox
    ? `${label} test queued in the sandbox for ${result.recipient}${added}: it reaches nobody. See it under Messages.`
    : `${label} test queued for ${result.recipient}${added}. Its status appears under Messages.`;
}
