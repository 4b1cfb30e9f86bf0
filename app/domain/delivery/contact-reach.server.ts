import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { integrations } from "~/db/schema/control";
import { contacts } from "~/db/schema/tenant";
import { CHANNELS, type Channel } from "~/lib/channels";
import { NotFoundError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { recipientFor } from "./outbox.server";

/**
 * Read-only: the channels a contact has an address on (email, phone, a linked Telegram chat),
 * in the usual channel order. Consent and suppression are the outbox's to decide at queueing.
 */
export function reachableChannels(ctx: WorkspaceContext, contactId: number): Channel[] {
  const contact = ctx.db
    .select({
      id: contacts.id,
      email: contacts.email,
      phone: contacts.phone,
      telegramChatId: contacts.telegramChatId,
    })
    .from(contacts)
    .where(eq(contacts.id, contactId))
    .get();
  if (!contact) throw new NotFoundError("Contact", contactId);
  return CHANNELS.filter((channel) => recipientFor(contact, channel) !== null);
}

/** Read-only: the channels with a connected account; the others run in the sandbox. */
export function connectedChannels(workspaceId: string): Channel[] {
  const rows = getControlDb()
    .select({ channel: integrations.channel })
    .from(integrations)
    .where(eq(integrations.workspaceId, workspaceId))
    .all();
  return CHANNELS.filter((channel) => rows.some((r) => r.channel === channel));
}
