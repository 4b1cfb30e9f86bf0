import cron, { type ScheduledTask } from "node-cron";
import { afterEach, describe, expect, it, vi } from "vitest";
import { lastJobRun } from "~/domain/operations/job-runs.server";
import { jobs } from "./index.server";
import { isSchedulerRunning, startScheduler, stopScheduler } from "./scheduler.server";
import type { Job } from "./job";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;
// A local zone far from UTC, so a schedule evaluated in local time would show.
process.env.TZ = "Asia/Kolkata";

/** Live (not stopped or destroyed) node-cron tasks with this name, across the whole process. */
function liveTasks(name: string): ScheduledTask[] {
  return [...cron.getTasks().values()].filter(
    (task) =>
      task.name === name && task.getStatus() !== "stopped" && task.getStatus() !== "destroyed",
  );
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

afterEach(async () => {
  await stopScheduler();
  // stopScheduler only stops tasks; drop them from node-cron's registry between tests.
  for (const task of [...cron.getTasks().values()]) await task.destroy();
});

describe("startScheduler", () => {
  it("schedules every job exactly once, however often it is called", () => {
    expect(jobs.length).toBeGreaterThan(0);
    expect(isSchedulerRunning()).toBe(false);

    startScheduler();
    startScheduler();

    expect(isSchedulerRunning()).toBe(true);
    expect(cron.getTasks().size).toBe(jobs.length);
    for (const job of jobs) {
      const tasks = liveTasks(job.name);
      expect(tasks).toHaveLength(1);
      expect(tasks[0]!.getPattern()).toBe(job.schedule);
      expect(tasks[0]!.getStatus()).toBe("idle");
    }
  });

  it("evaluates schedules in UTC", () => {
    startScheduler();
    const auditVerify = jobs.find((job) => job.name === "audit-verify")!;
    expect(auditVerify.schedule).toBe("41 2 * * *");
    const next = liveTasks("audit-verify")[0]!.getNextRun()!;
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([2, 41]);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
  });

  it("does not schedule again when the module is evaluated again (HMR)", async () => {
    startScheduler();
    const before = [...cron.getTasks().keys()];

    vi.resetModules();
    const fresh = await import("./scheduler.server");
    expect(fresh.startScheduler).not.toBe(startScheduler);

    expect(fresh.isSchedulerRunning()).toBe(true);
    fresh.startScheduler();
    expect([...cron.getTasks().keys()]).toEqual(before);
    for (const job of jobs) expect(liveTasks(job.name)).toHaveLength(1);

    // Both copies share one state: the fresh copy stops what the first one started.
    await fresh.stopScheduler();
    expect(isSchedulerRunning()).toBe(false);
    for (const job of jobs) expect(liveTasks(job.name)).toHaveLength(0);
  });

  it("a cron tick runs the job through runJob, recorded as a scheduled run", async () => {
    startScheduler();
    const task = liveTasks("audit-verify")[0]!;

    // execute() calls the very callback a cron tick would.
    const result: unknown = await task.execute();

    expect(result).toMatchObject({ outcome: "ok", counts: { rows: expect.any(Number) } });
    expect(lastJobRun("audit-verify")).toMatchObject({ trigger: "schedule", outcome: "ok" });
  });
});

describe("stopScheduler", () => {
  it("stops every task, and a later start schedules afresh", async () => {
    startScheduler();
    const first = jobs.map((job) => liveTasks(job.name)[0]!);

    await stopScheduler();

    expect(isSchedulerRunning()).toBe(false);
    for (const task of first) {
      expect(task.getStatus()).toBe("stopped");
      expect(task.getNextRun()).toBeNull();
    }
    for (const job of jobs) expect(liveTasks(job.name)).toHaveLength(0);

    startScheduler();
    expect(isSchedulerRunning()).toBe(true);
    for (const [i, job] of jobs.entries()) {
      const again = liveTasks(job.name);
      expect(again).toHaveLength(1);
      expect(again[0]).not.toBe(first[i]);
    }
  });

  it("waits for a running job to finish", async () => {
    // The scheduler takes its jobs from the registry; add a job that runs until released.
    const gate = deferred();
    const entered = deferred();
    const slow: Job = {
      name: "test-slow-job",
      schedule: "0 0 1 1 *",
      description: "runs until the test releases it",
      async run() {
        entered.resolve();
        await gate.promise;
        return { waited: 1 };
      },
    };
    const registry = jobs as Job[];
    registry.push(slow);
    try {
      startScheduler();
      const task = liveTasks(slow.name)[0]!;
      const execution = task.execute();
      await entered.promise;

      let stopped = false;
      const stopping = stopScheduler().then(() => void (stopped = true));
      // Let every pending callback run: stopScheduler must still be waiting for the job.
      await new Promise((resolve) => setImmediate(resolve));

      expect(stopped).toBe(false);
      expect(isSchedulerRunning()).toBe(false);
      expect(task.getStatus()).toBe("stopped");
      expect(lastJobRun(slow.name)).toMatchObject({ outcome: "running", finishedAt: null });

      gate.resolve();
      await stopping;

      // By the time stopScheduler resolves, the run is finished and recorded.
      expect(lastJobRun(slow.name)).toMatchObject({
        trigger: "schedule",
        outcome: "ok",
        counts: JSON.stringify({ waited: 1 }),
        finishedAt: expect.any(Date),
      });
      await expect(execution).resolves.toMatchObject({ outcome: "ok" });
    } finally {
      registry.splice(registry.indexOf(slow), 1);
    }
  });
});
