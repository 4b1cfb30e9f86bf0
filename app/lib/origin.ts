import type { RequestHandler } from "express";

/**
 * The Origin check every mutation goes through, on top of SameSite=Lax cookies.
 *
 * Safe methods (GET, HEAD, OPTIONS) change nothing and always pass. For anything else:
 * - `Sec-Fetch-Site: cross-site` is refused outright.
 * - An `Origin` header must be exactly our own origin: BASE_URL's, or the request's own
 *   scheme + Host. `Origin: null` (sandboxed frames, opaque redirects, file: pages) is refused.
 * - `Sec-Fetch-Site: same-site` means a sibling subdomain, which is not us: refused unless the
 *   Origin header says exactly our origin.
 * - With neither header the client is not a browser (curl, provider webhooks, RFC 8058
 *   one-click unsubscribe posts from mail providers) and cannot be carrying a victim's
 *   cookies cross-site: it passes. Every browser that ships today sends Origin on a POST.
 * - A Sec-Fetch-Site value we do not know (or several values at once) is refused unless the
 *   Origin header confirms us.
 */

export interface OriginCheckInput {
  method: string;
  /** The Origin header as received; undefined (or null) when absent. */
  origin?: string | null;
  /** The Sec-Fetch-Site header as received; undefined (or null) when absent. */
  secFetchSite?: string | null;
  /** The request's Host header (host[:port]). */
  host?: string | null;
  /** The app's configured public URL (BASE_URL). */
  baseUrl: string;
  /**
   * The scheme the request arrived on ("http" / "https", as Express's req.protocol reports
   * it). Defaults to BASE_URL's scheme.
   */
  protocol?: string;
}

export type OriginCheckResult = { ok: true } | { ok: false; reason: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const KNOWN_SITES = new Set(["same-origin", "same-site", "cross-site", "none"]);
const HOST_HEADER = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * Paths whose callers authenticate by signature, API key or a signed link token, never by
 * cookie (/unsubscribe and /u/ take RFC 8058 one-click posts from mail providers).
 */
export const ORIGIN_CHECK_EXEMPT_PREFIXES = ["/webhooks/", "/api/", "/unsubscribe", "/u/"] as const;

function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** The origins that count as "us" for this request. */
function ownOrigins(input: OriginCheckInput): Set<string> {
  const origins = new Set<string>();
  const base = originOf(input.baseUrl);
  if (base) origins.add(base);
  const host = input.host?.trim();
  if (host && HOST_HEADER.test(host)) {
    const scheme = (input.protocol ?? (base ? new URL(base).protocol : "http:")).replace(/:$/, "");
    if (scheme === "http" || scheme === "https") {
      const own = originOf(`${scheme}://${host}`);
      if (own) origins.add(own);
    }
  }
  return origins;
}

/** Shortens header values before they go into a log line. */
function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}

export function checkSameOrigin(input: OriginCheckInput): OriginCheckResult {
  if (SAFE_METHODS.has(input.method.toUpperCase())) return { ok: true };

  const site = input.secFetchSite?.trim().toLowerCase() || undefined;
  const origin = input.origin ?? undefined;

  if (site === "cross-site") return { ok: false, reason: "Sec-Fetch-Site is cross-site" };

  if (origin !== undefined) {
    if (origin.trim().toLowerCase() === "null") return { ok: false, reason: "Origin is null" };
    if (!ownOrigins(input).has(origin.trim().toLowerCase())) {
      return { ok: false, reason: `Origin ${JSON.stringify(shown(origin))} is not this site` };
    }
    // The Origin names us exactly: that settles same-site and unknown Sec-Fetch-Site values.
    return { ok: true };
  }

  if (site === "same-site") {
    return { ok: false, reason: "Sec-Fetch-Site is same-site and no Origin names this site" };
  }
  if (site !== undefined && !KNOWN_SITES.has(site)) {
    return {
      ok: false,
      reason: `Sec-Fetch-Site ${JSON.stringify(shown(site))} is not recognised and no Origin names this site`,
    };
  }
  // same-origin, none (user-initiated), or no browser headers at all.
  return { ok: true };
}

/**
 * Whether a request target is exempt from the check. Resolved the way the Remix adapter
 * resolves it (dot segments removed), so "/api/../w/x" is judged as "/w/x", the route that
 * would actually handle it. Case and percent-encoding variants are not exempt: they are only
 * ever checked more strictly, never less.
 */
export function isOriginCheckExempt(requestTarget: string): boolean {
  let path: string;
  try {
    path = new URL(`http://host${requestTarget}`).pathname;
  } catch {
    return false;
  }
  return ORIGIN_CHECK_EXEMPT_PREFIXES.some((prefix) => path.startsWith(prefix));
}

export interface OriginGuardOptions {
  baseUrl: string;
  logger: { warn(fields: Record<string, unknown>, message: string): void };
}

const REFUSED_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Cross-site request refused</title></head>
<body>
<h1>Cross-site request refused</h1>
<p>This request came from another site, so it was not carried out. Open Pleisys Engage directly and try again.</p>
</body>
</html>
`;

/**
 * Express middleware: refuses cross-site mutations with a short 403 page and one log line
 * (method, path, reason, the two headers; never the body or query string).
 */
export function sameOriginGuard(options: OriginGuardOptions): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || isOriginCheckExempt(req.originalUrl)) return next();
    const origin = req.get("origin");
    const secFetchSite = req.get("sec-fetch-site");
    const result = checkSameOrigin({
      method: req.method,
      origin,
      secFetchSite,
      host: req.get("host"),
      protocol: req.protocol,
      baseUrl: options.baseUrl,
    });
    if (result.ok) return next();
    options.logger.warn(
      {
        reqId: res.locals.requestId as string | undefined,
        method: req.method,
        path: req.path,
        reason: result.reason,
        origin: origin === undefined ? undefined : shown(origin),
        secFetchSite: secFetchSite === undefined ? undefined : shown(secFetchSite),
      },
      "cross-site request refused",
    );
    res.status(403).set("Cache-Control", "no-store").type("html").send(REFUSED_PAGE);
  };
}
