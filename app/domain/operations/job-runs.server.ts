import { and, desc, eq, inArray, lt, or } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { jobLocks, jobRuns } from "~/db/schema/control";

export type JobTrigger = (typeof jobRuns.$inferSelect)["trigger"];
export type JobOutcome = Exclude<(typeof jobRuns.$inferSelect)["outcome"], "running">;
export type JobRun = typeof jobRuns.$inferSelect;

/**
 * Takes the job's lease unless another holder has a live one. A crashed holder's lease expires,
 * so a job is never stuck for longer than its lease.
 */
export function acquireJobLock(name: string, holder: string, now: Date, leaseMs: number): boolean {
  const until = new Date(now.getTime() + leaseMs);
  const row = getControlDb()
    .insert(jobLocks)
    .values({ name, holder, lockedUntil: until })
    .onConflictDoUpdate({
      target: jobLocks.name,
      set: { holder, lockedUntil: until },
      setWhere: or(lt(jobLocks.lockedUntil, now), eq(jobLocks.holder, holder)),
    })
    .returning({ holder: jobLocks.holder })
    .get();
  return row?.holder === holder;
}

export function releaseJobLock(name: string, holder: string): void {
  getControlDb()
    .delete(jobLocks)
    .where(and(eq(jobLocks.name, name), eq(jobLocks.holder, holder)))
    .run();
}

export function startJobRun(name: string, trigger: JobTrigger, now: Date): number {
  return getControlDb()
    .insert(jobRuns)
    .values({ name, trigger, startedAt: now, outcome: "running" })
    .returning({ id: jobRuns.id })
    .get().id;
}

export function finishJobRun(
  id: number,
  result: { outcome: JobOutcome; counts?: Record<string, number>; error?: string },
  now: Date,
): void {
  getControlDb()
    .update(jobRuns)
    .set({
      finishedAt: now,
      outcome: result.outcome,
      counts: result.counts ? JSON.stringify(result.counts) : null,
      error: result.error?.slice(0, 2000) ?? null,
    })
    .where(eq(jobRuns.id, id))
    .run();
}

export function lastJobRun(name: string): JobRun | undefined {
  return getControlDb()
    .select()
    .from(jobRuns)
    .where(eq(jobRuns.name, name))
    .orderBy(desc(jobRuns.id))
    .limit(1)
    .get();
}

/** The newest runs of these jobs, newest first (for the retention pages). */
export function recentJobRuns(names: readonly string[], limit = 20): JobRun[] {
  return getControlDb()
    .select()
    .from(jobRuns)
    .where(inArray(jobRuns.name, [...names]))
    .orderBy(desc(jobRuns.id))
    .limit(limit)
    .all();
}

/** Whether the job has ever finished well (a job that must run once, e.g. a first rebuild). */
export function hasSucceeded(name: string): boolean {
  return Boolean(
    getControlDb()
      .select({ id: jobRuns.id })
      .from(jobRuns)
      .where(and(eq(jobRuns.name, name), eq(jobRuns.outcome, "ok")))
      .limit(1)
      .get(),
  );
}
