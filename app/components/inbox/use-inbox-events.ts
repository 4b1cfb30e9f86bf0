import { useRevalidator } from "@remix-run/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { softLock, type PresenceEntry, type SoftLock } from "./soft-lock";

/**
 * The inbox pages' live connection: an EventSource on /w/<slug>/inbox/events. Messages,
 * conversation changes, notes and drafts make the page re-run its loaders (debounced, so a burst
 * is one reload); presence events keep the conversation's viewers and the soft lock current.
 * On a conversation page it also says "viewing" on open and every 20 s, "replying" while the
 * member types (throttled) and "left" when the page goes away. Without JavaScript none of this
 * runs and the pages are simply reloaded.
 */

/** The events the route sends (the shape of InboxEvent on the server; ids only). */
export type LiveInboxEvent =
  | { type: "message"; conversationId: number; direction: "in" | "out"; at: number }
  | { type: "conversation" | "note"; conversationId: number; at: number }
  | { type: "draft"; conversationId: number; draftId: number; at: number }
  | {
      type: "presence";
      conversationId: number;
      userId: string;
      name: string;
      activity: "viewing" | "replying" | "left";
      at: number;
    }
  | { type: "notification"; userId: string; conversationId: number; at: number };

const EVENT_TYPES = [
  "message",
  "conversation",
  "note",
  "draft",
  "presence",
  "notification",
] as const;
const RELOADING = new Set<string>(["message", "conversation", "note", "draft"]);
const REVALIDATE_DEBOUNCE_MS = 300;
const VIEWING_EVERY_MS = 20_000;
const REPLYING_EVERY_MS = 8_000;
/** Typing that stopped this long ago no longer counts as replying. */
const REPLYING_FOR_MS = 25_000;
const RECONNECT_MIN_MS = 2_000;
const RECONNECT_MAX_MS = 30_000;

export interface InboxEventsOptions {
  slug: string;
  /** The signed-in member (their own presence never locks them). */
  viewerId: string;
  /** On a conversation page: presence is sent and followed for this conversation. */
  conversationId?: number;
  /** Whether the member may reply (only they say "replying"). */
  canReply?: boolean;
  /** Every event the member is told about, e.g. for desktop notifications. */
  onEvent?: (event: LiveInboxEvent) => void;
}

export interface InboxLive {
  /** The event stream is open. */
  connected: boolean;
  /** Members in this conversation (the viewer included), oldest arrival first. */
  presence: PresenceEntry[];
  lock: SoftLock;
  /** Call on every keystroke in the composer. */
  typing: () => void;
  /** Call once the reply is sent or the composer is emptied. */
  stoppedTyping: () => void;
}

function applyPresence(list: PresenceEntry[], event: LiveInboxEvent): PresenceEntry[] {
  if (event.type !== "presence") return list;
  const others = list.filter((e) => e.userId !== event.userId);
  if (event.activity === "left") return others;
  const entry = { userId: event.userId, name: event.name, activity: event.activity, at: event.at };
  return [...others, entry].sort((a, b) => a.at - b.at);
}

export function useInboxEvents(options: InboxEventsOptions): InboxLive {
  const { slug, viewerId, conversationId, canReply = false } = options;
  const revalidator = useRevalidator();
  const revalidateRef = useRef(revalidator.revalidate);
  revalidateRef.current = revalidator.revalidate;
  const onEventRef = useRef(options.onEvent);
  onEventRef.current = options.onEvent;
  const [connected, setConnected] = useState(false);
  const [presence, setPresenceList] = useState<PresenceEntry[]>([]);
  const lastTypedAt = useRef(0);
  const lastReplyingSentAt = useRef(0);

  // The stream, reopened with a growing pause when the browser gives up on it.
  useEffect(() => {
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    let pause = RECONNECT_MIN_MS;
    let stopped = false;
    const handle = (raw: MessageEvent<string>) => {
      let event: LiveInboxEvent;
      try {
        event = JSON.parse(raw.data) as LiveInboxEvent;
      } catch {
        return;
      }
      if (RELOADING.has(event.type)) {
        clearTimeout(debounce);
        debounce = setTimeout(() => revalidateRef.current(), REVALIDATE_DEBOUNCE_MS);
      }
      if (event.type === "presence" && event.conversationId === conversationId) {
        setPresenceList((list) => applyPresence(list, event));
      }
      onEventRef.current?.(event);
    };
    const open = () => {
      if (stopped) return;
      source = new EventSource(`/w/${encodeURIComponent(slug)}/inbox/events`);
      source.onopen = () => {
        pause = RECONNECT_MIN_MS;
        setConnected(true);
      };
      source.onerror = () => {
        setConnected(false);
        // CONNECTING: the browser retries by itself. CLOSED: it gave up (e.g. a 5xx).
        if (source?.readyState === EventSource.CLOSED) {
          source.close();
          retryTimer = setTimeout(open, pause);
          pause = Math.min(pause * 2, RECONNECT_MAX_MS);
        }
      };
      for (const type of EVENT_TYPES) source.addEventListener(type, handle);
    };
    open();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(debounce);
      source?.close();
      setConnected(false);
    };
  }, [slug, conversationId]);

  const presenceUrl =
    conversationId === undefined
      ? null
      : `/w/${encodeURIComponent(slug)}/inbox/${conversationId}/presence`;

  const send = useCallback(
    async (intent: "viewing" | "replying") => {
      if (!presenceUrl) return;
      try {
        const res = await fetch(presenceUrl, {
          method: "POST",
          body: new URLSearchParams({ intent }),
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        if (!res.ok) return;
        const body = (await res.json()) as { presence: PresenceEntry[] };
        setPresenceList(body.presence);
      } catch {
        // Offline for a moment: the next ping says it again.
      }
    },
    [presenceUrl],
  );

  // Presence: "viewing" now and every 20 s ("replying" while typing), "left" on the way out.
  useEffect(() => {
    if (!presenceUrl) return;
    setPresenceList([]);
    const activity = () =>
      canReply && Date.now() - lastTypedAt.current < REPLYING_FOR_MS ? "replying" : "viewing";
    void send("viewing");
    const timer = setInterval(() => void send(activity()), VIEWING_EVERY_MS);
    const leave = () => {
      navigator.sendBeacon?.(presenceUrl, new URLSearchParams({ intent: "left" }));
    };
    window.addEventListener("pagehide", leave);
    return () => {
      clearInterval(timer);
      window.removeEventListener("pagehide", leave);
      leave();
    };
  }, [presenceUrl, canReply, send]);

  const typing = useCallback(() => {
    if (!canReply) return;
    const now = Date.now();
    lastTypedAt.current = now;
    if (now - lastReplyingSentAt.current < REPLYING_EVERY_MS) return;
    lastReplyingSentAt.current = now;
    void send("replying");
  }, [canReply, send]);

  const stoppedTyping = useCallback(() => {
    if (lastTypedAt.current === 0) return;
    lastTypedAt.current = 0;
    lastReplyingSentAt.current = 0;
    void send("viewing");
  }, [send]);

  return { connected, presence, lock: softLock(presence, viewerId), typing, stoppedTyping };
}
