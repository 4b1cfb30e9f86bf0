import { createHmac } from "node:crypto";

/**
 * The keyed hash of a normalised email (lower-case) or E.164 phone: the only trace an erased
 * person leaves. Callers pass values already normalised by the same code as contacts.
 */
export function suppressionHash(key: Buffer, kind: "email" | "phone", normalised: string): string {
  return createHmac("sha256", key).update(`${kind}:${normalised}`).digest("base64url");
}
