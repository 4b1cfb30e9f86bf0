import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import {
  AiWriter,
  readAiCopyStream,
  splitStreamingText,
  type AiCopyStreamEvent,
} from "./ai-writer";

describe("splitStreamingText", () => {
  it("shows the versions written so far", () => {
    expect(splitStreamingText("")).toEqual([]);
    expect(splitStreamingText("Hello wor")).toEqual(["Hello wor"]);
    expect(splitStreamingText("One\n---\nTw")).toEqual(["One", "Tw"]);
    expect(splitStreamingText("One\n---\n")).toEqual(["One"]);
    expect(splitStreamingText("A\n---\nB\n---\nC\n---\nD")).toEqual(["A", "B", "C"]);
  });
});

describe("readAiCopyStream", () => {
  it("reads events split across chunks, in order", async () => {
    const text =
      'data: {"type":"delta","text":"Hi"}\n\ndata: {"type":"delta","text":" there"}\r\n\r\n' +
      'data: {"type":"done","suggestions":["Hi there"]}\n\n';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        // Every split point, including one between \r and \n.
        for (let i = 0; i < bytes.length; i += 1) controller.enqueue(bytes.slice(i, i + 1));
        controller.close();
      },
    });
    const events: AiCopyStreamEvent[] = [];
    await readAiCopyStream(body, (e) => events.push(e));
    expect(events).toEqual([
      { type: "delta", text: "Hi" },
      { type: "delta", text: " there" },
      { type: "done", suggestions: ["Hi there"] },
    ]);
  });
});

describe("AiWriter", () => {
  const props = { action: "/w/demo/ai/copy", onUse: () => undefined };

  it("says when AI writing is not configured, and offers no form", () => {
    const html = renderToString(createElement(AiWriter, { ...props, configured: false }));
    expect(html).toContain("AI writing is not configured");
    expect(html).toContain("ANTHROPIC_API_KEY");
    expect(html).not.toContain("<textarea");
  });

  it("renders labelled fields without names, and a Write button disabled until hydrated", () => {
    const html = renderToString(
      createElement(AiWriter, { ...props, configured: true, channel: "sms" }),
    );
    for (const label of ["What should the message say?", "Channel", "Tone", "Language"]) {
      expect(html).toContain(`${label}</label>`);
    }
    // Every label points at a control.
    const fors = [...html.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]);
    for (const id of fors) expect(html).toContain(`id="${id}"`);
    expect(html).not.toMatch(/\sname="/);
    expect(html).toMatch(/<button type="button" class="btn btn-primary" disabled="">/);
    expect(html).toContain('<option value="sms" selected="">SMS</option>');
  });
});
