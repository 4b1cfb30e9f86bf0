import { and, inArray, isNotNull, lt } from "drizzle-orm";
import { contactImportErrors, contactImports } from "~/db/schema/tenant";
import { forEachTenant } from "~/db/tenants.server";
import { systemContext } from "../context";
import { purgeExpiredContactExports } from "./contact-export.server";

const DAY = 24 * 3_600_000;
/** Rejected rows quote what people typed (phone numbers, addresses): kept 30 days, then gone. */
export const IMPORT_ERRORS_KEPT_MS = 30 * DAY;

/**
 * Daily, for every workspace: deletes rejected-row details of imports finished more than 30
 * days ago and export files whose links have expired.
 */
export async function contactsHousekeeping(now: Date) {
  let importErrorsDeleted = 0;
  let exportsPurged = 0;
  const result = await forEachTenant((workspaceId, db) => {
    const cutoff = new Date(now.getTime() - IMPORT_ERRORS_KEPT_MS);
    const old = db
      .select({ id: contactImports.id })
      .from(contactImports)
      .where(and(isNotNull(contactImports.finishedAt), lt(contactImports.finishedAt, cutoff)))
      .all()
      .map((row) => row.id);
    if (old.length) {
      importErrorsDeleted += db
        .delete(contactImportErrors)
        .where(inArray(contactImportErrors.importId, old))
        .run().changes;
    }
    const ctx = { ...systemContext("contacts-housekeeping", () => now), workspaceId, db };
    exportsPurged += purgeExpiredContactExports(ctx);
  });
  return {
    workspaces: result.visited,
    failed: result.failed.length,
    importErrorsDeleted,
    exportsPurged,
  };
}
