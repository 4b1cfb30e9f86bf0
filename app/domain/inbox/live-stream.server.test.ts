import { describe, expect, it } from "vitest";
import { inboxListenerCount, publishInboxEvent, type InboxEvent } from "./live.server";
import {
  closeInboxStreams,
  formatInboxEvent,
  openInboxStream,
  openInboxStreamCount,
} from "./live-stream.server";

const decoder = new TextDecoder();
const message = (conversationId: number): InboxEvent => ({
  type: "message",
  conversationId,
  direction: "in",
  at: 1,
});

/** Reads what the stream has written so far, until `until` matches or 2 s pass. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: RegExp) {
  let text = "";
  const deadline = Date.now() + 2_000;
  while (!until.test(text) && Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now())),
    ]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value);
  }
  return text;
}

describe("the inbox event stream", () => {
  it("writes the workspace's visible events as SSE, and a heartbeat comment", async () => {
    const abort = new AbortController();
    const stream = openInboxStream(
      { workspaceId: "ws_s1" },
      { signal: abort.signal, visible: (e) => e.conversationId !== 2, heartbeatMs: 50 },
    );
    const reader = stream.getReader();
    expect(await readUntil(reader, /connected/)).toMatch(/^retry: \d+\n: connected\n\n/);
    publishInboxEvent("ws_s1", message(2));
    publishInboxEvent("ws_other", message(3));
    publishInboxEvent("ws_s1", message(1));
    const text = await readUntil(reader, /conversationId":1/);
    expect(text).toContain(formatInboxEvent(message(1)));
    expect(text).toBe(formatInboxEvent(message(1)));
    expect(await readUntil(reader, /: heartbeat \d+\n\n/)).toMatch(/^: heartbeat \d+\n\n/);
    abort.abort();
  });

  it("unsubscribes when the client goes away", async () => {
    const abort = new AbortController();
    const stream = openInboxStream(
      { workspaceId: "ws_s2" },
      { signal: abort.signal, visible: () => true },
    );
    const reader = stream.getReader();
    await readUntil(reader, /connected/);
    expect(inboxListenerCount("ws_s2")).toBe(1);
    abort.abort();
    expect(inboxListenerCount("ws_s2")).toBe(0);
    expect((await reader.read()).done).toBe(true);
  });

  it("unsubscribes when the reader cancels, and on shutdown", async () => {
    const first = openInboxStream(
      { workspaceId: "ws_s3" },
      { signal: new AbortController().signal, visible: () => true },
    );
    const second = openInboxStream(
      { workspaceId: "ws_s3" },
      { signal: new AbortController().signal, visible: () => true },
    );
    expect(inboxListenerCount("ws_s3")).toBe(2);
    await first.cancel();
    expect(inboxListenerCount("ws_s3")).toBe(1);
    const reader = second.getReader();
    closeInboxStreams();
    expect(inboxListenerCount("ws_s3")).toBe(0);
    expect(openInboxStreamCount()).toBe(0);
    await readUntil(reader, /connected/);
    expect((await reader.read()).done).toBe(true);
  });

  it("ends by itself after its time, and never subscribes for an aborted request", async () => {
    const stream = openInboxStream(
      { workspaceId: "ws_s4" },
      { signal: new AbortController().signal, visible: () => true, maxMs: 30 },
    );
    const reader = stream.getReader();
    await readUntil(reader, /connected/);
    expect((await reader.read()).done).toBe(true);
    expect(inboxListenerCount("ws_s4")).toBe(0);
    openInboxStream({ workspaceId: "ws_s4" }, { signal: AbortSignal.abort(), visible: () => true });
    expect(inboxListenerCount("ws_s4")).toBe(0);
  });
});
