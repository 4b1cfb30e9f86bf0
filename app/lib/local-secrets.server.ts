import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getEnv } from "./env.server";

export interface Secrets {
  /** 32-byte AES-256 key. */
  encryptionKey: Buffer;
  sessionSecret: string;
  /** Names of the secrets read from or written to DATA_DIR because the environment lacks them. */
  local: string[];
}

/**
 * Reads a secret file, creating it (mode 0600) on first use. `wx` makes creation atomic, so two
 * processes starting together (server and CLI) end up with the same value.
 */
function readOrCreate(path: string, make: () => string): string {
  try {
    writeFileSync(path, make(), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return readFileSync(path, "utf8").trim();
}

let cached: Secrets | undefined;

export function getSecrets(): Secrets {
  if (cached) return cached;
  const env = getEnv();
  const local: string[] = [];
  const dir = join(env.DATA_DIR, "secrets");
  const ensureDir = () => mkdirSync(dir, { recursive: true, mode: 0o700 });

  let key = env.ENCRYPTION_KEY;
  if (!key) {
    ensureDir();
    key = readOrCreate(join(dir, "encryption.key"), () => randomBytes(32).toString("base64"));
    local.push("ENCRYPTION_KEY");
  }
  let sessionSecret = env.SESSION_SECRET;
  if (!sessionSecret) {
    ensureDir();
    sessionSecret = readOrCreate(join(dir, "session.secret"), () =>
      randomBytes(48).toString("base64url"),
    );
    local.push("SESSION_SECRET");
  }
  const encryptionKey = Buffer.from(key, "base64");
  if (encryptionKey.length !== 32) {
    throw new Error(`The local encryption key in ${dir} is damaged: expected 32 bytes`);
  }
  cached = { encryptionKey, sessionSecret, local };
  return cached;
}

/**
 * Keys that still decrypt but never encrypt: ENCRYPTION_KEYS_RETIRED, plus the generated
 * DATA_DIR/secrets/encryption.key when the environment now supplies a different ENCRYPTION_KEY.
 * The second case is an install that started on a generated key and then moved to a new one in
 * the env: its stored secrets stay readable until `keys rotate` has moved them. Reads only; never
 * creates a file.
 */
export function getRetiredEncryptionKeys(): Buffer[] {
  const env = getEnv();
  const keys: Buffer[] = (env.ENCRYPTION_KEYS_RETIRED ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => Buffer.from(k, "base64"));
  if (env.ENCRYPTION_KEY) {
    const file = join(env.DATA_DIR, "secrets", "encryption.key");
    let generated: Buffer | undefined;
    try {
      generated = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (generated) {
      if (generated.length !== 32) {
        throw new Error(`The local encryption key in ${file} is damaged: expected 32 bytes`);
      }
      keys.push(generated);
    }
  }
  const current = getSecrets().encryptionKey;
  const unique: Buffer[] = [];
  for (const key of keys) {
    if (!key.equals(current) && !unique.some((k) => k.equals(key))) unique.push(key);
  }
  return unique;
}

let subjectIndexKey: Buffer | undefined;

/**
 * The 32-byte HMAC key of the privacy subject index (control db): SUBJECT_INDEX_KEY, else
 * DATA_DIR/secrets/subject-index.key, made on first use. Never rotated with the encryption
 * key: every hash in the index depends on it (a new key means `privacy reindex`).
 */
export function getSubjectIndexKey(): Buffer {
  if (subjectIndexKey) return subjectIndexKey;
  const env = getEnv();
  let value = env.SUBJECT_INDEX_KEY;
  if (!value) {
    const dir = join(env.DATA_DIR, "secrets");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    value = readOrCreate(join(dir, "subject-index.key"), () => randomBytes(32).toString("base64"));
  }
  const key = Buffer.from(value, "base64");
  if (key.length !== 32) throw new Error("SUBJECT_INDEX_KEY must be 32 bytes, base64-encoded");
  subjectIndexKey = key;
  return key;
}
