import type { WorkspaceContext } from "../context";
import { drainAssignmentQueue, enqueueForAssignment } from "./assignment.server";
import { outsideHoursReply, sendServiceText } from "./business-hours.server";
import { askCsat, recordCsatAnswer, type AskCsatResult } from "./csat.server";

/**
 * The team-side rules that run around customer messages and resolutions, each in one call so
 * the inbound path and the conversation page wire in one function apiece.
 */

export interface AfterCustomerMessage {
  /** The message was the answer to a CSAT question (nothing else was done). */
  csatAnswered: boolean;
  /** The outside-hours auto-reply was queued (its message id), or null. */
  autoReplyMessageId: string | null;
  /** The conversation waits in the assignment queue afterwards. */
  queued: boolean;
  /** Who auto-assignment gave it to, when it did. */
  assignedTo: string | null;
}

/**
 * Call after a customer message joined a conversation (the conversation already updated:
 * status, waiting_since, last_inbound_at; the inbound row linked). Records a CSAT answer if one
 * is pending; else sends the outside-hours auto-reply when due, then queues the conversation for
 * auto-assignment and drains the queue (a batch passes `drainQueue: false` and drains once).
 */
export function afterCustomerMessage(
  ctx: WorkspaceContext,
  conversationId: number,
  inboundText: string,
  at: Date,
  { drainQueue = true }: { drainQueue?: boolean } = {},
): AfterCustomerMessage {
  if (recordCsatAnswer(ctx, conversationId, inboundText, at)) {
    return { csatAnswered: true, autoReplyMessageId: null, queued: false, assignedTo: null };
  }
  const reply = outsideHoursReply(ctx, conversationId, at);
  const autoReplyMessageId = reply ? sendServiceText(ctx, conversationId, reply) : null;
  const queued = enqueueForAssignment(ctx, conversationId, { drain: drainQueue });
  const assignee = ctx.db.$client
    .prepare("SELECT assignee_id AS a FROM conversations WHERE id = ?")
    .get(conversationId) as { a: string | null } | undefined;
  return { csatAnswered: false, autoReplyMessageId, queued, assignedTo: assignee?.a ?? null };
}

/**
 * Call after a conversation was resolved: asks the CSAT question when it is on and the channel
 * allows it, and drains the queue (the resolver's capacity freed).
 */
export function afterResolved(
  ctx: WorkspaceContext,
  conversationId: number,
  resolvedBy: string | null,
): AskCsatResult {
  const csat = askCsat(ctx, conversationId, resolvedBy);
  drainAssignmentQueue(ctx);
  return csat;
}
