import dns from "node:dns";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { getEnv } from "./env.server";

/**
 * The one guard for every host or URL a tenant supplies that this server then connects to
 * (SMTP servers now; outbound webhooks and media URLs later). See ADR 0015.
 *
 * - The name is resolved (every address, as the system resolver returns them) and refused when
 *   ANY address is not plain public unicast: loopback, RFC 1918, link-local (cloud metadata at
 *   169.254.169.254), CGNAT, multicast, broadcast, unspecified, reserved, IPv6 ULA / link-local
 *   / multicast, and IPv6 forms that carry a refused IPv4 inside (mapped, compatible, NAT64,
 *   6to4, Teredo). "Any" and not "the first": a name with one public and one private address
 *   would otherwise reach the private one on a retry.
 * - The checked address is returned so the caller connects to exactly it ("pinning"): a second
 *   lookup at connect time could answer differently (DNS rebinding). TLS keeps the name for SNI
 *   and the certificate check.
 * - Operators of self-hosted installs may name private hosts that are allowed anyway
 *   (OUTBOUND_ALLOWED_PRIVATE_HOSTS): an entry that is a name allows that name whatever it
 *   resolves to, an entry that is an address allows that address. Allowed hosts may also use
 *   any port.
 * - Errors are our own words about the address; nothing a remote server said.
 */

export type OutboundLookup = (
  hostname: string,
) => Promise<readonly { address: string; family: number }[]>;

export interface OutboundOptions {
  /** Name resolution; the system resolver by default. Tests pass their own. */
  lookup?: OutboundLookup;
  /** Hosts allowed to be private; default OUTBOUND_ALLOWED_PRIVATE_HOSTS. */
  allowedPrivateHosts?: readonly string[];
}

export interface OutboundTarget {
  /** The host as it should be named to TLS (lower-case, no brackets or trailing dot). */
  host: string;
  /** The checked address to connect to. */
  address: string;
  family: 4 | 6;
  /** True when the host is a literal IP address (no name for TLS to check). */
  isLiteral: boolean;
}

export type OutboundRefusal = "invalid" | "unresolvable" | "private" | "port";

/** The message is a lower-case clause ("… is a private address"), for "Could not …: <it>". */
export class OutboundAddressError extends Error {
  constructor(
    message: string,
    readonly host: string,
    readonly refusal: OutboundRefusal,
  ) {
    super(message);
    this.name = "OutboundAddressError";
  }
}

/** Looks names up through `dns.lookup` at call time (so a test preload can stand in for DNS). */
export const systemLookup: OutboundLookup = (hostname) =>
  dns.promises.lookup(hostname, { all: true, verbatim: true });

/** "[2001:db8::1]" → "2001:db8::1"; "Mail.Example.COM." → "mail.example.com". */
export function normaliseHost(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const unbracketed =
    trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  return unbracketed.endsWith(".") ? unbracketed.slice(0, -1) : unbracketed;
}

function canonicalIp(text: string): string | null {
  if (!ipaddr.isValid(text)) return null;
  return ipaddr.process(text).toString();
}

/** Why an address may not be contacted, or null when it is public unicast. */
export function refusedRange(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return "not an address";
  // process() turns IPv4-mapped IPv6 (::ffff:a.b.c.d) into the IPv4 it names.
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") {
    const range = address.range();
    return range === "unicast" ? null : range;
  }
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  const bytes = v6.toByteArray();
  const embedded = (offset: number, xor = 0) =>
    refusedRange(
      bytes
        .slice(offset, offset + 4)
        .map((b) => b ^ xor)
        .join("."),
    );
  // ::a.b.c.d (deprecated IPv4-compatible) and ::ffff:0:a.b.c.d (RFC 6145) reach IPv4 hosts.
  if (bytes.slice(0, 10).every((b) => b === 0)) {
    if (range === "unspecified" || range === "loopback") return range;
    return `IPv4 inside IPv6 (${embedded(12) ?? "translated"})`;
  }
  if (range === "unicast") return null;
  if (range === "rfc6052") {
    // The well-known 64:ff9b::/96 carries the IPv4 in its last 32 bits; the local-use
    // 64:ff9b:1::/48 is a private network's own translator.
    if (!v6.match(ipaddr.IPv6.parse("64:ff9b::"), 96)) return "local-use NAT64";
    const inner = embedded(12);
    return inner ? `NAT64 of ${inner}` : null;
  }
  if (range === "6to4") {
    const inner = embedded(2);
    return inner ? `6to4 of ${inner}` : null;
  }
  if (range === "teredo") return "teredo";
  return range;
}

/** The port list a protocol allows; allowed private hosts may use any port. */
export interface PortRule {
  port: number;
  allowed: readonly number[];
}

function allowList(options: OutboundOptions): { names: Set<string>; ips: Set<string> } {
  const entries = options.allowedPrivateHosts ?? getEnv().OUTBOUND_ALLOWED_PRIVATE_HOSTS;
  const names = new Set<string>();
  const ips = new Set<string>();
  for (const entry of entries) {
    const host = normaliseHost(entry);
    const ip = canonicalIp(host);
    if (ip) ips.add(ip);
    else if (host) names.add(host);
  }
  return { names, ips };
}

/**
 * Resolves a tenant-supplied host and checks every address it resolves to. Returns the
 * address to connect to; throws OutboundAddressError (our words, fit to show) otherwise.
 */
export async function resolveOutboundHost(
  rawHost: string,
  options: OutboundOptions & { port?: PortRule } = {},
): Promise<OutboundTarget> {
  const host = normaliseHost(rawHost);
  if (!host || host.length > 253 || !/^[a-z0-9.:-]+$/.test(host)) {
    throw new OutboundAddressError(
      `${JSON.stringify(rawHost)} is not a host name`,
      host,
      "invalid",
    );
  }
  const allowed = allowList(options);
  const literal = canonicalIp(host);
  let found: readonly { address: string; family: number }[];
  if (literal) {
    found = [{ address: literal, family: literal.includes(":") ? 6 : 4 }];
  } else {
    try {
      found = await (options.lookup ?? systemLookup)(host);
    } catch {
      found = [];
    }
    if (found.length === 0) {
      throw new OutboundAddressError(
        `could not find the address of ${host} (check the host name)`,
        host,
        "unresolvable",
      );
    }
  }
  const byName = allowed.names.has(host);
  for (const entry of found) {
    const ip = canonicalIp(entry.address);
    if (byName || (ip !== null && allowed.ips.has(ip))) continue;
    const refused = ip === null ? "not an address" : refusedRange(ip);
    if (refused !== null) {
      throw new OutboundAddressError(
        `${host} ${literal ? "is" : "resolves to"} a private or reserved address (${refused}); only public servers can be used`,
        host,
        "private",
      );
    }
  }
  const first = found[0]!;
  const address = canonicalIp(first.address) ?? first.address;
  const privateAllowed =
    byName || found.every((f) => allowed.ips.has(canonicalIp(f.address) ?? ""));
  if (options.port && !privateAllowed && !options.port.allowed.includes(options.port.port)) {
    throw new OutboundAddressError(
      `port ${options.port.port} is not allowed (use ${options.port.allowed.join(", ")})`,
      host,
      "port",
    );
  }
  return {
    host,
    address,
    family: address.includes(":") ? 6 : 4,
    isLiteral: literal !== null,
  };
}

/**
 * The same check for a URL (outbound webhooks, media): http(s) only, no user info, then the
 * host as above. Connect with `pinnedLookup(target)` so the checked address is the one used.
 */
export async function resolveOutboundUrl(
  raw: string,
  options: OutboundOptions & { protocols?: readonly string[]; ports?: readonly number[] } = {},
): Promise<OutboundTarget & { url: URL }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundAddressError("that is not a URL", "", "invalid");
  }
  const protocols = options.protocols ?? ["https:"];
  if (!protocols.includes(url.protocol)) {
    throw new OutboundAddressError(
      `the URL must start with ${protocols.map((p) => `${p}//`).join(" or ")}`,
      url.hostname,
      "invalid",
    );
  }
  if (url.username || url.password) {
    throw new OutboundAddressError(
      "the URL may not contain a user name or password",
      url.hostname,
      "invalid",
    );
  }
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const target = await resolveOutboundHost(url.hostname, {
    ...options,
    port: { port, allowed: options.ports ?? [443, 80] },
  });
  return { ...target, url };
}

/**
 * A `lookup` for net/tls/http(s) connect options that answers every name with the checked
 * address, so the connection cannot go anywhere else while the name stays for TLS.
 */
export function pinnedLookup(target: Pick<OutboundTarget, "address" | "family">): LookupFunction {
  return ((_hostname: string, options: { all?: boolean } | undefined, callback: unknown) => {
    const done = (typeof options === "function" ? options : callback) as (
      error: NodeJS.ErrnoException | null,
      address: string | { address: string; family: number }[],
      family?: number,
    ) => void;
    if (typeof options === "object" && options?.all) {
      done(null, [{ address: target.address, family: target.family }]);
    } else {
      done(null, target.address, target.family);
    }
  }) as LookupFunction;
}
