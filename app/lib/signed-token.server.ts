import { createHmac, timingSafeEqual } from "node:crypto";
import { getSecrets } from "./local-secrets.server";

/**
 * Links that act without a sign-in (unsubscribe, open pixel, click redirect) carry their
 * payload and an HMAC-SHA256 of it under the server's session secret, bound to a purpose so a
 * token made for one use is refused by every other: `base64url(payload).base64url(mac)`.
 */

const MAX_TOKEN_LENGTH = 4096;

function mac(purpose: string, payload: string): string {
  return createHmac("sha256", getSecrets().sessionSecret)
    .update(`${purpose}${payload}`)
    .digest("base64url");
}

export function signToken(purpose: string, payload: string): string {
  const encoded = Buffer.from(payload, "utf8").toString("base64url");
  return `${encoded}.${mac(purpose, encoded)}`;
}

/** The payload, or null when the token is malformed or not ours. */
export function readSignedToken(purpose: string, token: string): string | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, encoded, signature] = match as unknown as [string, string, string];
  // Compared as canonical text, so no second spelling of the same signature is accepted.
  const given = Buffer.from(signature, "ascii");
  const expected = Buffer.from(mac(purpose, encoded), "ascii");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return Buffer.from(encoded, "base64url").toString("utf8");
}
