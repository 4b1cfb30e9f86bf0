/**
 * The body of the inbox's Server-Sent Events route: one stream per open inbox page, fed by the
 * workspace's event bus. Each event is written as it happens (`event: <type>` + `data: <json>`),
 * a comment every HEARTBEAT_MS keeps proxies from closing an idle connection, and the stream
 * ends after MAX_STREAM_MS (the browser reconnects by itself) or when the host shuts down, so
 * no stream holds a shutdown or a worn connection forever.
 */
import type { WorkspaceContext } from "~/domain/context";
import { subscribeInboxEvents, type InboxEvent } from "./live.server";

export const HEARTBEAT_MS = 15_000;
export const MAX_STREAM_MS = 10 * 60_000;
/** How long the browser waits before reconnecting after the stream ends. */
const RETRY_MS = 2_000;

const encoder = new TextEncoder();
const open = new Set<() => void>();

export function formatInboxEvent(event: InboxEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export interface InboxStreamOptions {
  /** Ends the stream: the request's signal (the client went away). */
  signal: AbortSignal;
  /** Which events this member is told about (see inboxEventFilter). */
  visible: (event: InboxEvent) => boolean;
  heartbeatMs?: number;
  maxMs?: number;
}

/**
 * A stream of the workspace's inbox events for one member. It subscribes at once, so nothing
 * published after this call is missed, and unsubscribes when the client goes away (abort),
 * the reader cancels, the stream times out or the host shuts down.
 */
export function openInboxStream(
  ctx: Pick<WorkspaceContext, "workspaceId">,
  options: InboxStreamOptions,
): ReadableStream<Uint8Array> {
  let finish: () => void = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false;
      const write = (text: string) => {
        if (!done) controller.enqueue(encoder.encode(text));
      };
      const unsubscribe = subscribeInboxEvents(ctx.workspaceId, (event) => {
        if (done || !options.visible(event)) return;
        write(formatInboxEvent(event));
      });
      const heartbeat = setInterval(
        () => write(`: heartbeat ${Date.now()}\n\n`),
        options.heartbeatMs ?? HEARTBEAT_MS,
      );
      const timeout = setTimeout(() => finish(), options.maxMs ?? MAX_STREAM_MS);
      finish = () => {
        if (done) return;
        done = true;
        unsubscribe();
        clearInterval(heartbeat);
        clearTimeout(timeout);
        open.delete(finish);
        options.signal.removeEventListener("abort", finish);
        try {
          controller.close();
        } catch {
          // Already closed or errored by the reader's side.
        }
      };
      open.add(finish);
      if (options.signal.aborted) return finish();
      options.signal.addEventListener("abort", finish);
      // The first bytes go out at once, so the browser sees the connection open.
      write(`retry: ${RETRY_MS}\n: connected\n\n`);
    },
    cancel() {
      finish();
    },
  });
}

/** Ends every open stream (the host's shutdown; browsers reconnect to the next process). */
export function closeInboxStreams(): void {
  for (const finish of [...open]) finish();
}

/** How many streams are open in this process (metrics, tests). */
export function openInboxStreamCount(): number {
  return open.size;
}
