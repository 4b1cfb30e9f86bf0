import { and, desc, eq, lt, or } from "drizzle-orm";
import { contactEvents } from "~/db/schema/tenant";
import type { Channel } from "~/lib/channels";
import { ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { BAD_CURSOR } from "./search.server";

/**
 * A contact's timeline: what happened to them (created, edited, consent, tags, lists, messages),
 * appended by the code that made the change, in the same transaction.
 */

export interface TimelineEvent {
  id: number;
  at: Date;
  type: string;
  channel: Channel | null;
  data: Record<string, unknown>;
}

/** Newest first; `before` is the cursor from the previous page ("<at>.<id>"). */
export function listContactTimeline(
  ctx: WorkspaceContext,
  contactId: number,
  options: { before?: string; limit?: number } = {},
): { events: TimelineEvent[]; next: string | null } {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
  let cursor: { at: number; id: number } | null = null;
  if (options.before) {
    const match = /^(\d{1,15})\.(\d{1,15})$/.exec(options.before);
    if (!match) throw new ValidationError(BAD_CURSOR);
    cursor = { at: Number(match[1]), id: Number(match[2]) };
  }
  const rows = ctx.db
    .select()
    .from(contactEvents)
    .where(
      and(
        eq(contactEvents.contactId, contactId),
        cursor
          ? or(
              lt(contactEvents.at, new Date(cursor.at)),
              and(eq(contactEvents.at, new Date(cursor.at)), lt(contactEvents.id, cursor.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(contactEvents.at), desc(contactEvents.id))
    .limit(limit + 1)
    .all();
  const more = rows.length > limit;
  const events = rows.slice(0, limit).map((r) => {
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = r.data ? JSON.parse(r.data) : {};
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        data = parsed as Record<string, unknown>;
      }
    } catch {
      data = {};
    }
    return { id: r.id, at: r.at, type: r.type, channel: r.channel, data };
  });
  const last = events[events.length - 1];
  return { events, next: more && last ? `${last.at.getTime()}.${last.id}` : null };
}
