import { and, desc, eq, gt, isNull, ne } from "drizzle-orm";
import { inboundMessages } from "~/db/schema/tenant";
import { cachedStatement } from "~/db/statements.server";
import { conversationActivity, conversations, csatResponses } from "~/db/schema/tenant-inbox";
import { NotFoundError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { sendServiceText } from "./business-hours.server";
import { readInboxSettings } from "./inbox-settings.server";

/**
 * One satisfaction question after a conversation is resolved, only when the channel lets us
 * write now (WhatsApp: inside the 24-hour window), and the customer's next message read as the
 * score when it is one.
 */

const WHATSAPP_WINDOW_MS = 24 * 3600_000;
export const CSAT_ANSWER_WINDOW_MS = 3 * 24 * 3600_000;

export type AskCsatResult =
  | { asked: true; messageId: string }
  | {
      asked: false;
      reason: "off" | "not_resolved" | "already_asked" | "window_closed" | "blocked";
    };

export function askCsat(
  ctx: WorkspaceContext,
  conversationId: number,
  resolvedBy: string | null,
): AskCsatResult {
  const settings = readInboxSettings(ctx);
  if (!settings.csatEnabled) return { asked: false, reason: "off" };
  const c = ctx.db.select().from(conversations).where(eq(conversations.id, conversationId)).get();
  if (!c) throw new NotFoundError("Conversation", conversationId);
  if (c.status !== "resolved") return { asked: false, reason: "not_resolved" };
  const now = ctx.now();
  const earlier = ctx.db
    .select({ askedAt: csatResponses.askedAt })
    .from(csatResponses)
    .where(eq(csatResponses.conversationId, conversationId))
    .orderBy(desc(csatResponses.askedAt))
    .get();
  if (earlier && (!c.resolvedAt || earlier.askedAt >= c.resolvedAt)) {
    return { asked: false, reason: "already_asked" };
  }
  if (
    c.channel === "whatsapp" &&
    (!c.lastInboundAt || now.getTime() - c.lastInboundAt.getTime() >= WHATSAPP_WINDOW_MS)
  ) {
    return { asked: false, reason: "window_closed" };
  }
  const messageId = sendServiceText(ctx, conversationId, settings.csatQuestion);
  if (!messageId) return { asked: false, reason: "blocked" };
  ctx.db.transaction((tx) => {
    tx.insert(csatResponses)
      .values({ conversationId, agentId: resolvedBy, messageId, askedAt: now })
      .run();
    tx.insert(conversationActivity)
      .values({
        conversationId,
        at: now,
        actorId: null,
        kind: "csat_asked",
        body: settings.csatQuestion,
      })
      .run();
  });
  return { asked: true, messageId };
}

/** A score from 1 to 5 in what people actually reply: "4", "5/5", "4️⃣", "⭐⭐⭐⭐"; else null. */
export function parseCsatScore(text: string): number | null {
  const clean = text.replace(/\uFE0F/g, "").trim();
  const digit = /^([1-5])\s*(?:\/\s*5|\u20E3)?\s*[.!]?$/u.exec(clean);
  if (digit) return Number(digit[1]);
  const stars = /^(?:[⭐★🌟]\s*){1,5}$/u.exec(clean);
  if (stars) return [...clean.replace(/\s/g, "")].length;
  return null;
}

/**
 * Reads a customer's message as the answer to a pending CSAT question: only the first message
 * after the question counts, within 3 days. The question may belong to this conversation or,
 * when the reply started a new one, to the contact's previous conversation on the same account.
 * Returns true when the message was the answer (record it, do not treat it as a new request).
 */
export function recordCsatAnswer(
  ctx: WorkspaceContext,
  conversationId: number,
  text: string,
  at: Date,
): boolean {
  // Most messages answer no question: one indexed lookup settles that before the full check.
  const asked = cachedStatement(
    ctx.db.$client,
    `SELECT 1 FROM conversations c
       JOIN conversations same ON same.contact_id = c.contact_id AND same.channel = c.channel
       JOIN csat_responses r ON r.conversation_id = same.id
     WHERE c.id = ? AND r.answered_at IS NULL AND r.asked_at >= ? LIMIT 1`,
  ).get(conversationId, at.getTime() - CSAT_ANSWER_WINDOW_MS);
  if (!asked) return false;
  const c = ctx.db.select().from(conversations).where(eq(conversations.id, conversationId)).get();
  if (!c) throw new NotFoundError("Conversation", conversationId);
  const pending = ctx.db
    .select({
      id: csatResponses.id,
      askedAt: csatResponses.askedAt,
      conversationId: csatResponses.conversationId,
    })
    .from(csatResponses)
    .innerJoin(conversations, eq(conversations.id, csatResponses.conversationId))
    .where(
      and(
        eq(conversations.contactId, c.contactId),
        eq(conversations.channel, c.channel),
        eq(conversations.accountKey, c.accountKey),
        isNull(csatResponses.answeredAt),
      ),
    )
    .orderBy(desc(csatResponses.askedAt))
    .get();
  if (!pending) return false;
  const elapsed = at.getTime() - pending.askedAt.getTime();
  if (elapsed < 0 || elapsed > CSAT_ANSWER_WINDOW_MS) return false;
  // Only the next message: an earlier customer message after the question closed it.
  const since = ctx.db
    .select({ id: inboundMessages.id, at: inboundMessages.at })
    .from(inboundMessages)
    .innerJoin(conversations, eq(conversations.id, inboundMessages.conversationId))
    .where(
      and(
        eq(conversations.contactId, c.contactId),
        eq(conversations.channel, c.channel),
        gt(inboundMessages.at, pending.askedAt),
        ne(inboundMessages.at, at),
      ),
    )
    .all()
    .filter((m) => m.at.getTime() < at.getTime());
  if (since.length > 0) return false;
  const score = parseCsatScore(text);
  if (score === null) return false;
  ctx.db.transaction((tx) => {
    tx.update(csatResponses)
      .set({ score, answeredAt: at })
      .where(eq(csatResponses.id, pending.id))
      .run();
    tx.insert(conversationActivity)
      .values({
        conversationId: pending.conversationId,
        at,
        actorId: null,
        kind: "csat_answered",
        data: JSON.stringify({ score }),
      })
      .run();
  });
  return true;
}
