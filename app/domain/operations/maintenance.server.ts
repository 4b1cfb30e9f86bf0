import { getControlDb } from "~/db/control.server";
import { optimizeDatabase } from "~/db/optimize.server";
import { forEachTenant } from "~/db/tenants.server";

/** Optimises the control db and every workspace file; counts what it did. */
export async function optimizeAllDatabases(): Promise<Record<string, number>> {
  let walPages = optimizeDatabase(getControlDb().$client).walPagesCheckpointed;
  const walk = await forEachTenant((_id, db) => {
    walPages += optimizeDatabase(db.$client).walPagesCheckpointed;
  });
  if (walk.failed.length > 0) {
    throw new Error(
      `optimising failed for ${walk.failed.length} workspace(s), first: ` +
        `${walk.failed[0]!.workspaceId}: ${walk.failed[0]!.error}`,
    );
  }
  return { workspaces: walk.visited, walPagesCheckpointed: walPages };
}
