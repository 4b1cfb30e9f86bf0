import { createHmac, timingSafeEqual } from "node:crypto";
import { getEnv } from "~/lib/env.server";
import { getSecrets } from "~/lib/local-secrets.server";

/**
 * Per-message addresses on INBOUND_EMAIL_DOMAIN: `reply+<token>@` (the Reply-To of every email
 * we send) and `unsubscribe+<token>@` (the List-Unsubscribe mailto). The token names the
 * workspace and our message id and carries an HMAC under the server secret, bound to its use,
 * so inbound mail is routed to a workspace only by what we signed. Tokens are lower-case
 * letters, digits and dashes, short enough for a 64-character local part, and survive mail
 * systems that change the case of addresses.
 */

export type AddressPurpose = "reply" | "unsubscribe";

export interface AddressTarget {
  workspaceId: string;
  messageId: string;
}

const PURPOSE_KEY: Record<AddressPurpose, string> = {
  reply: "engage:reply-address:v1:",
  unsubscribe: "engage:unsubscribe-address:v1:",
};

const ID_PART = /^[0-9a-z]{1,24}$/;
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
/** 80 bits: guessing one for a given message is out of reach, and the address stays short. */
const MAC_CHARS = 16;

function mac(purpose: AddressPurpose, payload: string): string {
  const digest = createHmac("sha256", getSecrets().sessionSecret)
    .update(`${PURPOSE_KEY[purpose]}${payload}`)
    .digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < MAC_CHARS) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= MAC_CHARS) break;
  }
  return out;
}

/** The token for one message, or null for ids it cannot carry (not ws_/msg_ ids). */
export function addressToken(purpose: AddressPurpose, target: AddressTarget): string | null {
  const ws = /^ws_(.+)$/.exec(target.workspaceId)?.[1];
  const msg = /^msg_(.+)$/.exec(target.messageId)?.[1];
  if (!ws || !msg || !ID_PART.test(ws) || !ID_PART.test(msg)) return null;
  const payload = `${ws}-${msg}`;
  return `${payload}-${mac(purpose, payload)}`;
}

/** The workspace and message a token names, or null when it is malformed or not ours. */
export function readAddressToken(purpose: AddressPurpose, token: string): AddressTarget | null {
  const match = /^([0-9a-z]{1,24})-([0-9a-z]{1,24})-([a-z2-7]{16})$/.exec(token.toLowerCase());
  if (!match) return null;
  const [, ws, msg, given] = match as unknown as [string, string, string, string];
  const expected = mac(purpose, `${ws}-${msg}`);
  if (!timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return null;
  return { workspaceId: `ws_${ws}`, messageId: `msg_${msg}` };
}

/** INBOUND_EMAIL_DOMAIN, or null when inbound email is not configured. */
export function inboundEmailDomain(): string | null {
  return getEnv().INBOUND_EMAIL_DOMAIN ?? null;
}

/** `reply+<token>@<domain>` / `unsubscribe+<token>@<domain>`, or null when not configured. */
export function messageAddress(purpose: AddressPurpose, target: AddressTarget): string | null {
  const domain = inboundEmailDomain();
  if (!domain) return null;
  const token = addressToken(purpose, target);
  return token ? `${purpose}+${token}@${domain}` : null;
}

/**
 * Which of our addresses a recipient is: the purpose and the verified target, or a reason it
 * is not one (another domain, no token, a token that does not verify).
 */
export function readMessageAddress(
  address: string,
): { ok: true; purpose: AddressPurpose; target: AddressTarget } | { ok: false; reason: string } {
  const domain = inboundEmailDomain();
  const match = /^(reply|unsubscribe)\+([^@]+)@(.+)$/i.exec(address.trim());
  if (!match) return { ok: false, reason: "not a reply or unsubscribe address" };
  const [, local, token, host] = match as unknown as [string, string, string, string];
  if (domain && host.toLowerCase() !== domain) {
    return { ok: false, reason: `not on ${domain}` };
  }
  const purpose = local.toLowerCase() as AddressPurpose;
  const target = readAddressToken(purpose, token);
  return target
    ? { ok: true, purpose, target }
    : { ok: false, reason: "the token does not verify" };
}
