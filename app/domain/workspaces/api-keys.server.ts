import { and, desc, eq, isNull } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { apiKeys, workspaces, type Role } from "~/db/schema/control";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { newId, randomToken, sha256Hex } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";

/** Keys look like `pk_live_<43 url-safe chars>`; the prefix tells people and scanners what it is. */
const KEY_PREFIX = "pk_live_";
const KEY_PATTERN = /^pk_live_[A-Za-z0-9_-]{43}$/;

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function listApiKeys(workspaceId: string): ApiKeySummary[] {
  return getControlDb()
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      role: apiKeys.role,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
    })
    .from(apiKeys)
    .where(and(eq(apiKeys.workspaceId, workspaceId), isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt))
    .all();
}

/** Creates a key and returns its secret: the only time anyone sees it. */
export function createApiKey(
  ctx: SystemContext & { userId: string },
  workspaceId: string,
  input: { name: string; role: Role },
): { id: string; secret: string } {
  const name = input.name.trim();
  if (!name || name.length > 80) {
    throw new ValidationError("Name the key (up to 80 characters).", {
      name: ["Name the key (up to 80 characters)."],
    });
  }
  if (input.role === "owner") {
    throw new ValidationError("A key can't have the owner role.", {
      role: ["Choose another role."],
    });
  }
  const secret = KEY_PREFIX + randomToken();
  const id = newId("key");
  getControlDb()
    .insert(apiKeys)
    .values({
      id,
      workspaceId,
      name,
      prefix: secret.slice(0, KEY_PREFIX.length + 6),
      keyHash: sha256Hex(secret),
      role: input.role,
      createdBy: ctx.userId,
    })
    .run();
  recordAudit(ctx, {
    action: "api_key.created",
    workspaceId,
    target: { type: "api_key", id },
    details: { name, role: input.role },
  });
  return { id, secret };
}

export function revokeApiKey(ctx: SystemContext, workspaceId: string, id: string): void {
  const changed = getControlDb()
    .update(apiKeys)
    .set({ revokedAt: ctx.now() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.workspaceId, workspaceId), isNull(apiKeys.revokedAt)))
    .run().changes;
  if (!changed) throw new NotFoundError("API key");
  recordAudit(ctx, { action: "api_key.revoked", workspaceId, target: { type: "api_key", id } });
}

/** The workspace and role a presented key grants, or null. Updates last-used at most per minute. */
export function verifyApiKey(
  secret: string,
  now: Date,
): { keyId: string; workspaceId: string; slug: string; role: Role } | null {
  if (!KEY_PATTERN.test(secret)) return null;
  const db = getControlDb();
  const row = db
    .select({
      keyId: apiKeys.id,
      workspaceId: apiKeys.workspaceId,
      role: apiKeys.role,
      lastUsedAt: apiKeys.lastUsedAt,
      slug: workspaces.slug,
      status: workspaces.status,
    })
    .from(apiKeys)
    .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
    .where(and(eq(apiKeys.keyHash, sha256Hex(secret)), isNull(apiKeys.revokedAt)))
    .get();
  if (!row || row.status !== "active") return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.keyId)).run();
  }
  return { keyId: row.keyId, workspaceId: row.workspaceId, slug: row.slug, role: row.role };
}

/** A deleted workspace's purge: its keys go (they were refused since the deletion). */
export function deleteWorkspaceApiKeys(workspaceId: string): number {
  return getControlDb().delete(apiKeys).where(eq(apiKeys.workspaceId, workspaceId)).run().changes;
}
