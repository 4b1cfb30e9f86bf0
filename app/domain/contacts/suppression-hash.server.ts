import { eq } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import { tenantMeta } from "~/db/schema/tenant";
import type { TenantDb } from "~/db/tenants.server";

const KEY_NAME = "suppression_key";

/**
 * This workspace's own key for suppression hashes, made on first use and kept in the tenant
 * file itself, so hashes survive encryption-key rotation and travel with backups, and a hash
 * from one workspace says nothing in another.
 */
export function suppressionKey(db: TenantDb): Buffer {
  const found = db.select().from(tenantMeta).where(eq(tenantMeta.key, KEY_NAME)).get();
  if (found) return Buffer.from(found.value, "base64");
  db.insert(tenantMeta)
    .values({ key: KEY_NAME, value: randomBytes(32).toString("base64") })
    .onConflictDoNothing()
    .run();
  return Buffer.from(
    db.select().from(tenantMeta).where(eq(tenantMeta.key, KEY_NAME)).get()!.value,
    "base64",
  );
}

// The hash itself lives in suppression-hash-value.server.ts (no database code: the import's
// threads use it).
export { suppressionHash } from "./suppression-hash-value.server";
