import { count, eq } from "drizzle-orm";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { controlDbPath, getControlDb } from "~/db/control.server";
import { apiKeys } from "~/db/schema/control";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { sha256Hex } from "~/lib/tokens";
import type { User } from "../accounts/users.server";
import { createUserByOperator, setWorkspaceStatus } from "../admin/admin.server";
import type { SystemContext } from "../context";
import { createApiKey, listApiKeys, revokeApiKey, verifyApiKey } from "./api-keys.server";
import { createWorkspace, type Workspace } from "./workspaces.server";
import { thrown } from "../../../tests/support/errors";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const SECOND = 1_000;
const T0 = Date.parse("2030-07-01T10:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);

let owner: User;
let ws: Workspace;
let otherWs: Workspace;

function ctx(when = at(0)): SystemContext & { userId: string } {
  return {
    actor: { type: "user", id: owner.id },
    userId: owner.id,
    now: () => when,
    request: { ip: "203.0.113.60", userAgent: "vitest" },
  };
}

const newWorkspace = (slug: string) =>
  createWorkspace(ctx(), owner.id, {
    slug,
    name: slug,
    country: "IN",
    timezone: "Asia/Kolkata",
    currency: "INR",
  });

beforeAll(async () => {
  owner = await createUserByOperator(
    { actor: { type: "cli" }, now: () => at(0) },
    { name: "Key Owner", email: "owner@api-keys.test", password: "plum orbit saddle 42" },
  );
  ws = newWorkspace("keys-co");
  otherWs = newWorkspace("other-keys-co");
});

describe("createApiKey", () => {
  it("returns the secret once and stores only its SHA-256", () => {
    const { id, secret } = createApiKey(ctx(), ws.id, { name: "  CRM sync ", role: "marketer" });
    expect(secret).toMatch(/^pk_live_[A-Za-z0-9_-]{43}$/);
    const random = secret.slice("pk_live_".length);

    const row = getControlDb()
      .$client.prepare("SELECT * FROM api_keys WHERE id = ?")
      .get(id) as Record<string, unknown>;
    expect(row).toMatchObject({
      workspace_id: ws.id,
      name: "CRM sync",
      role: "marketer",
      created_by: owner.id,
      key_hash: sha256Hex(secret),
      prefix: secret.slice(0, 14),
      revoked_at: null,
    });
    // Nothing in the row but the short display prefix gives away any of the secret.
    for (const [column, value] of Object.entries(row)) {
      expect(String(value), column).not.toContain(secret);
      expect(String(value), column).not.toContain(random.slice(6));
    }
    // Nor anywhere else in the control database (audit log included).
    getControlDb().$client.pragma("wal_checkpoint(FULL)");
    for (const suffix of ["", "-wal"]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(controlDbPath() + suffix);
      } catch {
        continue;
      }
      expect(bytes.includes(random)).toBe(false);
    }

    expect(listApiKeys(ws.id)).toEqual([
      {
        id,
        name: "CRM sync",
        prefix: secret.slice(0, 14),
        role: "marketer",
        createdAt: expect.any(Date),
        lastUsedAt: null,
      },
    ]);
  });

  it("gives every key its own secret", () => {
    const a = createApiKey(ctx(), otherWs.id, { name: "a", role: "viewer" });
    const b = createApiKey(ctx(), otherWs.id, { name: "b", role: "viewer" });
    expect(a.secret).not.toBe(b.secret);
    expect(a.id).not.toBe(b.id);
    expect(verifyApiKey(a.secret, at(0))?.keyId).toBe(a.id);
    expect(verifyApiKey(b.secret, at(0))?.keyId).toBe(b.id);
  });

  it("refuses the owner role and a missing or long name, storing nothing", () => {
    const rows = () => getControlDb().select({ n: count() }).from(apiKeys).get()!.n;
    const before = rows();
    const owner = thrown(() => createApiKey(ctx(), ws.id, { name: "root", role: "owner" }));
    expect(owner).toBeInstanceOf(ValidationError);
    expect((owner as ValidationError).fieldErrors.role).toBeDefined();
    for (const name of ["", "   ", "n".repeat(81)]) {
      const error = thrown(() => createApiKey(ctx(), ws.id, { name, role: "viewer" }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).fieldErrors.name).toBeDefined();
    }
    expect(rows()).toBe(before);
  });
});

describe("verifyApiKey", () => {
  it("grants the key's workspace and role", () => {
    const { id, secret } = createApiKey(ctx(), ws.id, { name: "reporting", role: "viewer" });
    expect(verifyApiKey(secret, at(SECOND))).toEqual({
      keyId: id,
      workspaceId: ws.id,
      slug: "keys-co",
      role: "viewer",
    });
  });

  it("refuses unknown, altered and malformed keys", () => {
    const { secret } = createApiKey(ctx(), ws.id, { name: "altered", role: "viewer" });
    const last = secret.at(-1) === "A" ? "B" : "A";
    expect(verifyApiKey(secret.slice(0, -1) + last, at(0))).toBeNull();
    expect(verifyApiKey(`pk_live_${"x".repeat(43)}`, at(0))).toBeNull();
    expect(verifyApiKey(secret.replace("pk_live_", "pk_test_"), at(0))).toBeNull();
    expect(verifyApiKey(`${secret} `, at(0))).toBeNull();
    expect(verifyApiKey(sha256Hex(secret), at(0))).toBeNull();
    expect(verifyApiKey("", at(0))).toBeNull();
  });

  it("records when a key was last used, at most once a minute", () => {
    const { id, secret } = createApiKey(ctx(), ws.id, { name: "usage", role: "agent" });
    const lastUsed = () => listApiKeys(ws.id).find((k) => k.id === id)!.lastUsedAt;
    expect(lastUsed()).toBeNull();
    verifyApiKey(secret, at(0));
    expect(lastUsed()).toEqual(at(0));
    verifyApiKey(secret, at(30 * SECOND));
    expect(lastUsed()).toEqual(at(0));
    verifyApiKey(secret, at(61 * SECOND));
    expect(lastUsed()).toEqual(at(61 * SECOND));
  });

  it("stops working once revoked, and only its own workspace can revoke it", () => {
    const { id, secret } = createApiKey(ctx(), ws.id, { name: "to revoke", role: "marketer" });
    const kept = createApiKey(ctx(), ws.id, { name: "kept", role: "marketer" });

    expect(thrown(() => revokeApiKey(ctx(), otherWs.id, id))).toBeInstanceOf(NotFoundError);
    expect(verifyApiKey(secret, at(0))).not.toBeNull();

    revokeApiKey(ctx(at(SECOND)), ws.id, id);
    expect(verifyApiKey(secret, at(2 * SECOND))).toBeNull();
    expect(listApiKeys(ws.id).map((k) => k.id)).not.toContain(id);
    const row = getControlDb().select().from(apiKeys).where(eq(apiKeys.id, id)).get();
    expect(row?.revokedAt).toEqual(at(SECOND));
    expect(thrown(() => revokeApiKey(ctx(), ws.id, id))).toBeInstanceOf(NotFoundError);

    expect(verifyApiKey(kept.secret, at(2 * SECOND))?.keyId).toBe(kept.id);
  });

  it("refuses keys of a suspended workspace until it is reactivated", () => {
    const suspended = newWorkspace("suspended-co");
    const { secret } = createApiKey(ctx(), suspended.id, { name: "sync", role: "agent" });
    const mine = createApiKey(ctx(), ws.id, { name: "unaffected", role: "agent" });
    const operator: SystemContext = {
      actor: { type: "admin", id: "usr_operator" },
      now: () => at(0),
    };

    setWorkspaceStatus(operator, suspended.id, "suspended");
    expect(verifyApiKey(secret, at(SECOND))).toBeNull();
    expect(verifyApiKey(mine.secret, at(SECOND))).not.toBeNull();

    setWorkspaceStatus(operator, suspended.id, "active");
    expect(verifyApiKey(secret, at(2 * SECOND))?.workspaceId).toBe(suspended.id);
  });
});
