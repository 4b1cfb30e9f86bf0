import { inboundMessages } from "~/db/schema/tenant";
import type { TenantContext } from "~/domain/context";
import { conversationForInbound, linkInbound } from "~/domain/inbox/conversations.server";
import type { Channel } from "~/lib/channels";
import { insertContact } from "./contacts";

/**
 * Inbox rows for tests of the live pieces, written as plain rows (the conversations domain is
 * not what these tests are about): a contact with one conversation, and teams.
 */

let seq = 0;

export function seedConversation(
  ctx: TenantContext,
  input: { assigneeId?: string | null; teamId?: number | null; name?: string } = {},
): number {
  seq += 1;
  const db = ctx.db.$client;
  const now = Date.now();
  const contact = db
    .prepare(
      `INSERT INTO contacts (phone, name, name_key, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(
      `+91700${String(seq).padStart(7, "0")}`,
      input.name ?? `Customer ${seq}`,
      "",
      now,
      now,
    ) as {
    id: number;
  };
  const row = db
    .prepare(
      `INSERT INTO conversations (contact_id, channel, account_key, status, assignee_id, team_id,
         last_message_at, created_at, updated_at)
       VALUES (?, 'whatsapp', '', 'open', ?, ?, ?, ?, ?) RETURNING id`,
    )
    .get(contact.id, input.assigneeId ?? null, input.teamId ?? null, now, now, now) as {
    id: number;
  };
  return row.id;
}

export function seedInboxTeam(ctx: TenantContext, name: string, userIds: string[]): number {
  const db = ctx.db.$client;
  const team = db
    .prepare("INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id")
    .get(name, Date.now()) as { id: number };
  for (const userId of userIds) {
    db.prepare("INSERT INTO team_members (team_id, user_id) VALUES (?, ?)").run(team.id, userId);
  }
  return team.id;
}

let written = 0;

/**
 * A new contact writes in on a channel: their inbound message is stored and joins (or starts)
 * a conversation through the inbox's own rule, as the webhook path does. Returns its id.
 */
export function customerWrites(
  ctx: TenantContext,
  input: { name: string; phone: string; channel: Channel; text: string; at?: number },
): number {
  const contactId = insertContact(ctx.db, { name: input.name, phone: input.phone });
  const at = new Date(input.at ?? Date.now());
  return ctx.db.transaction(() => {
    const row = ctx.db
      .insert(inboundMessages)
      .values({
        contactId,
        channel: input.channel,
        integrationId: null,
        sender: input.phone,
        text: input.text,
        providerMessageId: `seed-${++written}`,
        at,
      })
      .returning({ id: inboundMessages.id })
      .get();
    const { conversationId } = conversationForInbound(ctx.db, {
      contactId,
      channel: input.channel,
      integrationId: null,
      at,
      preview: input.text,
      reopenWithinDays: 7,
    });
    linkInbound(ctx.db, row.id, conversationId, null);
    return conversationId;
  });
}
