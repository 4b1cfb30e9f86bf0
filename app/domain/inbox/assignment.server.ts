import { and, asc, eq, gte, inArray, isNotNull, isNull, max, ne, sql } from "drizzle-orm";
import {
  agentStates,
  conversationActivity,
  conversations,
  inboxNotifications,
  teamMembers,
} from "~/db/schema/tenant-inbox";
import type { TenantDb } from "~/db/tenants.server";
import { ForbiddenError, NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { markQueueDue } from "./inbox-due.server";
import { readInboxSettings } from "./inbox-settings.server";
import { publishInboxEvent } from "./live.server";
import { getTeam, isInTeam, isMemberWith, membersWith } from "./teams.server";

/**
 * Who answers a conversation: assignment by a person (to a member, a team, or both) and
 * automatic round-robin assignment from a FIFO queue. Every change runs in a BEGIN IMMEDIATE
 * transaction, so two drains (two requests, a job and a webhook) never hand one conversation
 * to two agents or push an agent over their cap.
 */

/** An agent is online while available and seen (an open inbox page) within this long. */
export const ONLINE_WINDOW_MS = 2 * 60 * 1000;

type Tx = Parameters<Parameters<TenantDb["transaction"]>[0]>[0];

export interface Assignment {
  conversationId: number;
  assigneeId: string;
}

/** The next round-robin timestamp: strictly after every earlier one, so ties cannot repeat. */
function nextAssignedAt(tx: Tx, now: Date): Date {
  const row = tx
    .select({ last: max(agentStates.lastAssignedAt) })
    .from(agentStates)
    .get();
  const last = row?.last ? new Date(row.last).getTime() : 0;
  return new Date(Math.max(now.getTime(), last + 1));
}

function markAssigned(tx: Tx, userId: string, at: Date, now: Date) {
  tx.insert(agentStates)
    .values({ userId, lastAssignedAt: at, updatedAt: now })
    .onConflictDoUpdate({ target: agentStates.userId, set: { lastAssignedAt: at, updatedAt: now } })
    .run();
}

function notifyAssigned(
  tx: Tx,
  conversationId: number,
  userId: string,
  actorId: string | null,
  now: Date,
) {
  tx.insert(inboxNotifications)
    .values({ userId, conversationId, kind: "assigned", actorId, createdAt: now })
    .run();
}

function publishAssigned(ctx: WorkspaceContext, conversationId: number, notified: string | null) {
  const at = ctx.now().getTime();
  publishInboxEvent(ctx.workspaceId, { type: "conversation", conversationId, at });
  if (notified) {
    publishInboxEvent(ctx.workspaceId, {
      type: "notification",
      userId: notified,
      conversationId,
      at,
    });
  }
}

export interface AssignInput {
  /** A member id, null to unassign, absent to keep the current assignee. */
  assigneeId?: string | null;
  /** A team id, null for no team, absent to keep the current team. */
  teamId?: number | null;
}

/**
 * A person assigns a conversation to a member and/or a team. The assignee must be allowed to
 * reply and, when the conversation has a team, be in it. Writes an "assigned" activity with
 * the actor (which also discards pending AI drafts: a person took over), notifies a new
 * assignee other than the actor, and drains the queue when it freed capacity or left the
 * conversation waiting for someone.
 */
export function assignConversation(
  ctx: WorkspaceContext,
  actorUserId: string,
  conversationId: number,
  input: AssignInput,
): { assigneeId: string | null; teamId: number | null } {
  if (!isMemberWith(ctx, actorUserId, "inbox:reply")) {
    throw new ForbiddenError("Only members who can answer conversations can assign them.");
  }
  if (input.assigneeId && !isMemberWith(ctx, input.assigneeId, "inbox:reply")) {
    const message = "Assign conversations to a member who can answer them (owner, admin or agent).";
    throw new ValidationError(message, { assigneeId: [message] });
  }
  if (input.teamId !== undefined && input.teamId !== null) getTeam(ctx, input.teamId);
  const now = ctx.now();
  let notified: string | null = null;
  let changed = false;
  let freed = false;
  const result = ctx.db.transaction(
    (tx) => {
      const conversation = tx
        .select()
        .from(conversations)
        .where(eq(conversations.id, conversationId))
        .get();
      if (!conversation) throw new NotFoundError("Conversation", conversationId);
      const assigneeId =
        input.assigneeId === undefined ? conversation.assigneeId : input.assigneeId;
      const teamId = input.teamId === undefined ? conversation.teamId : input.teamId;
      if (assigneeId && teamId !== null && !isInTeam(ctx, teamId, assigneeId)) {
        const message =
          "That member is not in the conversation's team. Add them to the team, or change the team.";
        throw new ValidationError(message, { assigneeId: [message] });
      }
      if (assigneeId === conversation.assigneeId && teamId === conversation.teamId) {
        return { assigneeId, teamId };
      }
      changed = true;
      freed = conversation.assigneeId !== null && conversation.assigneeId !== assigneeId;
      const waiting =
        !assigneeId && conversation.status === "open" && conversation.waitingSince !== null;
      // ctx.db is this transaction's connection: its reads see the transaction.
      const autoAssign = readInboxSettings(ctx).autoAssign;
      tx.update(conversations)
        .set({
          assigneeId,
          teamId,
          queuedAt: waiting && autoAssign ? (conversation.queuedAt ?? now) : null,
          updatedAt: now,
        })
        .where(eq(conversations.id, conversationId))
        .run();
      tx.insert(conversationActivity)
        .values({
          conversationId,
          at: now,
          actorId: actorUserId,
          kind: "assigned",
          data: JSON.stringify({
            assigneeId,
            teamId,
            previousAssigneeId: conversation.assigneeId,
            previousTeamId: conversation.teamId,
          }),
        })
        .run();
      if (assigneeId && assigneeId !== conversation.assigneeId) {
        markAssigned(tx, assigneeId, nextAssignedAt(tx, now), now);
        if (assigneeId !== actorUserId) {
          notifyAssigned(tx, conversationId, assigneeId, actorUserId, now);
          notified = assigneeId;
        }
      }
      return { assigneeId, teamId };
    },
    { behavior: "immediate" },
  );
  if (changed) {
    publishAssigned(ctx, conversationId, notified);
    if (freed || result.assigneeId === null) drainAssignmentQueue(ctx);
  }
  return result;
}

/** "Assign to me": the conversation keeps its team, and the member must be in it. */
export function selfAssign(ctx: WorkspaceContext, userId: string, conversationId: number) {
  return assignConversation(ctx, userId, conversationId, { assigneeId: userId });
}

/**
 * Puts a conversation in the auto-assignment queue when it is open, waits for an answer, has
 * nobody assigned and the workspace assigns automatically; then drains, unless the caller
 * drains once after a batch (`drain: false`). Returns whether it is queued afterwards (false
 * once it was assigned straight away, too).
 */
export function enqueueForAssignment(
  ctx: WorkspaceContext,
  conversationId: number,
  { drain = true }: { drain?: boolean } = {},
): boolean {
  if (!readInboxSettings(ctx).autoAssign) return false;
  const now = ctx.now();
  const entered = ctx.db.transaction(
    (tx) =>
      tx
        .update(conversations)
        .set({ queuedAt: now })
        .where(
          and(
            eq(conversations.id, conversationId),
            eq(conversations.status, "open"),
            isNull(conversations.assigneeId),
            isNotNull(conversations.waitingSince),
            isNull(conversations.queuedAt),
          ),
        )
        .run().changes > 0,
    { behavior: "immediate" },
  );
  // A drain marks the workspace due itself when it leaves anything queued.
  if (drain) drainAssignmentQueue(ctx);
  else if (entered) markQueueDue(ctx);
  const row = ctx.db
    .select({ queuedAt: conversations.queuedAt })
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .get();
  return row?.queuedAt != null;
}

interface Candidate {
  userId: string;
  cap: number;
  load: number;
  lastAssignedAt: number;
  teams: Set<number>;
}

/**
 * Hands queued conversations to online agents, oldest queued first. Each goes to the eligible
 * agent (in its team, or anyone without a team) below their cap who was given one least
 * recently; a conversation nobody can take stays queued without holding up the ones behind it
 * that someone else can take. Auto-assignment writes "assigned" with no actor. Whatever is left
 * queued makes the workspace due for the minutely job a minute from now (every way into the
 * queue ends in a drain, or marks it itself).
 */
export function drainAssignmentQueue(ctx: WorkspaceContext): Assignment[] {
  const settings = readInboxSettings(ctx);
  if (!settings.autoAssign) return [];
  const repliers = new Set(membersWith(ctx, "inbox:reply").map((m) => m.userId));
  const now = ctx.now();
  const assigned = ctx.db.transaction(
    (tx) => {
      const queue = tx
        .select({
          id: conversations.id,
          teamId: conversations.teamId,
          status: conversations.status,
          assigneeId: conversations.assigneeId,
        })
        .from(conversations)
        .where(isNotNull(conversations.queuedAt))
        .orderBy(asc(conversations.queuedAt), asc(conversations.id))
        .all();
      if (queue.length === 0) return { done: [], left: 0 };
      const online = tx
        .select()
        .from(agentStates)
        .where(
          and(
            eq(agentStates.available, true),
            gte(agentStates.lastSeenAt, new Date(now.getTime() - ONLINE_WINDOW_MS)),
          ),
        )
        .all()
        .filter((a) => repliers.has(a.userId));
      const ids = online.map((a) => a.userId);
      const loads = new Map<string, number>();
      const teamsOf = new Map<string, Set<number>>();
      if (ids.length) {
        for (const row of tx
          .select({ userId: conversations.assigneeId, n: sql<number>`count(*)` })
          .from(conversations)
          .where(and(inArray(conversations.assigneeId, ids), ne(conversations.status, "resolved")))
          .groupBy(conversations.assigneeId)
          .all()) {
          loads.set(row.userId!, row.n);
        }
        for (const row of tx
          .select()
          .from(teamMembers)
          .where(inArray(teamMembers.userId, ids))
          .all()) {
          let set = teamsOf.get(row.userId);
          if (!set) teamsOf.set(row.userId, (set = new Set()));
          set.add(row.teamId);
        }
      }
      const candidates: Candidate[] = online.map((a) => ({
        userId: a.userId,
        cap: a.capacity ?? settings.agentCapacity,
        load: loads.get(a.userId) ?? 0,
        lastAssignedAt: a.lastAssignedAt?.getTime() ?? 0,
        teams: teamsOf.get(a.userId) ?? new Set(),
      }));
      const done: Assignment[] = [];
      let left = 0;
      for (const c of queue) {
        if (c.status !== "open" || c.assigneeId !== null) {
          // Answered, resolved or taken by hand since it was queued: no longer waiting.
          tx.update(conversations).set({ queuedAt: null }).where(eq(conversations.id, c.id)).run();
          continue;
        }
        let best: Candidate | undefined;
        for (const agent of candidates) {
          if (agent.load >= agent.cap) continue;
          if (c.teamId !== null && !agent.teams.has(c.teamId)) continue;
          if (
            !best ||
            agent.lastAssignedAt < best.lastAssignedAt ||
            (agent.lastAssignedAt === best.lastAssignedAt && agent.userId < best.userId)
          ) {
            best = agent;
          }
        }
        if (!best) {
          left += 1;
          continue;
        }
        const at = nextAssignedAt(tx, now);
        tx.update(conversations)
          .set({ assigneeId: best.userId, queuedAt: null, updatedAt: now })
          .where(eq(conversations.id, c.id))
          .run();
        tx.insert(conversationActivity)
          .values({
            conversationId: c.id,
            at: now,
            actorId: null,
            kind: "assigned",
            data: JSON.stringify({ assigneeId: best.userId, teamId: c.teamId, automatic: true }),
          })
          .run();
        notifyAssigned(tx, c.id, best.userId, null, now);
        markAssigned(tx, best.userId, at, now);
        best.load += 1;
        best.lastAssignedAt = at.getTime();
        done.push({ conversationId: c.id, assigneeId: best.userId });
      }
      return { done, left };
    },
    { behavior: "immediate" },
  );
  for (const a of assigned.done) publishAssigned(ctx, a.conversationId, a.assigneeId);
  if (assigned.left > 0) markQueueDue(ctx);
  return assigned.done;
}
