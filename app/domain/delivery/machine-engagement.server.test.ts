import { describe, expect, it } from "vitest";
import { clickUrl, emailHtmlForDisplay, openPixelUrl } from "./email-compose.server";
import {
  engagementRequestFrom,
  tooSoonAfterSending,
  whyNotCounted,
  type EngagementRequest,
} from "./machine-engagement.server";

const APP = "https://engage.example";
const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

function person(extra: Partial<EngagementRequest> = {}): EngagementRequest {
  return {
    method: "GET",
    userAgent: CHROME,
    referer: null,
    origin: null,
    secFetchSite: "cross-site",
    purpose: null,
    ...extra,
  };
}

describe("whyNotCounted", () => {
  it("counts a person's browser and mail app, opens and clicks", () => {
    for (const kind of ["open", "click"] as const) {
      expect(whyNotCounted(kind, person(), APP)).toBeNull();
      expect(whyNotCounted(kind, person({ userAgent: IPHONE }), APP)).toBeNull();
      // A webmail page linking out sends its own origin, not ours.
      expect(
        whyNotCounted(kind, person({ referer: "https://mail.google.com/mail/u/0/" }), APP),
      ).toBeNull();
    }
  });

  it("counts Gmail's and Yahoo's image proxies as opens: they fetch when the person opens", () => {
    const gmail =
      "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
    expect(whyNotCounted("open", person({ userAgent: gmail }), APP)).toBeNull();
    expect(
      whyNotCounted("open", person({ userAgent: "YahooMailProxy; https://help.yahoo.com" }), APP),
    ).toBeNull();
  });

  it("does not count our own app (Referer, Origin or Sec-Fetch-Site)", () => {
    expect(whyNotCounted("open", person({ referer: `${APP}/w/cafe/messages/m1` }), APP)).toBe(
      "our-app",
    );
    expect(whyNotCounted("click", person({ origin: APP }), APP)).toBe("our-app");
    expect(whyNotCounted("click", person({ secFetchSite: "same-origin" }), APP)).toBe("our-app");
    // Another site on a longer host is not us.
    expect(
      whyNotCounted("click", person({ referer: "https://engage.example.evil.test/" }), APP),
    ).toBeNull();
  });

  it("does not count HEAD requests and prefetches", () => {
    expect(whyNotCounted("click", person({ method: "HEAD" }), APP)).toBe("head-request");
    for (const purpose of ["prefetch", "prefetch;prerender", "preview"]) {
      expect(whyNotCounted("click", person({ purpose }), APP)).toBe("prefetch");
    }
  });

  it("does not count scanners, bots, scripts or a missing user agent", () => {
    const scanners = [
      "Mozilla/5.0 (compatible; Microsoft Office Protocol Discovery)",
      "Barracuda Sentinel (EE)",
      "Mimecast/1.0 (link check)",
      "Proofpoint URL Defense",
    ];
    for (const ua of scanners) {
      expect(whyNotCounted("click", person({ userAgent: ua }), APP), ua).toBe("link-scanner");
    }
    for (const ua of [
      "curl/8.5.0",
      "python-requests/2.31.0",
      "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    ]) {
      expect(whyNotCounted("click", person({ userAgent: ua }), APP), ua).toBe("bot");
    }
    expect(whyNotCounted("open", person({ userAgent: null }), APP)).toBe("no-user-agent");
    expect(whyNotCounted("click", person({ userAgent: "  " }), APP)).toBe("no-user-agent");
  });

  it("treats Apple Mail Privacy Protection's bare user agent as a machine open", () => {
    expect(whyNotCounted("open", person({ userAgent: "Mozilla/5.0" }), APP)).toBe("privacy-proxy");
    expect(whyNotCounted("click", person({ userAgent: "Mozilla/5.0" }), APP)).toBe("link-scanner");
  });
});

describe("tooSoonAfterSending", () => {
  it("is true within 2 s of sending and before it, false later or when not sent", () => {
    const sent = new Date("2026-01-01T10:00:00Z");
    expect(tooSoonAfterSending(sent, new Date(sent.getTime() + 500))).toBe(true);
    expect(tooSoonAfterSending(sent, new Date(sent.getTime() + 1_999))).toBe(true);
    expect(tooSoonAfterSending(sent, new Date(sent.getTime() - 1_000))).toBe(true);
    expect(tooSoonAfterSending(sent, new Date(sent.getTime() + 2_000))).toBe(false);
    expect(tooSoonAfterSending(null, sent)).toBe(false);
  });
});

describe("engagementRequestFrom", () => {
  it("reads the headers, whichever prefetch header the client used", () => {
    const headers = new Headers({
      "User-Agent": CHROME,
      Referer: `${APP}/x`,
      "Sec-Fetch-Site": "same-origin",
      "X-Moz": "prefetch",
    });
    expect(engagementRequestFrom("GET", headers)).toEqual({
      method: "GET",
      userAgent: CHROME,
      referer: `${APP}/x`,
      origin: null,
      secFetchSite: "same-origin",
      purpose: "prefetch",
    });
    expect(engagementRequestFrom("GET", new Headers({ "Sec-Purpose": "prefetch" })).purpose).toBe(
      "prefetch",
    );
  });
});

describe("emailHtmlForDisplay", () => {
  it("drops the open pixel and gives tracked links back their own URL", () => {
    const sale = "https://shop.example/sale?x=1&y=2";
    const tracked = clickUrl("ws_1", "msg_1", sale).replace(/&/g, "&amp;");
    const html =
      `<p><a href="${tracked}">Sale</a> <a href='${clickUrl("ws_1", "msg_1", "https://shop.example/")}'>Shop</a></p>` +
      `<a href="https://example.com/u/abc">Unsubscribe</a>` +
      `<img src="${openPixelUrl("ws_1", "msg_1")}" width="1" height="1" alt="" style="display:block;border:0"></body>`;
    const shown = emailHtmlForDisplay(html);
    expect(shown).not.toMatch(/\/t\/[oc]\//);
    expect(shown).not.toContain("<img");
    expect(shown).toContain('<a href="https://shop.example/sale?x=1&amp;y=2">Sale</a>');
    expect(shown).toContain("<a href='https://shop.example/'>Shop</a>");
    expect(shown).toContain('<a href="https://example.com/u/abc">Unsubscribe</a>');
  });

  it("a tracked link it cannot read (another secret, altered) loses its href", () => {
    const shown = emailHtmlForDisplay(
      '<a href="https://old.example/t/c/bm9wZQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">Old</a>',
    );
    expect(shown).toBe('<a data-untracked-link="">Old</a>');
  });

  it("leaves an email without tracking as it is", () => {
    const html =
      '<p><img src="https://cdn.example/logo.png" alt="Logo"> <a href="https://a.example/">A</a></p>';
    expect(emailHtmlForDisplay(html)).toBe(html);
  });
});
