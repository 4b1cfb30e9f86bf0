import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { parseInline, parseSafeMarkdown, safeHref } from "~/lib/safe-markdown";
import { PolicyBlocks } from "./policy-document";

const render = (markdown: string) =>
  renderToStaticMarkup(createElement(PolicyBlocks, { blocks: parseSafeMarkdown(markdown) }));

describe("published policy Markdown", () => {
  it("renders headings, paragraphs, lists, tables, links and emphasis", () => {
    const html = render(
      [
        "# Privacy Policy",
        "## 4. Third-Party Services",
        "We use **these** *sub-processors* and `code`:",
        "",
        "- one",
        "- two with [a link](https://example.com/a?b=1&c=2)",
        "",
        "1. first",
        "2. second",
        "",
        "| Provider | Purpose |",
        "|---|---|",
        "| AWS SES | Email delivery |",
        "",
        "Write to <mailto:privacy@pleisys.com> or see [DSAR](/dsar).",
      ].join("\n"),
    );
    expect(html).toContain("<h2>Privacy Policy</h2>");
    expect(html).toContain("<h3>4. Third-Party Services</h3>");
    expect(html).toContain(
      "<p>We use <strong>these</strong> <em>sub-processors</em> and <code>code</code>:</p>",
    );
    expect(html).toContain(
      '<ul><li>one</li><li>two with <a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener">a link</a></li></ul>',
    );
    expect(html).toContain("<ol><li>first</li><li>second</li></ol>");
    expect(html).toContain('<th scope="col">Provider</th>');
    expect(html).toContain("<td>AWS SES</td><td>Email delivery</td>");
    expect(html).toContain('<a href="mailto:privacy@pleisys.com" rel="nofollow noopener">');
    expect(html).toContain('<a href="/dsar" rel="nofollow noopener">DSAR</a>');
  });

  it("shows HTML as the characters typed, never as markup", () => {
    const html = render(
      [
        "<script>alert(1)</script>",
        "",
        '## <img src=x onerror="alert(2)">',
        "",
        "- <b>bold?</b>",
        "",
        "| <iframe> | x |",
        "|---|---|",
        "| <style>body{}</style> | y |",
      ].join("\n"),
    );
    expect(html).not.toMatch(/<(script|img|b|iframe|style)[\s>]/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;");
    expect(html).toContain("&lt;b&gt;bold?&lt;/b&gt;");
    expect(html).toContain("&lt;style&gt;body{}&lt;/style&gt;");
  });

  it("keeps dangerous link targets as plain text", () => {
    for (const href of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<b>x</b>",
      "vbscript:x",
      "//evil.example/x",
    ]) {
      expect(safeHref(href)).toBeNull();
      const html = render(`[click](${href})`);
      expect(html).not.toContain("<a ");
      expect(html).toContain("click");
    }
    expect(parseInline("[x](javascript:alert(1))")).toEqual([{ kind: "text", text: "x)" }]);
  });

  it("keeps snake_case and escaped characters as typed", () => {
    expect(parseInline("policy_version and \\*not emphasis\\*")).toEqual([
      { kind: "text", text: "policy_version and *not emphasis*" },
    ]);
  });
});
