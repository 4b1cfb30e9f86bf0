import { sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One workspace's own database (DATA_DIR/tenants/<workspaceId>.db). Domain areas add their
 * tables here (contacts, templates, campaigns, messages, ...), each owned by one area.
 */

/** Facts about the file itself, e.g. which workspace it belongs to. */
export const tenantMeta = sqliteTable("tenant_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});
