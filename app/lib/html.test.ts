import { describe, expect, it } from "vitest";
import { escapeHtml } from "./html";

describe("escapeHtml", () => {
  it("escapes the five characters that matter in content and quoted attributes", () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;",
    );
  });

  it("leaves quotes as typed when asked (element content only)", () => {
    expect(escapeHtml(`"Tom" & <Jerry>'s`, { quotes: false })).toBe(`"Tom" &amp; &lt;Jerry&gt;'s`);
  });
});
