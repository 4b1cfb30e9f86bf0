import cron, { type ScheduledTask } from "node-cron";
import { logger } from "~/lib/logger.server";
import { singleton } from "~/lib/singleton.server";
import { jobs } from "./index.server";
import { runJob } from "./runner.server";

interface SchedulerState {
  tasks: ScheduledTask[];
  running: Set<Promise<unknown>>;
}

// A process-wide singleton: re-evaluating this module under HMR must not schedule twice.
const state = singleton<SchedulerState>("job-scheduler", () => ({ tasks: [], running: new Set() }));

export function startScheduler(): void {
  if (state.tasks.length > 0) return;
  for (const job of jobs) {
    const task = cron.schedule(
      job.schedule,
      () => {
        const run = runJob(job, "schedule").finally(() => state.running.delete(run));
        state.running.add(run);
        return run;
      },
      { name: job.name, timezone: "Etc/UTC", noOverlap: true },
    );
    state.tasks.push(task);
  }
  logger.info({ jobs: jobs.map((j) => j.name) }, "job scheduler started");
}

/** Stops scheduling and waits (bounded by the caller's shutdown timer) for running jobs. */
export async function stopScheduler(): Promise<void> {
  for (const task of state.tasks) await task.stop();
  state.tasks = [];
  await Promise.allSettled([...state.running]);
}

export function isSchedulerRunning(): boolean {
  return state.tasks.length > 0;
}
