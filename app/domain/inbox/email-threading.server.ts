import { and, desc, eq } from "drizzle-orm";
import { isSendableMessageId } from "~/channels/email-mime.server";
import type { MessageContent } from "~/channels/types";
import { inboundMessages } from "~/db/schema/tenant";
import type { WorkspaceContext } from "../context";

/**
 * How we answer an email conversation so the customer's mail client shows our mail inside
 * their thread: "Re: <their subject>", In-Reply-To their Message-ID, References their chain
 * followed by it (RFC 5322 3.6.4). Used by the agent's reply, the outside-hours auto-reply and
 * the CSAT question.
 */

export interface EmailThreading {
  subject: string;
  /** Absent until the customer has written by email (nothing to answer yet). */
  inReplyTo?: string;
  references?: string[];
}

/** The page's subject field allows 150 characters; the pre-filled subject always fits. */
export const MAX_REPLY_SUBJECT = 150;
/** References kept in an answer: the thread's root and the nearest ones. */
const MAX_REFERENCES = 10;

// Reply prefixes as mail clients write them (Re, RE[2], Aw, Sv, Antw, Ref, Vs, Réf), repeated.
const REPLY_PREFIX = /^(?:\s*(?:re|aw|sv|antw|ref|réf|vs)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)+/i;

/** "Re: <subject>" without stacking prefixes ("RE: Re: x" → "Re: x"); null when empty. */
export function replySubject(subject: string): string | null {
  const base = subject.replace(REPLY_PREFIX, "").replace(/\s+/g, " ").trim();
  if (base === "") return null;
  const full = `Re: ${base}`;
  return full.length <= MAX_REPLY_SUBJECT ? full : `${full.slice(0, MAX_REPLY_SUBJECT - 1)}…`;
}

/** The References of an answer: the thread (oldest first) then the mail answered, capped. */
export function replyReferences(chain: readonly string[], answered: string): string[] {
  const ids = [...new Set([...chain, answered])].filter((id) => isSendableMessageId(id));
  if (ids.length <= MAX_REFERENCES) return ids;
  return [ids[0]!, ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
}

/**
 * How to answer the conversation's latest inbound email: its subject as "Re: ...", and the
 * threading ids when it had a Message-ID. `fallbackSubject` when no email came in yet (or it had
 * no subject).
 */
export function emailThreading(
  ctx: WorkspaceContext,
  conversationId: number,
  fallbackSubject: string,
): EmailThreading {
  const last = ctx.db
    .select({
      messageId: inboundMessages.emailMessageId,
      subject: inboundMessages.emailSubject,
      references: inboundMessages.emailReferences,
    })
    .from(inboundMessages)
    .where(
      and(eq(inboundMessages.conversationId, conversationId), eq(inboundMessages.channel, "email")),
    )
    .orderBy(desc(inboundMessages.at), desc(inboundMessages.id))
    .get();
  const subject = (last?.subject != null ? replySubject(last.subject) : null) ?? fallbackSubject;
  const answered = last?.messageId;
  if (!answered || !isSendableMessageId(answered)) return { subject };
  return {
    subject,
    inReplyTo: answered,
    references: replyReferences((last.references ?? "").split(" ").filter(Boolean), answered),
  };
}

/**
 * Email content with the conversation's threading ids. The subject becomes "Re: <their
 * subject>" (the content's own subject as the fallback), unless `keepSubject`: a person typed it.
 */
export function threadedEmail(
  ctx: WorkspaceContext,
  conversationId: number,
  content: Extract<MessageContent, { channel: "email" }>,
  keepSubject = false,
): Extract<MessageContent, { channel: "email" }> {
  const thread = emailThreading(ctx, conversationId, content.subject);
  return {
    ...content,
    subject: keepSubject ? content.subject : thread.subject,
    ...(thread.inReplyTo ? { inReplyTo: thread.inReplyTo, references: thread.references } : {}),
  };
}
