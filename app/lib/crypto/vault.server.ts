import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { getRetiredEncryptionKeys, getSecrets } from "../local-secrets.server";

/**
 * The vault: AES-256-GCM for secrets stored in the databases (TOTP secrets, provider
 * credentials). A ciphertext is `v1.<keyId>.<base64url(iv | tag | ciphertext)>`:
 *
 * - keyId is derived from the key itself, so rotation needs no extra configuration: the current
 *   key (ENCRYPTION_KEY) encrypts, the current and retired keys (ENCRYPTION_KEYS_RETIRED)
 *   decrypt, and `keys rotate` re-encrypts whatever does not carry the current key id.
 * - iv is 96 random bits per encryption; tag is the 128-bit GCM tag.
 * - The caller's `aad` names where the value is stored (`users.totp_secret_enc:usr_123`), so a
 *   ciphertext copied to another row or column fails to decrypt. The version and key id are
 *   authenticated too.
 */

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const FORMAT = /^v1\.([0-9a-f]{8})\.([A-Za-z0-9_-]+)$/;

export type VaultErrorCode =
  "malformed" | "unknown_key" | "decrypt_failed" | "invalid_key" | "invalid_aad";

/** Messages name key ids at most: never a key, a plaintext or a ciphertext. */
export class VaultError extends Error {
  readonly code: VaultErrorCode;
  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = "VaultError";
    this.code = code;
  }
}

export interface Keyring {
  /** Encrypts and decrypts. */
  current: Buffer;
  /** Decrypt only. */
  retired?: readonly Buffer[];
}

export interface Vault {
  /** Key id of the current key: every new ciphertext carries it. */
  readonly keyId: string;
  /** Every key id this vault can decrypt, the current one first. */
  readonly keyIds: readonly string[];
  encrypt(plaintext: string, aad: string): string;
  decrypt(ciphertext: string, aad: string): string;
  isCurrentKey(ciphertext: string): boolean;
}

/** A short, stable, non-secret id for a key: 8 hex chars of SHA-256("engage-key-id" + key). */
export function keyIdFor(key: Buffer): string {
  return createHash("sha256").update("engage-key-id").update(key).digest("hex").slice(0, 8);
}

/** A fresh random key, base64, for ENCRYPTION_KEY. */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}

function parse(ciphertext: string): { keyId: string; payload: Buffer } {
  const match = FORMAT.exec(ciphertext);
  const payload = match ? Buffer.from(match[2]!, "base64url") : undefined;
  if (!match || !payload || payload.length < IV_BYTES + TAG_BYTES) {
    throw new VaultError("malformed", "Not a vault ciphertext");
  }
  return { keyId: match[1]!, payload };
}

/** The key id a ciphertext was made with; throws VaultError for anything else. */
export function ciphertextKeyId(ciphertext: string): string {
  return parse(ciphertext).keyId;
}

function additionalData(keyId: string, aad: string): Buffer {
  if (!aad) throw new VaultError("invalid_aad", "An encryption context (aad) is required");
  return Buffer.from(`${VERSION}.${keyId}\n${aad}`, "utf8");
}

/** A vault over explicit keys. The app uses the one configured from the environment below. */
export function createVault(keys: Keyring): Vault {
  const byId = new Map<string, Buffer>();
  for (const key of [keys.current, ...(keys.retired ?? [])]) {
    if (key.length !== KEY_BYTES) {
      throw new VaultError("invalid_key", `An encryption key must be ${KEY_BYTES} bytes`);
    }
    const id = keyIdFor(key);
    const known = byId.get(id);
    if (known && !known.equals(key)) {
      throw new VaultError("invalid_key", `Two configured keys share the key id ${id}`);
    }
    byId.set(id, key);
  }
  const keyId = keyIdFor(keys.current);
  const current = keys.current;

  return {
    keyId,
    keyIds: [...byId.keys()],
    encrypt(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(additionalData(keyId, aad));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const payload = Buffer.concat([iv, cipher.getAuthTag(), body]);
      return `${VERSION}.${keyId}.${payload.toString("base64url")}`;
    },
    decrypt(ciphertext, aad) {
      const { keyId: id, payload } = parse(ciphertext);
      const key = byId.get(id);
      if (!key) {
        throw new VaultError(
          "unknown_key",
          `Encrypted with key id ${id}, which is not configured ` +
            `(add that key to ENCRYPTION_KEYS_RETIRED)`,
        );
      }
      const decipher = createDecipheriv("aes-256-gcm", key, payload.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(additionalData(id, aad));
      decipher.setAuthTag(payload.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        const body = payload.subarray(IV_BYTES + TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
      } catch {
        throw new VaultError(
          "decrypt_failed",
          "Encrypted value failed authentication (altered, or stored under another record)",
        );
      }
    },
    isCurrentKey(ciphertext) {
      return FORMAT.exec(ciphertext)?.[1] === keyId;
    },
  };
}

let configured: Vault | undefined;

/** The vault over ENCRYPTION_KEY (or the generated local key) and the retired keys. */
export function getVault(): Vault {
  configured ??= createVault({
    current: getSecrets().encryptionKey,
    retired: getRetiredEncryptionKeys(),
  });
  return configured;
}

export function encryptSecret(plaintext: string, aad: string): string {
  return getVault().encrypt(plaintext, aad);
}

export function decryptSecret(ciphertext: string, aad: string): string {
  return getVault().decrypt(ciphertext, aad);
}

/** True when the ciphertext carries the current key id (false for anything malformed). */
export function isCurrentKey(ciphertext: string): boolean {
  return getVault().isCurrentKey(ciphertext);
}
