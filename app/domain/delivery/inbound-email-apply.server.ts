import type { Statement } from "better-sqlite3";
import type { ChannelEvent } from "~/channels/types";
import { contacts } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";
import { normaliseEmail } from "~/lib/email-address";
import { nameKeyOf } from "../contacts/contact-values.server";
import { suppressContactInTransaction } from "../contacts/suppressions.server";
import { indexSubjects, subjectHashes } from "../privacy/subject-index.server";

/**
 * Applying stored inbound email events (inside the webhook drain's transaction): who wrote,
 * which of our messages they answer, and mail to an unsubscribe address.
 */

type InboundEvent = Extract<ChannelEvent, { type: "inbound" }>;

export interface EmailContact {
  id: number;
  email: string | null;
  phone: string | null;
}

/** One of our messages an inbound email answers. */
export interface RepliedMessage {
  id: string;
  contactId: number | null;
  conversationId: number | null;
  campaignId: number | null;
  integrationId: string | null;
}

interface Statements {
  byId: Statement;
  byProviderId: Statement;
  contactById: Statement;
  contactByEmail: Statement;
}

const cache = new WeakMap<object, Statements>();
function prepared(db: TenantDb): Statements {
  let s = cache.get(db.$client);
  if (!s) {
    const c = db.$client;
    const columns = `id, contact_id AS contactId, conversation_id AS conversationId,
      campaign_id AS campaignId, integration_id AS integrationId`;
    s = {
      byId: c.prepare(`SELECT ${columns} FROM messages WHERE id = ? AND channel = 'email'`),
      byProviderId: c.prepare(
        `SELECT ${columns} FROM messages WHERE provider_message_id = ? AND channel = 'email'`,
      ),
      contactById: c.prepare("SELECT id, email, phone FROM contacts WHERE id = ?"),
      contactByEmail: c.prepare("SELECT id, email, phone FROM contacts WHERE email = ?"),
    };
    cache.set(db.$client, s);
  }
  return s;
}

/**
 * The message an inbound email answers: the one its verified reply address names, else the
 * nearest In-Reply-To/References id that is one of ours. SMTP sends keep the Message-ID we
 * wrote as provider id; SES replaces it with `<SES message id>@<region>.amazonses.com`, so the
 * part before the @ is tried too.
 */
export function repliedMessage(db: TenantDb, event: InboundEvent): RepliedMessage | null {
  const s = prepared(db);
  const facts = event.email;
  if (!facts) return null;
  if (facts.messageId) {
    const byToken = s.byId.get(facts.messageId) as RepliedMessage | undefined;
    if (byToken) return byToken;
  }
  for (const id of facts.replyingTo.slice(0, 20)) {
    const local = id.split("@")[0]!;
    const found = (s.byProviderId.get(id) ??
      (local !== id ? s.byProviderId.get(local) : undefined) ??
      (local.startsWith("msg_") ? s.byId.get(local) : undefined)) as RepliedMessage | undefined;
    if (found) return found;
  }
  return null;
}

/**
 * Who wrote an inbound email: the contact of the message it answers (reply token, then
 * In-Reply-To/References), else the contact with the sender's address, else a new contact
 * with that address (someone wrote to us: no consent implied).
 */
export function emailSender(
  db: TenantDb,
  workspaceId: string,
  event: InboundEvent,
  at: number,
): EmailContact {
  const s = prepared(db);
  const replied = repliedMessage(db, event);
  if (replied?.contactId != null) {
    const contact = s.contactById.get(replied.contactId) as EmailContact | undefined;
    if (contact) return contact;
  }
  const address = normaliseEmail(event.from);
  const known = s.contactByEmail.get(address) as EmailContact | undefined;
  if (known) return known;
  const name = event.name ?? "";
  const inserted = db
    .insert(contacts)
    .values({
      email: address,
      name,
      nameKey: nameKeyOf(name),
      createdAt: new Date(at),
      updatedAt: new Date(at),
    })
    .returning({ id: contacts.id, email: contacts.email, phone: contacts.phone })
    .get();
  // In the privacy index before this batch commits, so it never misses them.
  indexSubjects(workspaceId, subjectHashes({ email: address }));
  return inserted;
}

/**
 * Mail to a message's unsubscribe+<token>@ address: the contact that message went to and the
 * sender's own address are suppressed on email. It is not kept as a conversation message.
 */
export function applyEmailUnsubscribe(
  db: TenantDb,
  key: Buffer,
  event: InboundEvent,
  at: number,
): string {
  const s = prepared(db);
  const replied = event.email?.messageId
    ? (s.byId.get(event.email.messageId) as RepliedMessage | undefined)
    : undefined;
  const contact =
    replied?.contactId != null
      ? (s.contactById.get(replied.contactId) as EmailContact | undefined)
      : undefined;
  const sender = event.from ? normaliseEmail(event.from) : null;
  const when = new Date(at);
  suppressContactInTransaction(
    db,
    key,
    { id: contact?.id ?? null, email: contact?.email ?? sender, phone: null },
    "unsubscribe",
    "email",
    when,
  );
  if (sender && sender !== contact?.email) {
    const senderContact = s.contactByEmail.get(sender) as EmailContact | undefined;
    suppressContactInTransaction(
      db,
      key,
      { id: senderContact?.id ?? null, email: sender, phone: null },
      "unsubscribe",
      "email",
      when,
    );
  }
  return "unsubscribe mail: suppressed on email";
}
