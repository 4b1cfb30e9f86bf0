import { eq } from "drizzle-orm";
import { agentStates } from "~/db/schema/tenant-inbox";
import { ValidationError } from "~/lib/errors";
import type { TenantContext, WorkspaceContext } from "../context";
import { drainAssignmentQueue, ONLINE_WINDOW_MS } from "./assignment.server";
import { readInboxSettings } from "./inbox-settings.server";
import { isMemberWith, membersWith, type InboxMember } from "./teams.server";

/**
 * An agent's inbox state: available for auto-assignment or not, when an open inbox page last
 * heard from them, and their own cap. "Online" is available AND seen within ONLINE_WINDOW_MS,
 * so closing the laptop takes an agent out of the rotation without anyone pressing a button.
 */

export { ONLINE_WINDOW_MS };

export interface AgentState {
  userId: string;
  available: boolean;
  capacity: number | null;
  lastSeenAt: Date | null;
  lastAssignedAt: Date | null;
}

export function getAgentState({ db }: TenantContext, userId: string): AgentState {
  const row = db.select().from(agentStates).where(eq(agentStates.userId, userId)).get();
  return {
    userId,
    available: row?.available ?? false,
    capacity: row?.capacity ?? null,
    lastSeenAt: row?.lastSeenAt ?? null,
    lastAssignedAt: row?.lastAssignedAt ?? null,
  };
}

export function isOnline(state: Pick<AgentState, "available" | "lastSeenAt">, now: Date): boolean {
  return (
    state.available &&
    state.lastSeenAt !== null &&
    now.getTime() - state.lastSeenAt.getTime() <= ONLINE_WINDOW_MS
  );
}

function upsert(
  ctx: WorkspaceContext,
  userId: string,
  set: Partial<typeof agentStates.$inferInsert>,
) {
  const now = ctx.now();
  ctx.db
    .insert(agentStates)
    .values({ userId, ...set, updatedAt: now })
    .onConflictDoUpdate({ target: agentStates.userId, set: { ...set, updatedAt: now } })
    .run();
}

function assertAgent(ctx: WorkspaceContext, userId: string) {
  if (!isMemberWith(ctx, userId, "inbox:reply")) {
    throw new ValidationError("Only members who can answer conversations take assignments.");
  }
}

/**
 * An agent says they take (or stop taking) auto-assigned conversations. Becoming available
 * counts as being seen, and drains the queue when it made the agent online.
 */
export function setAvailability(
  ctx: WorkspaceContext,
  userId: string,
  available: boolean,
): AgentState {
  assertAgent(ctx, userId);
  upsert(ctx, userId, available ? { available, lastSeenAt: ctx.now() } : { available });
  if (available) drainAssignmentQueue(ctx);
  return getAgentState(ctx, userId);
}

/**
 * An open inbox page says the agent is there (call it on load and every minute or so).
 * Coming back online drains the queue; staying online only records the time.
 */
export function touchAgent(ctx: WorkspaceContext, userId: string): { online: boolean } {
  const now = ctx.now();
  const before = getAgentState(ctx, userId);
  upsert(ctx, userId, { lastSeenAt: now });
  const online = isOnline({ ...before, lastSeenAt: now }, now);
  if (online && !isOnline(before, now)) drainAssignmentQueue(ctx);
  return { online };
}

/** An agent's own cap (1-100), or null for the workspace's; a higher cap drains at once. */
export function setAgentCapacity(ctx: WorkspaceContext, userId: string, capacity: number | null) {
  assertAgent(ctx, userId);
  if (capacity !== null && (!Number.isInteger(capacity) || capacity < 1 || capacity > 100)) {
    const message = "Enter a number from 1 to 100, or leave it empty for the workspace's cap.";
    throw new ValidationError(message, { capacity: [message] });
  }
  upsert(ctx, userId, { capacity });
  drainAssignmentQueue(ctx);
  return getAgentState(ctx, userId);
}

export interface AgentRow extends InboxMember, AgentState {
  online: boolean;
  /** The cap that applies: their own, else the workspace's. */
  effectiveCapacity: number;
}

/** Every member who can answer conversations, with their state (the teams page). */
export function listAgents(ctx: WorkspaceContext): AgentRow[] {
  const now = ctx.now();
  const cap = readInboxSettings(ctx).agentCapacity;
  return membersWith(ctx, "inbox:reply").map((m) => {
    const state = getAgentState(ctx, m.userId);
    return {
      ...m,
      ...state,
      online: isOnline(state, now),
      effectiveCapacity: state.capacity ?? cap,
    };
  });
}
