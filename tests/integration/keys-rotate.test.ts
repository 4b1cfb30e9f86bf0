import { asc, eq, isNotNull } from "drizzle-orm";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { getControlDb } from "~/db/control.server";
import { auditLog, users, workspaces } from "~/db/schema/control";
import { newWorkspaceId, provisionTenantDb, tenantDbPath } from "~/db/tenants.server";
import { aadFor, encryptedColumns } from "~/domain/security/encrypted-columns.server";
import {
  ciphertextKeyId,
  createVault,
  decryptSecret,
  encryptSecret,
  keyIdFor,
  VaultError,
} from "~/lib/crypto/vault.server";
import { runCli } from "../support/server";

/**
 * `keys rotate` through the CLI's entry against this file's DATA_DIR. This file writes secrets
 * under key A (its ENCRYPTION_KEY); the CLI then runs the way an operator would after a restart
 * with ENCRYPTION_KEY=B and ENCRYPTION_KEYS_RETIRED=A (runCli loads the app afresh, as a new
 * process would).
 */

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const A = keyA.toString("base64");
const B = keyB.toString("base64");
const SESSION_SECRET = "k".repeat(40);

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;
delete process.env.ENCRYPTION_KEYS_RETIRED;
process.env.ENCRYPTION_KEY = A;
process.env.SESSION_SECRET = SESSION_SECRET;

const DATA_DIR = process.env.DATA_DIR!;
const cli = (args: string[], keys: Record<string, string>) =>
  runCli(args, { DATA_DIR, SESSION_SECRET, ...keys });

const totp = encryptedColumns.find((c) => c.aadPrefix === "users.totp_secret_enc")!;

/** Every user this file stored a TOTP secret for, with the plaintext. */
const stored = new Map<string, string>();

function base32Secret(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return Array.from({ length: 32 }, () => alphabet[randomInt(32)]).join("");
}

function insertUser(id: string, totpSecretEnc: string | null, name = `User ${id}`): void {
  const now = new Date();
  getControlDb()
    .insert(users)
    .values({
      id,
      email: `${id}@example.com`,
      name,
      ageConfirmedAt: now,
      policyVersion: "2025-01",
      policyAcceptedAt: now,
      totpSecretEnc,
    })
    .run();
}

/** Stores a user whose TOTP secret goes through the vault, as the accounts code does. */
function storeUser(id: string, name?: string): string {
  const secret = base32Secret();
  // The exact aad the accounts code uses; the registry must agree with it.
  const aad = "users.totp_secret_enc:" + id;
  expect(aadFor(totp, id)).toBe(aad);
  insertUser(id, encryptSecret(secret, aad), name);
  stored.set(id, secret);
  return secret;
}

function storedCiphertexts(): { id: string; value: string }[] {
  return getControlDb()
    .select({ id: users.id, value: users.totpSecretEnc })
    .from(users)
    .where(isNotNull(users.totpSecretEnc))
    .all() as { id: string; value: string }[];
}

/** Every file under DATA_DIR (databases, -wal, -shm, tenant files) and which needles it holds. */
function scanDataDir(needles: string[]): { file: string; needle: string }[] {
  const hits: { file: string; needle: string }[] = [];
  const files = readdirSync(DATA_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  expect(files.some((f) => f.endsWith("control.db"))).toBe(true);
  expect(files.some((f) => f.endsWith("control.db-wal"))).toBe(true);
  expect(files.some((f) => /tenants\/ws_[0-9a-z]{16}\.db$/.test(f))).toBe(true);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle, "utf8"))) hits.push({ file, needle });
    }
  }
  return hits;
}

/** The plaintext and its common encodings: none of them may sit in a file. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [secret, bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("hex")];
}

function rotationAudits() {
  return getControlDb()
    .select()
    .from(auditLog)
    .where(eq(auditLog.action, "keys.rotated"))
    .orderBy(asc(auditLog.id))
    .all();
}

const workspaceIds: Record<"active" | "suspended" | "deletedWithFile" | "purged", string> = {
  active: newWorkspaceId(),
  suspended: newWorkspaceId(),
  deletedWithFile: newWorkspaceId(),
  purged: newWorkspaceId(),
};

beforeAll(() => {
  const statuses = {
    active: "active",
    suspended: "suspended",
    deletedWithFile: "deleted",
    purged: "deleted",
  } as const;
  for (const [name, id] of Object.entries(workspaceIds)) {
    getControlDb()
      .insert(workspaces)
      .values({ id, slug: `ws-${name.toLowerCase()}`, name, status: statuses[name as "active"] })
      .run();
    if (name !== "purged") provisionTenantDb(id);
  }
  expect(existsSync(tenantDbPath(workspaceIds.purged))).toBe(false);
});

describe("npm run engage -- keys", () => {
  it("lists the key commands in help and answers mistakes with one line and exit 2", async () => {
    const help = await cli(["--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("keys rotate");
    expect(help.stdout).toContain("keys generate");
    const rotateHelp = await cli(["keys", "rotate", "--help"], {});
    expect(rotateHelp.code).toBe(0);
    expect(rotateHelp.stdout).toContain("Usage: npm run engage -- keys rotate");

    for (const args of [["keys"], ["keys", "rotate", "--all"], ["keys", "rotate", "now"]]) {
      const result = await cli(args, { ENCRYPTION_KEY: A });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/^error: /);
      expect(result.stdout).toBe("");
    }
    const badKey = await cli(["keys", "rotate"], { ENCRYPTION_KEY: "not-a-key" });
    expect(badKey.code).not.toBe(0);
    expect(badKey.stderr).toContain("ENCRYPTION_KEY");
    expect(rotationAudits()).toEqual([]);
  });

  it("generates a fresh 32-byte key with its key id and touches no database", async () => {
    const dir = mkdtempSync(join(tmpdir(), "engage-keys-"));
    const first = await runCli(["keys", "generate"], { DATA_DIR: dir });
    const second = await runCli(["keys", "generate"], { DATA_DIR: dir });
    expect(first.code).toBe(0);
    const [a] = first.json as { key: string; keyId: string }[];
    const [b] = second.json as { key: string; keyId: string }[];
    expect(Buffer.from(a!.key, "base64")).toHaveLength(32);
    expect(a!.keyId).toBe(keyIdFor(Buffer.from(a!.key, "base64")));
    expect(b!.key).not.toBe(a!.key);
    expect(existsSync(join(dir, "control.db"))).toBe(false);
  });

  it("rotates every stored secret from key A to key B, once, and audits it", async () => {
    for (let i = 0; i < 5; i += 1) storeUser(`usr_rotate${i}`);
    insertUser("usr_nomfa", null);
    const idA = keyIdFor(keyA);
    const idB = keyIdFor(keyB);
    const before = storedCiphertexts();
    expect(before.length).toBe(stored.size);
    expect(before.every((r) => ciphertextKeyId(r.value) === idA)).toBe(true);

    // Restarted with only B: the A values cannot be read, so nothing moves and no audit row.
    const missing = await cli(["keys", "rotate"], { ENCRYPTION_KEY: B });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toContain(`key id ${idA}`);
    expect(missing.stderr).toContain("ENCRYPTION_KEYS_RETIRED");
    expect(storedCiphertexts()).toEqual(before);
    expect(rotationAudits()).toEqual([]);

    // A ciphertext copied onto another row fails authentication: the whole control db rolls back.
    insertUser("usr_copied", before[0]!.value);
    const copied = await cli(["keys", "rotate"], { ENCRYPTION_KEY: B, ENCRYPTION_KEYS_RETIRED: A });
    expect(copied.code).toBe(1);
    expect(copied.stderr).toContain("users.totp_secret_enc of usr_copied");
    expect(copied.stderr).toContain("failed authentication");
    expect(storedCiphertexts().filter((r) => r.id !== "usr_copied")).toEqual(before);
    getControlDb().delete(users).where(eq(users.id, "usr_copied")).run();

    const rotated = await cli(["keys", "rotate"], {
      ENCRYPTION_KEY: B,
      ENCRYPTION_KEYS_RETIRED: A,
    });
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    expect(rotated.json).toEqual([
      {
        rotated: stored.size,
        keyId: idB,
        control: stored.size,
        tenants: 0,
        // active + suspended + the deleted one whose file awaits purging.
        workspaces: 3,
        failed: [],
      },
    ]);

    // Every value now carries B's id and decrypts, in its own row, with B alone.
    const onlyB = createVault({ current: keyB });
    const after = storedCiphertexts();
    expect(after).toHaveLength(stored.size);
    for (const { id, value } of after) {
      expect(ciphertextKeyId(value)).toBe(idB);
      expect(onlyB.decrypt(value, aadFor(totp, id))).toBe(stored.get(id));
    }
    // ...and A alone no longer reads them.
    expect(() =>
      createVault({ current: keyA }).decrypt(after[0]!.value, aadFor(totp, after[0]!.id)),
    ).toThrow(VaultError);
    expect(
      getControlDb().select().from(users).where(eq(users.id, "usr_nomfa")).get()?.totpSecretEnc,
    ).toBeNull();

    // Idempotent, with the retired key still configured and after it has been dropped.
    const configs: Record<string, string>[] = [
      { ENCRYPTION_KEY: B, ENCRYPTION_KEYS_RETIRED: A },
      { ENCRYPTION_KEY: B },
    ];
    for (const keys of configs) {
      const again = await cli(["keys", "rotate"], keys);
      expect(again.code).toBe(0);
      expect(again.json[0]).toMatchObject({ rotated: 0, control: 0, tenants: 0, workspaces: 3 });
    }
    expect(storedCiphertexts()).toEqual(after);

    const audits = rotationAudits();
    expect(audits).toHaveLength(3);
    expect(audits[0]).toMatchObject({ actorType: "cli", action: "keys.rotated" });
    expect(JSON.parse(audits[0]!.details!)).toEqual({
      keyId: idB,
      control: stored.size,
      tenants: 0,
      workspaces: 3,
      failed: 0,
      failedWorkspaces: [],
    });
    expect(JSON.parse(audits[2]!.details!)).toMatchObject({ control: 0, tenants: 0 });
    const verify = await cli(["audit", "verify"], { ENCRYPTION_KEY: B });
    expect(verify.json[0]).toMatchObject({ ok: true });

    // A workspace whose file cannot be opened is reported, the run exits 1, the rest goes on.
    const broken = newWorkspaceId();
    getControlDb()
      .insert(workspaces)
      .values({ id: broken, slug: "ws-broken", name: "broken" })
      .run();
    try {
      const partial = await cli(["keys", "rotate"], { ENCRYPTION_KEY: B });
      expect(partial.code).toBe(1);
      expect(partial.json[0]).toMatchObject({
        rotated: 0,
        workspaces: 3,
        failed: [{ workspaceId: broken, error: expect.stringContaining("not found") }],
      });
      expect(JSON.parse(rotationAudits().at(-1)!.details!)).toMatchObject({
        failed: 1,
        failedWorkspaces: [broken],
      });
    } finally {
      getControlDb().delete(workspaces).where(eq(workspaces.id, broken)).run();
    }

    // Rotation decrypts in memory only: no plaintext reached a file on the way.
    expect(scanDataDir([...stored.values()].flatMap(encodings))).toEqual([]);
  });

  it("leaves no stored secret, or its base64, readable in the database files", async () => {
    const secrets = [storeUser("usr_scan1"), storeUser("usr_scan2"), storeUser("usr_scan3")];
    // A value stored in the clear (the user's name) proves the scan reads the bytes that matter,
    // WAL included: it must be found.
    const marker = `Plain Name ${randomBytes(8).toString("hex")}`;
    storeUser("usr_scan4", marker);
    expect(getControlDb().$client.pragma("journal_mode", { simple: true })).toBe("wal");

    const hits = scanDataDir([marker, ...secrets.flatMap(encodings)]);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.needle === marker)).toBe(true);
    expect(hits.some((h) => h.file.endsWith("control.db-wal"))).toBe(true);

    // The rows do hold the secrets, encrypted: each decrypts back under its own id.
    const onFile = storedCiphertexts().filter((r) => r.id.startsWith("usr_scan"));
    expect(onFile).toHaveLength(4);
    for (const { id, value } of onFile) {
      expect(value).toMatch(/^v1\.[0-9a-f]{8}\./);
      expect(value).not.toContain(stored.get(id)!);
      expect(decryptSecret(value, aadFor(totp, id))).toBe(stored.get(id));
    }

    // After a checkpoint the same holds for the main database file.
    getControlDb().$client.pragma("wal_checkpoint(TRUNCATE)");
    const checkpointed = scanDataDir([marker, ...secrets.flatMap(encodings)]);
    expect(checkpointed.some((h) => h.file.endsWith("control.db"))).toBe(true);
    expect(checkpointed.every((h) => h.needle === marker)).toBe(true);
  });
});
