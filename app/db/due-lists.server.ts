import { eq, sql } from "drizzle-orm";
import { getControlDb } from "./control.server";
import type { deliveryQueue, inboxDue } from "./schema/control";

/**
 * Due lists: control-db tables of one row per workspace with work coming and when it comes, so
 * a job reads one indexed table instead of opening every workspace's file. Both lists share
 * the shape (workspace id, next due time) and these two writes.
 */
export type DueList = typeof deliveryQueue | typeof inboxDue;

/** Records work due at `dueAt` (ms); an earlier time already recorded wins. */
export function markDueIn(list: DueList, workspaceId: string, dueAt: number): void {
  getControlDb()
    .insert(list)
    .values({ workspaceId, nextDueAt: new Date(dueAt) })
    .onConflictDoUpdate({
      target: list.workspaceId,
      set: { nextDueAt: sql`min(${list.nextDueAt}, excluded.next_due_at)` },
    })
    .run();
}

/**
 * After the work was looked at: the workspace's next due time exactly (later or earlier than
 * the recorded one), or no row when nothing is coming (null).
 */
export function setDueIn(list: DueList, workspaceId: string, dueAt: number | null): void {
  const control = getControlDb();
  if (dueAt === null) {
    control.delete(list).where(eq(list.workspaceId, workspaceId)).run();
    return;
  }
  control
    .insert(list)
    .values({ workspaceId, nextDueAt: new Date(dueAt) })
    .onConflictDoUpdate({ target: list.workspaceId, set: { nextDueAt: new Date(dueAt) } })
    .run();
}
