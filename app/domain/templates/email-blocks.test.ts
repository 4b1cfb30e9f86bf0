import { describe, expect, it } from "vitest";
import {
  EmailBlocksSchema,
  emailDocument,
  emailHtmlFromBlocks,
  htmlToText,
  isSafeUrl,
  unsafeHtml,
  unsafeLinks,
  type EmailBlock,
} from "./email-blocks";
import { parseTemplate, renderText } from "./personalise";

describe("emailHtmlFromBlocks", () => {
  it("renders each block as inline-styled table rows, and a text part", () => {
    const blocks: EmailBlock[] = [
      { type: "heading", text: "Summer sale", level: 2 },
      {
        type: "paragraph",
        text: 'Hi {{ first_name | default: "there" }},\n**20% off** _everything_.',
      },
      {
        type: "button",
        text: "Shop now",
        url: "https://shop.example/sale?c={{ city | url_encode }}",
      },
      {
        type: "image",
        src: "https://cdn.example/banner.png",
        alt: "Beach",
        href: "https://shop.example",
      },
      { type: "divider" },
    ];
    const { html, text } = emailHtmlFromBlocks(blocks);
    expect(html).toMatch(/^<table role="presentation" width="100%"/);
    expect(html).toContain(
      '<h2 style="margin:0;font-family:Helvetica,Arial,sans-serif;font-size:21px',
    );
    expect(html).toContain(
      'Hi {{ first_name | default: "there" }},<br>\n<strong>20% off</strong> <em>everything</em>.</p>',
    );
    expect(html).toContain(
      '<a href="https://shop.example/sale?c={{ city | url_encode }}" target="_blank" style="display:inline-block;',
    );
    expect(html).toContain('bgcolor="#1d4ed8"');
    expect(html).toContain(
      '<a href="https://shop.example" target="_blank"><img src="https://cdn.example/banner.png" alt="Beach" width="600" style="display:block;width:100%;max-width:600px;height:auto;',
    );
    expect(html).toContain("border-top:1px solid #e4e7eb");
    expect(html).not.toMatch(/<style|class=/);
    expect(text).toBe(
      [
        "Summer sale",
        'Hi {{ first_name | default: "there" }},\n20% off everything.',
        "Shop now: https://shop.example/sale?c={{ city | url_encode }}",
        "Beach (https://shop.example)",
        "----------",
      ].join("\n\n"),
    );
    // The result is a template that parses and renders per recipient.
    const parsed = parseTemplate(html);
    expect(parsed.ok && parsed.variables).toEqual(["first_name", "city"]);
    expect(renderText(html, { city: "New Delhi & NCR" }, { escapeHtml: true })).toContain(
      'href="https://shop.example/sale?c=New%20Delhi%20%26%20NCR"',
    );
  });

  it("escapes everything the author typed", () => {
    const { html, text } = emailHtmlFromBlocks([
      { type: "heading", text: "<script>alert(1)</script>" },
      { type: "paragraph", text: `Tom & "Jerry" <b>bold?</b> <img src=x onerror=alert(1)>` },
      { type: "button", text: "<i>Go</i>", url: 'https://x.example/"><script>' },
      { type: "image", src: "https://x.example/a.png", alt: '"><script>' },
    ]);
    expect(html).not.toMatch(/<script|<b>|<img src=x|<i>|"><script/);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain(
      "Tom &amp; &quot;Jerry&quot; &lt;b&gt;bold?&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;",
    );
    expect(html).toContain("&lt;i&gt;Go&lt;/i&gt;");
    expect(html).toContain('alt="&quot;&gt;&lt;script&gt;"');
    // The text part is plain text: nothing to escape.
    expect(text).toContain(`Tom & "Jerry" <b>bold?</b>`);
  });

  it("links only http and https URLs; anything else stays text", () => {
    const { html, text } = emailHtmlFromBlocks([
      {
        type: "paragraph",
        text: "[ok](https://a.example/x?y=1&z=2) [plain](http://b.example) [bad](javascript:alert(1)) [data](data:text/html,hi) [rel](/path) [var]({{ url }})",
      },
      { type: "button", text: "Evil", url: "javascript:alert(1)" },
      { type: "image", src: "data:image/png;base64,AAAA", alt: "x" },
    ]);
    expect(html).toContain('<a href="https://a.example/x?y=1&amp;z=2" style="color:#1d4ed8');
    expect(html).toContain('<a href="http://b.example"');
    expect(html).toContain("[bad](javascript:alert(1))");
    expect(html).toContain("[data](data:text/html,hi)");
    expect(html).toContain("[rel](/path)");
    expect(html).toContain("[var]({{ url }})");
    expect(html.match(/<a /g)).toHaveLength(2);
    expect(html).not.toMatch(/javascript:alert\(1\)"|src="data:/);
    expect(text).toContain("ok (https://a.example/x?y=1&z=2) plain (http://b.example)");
    expect(unsafeLinks("[a](https://ok.example) [b](javascript:x) [c]({{ site }})")).toEqual([
      "javascript:x",
      "{{ site }}",
    ]);
  });

  it("leaves snake_case and tags alone, honours backslash escapes", () => {
    const { html } = emailHtmlFromBlocks([
      {
        type: "paragraph",
        text: 'Use code_name and {{ plan_tier | default: "_basic_" }}; \\*not bold\\* **bold _and italic_**',
      },
    ]);
    expect(html).toContain(
      'Use code_name and {{ plan_tier | default: "_basic_" }}; *not bold* <strong>bold <em>and italic</em></strong>',
    );
  });

  it("validates blocks with messages per field", () => {
    const result = EmailBlocksSchema.safeParse([
      { type: "paragraph", text: " " },
      { type: "button", text: "Go", url: "ftp://x.example" },
      { type: "image", src: "https://x.example/a.png", alt: "", width: 900 },
      { type: "video" },
    ]);
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((i) => [i.path.join("."), i.message]);
    expect(issues).toEqual([
      ["0.text", "Write the paragraph."],
      ["1.url", "The button link must be a full link starting with https:// (or http://)."],
      ["2.width", "At most 600 pixels."],
      ["3.type", "Choose a heading, paragraph, button, image or divider."],
    ]);
    expect(EmailBlocksSchema.safeParse([]).error?.issues[0]?.message).toBe(
      "Add at least one block to the email.",
    );
    expect(isSafeUrl("https://x.example/?a={{ b }}")).toBe(true);
    expect(isSafeUrl("{{ url }}")).toBe(false);
    expect(isSafeUrl("https://")).toBe(false);
  });
});

describe("emailDocument", () => {
  it("wraps a body in a 600px responsive layout with the hidden preheader first", () => {
    const html = emailDocument({
      bodyHtml: "<p>Body</p>",
      preheaderHtml: "Sale ends &amp; more",
      titleHtml: "Hi",
    });
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain("max-width:600px");
    const bodyAt = html.indexOf("<body");
    const preheaderAt = html.indexOf('<span style="display:none!important');
    expect(preheaderAt).toBeGreaterThan(bodyAt);
    expect(html.indexOf("Sale ends &amp; more")).toBeGreaterThan(preheaderAt);
    expect(html.indexOf("Sale ends")).toBeLessThan(html.indexOf("<p>Body</p>"));
    expect(emailDocument({ bodyHtml: "<p>x</p>" })).not.toContain("display:none");
  });

  it("does not wrap a full document again; the preheader goes after <body>", () => {
    const html = emailDocument({
      bodyHtml: '<html><body class="x"><p>Own layout</p></body></html>',
      preheaderHtml: "Peek",
    });
    expect(html).toMatch(/^<html><body class="x"><span style="display:none!important[^>]*>Peek/);
    expect(html.match(/<body/g)).toHaveLength(1);
  });
});

describe("raw HTML", () => {
  it("derives a text part", () => {
    const text = htmlToText(
      `<html><head><title>T</title><style>p{}</style></head><body>
      <span style="display:none">hidden preheader</span>
      <h1>Hello {{ first_name | default: "you" }}</h1><p>Deals &amp; offers&nbsp;today.<br>Line two</p>
      <p><a href="https://shop.example/?a=1&amp;b=2">Shop</a> or <a href="https://x.example">https://x.example</a></p>
      <ul><li>One</li><li>Two</li></ul><img src="https://x/a.png" alt="Logo"><!-- note --></body></html>`,
    );
    expect(text).toBe(
      'Hello {{ first_name | default: "you" }}\n\nDeals & offers today.\nLine two\n\nShop (https://shop.example/?a=1&b=2) or https://x.example\n\n- One\n- Two\n\nLogo',
    );
  });

  it("refuses script, event handlers and javascript: links", () => {
    expect(unsafeHtml("<p>fine <a href='https://x.example'>x</a></p>")).toBeNull();
    expect(
      unsafeHtml('<html><head><meta charset="utf-8"></head><body>ok</body></html>'),
    ).toBeNull();
    expect(unsafeHtml("<p>x</p><SCRIPT>alert(1)</SCRIPT>")).toMatch(/<script>/);
    expect(unsafeHtml('<img src="x" onerror="alert(1)">')).toMatch(/event handlers/);
    expect(unsafeHtml('<a href=" javascript:alert(1)">x</a>')).toMatch(/javascript:/);
    expect(unsafeHtml("<iframe src='https://x'></iframe>")).toMatch(/<iframe>/);
  });
});
