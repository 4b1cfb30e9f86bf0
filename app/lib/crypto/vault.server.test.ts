import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as VaultModule from "./vault.server";
import {
  ciphertextKeyId,
  createVault,
  generateEncryptionKey,
  keyIdFor,
  VaultError,
} from "./vault.server";

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);
const AAD = "users.totp_secret_enc:usr_1";

/** Re-reads the environment, as a freshly started process would. */
async function freshVault(): Promise<typeof VaultModule> {
  vi.resetModules();
  return import("./vault.server");
}

function vaultError(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VaultError);
    return error as VaultError;
  }
  throw new Error("expected a VaultError");
}

/** Flips one bit of the decoded payload at `index` and re-encodes it. */
function flip(ciphertext: string, index: number): string {
  const [v, id, body] = ciphertext.split(".");
  const bytes = Buffer.from(body!, "base64url");
  bytes[index]! ^= 1;
  return `${v}.${id}.${bytes.toString("base64url")}`;
}

describe("createVault", () => {
  it("round-trips text, including empty and non-ASCII, in the v1.<keyId>.<payload> format", () => {
    const vault = createVault({ current: keyA });
    for (const plaintext of ["JBSWY3DPEHPK3PXP", "", "ключ 🔑 ".repeat(50)]) {
      const ciphertext = vault.encrypt(plaintext, AAD);
      expect(ciphertext).toMatch(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/);
      expect(ciphertextKeyId(ciphertext)).toBe(keyIdFor(keyA));
      expect(vault.decrypt(ciphertext, AAD)).toBe(plaintext);
    }
  });

  it("uses a fresh IV each time, so equal plaintexts give different ciphertexts", () => {
    const vault = createVault({ current: keyA });
    const seen = new Set(Array.from({ length: 50 }, () => vault.encrypt("same", AAD)));
    expect(seen.size).toBe(50);
    const ivs = new Set(
      [...seen].map((c) =>
        Buffer.from(c.split(".")[2]!, "base64url").subarray(0, 12).toString("hex"),
      ),
    );
    expect(ivs.size).toBe(50);
  });

  it("derives a stable 8-hex key id from the key alone", () => {
    expect(keyIdFor(keyA)).toMatch(/^[0-9a-f]{8}$/);
    expect(keyIdFor(Buffer.from(keyA))).toBe(keyIdFor(keyA));
    expect(keyIdFor(keyB)).not.toBe(keyIdFor(keyA));
    expect(createVault({ current: keyB, retired: [keyA] }).keyIds).toEqual([
      keyIdFor(keyB),
      keyIdFor(keyA),
    ]);
  });

  it("refuses a ciphertext moved to another row or column (aad mismatch)", () => {
    const vault = createVault({ current: keyA });
    const ciphertext = vault.encrypt("secret", AAD);
    for (const other of ["users.totp_secret_enc:usr_2", "users.other:usr_1"]) {
      const error = vaultError(() => vault.decrypt(ciphertext, other));
      expect(error.code).toBe("decrypt_failed");
    }
    expect(vaultError(() => vault.encrypt("secret", "")).code).toBe("invalid_aad");
  });

  it("detects tampering with the IV, tag, body or key id", () => {
    const vault = createVault({ current: keyA, retired: [keyB] });
    const ciphertext = vault.encrypt("a secret value", AAD);
    for (const index of [0, 11, 12, 27, 28, 35]) {
      expect(vaultError(() => vault.decrypt(flip(ciphertext, index), AAD)).code).toBe(
        "decrypt_failed",
      );
    }
    // Relabelled as the other configured key: decrypts with B and fails authentication.
    const relabelled = ciphertext.replace(keyIdFor(keyA), keyIdFor(keyB));
    expect(vaultError(() => vault.decrypt(relabelled, AAD)).code).toBe("decrypt_failed");
    // Truncated tag.
    const truncated = `v1.${keyIdFor(keyA)}.${Buffer.alloc(20).toString("base64url")}`;
    expect(vaultError(() => vault.decrypt(truncated, AAD)).code).toBe("malformed");
  });

  it("rejects what is not a vault ciphertext with a message that leaks nothing", () => {
    const vault = createVault({ current: keyA });
    for (const bad of [
      "JBSWY3DPEHPK3PXP",
      "",
      "v2.abcdef01.AAAA",
      "v1.ABCDEF01.AAAA",
      "v1.abc.AAAA",
    ]) {
      const error = vaultError(() => vault.decrypt(bad, AAD));
      expect(error.code).toBe("malformed");
      expect(error.message).toBe("Not a vault ciphertext");
      expect(vault.isCurrentKey(bad)).toBe(false);
      expect(() => ciphertextKeyId(bad)).toThrow(VaultError);
    }
  });

  it("decrypts with retired keys, encrypts only with the current one", () => {
    const old = createVault({ current: keyA });
    const oldCiphertext = old.encrypt("rotated secret", AAD);
    const rotated = createVault({ current: keyB, retired: [keyA] });
    expect(rotated.isCurrentKey(oldCiphertext)).toBe(false);
    expect(rotated.decrypt(oldCiphertext, AAD)).toBe("rotated secret");
    const fresh = rotated.encrypt("rotated secret", AAD);
    expect(ciphertextKeyId(fresh)).toBe(keyIdFor(keyB));
    expect(rotated.isCurrentKey(fresh)).toBe(true);
  });

  it("names the missing key id, and nothing secret, when a key is not configured", () => {
    const ciphertext = createVault({ current: keyA }).encrypt("top secret", AAD);
    const error = vaultError(() => createVault({ current: keyB }).decrypt(ciphertext, AAD));
    expect(error.code).toBe("unknown_key");
    expect(error.message).toContain(keyIdFor(keyA));
    expect(error.message).toContain("ENCRYPTION_KEYS_RETIRED");
    expect(error.message).not.toContain("top secret");
    expect(error.message).not.toContain(keyA.toString("base64"));
    expect(error.message).not.toContain(ciphertext.split(".")[2]);
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(vaultError(() => createVault({ current: Buffer.alloc(16) })).code).toBe("invalid_key");
    expect(vaultError(() => createVault({ current: keyA, retired: [Buffer.alloc(31)] })).code).toBe(
      "invalid_key",
    );
  });

  it("generates distinct random 32-byte base64 keys", () => {
    const a = generateEncryptionKey();
    const b = generateEncryptionKey();
    expect(Buffer.from(a, "base64")).toHaveLength(32);
    expect(Buffer.from(a, "base64").toString("base64")).toBe(a);
    expect(a).not.toBe(b);
  });
});

describe("the configured vault (environment and DATA_DIR)", () => {
  beforeEach(() => {
    // vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
    delete process.env.BASE_URL;
    delete process.env.ENCRYPTION_KEY;
    delete process.env.ENCRYPTION_KEYS_RETIRED;
    process.env.SESSION_SECRET = "s".repeat(40);
    process.env.DATA_DIR = mkdtempSync(join(tmpdir(), "engage-vault-"));
  });

  it("encrypts under ENCRYPTION_KEY and decrypts ENCRYPTION_KEYS_RETIRED values", async () => {
    const keyC = randomBytes(32);
    process.env.ENCRYPTION_KEY = keyA.toString("base64");
    const first = await freshVault();
    const underA = first.encryptSecret("s1", AAD);
    expect(first.ciphertextKeyId(underA)).toBe(keyIdFor(keyA));
    expect(first.isCurrentKey(underA)).toBe(true);

    process.env.ENCRYPTION_KEY = keyB.toString("base64");
    process.env.ENCRYPTION_KEYS_RETIRED = `${keyC.toString("base64")}, ${keyA.toString("base64")}`;
    const second = await freshVault();
    expect(second.isCurrentKey(underA)).toBe(false);
    expect(second.decryptSecret(underA, AAD)).toBe("s1");
    expect(second.ciphertextKeyId(second.encryptSecret("s1", AAD))).toBe(keyIdFor(keyB));
    expect(second.getVault().keyIds).toEqual([keyIdFor(keyB), keyIdFor(keyC), keyIdFor(keyA)]);

    delete process.env.ENCRYPTION_KEYS_RETIRED;
    const third = await freshVault();
    expect(() => third.decryptSecret(underA, AAD)).toThrow(/not configured/);
  });

  it("uses the generated local key when the env has none", async () => {
    const local = await freshVault();
    const ciphertext = local.encryptSecret("local secret", AAD);
    expect(existsSync(join(process.env.DATA_DIR!, "secrets", "encryption.key"))).toBe(true);
    expect((await freshVault()).decryptSecret(ciphertext, AAD)).toBe("local secret");
  });

  it("keeps reading values under the generated key after ENCRYPTION_KEY moves to a new key", async () => {
    const local = await freshVault();
    const underLocal = local.encryptSecret("from before", AAD);

    process.env.ENCRYPTION_KEY = keyB.toString("base64");
    const moved = await freshVault();
    expect(moved.isCurrentKey(underLocal)).toBe(false);
    expect(moved.decryptSecret(underLocal, AAD)).toBe("from before");
    expect(moved.getVault().keyIds).toHaveLength(2);
  });

  it("adds nothing when the env key equals the generated one, and creates no files", async () => {
    process.env.ENCRYPTION_KEY = keyA.toString("base64");
    const dir = join(process.env.DATA_DIR!, "secrets");
    expect((await freshVault()).getVault().keyIds).toEqual([keyIdFor(keyA)]);
    expect(existsSync(dir)).toBe(false);

    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "encryption.key"), keyA.toString("base64"));
    expect((await freshVault()).getVault().keyIds).toEqual([keyIdFor(keyA)]);
  });

  it("refuses a damaged generated key rather than silently losing its values", async () => {
    process.env.ENCRYPTION_KEY = keyA.toString("base64");
    const dir = join(process.env.DATA_DIR!, "secrets");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "encryption.key"), Buffer.alloc(10).toString("base64"));
    const vault = await freshVault();
    expect(() => vault.encryptSecret("x", AAD)).toThrow(/damaged/);
  });
});
