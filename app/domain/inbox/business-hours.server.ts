import { and, desc, eq, inArray } from "drizzle-orm";
import type { MessageContent } from "~/channels/types";
import { conversationActivity, conversations } from "~/db/schema/tenant-inbox";
import { messages } from "~/db/schema/tenant";
import type { Channel } from "~/lib/channels";
import { escapeHtml } from "~/lib/html";
import { NotFoundError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { queueMessages } from "../delivery/outbox.server";
import { threadedEmail } from "./email-threading.server";
import {
  minutesOf,
  readInboxSettings,
  WEEKDAYS,
  type InboxSettings,
  type Weekday,
} from "./inbox-settings.server";

/**
 * Business hours in the workspace's time zone, and the one auto-reply a customer gets when they
 * write while the team is away: at most once per conversation per closed period.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
function localParts(timeZone: string, at: Date): { day: Weekday; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  const day = String(parts.weekday).slice(0, 3).toLowerCase() as Weekday;
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

export function isWithinBusinessHours(
  settings: Pick<InboxSettings, "businessHours">,
  timeZone: string,
  at: Date,
): boolean {
  if (!settings.businessHours) return true;
  const { day, minute } = localParts(timeZone, at);
  return (settings.businessHours.days[day] ?? []).some(
    ([start, end]) => minute >= minutesOf(start) && minute < minutesOf(end),
  );
}

/**
 * Whether the business was open at any moment in (from, to]. Walks from one possible opening
 * to the next instead of minute by minute; a week without an opening means none is coming.
 */
export function openedBetween(
  settings: Pick<InboxSettings, "businessHours">,
  timeZone: string,
  from: Date,
  to: Date,
): boolean {
  const hours = settings.businessHours;
  if (!hours) return true;
  let t = from.getTime() + 60_000;
  const limit = Math.min(to.getTime(), from.getTime() + 8 * 24 * 3600_000);
  while (t <= limit) {
    const { day, minute } = localParts(timeZone, new Date(t));
    const ranges = hours.days[day] ?? [];
    if (ranges.some(([s, e]) => minute >= minutesOf(s) && minute < minutesOf(e))) return true;
    const next = ranges.map(([s]) => minutesOf(s)).find((s) => s > minute);
    t += ((next ?? 24 * 60) - minute) * 60_000;
  }
  return to.getTime() > limit && WEEKDAYS.some((d) => (hours.days[d] ?? []).length > 0);
}

/**
 * Decides whether the conversation gets the outside-hours auto-reply for a customer message at
 * `at`: business hours are set, a reply is written, it is closed now, and the conversation has
 * not had one since the business last opened. Records the decision as an "auto_reply" activity
 * and returns the text to send, or null.
 */
export function outsideHoursReply(
  ctx: WorkspaceContext,
  conversationId: number,
  at: Date,
): string | null {
  const settings = readInboxSettings(ctx);
  const text = settings.outsideHoursReply?.trim();
  if (!settings.businessHours || !text) return null;
  const timeZone = ctx.workspace.timeZone;
  if (isWithinBusinessHours(settings, timeZone, at)) return null;
  return ctx.db.transaction(
    (tx) => {
      const last = tx
        .select({ at: conversationActivity.at })
        .from(conversationActivity)
        .where(
          and(
            eq(conversationActivity.conversationId, conversationId),
            eq(conversationActivity.kind, "auto_reply"),
          ),
        )
        .orderBy(desc(conversationActivity.at))
        .get();
      if (last && !openedBetween(settings, timeZone, last.at, at)) return null;
      tx.insert(conversationActivity)
        .values({ conversationId, at, actorId: null, kind: "auto_reply", body: text })
        .run();
      return text;
    },
    { behavior: "immediate" },
  );
}

/** A plain service text on a channel (the auto-reply, the CSAT question). */
export function serviceContent(channel: Channel, text: string): MessageContent {
  switch (channel) {
    case "email":
      return { channel, subject: "Re: your message", text, html: `<p>${escapeHtml(text)}</p>` };
    case "whatsapp":
      return { channel, type: "text", text };
    case "sms":
    case "telegram":
      return { channel, text };
  }
}

/** By email the service text answers the customer's latest mail, in its thread. */
function threadedService(
  ctx: WorkspaceContext,
  conversationId: number,
  content: MessageContent,
): MessageContent {
  return content.channel === "email" ? threadedEmail(ctx, conversationId, content) : content;
}

/**
 * Queues a service message to the conversation's contact on its channel and links the message
 * to the conversation. Returns the message id, or null when it could not go (suppressed, no
 * address): the outbox records why.
 */
export function sendServiceText(
  ctx: WorkspaceContext,
  conversationId: number,
  text: string,
): string | null {
  const conversation = ctx.db
    .select({ contactId: conversations.contactId, channel: conversations.channel })
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .get();
  if (!conversation) throw new NotFoundError("Conversation", conversationId);
  const summary = queueMessages(ctx, [
    {
      contactId: conversation.contactId,
      channel: conversation.channel,
      kind: "service",
      content: threadedService(ctx, conversationId, serviceContent(conversation.channel, text)),
    },
  ]);
  if (summary.ids.length) {
    ctx.db.update(messages).set({ conversationId }).where(inArray(messages.id, summary.ids)).run();
  }
  return summary.queued > 0 ? (summary.ids[0] ?? null) : null;
}
