import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as LocalSecrets from "./local-secrets.server";

type SecretsModule = typeof LocalSecrets;

/** A fresh copy of the module (and of env.server's cache), as a second process would see it. */
async function freshSecrets(): Promise<SecretsModule> {
  vi.resetModules();
  return import("./local-secrets.server");
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("getSecrets", () => {
  beforeEach(() => {
    // vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
    delete process.env.BASE_URL;
    delete process.env.ENCRYPTION_KEY;
    delete process.env.SESSION_SECRET;
    process.env.DATA_DIR = mkdtempSync(join(tmpdir(), "engage-secrets-"));
  });

  it("creates both secrets under DATA_DIR/secrets with mode 0600 when the env lacks them", async () => {
    const dir = join(process.env.DATA_DIR!, "secrets");
    expect(existsSync(dir)).toBe(false);

    const secrets = (await freshSecrets()).getSecrets();

    const keyFile = join(dir, "encryption.key");
    const secretFile = join(dir, "session.secret");
    expect(Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64")).toHaveLength(32);
    expect(readFileSync(secretFile, "utf8").trim().length).toBeGreaterThanOrEqual(32);
    expect(mode(keyFile)).toBe(0o600);
    expect(mode(secretFile)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);

    expect(secrets.local.sort()).toEqual(["ENCRYPTION_KEY", "SESSION_SECRET"]);
    expect(secrets.encryptionKey).toHaveLength(32);
    expect(secrets.encryptionKey.toString("base64")).toBe(readFileSync(keyFile, "utf8").trim());
    expect(secrets.sessionSecret).toBe(readFileSync(secretFile, "utf8").trim());
  });

  it("reads the same values back on the next start instead of making new ones", async () => {
    const first = (await freshSecrets()).getSecrets();
    const keyFile = join(process.env.DATA_DIR!, "secrets", "encryption.key");
    const before = readFileSync(keyFile, "utf8");

    const second = (await freshSecrets()).getSecrets();

    expect(second).not.toBe(first);
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    expect(second.sessionSecret).toBe(first.sessionSecret);
    expect(second.local.sort()).toEqual(["ENCRYPTION_KEY", "SESSION_SECRET"]);
    expect(readFileSync(keyFile, "utf8")).toBe(before);
  });

  it("two starts with fresh data dirs get different secrets", async () => {
    const first = (await freshSecrets()).getSecrets();
    process.env.DATA_DIR = mkdtempSync(join(tmpdir(), "engage-secrets-"));
    const second = (await freshSecrets()).getSecrets();
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(false);
    expect(second.sessionSecret).not.toBe(first.sessionSecret);
  });

  it("uses the environment's secrets and writes no files when both are set", async () => {
    const key = Buffer.alloc(32, 9);
    process.env.ENCRYPTION_KEY = key.toString("base64");
    process.env.SESSION_SECRET = "x".repeat(40);

    const secrets = (await freshSecrets()).getSecrets();

    expect(secrets.encryptionKey.equals(key)).toBe(true);
    expect(secrets.sessionSecret).toBe("x".repeat(40));
    expect(secrets.local).toEqual([]);
    expect(existsSync(join(process.env.DATA_DIR!, "secrets"))).toBe(false);
  });

  it("creates only the missing one when the env has the other", async () => {
    process.env.SESSION_SECRET = "y".repeat(40);
    const secrets = (await freshSecrets()).getSecrets();
    expect(secrets.local).toEqual(["ENCRYPTION_KEY"]);
    expect(secrets.sessionSecret).toBe("y".repeat(40));
    expect(existsSync(join(process.env.DATA_DIR!, "secrets", "encryption.key"))).toBe(true);
    expect(existsSync(join(process.env.DATA_DIR!, "secrets", "session.secret"))).toBe(false);
  });

  it("refuses a damaged local key rather than replacing it", async () => {
    const dir = join(process.env.DATA_DIR!, "secrets");
    mkdirSync(dir, { recursive: true });
    const damaged = Buffer.alloc(16, 3).toString("base64");
    writeFileSync(join(dir, "encryption.key"), damaged, { mode: 0o600 });

    const { getSecrets } = await freshSecrets();

    expect(() => getSecrets()).toThrow(/damaged/);
    expect(readFileSync(join(dir, "encryption.key"), "utf8")).toBe(damaged);
  });
});
