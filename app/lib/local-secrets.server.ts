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
