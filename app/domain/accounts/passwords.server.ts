import bcrypt from "bcrypt";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_ROOT } from "~/lib/app-root.server";

/** bcrypt with cost ≥ 12, in tests too (the policy promises bcrypt; tests pay its real cost). */
export const BCRYPT_COST = 12;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * bcrypt reads only the first 72 bytes, so long passphrases are first reduced to a SHA-256
 * digest (base64, 44 bytes, no NUL); every character then counts.
 */
function prehash(password: string): string {
  return createHash("sha256").update(password.normalize("NFKC")).digest("base64");
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(prehash(password), BCRYPT_COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(prehash(password), hash);
}

let dummyHash: string | undefined;

/** Same work as a real check, for accounts that don't exist (no timing oracle). */
export async function verifyAgainstNothing(password: string): Promise<false> {
  dummyHash ??= await hashPassword("not a real password, only for timing");
  await bcrypt.compare(prehash(password), dummyHash);
  return false;
}

export function bcryptCostOf(hash: string): number {
  return Number(hash.split("$")[2]);
}

let common: Set<string> | undefined;

function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(join(APP_ROOT, "content", "common-passwords.txt"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#")),
  );
  return common;
}

/**
 * Length ≥ 12 (a passphrase of several words easily qualifies), not on the common list, not
 * one repeated character and not the person's own email or name. Returns the problem, or null.
 */
export function passwordProblem(
  password: string,
  about: { email?: string; name?: string } = {},
): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return `Use at least ${PASSWORD_MIN_LENGTH} characters. A few unrelated words make a good passphrase.`;
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  }
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower) || new Set(lower).size <= 2) {
    return "This password is too common. Choose something less predictable.";
  }
  const local = about.email?.split("@")[0]?.toLowerCase();
  if (
    (local && local.length >= 4 && lower.includes(local)) ||
    lower === about.email?.toLowerCase()
  ) {
    return "Your password must not contain your email address.";
  }
  const name = about.name?.trim().toLowerCase();
  if (name && name.length >= 4 && lower.replace(/\s+/g, "") === name.replace(/\s+/g, "")) {
    return "Your password must not be your name.";
  }
  return null;
}
