import ipaddr from "ipaddr.js";
import { ValidationError } from "./errors";

/**
 * IP addresses and CIDR ranges for the per-workspace allowlists.
 *
 * Decisions, so that stored ranges and client addresses always compare like with like:
 * - IPv4 must be written as four plain decimals ("10.0.0.1"). The legacy forms ipaddr.js also
 *   accepts ("10.1", "0x0a.0.0.1", "010.0.0.1", which it reads as octal) are refused: a typo
 *   would otherwise silently allow a different network.
 * - IPv4-mapped IPv6 ("::ffff:1.2.3.4") is the same host as "1.2.3.4": addresses and ranges
 *   inside ::ffff:0:0/96 are turned into IPv4 (a /120 becomes a /24). A dual-stack socket
 *   reports IPv4 clients this way, so both sides of a comparison go through the same step.
 *   ipaddr.js also reads the deprecated IPv4-compatible form "::1.2.3.4" as mapped; we follow it.
 * - A bare address is a single host: /32 or /128.
 * - A range with host bits set ("10.0.0.5/24") is REFUSED, not rounded down: the person
 *   probably meant either the one host or the network, and guessing wrong opens (or closes)
 *   a whole subnet. The message names the network address so the fix is one copy-paste.
 * - Zone ids ("fe80::1%eth0") only mean something on one machine: a client address has its
 *   zone stripped; a range with a zone is refused.
 * - Output is canonical (lower-case, RFC 5952 compressed IPv6), so equal ranges are equal
 *   strings and the database's unique index catches duplicates.
 * - IPv4 clients never match IPv6 ranges and vice versa ("::/0" is every IPv6 client only).
 */

export type IpVersion = 4 | 6;

export interface ParsedCidr {
  /** Canonical form, e.g. "203.0.113.0/24" or "2001:db8::/32". */
  cidr: string;
  version: IpVersion;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;

const MAX_INPUT = 100;
const EXAMPLES = "for example 203.0.113.7, 203.0.113.0/24 or 2001:db8::/32";

/** Echo user input back in a message without letting it run on. */
function quote(input: string): string {
  return JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input);
}

function cidrError(message: string): ValidationError {
  return new ValidationError(message, { cidr: [message] });
}

/** Parses one address strictly; returns null for anything that is not one. Zone kept. */
function parseAddress(text: string): Address | null {
  if (text.length === 0 || text.length > MAX_INPUT) return null;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes(":") || !ipaddr.IPv6.isValid(text)) return null;
  // An embedded IPv4 tail must be plain decimal too ("::ffff:010.0.0.1" is ambiguous).
  const withoutZone = text.split("%")[0]!;
  const tail = withoutZone.slice(withoutZone.lastIndexOf(":") + 1);
  if (tail.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
  return ipaddr.IPv6.parse(text);
}

function unmap(address: Address): Address {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function render(address: Address): string {
  if (address.kind() === "ipv4") return address.toString();
  const v6 = address as ipaddr.IPv6;
  return new ipaddr.IPv6(v6.parts).toRFC5952String();
}

/** The address with its top `prefix` bits kept and the rest zeroed. */
function networkOf(address: Address, prefix: number): Address {
  const bytes = address.toByteArray();
  const masked = bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return ipaddr.fromByteArray(masked);
}

function sameBytes(a: Address, b: Address): boolean {
  const x = a.toByteArray();
  const y = b.toByteArray();
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}

/**
 * Canonical form of a client address: IPv4-mapped IPv6 becomes IPv4, zone ids are dropped,
 * IPv6 is lower-case and compressed. Throws ValidationError for anything that is not an
 * IP address.
 */
export function normaliseIp(ip: string): string {
  const address = parseAddress(String(ip).trim());
  if (!address) {
    const message = `${quote(String(ip))} is not a valid IP address.`;
    throw new ValidationError(message, { ip: [message] });
  }
  return render(unmap(address));
}

/**
 * Validates and normalises an allowlist entry: "1.2.3.4" -> "1.2.3.4/32",
 * "2001:DB8::/32" -> "2001:db8::/32", "::ffff:10.0.0.0/104" -> "10.0.0.0/8".
 * Throws ValidationError with a message fit to show next to the form field.
 */
export function parseCidr(input: string): ParsedCidr {
  const text = String(input).trim();
  if (text.length === 0) throw cidrError(`Enter an IP address or CIDR range (${EXAMPLES}).`);
  const notValid = `${quote(text)} is not a valid IP address or CIDR range (${EXAMPLES}).`;
  if (text.length > MAX_INPUT) throw cidrError(notValid);

  const slash = text.indexOf("/");
  const addressPart = slash === -1 ? text : text.slice(0, slash);
  const prefixPart = slash === -1 ? undefined : text.slice(slash + 1);

  if (addressPart.includes(":") && addressPart.includes("%")) {
    throw cidrError(
      `${quote(text)} has a zone id (the part after "%"), which only means something on one ` +
        `machine; remove it.`,
    );
  }
  const parsed = parseAddress(addressPart);
  if (!parsed) throw cidrError(notValid);

  const bits = parsed.kind() === "ipv4" ? 32 : 128;
  let prefix = bits;
  if (prefixPart !== undefined) {
    if (!/^\d{1,3}$/.test(prefixPart) || Number(prefixPart) > bits) {
      throw cidrError(
        `${quote(text)} has an invalid prefix length: use a whole number from 0 to ${bits} ` +
          `after the "/".`,
      );
    }
    prefix = Number(prefixPart);
  }

  const network = networkOf(parsed, prefix);
  if (!sameBytes(network, parsed)) {
    const mapped = network.kind() === "ipv6" && (network as ipaddr.IPv6).isIPv4MappedAddress();
    const suggestion = `${render(unmap(network))}/${mapped ? prefix - 96 : prefix}`;
    throw cidrError(
      `${quote(text)} has bits set after the /${prefix} prefix. Use ${render(unmap(parsed))} ` +
        `for the single address, or ${suggestion} for the whole range.`,
    );
  }

  // Host bits are clear, so a mapped range has prefix >= 96 (the ffff lies inside it).
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    return { cidr: `${render(unmap(parsed))}/${prefix - 96}`, version: 4 };
  }
  return { cidr: `${render(parsed)}/${prefix}`, version: parsed.kind() === "ipv4" ? 4 : 6 };
}

function splitCidr(cidr: ParsedCidr): [Address, number] {
  const [address, prefix] = cidr.cidr.split("/") as [string, string];
  return [ipaddr.parse(address), Number(prefix)];
}

function matches(address: Address, cidr: ParsedCidr): boolean {
  const [network, prefix] = splitCidr(cidr);
  return address.kind() === network.kind() && address.match(network, prefix);
}

/** The client address normalised, or null when it is not an IP address at all. */
function clientAddress(ip: string): Address | null {
  const parsed = parseAddress(String(ip ?? "").trim());
  return parsed ? unmap(parsed) : null;
}

/**
 * Whether `ip` lies inside `cidr`. An `ip` that is not an address is inside nothing (false);
 * an invalid `cidr` is a caller bug and throws ValidationError.
 */
export function ipInCidr(ip: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  const address = clientAddress(ip);
  return address !== null && matches(address, range);
}

/**
 * The allowlist decision. An empty list allows everyone. Otherwise the client must fall inside
 * at least one entry; an unparseable client address is refused, and an entry that does not
 * parse (stored data should never hold one) matches nobody, so a bad row can neither open the
 * list nor turn every request into an error.
 */
export function ipAllowed(ip: string, cidrs: readonly string[]): boolean {
  if (cidrs.length === 0) return true;
  const address = clientAddress(ip);
  if (!address) return false;
  return cidrs.some((cidr) => {
    let range: ParsedCidr;
    try {
      range = parseCidr(cidr);
    } catch {
      return false;
    }
    return matches(address, range);
  });
}
