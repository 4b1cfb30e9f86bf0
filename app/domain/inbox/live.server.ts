/**
 * The inbox's in-process event bus: domain functions publish what changed in a workspace's
 * inbox after their transaction commits, and the Server-Sent Events route relays it to the open
 * inbox pages of that workspace. One process serves every request (ADR 0001), so no broker.
 * Events name what changed, never what it says: a page re-reads through its loader, where the
 * member's role and team are checked.
 */

export type InboxEvent =
  /** A message arrived or was sent in a conversation. */
  | { type: "message"; conversationId: number; direction: "in" | "out"; at: number }
  /** Status, assignment, team, labels or snooze changed. */
  | { type: "conversation"; conversationId: number; at: number }
  /** A note was added. */
  | { type: "note"; conversationId: number; at: number }
  /** An AI draft changed state (pending → ready / failed / discarded). */
  | { type: "draft"; conversationId: number; draftId: number; at: number }
  /** Someone opened, is typing in, or left a conversation. */
  | {
      type: "presence";
      conversationId: number;
      userId: string;
      name: string;
      activity: "viewing" | "replying" | "left";
      at: number;
    }
  /** A member was mentioned or assigned (their pages show it; the browser may notify). */
  | { type: "notification"; userId: string; conversationId: number; at: number };

export type InboxListener = (event: InboxEvent) => void;

const listeners = new Map<string, Set<InboxListener>>();

/** Tells every open inbox page of the workspace. A throwing listener does not stop the others. */
export function publishInboxEvent(workspaceId: string, event: InboxEvent): void {
  const set = listeners.get(workspaceId);
  if (!set) return;
  for (const listener of [...set]) {
    try {
      listener(event);
    } catch {
      // A closed stream's write can throw; its own cleanup unsubscribes it.
    }
  }
}

/** Listens to one workspace's inbox events; returns the unsubscribe function. */
export function subscribeInboxEvents(workspaceId: string, listener: InboxListener): () => void {
  let set = listeners.get(workspaceId);
  if (!set) {
    set = new Set();
    listeners.set(workspaceId, set);
  }
  set.add(listener);
  return () => {
    const current = listeners.get(workspaceId);
    if (!current) return;
    current.delete(listener);
    if (current.size === 0) listeners.delete(workspaceId);
  };
}

/** How many pages listen to a workspace (metrics, tests). */
export function inboxListenerCount(workspaceId: string): number {
  return listeners.get(workspaceId)?.size ?? 0;
}
