import { isbot } from "isbot";
import type { NotCountedReason } from "./not-counted";

export type { NotCountedReason };

/**
 * Decides whether a hit on an open pixel or a tracked link was a person or a machine, from the
 * request alone plus how long after sending it came. A machine's hit still gets its image or
 * its redirect (a link must never break); it just is not counted as an open or a click, and
 * the reason is kept on the contact's timeline so a count can be audited.
 *
 * Our own app is recognised by the Referer/Origin being BASE_URL's origin or by
 * `Sec-Fetch-Site: same-origin`, not by a session cookie: a member of the workspace may also be
 * a genuine recipient of its emails, and opening one in their mail client is a real open.
 */

export interface EngagementRequest {
  method: string;
  userAgent: string | null;
  referer: string | null;
  origin: string | null;
  secFetchSite: string | null;
  /** `Purpose`, `Sec-Purpose`, `X-Purpose` or `X-Moz`, whichever the client sent. */
  purpose: string | null;
}

/** A person cannot receive, open and click an email faster than this; scanners do. */
export const SCANNER_CLICK_WINDOW_MS = 2_000;

/** Mail-security gateways that fetch every link of a message before the person sees it. */
const SCANNER =
  /safelinks|microsoft office protocol discovery|barracuda|mimecast|proofpoint|urldefense|messagelabs|symantec|ironport|cisco|forcepoint|zscaler|trend ?micro|sophos|fortiguard|checkpoint|appriver|paloalto|bitdefender|kaspersky|google-safety|virustotal/i;

/**
 * Image proxies that fetch the pixel only when the person opens the email (Gmail, Yahoo): those
 * are real opens, whatever a bot list says about their user agent.
 */
const OPENING_PROXY = /GoogleImageProxy|YahooMailProxy/i;

function originOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function whyNotCounted(
  kind: "open" | "click",
  request: EngagementRequest,
  appOrigin: string,
): NotCountedReason | null {
  if (request.method.toUpperCase() === "HEAD") return "head-request";
  if (request.purpose && /prefetch|preview/i.test(request.purpose)) return "prefetch";
  if (
    request.secFetchSite === "same-origin" ||
    originOf(request.referer) === appOrigin ||
    originOf(request.origin) === appOrigin
  ) {
    return "our-app";
  }
  const ua = (request.userAgent ?? "").trim();
  if (ua === "") return "no-user-agent";
  if (kind === "open" && OPENING_PROXY.test(ua)) return null;
  // Apple's proxy announces itself only as a bare "Mozilla/5.0"; no real browser does.
  if (ua === "Mozilla/5.0") return kind === "open" ? "privacy-proxy" : "link-scanner";
  if (SCANNER.test(ua)) return "link-scanner";
  if (isbot(ua)) return "bot";
  return null;
}

/** Clicks that arrive within seconds of sending come from scanners, whatever they claim to be. */
export function tooSoonAfterSending(sentAt: Date | null, now: Date): boolean {
  return sentAt !== null && now.getTime() - sentAt.getTime() < SCANNER_CLICK_WINDOW_MS;
}

/** The headers the classifier reads, from a Fetch API request (the routes' side). */
export function engagementRequestFrom(method: string, headers: Headers): EngagementRequest {
  return {
    method,
    userAgent: headers.get("user-agent"),
    referer: headers.get("referer"),
    origin: headers.get("origin"),
    secFetchSite: headers.get("sec-fetch-site"),
    purpose:
      headers.get("sec-purpose") ??
      headers.get("purpose") ??
      headers.get("x-purpose") ??
      headers.get("x-moz"),
  };
}
