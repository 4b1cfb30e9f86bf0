import { useCallback, useEffect, useState } from "react";
import { Button } from "../ui/button";
import type { LiveInboxEvent } from "./use-inbox-events";

/**
 * Desktop notifications for the inbox, opt-in: the browser is asked for permission only when the
 * member presses "Turn on desktop notifications". Once allowed (and not turned off here), a new
 * customer message, or a mention or assignment for this member, shows a notification while the
 * inbox tab is hidden. The event stream only carries conversations the member may see.
 */

const STORAGE_KEY = "engage.inbox.desktopNotifications";

type NotifyState = "unsupported" | "off" | "on" | "denied";

function currentState(): NotifyState {
  if (typeof window === "undefined" || !("Notification" in window)) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  if (Notification.permission !== "granted") return "off";
  return window.localStorage.getItem(STORAGE_KEY) === "off" ? "off" : "on";
}

/** What a notification says for an event, or null when this event does not call for one. */
export function notificationFor(
  event: LiveInboxEvent,
  viewerId: string,
): { title: string; body: string; conversationId: number } | null {
  if (event.type === "message" && event.direction === "in") {
    return {
      title: "New customer message",
      body: "A customer wrote in the shared inbox.",
      conversationId: event.conversationId,
    };
  }
  if (event.type === "notification" && event.userId === viewerId) {
    return {
      title: "A conversation needs you",
      body: "You were mentioned or assigned a conversation.",
      conversationId: event.conversationId,
    };
  }
  return null;
}

/**
 * The handler to pass as useInboxEvents' `onEvent`: shows a notification when they are on and
 * the tab is hidden; clicking it brings the tab back on that conversation.
 */
export function useDesktopNotifications(slug: string, viewerId: string) {
  return useCallback(
    (event: LiveInboxEvent) => {
      if (currentState() !== "on" || document.visibilityState !== "hidden") return;
      const what = notificationFor(event, viewerId);
      if (!what) return;
      const notification = new Notification(what.title, {
        body: what.body,
        tag: `inbox-${slug}-${what.conversationId}`,
      });
      notification.onclick = () => {
        window.focus();
        window.location.assign(`/w/${encodeURIComponent(slug)}/inbox/${what.conversationId}`);
        notification.close();
      };
    },
    [slug, viewerId],
  );
}

/** The opt-in button; nothing is rendered where browsers cannot notify (or before hydration). */
export function DesktopNotifyToggle() {
  const [state, setState] = useState<NotifyState>("unsupported");
  useEffect(() => setState(currentState()), []);

  if (state === "unsupported") return null;
  if (state === "denied") {
    return (
      <p className="muted">Desktop notifications are blocked in this browser&apos;s settings.</p>
    );
  }
  if (state === "on") {
    return (
      <Button
        type="button"
        variant="ghost"
        onClick={() => {
          window.localStorage.setItem(STORAGE_KEY, "off");
          setState(currentState());
        }}
      >
        Turn off desktop notifications
      </Button>
    );
  }
  return (
    <Button
      type="button"
      variant="secondary"
      onClick={() => {
        window.localStorage.removeItem(STORAGE_KEY);
        void Notification.requestPermission().then(() => setState(currentState()));
      }}
    >
      Turn on desktop notifications
    </Button>
  );
}
