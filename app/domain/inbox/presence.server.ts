/**
 * Who has which conversation open, and who is writing a reply in it: kept in memory, since one
 * process serves every request and presence means nothing after a restart. A page refreshes
 * its presence every 20 s; an entry not refreshed for PRESENCE_TTL_MS is gone (a closed laptop
 * never says "left").
 */
import { publishInboxEvent } from "./live.server";
import { requireFollowableConversation, type InboxMemberContext } from "./live-access.server";

export const PRESENCE_TTL_MS = 30_000;

export type PresenceActivity = "viewing" | "replying";

/** One member present in a conversation; `at` is when their page last said so (ms). */
export interface PresenceEntry {
  userId: string;
  name: string;
  activity: PresenceActivity;
  at: number;
}

/** How often expired entries are looked for, so that others hear that someone is gone. */
const SWEEP_MS = 5_000;

type Activity = PresenceActivity | "left";

/** workspace id → conversation id → user id → entry */
const store = new Map<string, Map<number, Map<string, PresenceEntry>>>();
let sweeper: NodeJS.Timeout | null = null;

function announce(
  workspaceId: string,
  conversationId: number,
  entry: PresenceEntry,
  activity: Activity,
) {
  publishInboxEvent(workspaceId, {
    type: "presence",
    conversationId,
    userId: entry.userId,
    name: entry.name,
    activity,
    at: entry.at,
  });
}

function removeExpired(workspaceId: string, conversationId: number, now: number): void {
  const people = store.get(workspaceId)?.get(conversationId);
  if (!people) return;
  for (const [userId, entry] of people) {
    if (now - entry.at > PRESENCE_TTL_MS) {
      people.delete(userId);
      announce(workspaceId, conversationId, { ...entry, at: now }, "left");
    }
  }
  if (people.size === 0) {
    const conversations = store.get(workspaceId)!;
    conversations.delete(conversationId);
    if (conversations.size === 0) store.delete(workspaceId);
  }
}

function sweep(now = Date.now()): void {
  for (const [workspaceId, conversations] of [...store]) {
    for (const conversationId of [...conversations.keys()]) {
      removeExpired(workspaceId, conversationId, now);
    }
  }
  if (store.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

function ensureSweeper(): void {
  if (sweeper) return;
  sweeper = setInterval(() => sweep(), SWEEP_MS);
  sweeper.unref();
}

/**
 * Records what a member is doing in a conversation ("left" removes them). Others are told
 * (a `presence` event) when someone arrives, changes activity or leaves; a refresh of the same
 * activity only extends it. Access is the caller's business: see recordPresence.
 */
export function setPresence(
  workspaceId: string,
  conversationId: number,
  user: { id: string; name: string },
  activity: Activity,
  now = Date.now(),
): void {
  removeExpired(workspaceId, conversationId, now);
  let conversations = store.get(workspaceId);
  const people = conversations?.get(conversationId);
  const before = people?.get(user.id);
  if (activity === "left") {
    if (!before || !people) return;
    people.delete(user.id);
    if (people.size === 0) conversations!.delete(conversationId);
    if (conversations!.size === 0) store.delete(workspaceId);
    announce(workspaceId, conversationId, { ...before, at: now }, "left");
    return;
  }
  if (!conversations) {
    conversations = new Map();
    store.set(workspaceId, conversations);
  }
  let list = people;
  if (!list) {
    list = new Map();
    conversations.set(conversationId, list);
  }
  const entry: PresenceEntry = { userId: user.id, name: user.name, activity, at: now };
  list.set(user.id, entry);
  ensureSweeper();
  if (before?.activity !== activity) announce(workspaceId, conversationId, entry, activity);
}

/** Who is in the conversation now, oldest arrival first (expired entries are dropped). */
export function presenceOf(
  workspaceId: string,
  conversationId: number,
  now = Date.now(),
): PresenceEntry[] {
  removeExpired(workspaceId, conversationId, now);
  const people = store.get(workspaceId)?.get(conversationId);
  return people ? [...people.values()].sort((a, b) => a.at - b.at) : [];
}

/**
 * The presence route's call: the member must be able to see the conversation (404 otherwise),
 * then their activity is recorded. Returns everyone present, for the page to draw at once.
 */
export function recordPresence(
  ctx: InboxMemberContext,
  conversationId: number,
  user: { id: string; name: string },
  activity: Activity,
): PresenceEntry[] {
  requireFollowableConversation(ctx, conversationId);
  const now = ctx.now().getTime();
  setPresence(ctx.workspaceId, conversationId, user, activity, now);
  return presenceOf(ctx.workspaceId, conversationId, now);
}

/** Everyone present in a conversation the member may see (the presence route's GET). */
export function conversationPresence(
  ctx: InboxMemberContext,
  conversationId: number,
): PresenceEntry[] {
  requireFollowableConversation(ctx, conversationId);
  return presenceOf(ctx.workspaceId, conversationId, ctx.now().getTime());
}

/** Forgets everything (tests). */
export function resetPresence(): void {
  store.clear();
  if (sweeper) clearInterval(sweeper);
  sweeper = null;
}
