import { describe, expect, it } from "vitest";
import { checkTelegramHtml } from "./telegram";

describe("checkTelegramHtml", () => {
  it("accepts Telegram's tags, entities and variables", () => {
    expect(
      checkTelegramHtml(
        '<b>Hi {{ first_name | default: "<you>" }}</b> &amp; <i>welcome</i> <a href="https://x.example/?c={{ city }}">shop</a> <pre><code class="language-js">x &lt; 1</code></pre> <u>u</u><s>s</s>',
      ),
    ).toEqual({ ok: true, length: 28 });
  });

  it("refuses other tags, bad nesting, bare < > & and unsafe links", () => {
    const message = (text: string) => {
      const r = checkTelegramHtml(text);
      return r.ok ? null : r.message;
    };
    expect(message("<strong>x</strong>")).toMatch(/does not allow <strong>/);
    expect(message("<b><i>x</b></i>")).toBe("</b> closes <i>: close <i> first.");
    expect(message("<b>x")).toBe("<b> is not closed.");
    expect(message("x</i>")).toBe("</i> has no opening <i>.");
    expect(message("1 < 2")).toMatch(/&lt;/);
    expect(message("a -> b")).toMatch(/&gt;/);
    expect(message("Tom & Jerry")).toMatch(/&amp;/);
    expect(message('<a href="javascript:alert(1)">x</a>')).toMatch(/https:\/\//);
    expect(message('<b class="x">x</b>')).toBe("<b> takes no attributes.");
  });
});
