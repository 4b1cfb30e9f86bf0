import { and, asc, eq, gte } from "drizzle-orm";
import { inboundMessages } from "~/db/schema/tenant";
import type { Channel } from "~/lib/channels";
import type { WorkspaceContext } from "../context";

/**
 * What people wrote back (stored by the webhook code from a provider's, or the sandbox's,
 * inbound events). The WhatsApp customer service window they open (24 hours after a person's
 * last message) is decided in app/domain/inbox/window.server.ts.
 */

export const WHATSAPP_WINDOW_MS = 24 * 60 * 60_000;

export interface Reply {
  id: number;
  text: string;
  at: Date;
  /** Simulated by the sandbox (no integration received it). */
  sandbox: boolean;
}

/** A contact's replies on a channel since a time (e.g. a message's send), oldest first. */
export function repliesSince(
  ctx: WorkspaceContext,
  contactId: number,
  channel: Channel,
  since: Date,
  limit = 20,
): Reply[] {
  return ctx.db
    .select()
    .from(inboundMessages)
    .where(
      and(
        eq(inboundMessages.contactId, contactId),
        eq(inboundMessages.channel, channel),
        gte(inboundMessages.at, since),
      ),
    )
    .orderBy(asc(inboundMessages.at), asc(inboundMessages.id))
    .limit(limit)
    .all()
    .map((r) => ({ id: r.id, text: r.text, at: r.at, sandbox: r.integrationId === null }));
}
