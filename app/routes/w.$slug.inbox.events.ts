import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireWorkspace } from "~/auth/workspace.server";
import { inboxEventFilter } from "~/domain/inbox/live-access.server";
import { openInboxStream } from "~/domain/inbox/live-stream.server";

/**
 * The inbox's live updates (inbox:read) as Server-Sent Events, opened by the inbox pages'
 * EventSource: `event: message | conversation | note | draft | presence | notification` with
 * `data: <json>` naming ids only (pages re-read through their loaders), and a comment every
 * 15 s. Membership is checked before anything streams: another workspace's slug is a 404 with
 * an ordinary body. Compression skips text/event-stream (server.ts), and X-Accel-Buffering
 * asks nginx-style proxies not to hold events back.
 */
export async function loader(args: LoaderFunctionArgs) {
  const { wctx } = await requireWorkspace(args, "inbox:read");
  const body = openInboxStream(wctx, {
    signal: args.request.signal,
    visible: inboxEventFilter(wctx),
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store, no-transform",
      "X-Accel-Buffering": "no",
    },
  });
}
