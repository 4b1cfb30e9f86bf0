import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** `<prefix>_` + 16 unbiased base-36 characters (~82 bits), e.g. usr_k3j9... */
export function newId(prefix: string, length = 16): string {
  let id = "";
  while (id.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 252 = 7 * 36: dropping larger bytes keeps every character equally likely.
      if (byte < 252 && id.length < length) id += ID_ALPHABET[byte % 36];
    }
  }
  return `${prefix}_${id}`;
}

/**
 * A generator of ids like newId's, for writers that make hundreds of thousands in a row
 * (campaign queuing): they start with the time (ms, base 36), so each new row lands at the end
 * of the primary-key index instead of a random page, and randomness is drawn in bulk instead of
 * one system call per id. The last `length - 9` characters stay random.
 */
export function idSource(prefix: string, length = 16): () => string {
  let pool = Buffer.alloc(0);
  let at = 0;
  return () => {
    let id = Date.now().toString(36).padStart(9, "0");
    while (id.length < length) {
      if (at >= pool.length) {
        pool = randomBytes(64 * 1024);
        at = 0;
      }
      const byte = pool[at++]!;
      if (byte < 252) id += ID_ALPHABET[byte % 36];
    }
    return `${prefix}_${id}`;
  };
}

/** An unguessable bearer secret (256 bits), URL-safe. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** What we store instead of a bearer secret: a leaked table does not hand out live tokens. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
