import { workspaceContextFor } from "../workspaces/access.server";
import { and, inArray, isNotNull, lt } from "drizzle-orm";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { contactImportErrors, contactImports, contactImportWarnings } from "~/db/schema/tenant";
import { forEachTenant, isWorkspaceId } from "~/db/tenants.server";
import { getEnv } from "~/lib/env.server";
import { systemContext } from "../context";
import { daysMs, RETENTION } from "../privacy/retention-policy";
import { purgeExpiredContactExports } from "./contact-export.server";

/**
 * Rejected rows and values left out of kept rows quote what people typed (phone numbers,
 * addresses): kept 30 days, then gone.
 */
export const IMPORT_ERRORS_KEPT_MS = daysMs(RETENTION.importErrorDays);

/**
 * Daily, for every workspace: deletes rejected-row and left-out-value details of imports
 * finished more than 30 days ago and export files whose links have expired.
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
      importErrorsDeleted += db
        .delete(contactImportWarnings)
        .where(inArray(contactImportWarnings.importId, old))
        .run().changes;
    }
    const ctx = workspaceContextFor(
      systemContext("contacts-housekeeping", () => now),
      workspaceId,
      db,
    );
    exportsPurged += purgeExpiredContactExports(ctx);
  });
  return {
    workspaces: result.visited,
    failed: result.failed.length,
    importErrorsDeleted,
    exportsPurged,
  };
}

/** A deleted workspace's purge: its import uploads and export files. Returns folders removed. */
export function removeWorkspaceContactFiles(workspaceId: string): number {
  if (!isWorkspaceId(workspaceId)) return 0;
  let removed = 0;
  for (const area of ["uploads", "exports"]) {
    const dir = join(getEnv().DATA_DIR, area, workspaceId);
    if (!existsSync(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
