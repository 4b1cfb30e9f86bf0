import { describe, expect, it } from "vitest";
import { acquireJobLock, lastJobRun, releaseJobLock } from "~/domain/operations/job-runs.server";
import { runJob } from "./runner.server";
import type { Job, JobContext } from "./job";

// vitest copies Vite's import.meta.env into process.env; BASE_URL="/" is not a valid URL.
delete process.env.BASE_URL;

const MINUTE = 60 * 1000;
const T0 = new Date("2030-03-04T05:06:07.000Z");

let jobCount = 0;

/** A job with a name no other test uses, so lastJobRun and the lock belong to this test. */
function fakeJob(run: Job["run"], extra: Partial<Job> = {}): Job {
  jobCount += 1;
  return {
    name: `test-job-${jobCount}`,
    schedule: "0 0 1 1 *",
    description: "test",
    run,
    ...extra,
  };
}

/** A clock that moves one second forward each time it is read. */
function tickingClock(start = T0): () => Date {
  let at = start.getTime();
  return () => {
    const now = new Date(at);
    at += 1000;
    return now;
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Whether someone else could take the job's lock at `at`; leaves the lock as it found it. */
function lockFree(name: string, at: Date): boolean {
  const taken = acquireJobLock(name, "probe", at, MINUTE);
  if (taken) releaseJobLock(name, "probe");
  return taken;
}

describe("runJob", () => {
  it("runs the job and records an ok run with its counts", async () => {
    const contexts: JobContext[] = [];
    const now = tickingClock();
    const job = fakeJob(async (ctx) => {
      contexts.push(ctx);
      // While the job runs, its run is recorded as running and the lock is held.
      expect(lastJobRun(job.name)).toMatchObject({ outcome: "running", finishedAt: null });
      expect(lockFree(job.name, T0)).toBe(false);
      return { sent: 3, failed: 1 };
    });

    const result = await runJob(job, "cli", now);

    expect(result).toEqual({
      runId: expect.any(Number),
      outcome: "ok",
      counts: { sent: 3, failed: 1 },
    });
    expect(contexts).toHaveLength(1);
    expect(contexts[0]!.now).toBe(now);
    expect(typeof contexts[0]!.log.info).toBe("function");

    const run = lastJobRun(job.name);
    expect(run).toEqual({
      id: result.runId,
      name: job.name,
      trigger: "cli",
      startedAt: T0,
      finishedAt: expect.any(Date),
      outcome: "ok",
      counts: JSON.stringify({ sent: 3, failed: 1 }),
      error: null,
    });
    expect(run!.finishedAt!.getTime()).toBeGreaterThan(T0.getTime());
    expect(lockFree(job.name, T0)).toBe(true);
  });

  it("records empty counts for a job that returns nothing", async () => {
    const job = fakeJob(async () => undefined);
    const result = await runJob(job, "schedule", tickingClock());
    expect(result).toMatchObject({ outcome: "ok", counts: {} });
    expect(lastJobRun(job.name)).toMatchObject({
      trigger: "schedule",
      outcome: "ok",
      counts: "{}",
    });
  });

  it("holds the lease for maxRunMs, 30 minutes by default", async () => {
    const leases: [boolean, boolean][] = [];
    const probeLease = (name: string, leaseMs: number) => {
      const before = lockFree(name, new Date(T0.getTime() + leaseMs - 1));
      // Past the lease another holder takes the job over; give it back straight away.
      const after = acquireJobLock(name, "probe", new Date(T0.getTime() + leaseMs + 1), MINUTE);
      if (after) releaseJobLock(name, "probe");
      leases.push([before, after]);
    };
    const byDefault = fakeJob(async () => probeLease(byDefault.name, 30 * MINUTE));
    const custom = fakeJob(async () => probeLease(custom.name, 5 * MINUTE), {
      maxRunMs: 5 * MINUTE,
    });

    expect((await runJob(byDefault, "cli", () => T0)).outcome).toBe("ok");
    expect((await runJob(custom, "cli", () => T0)).outcome).toBe("ok");
    expect(leases).toEqual([
      [false, true],
      [false, true],
    ]);
  });

  it("records a throwing job as an error with its message and releases the lock", async () => {
    let calls = 0;
    const job = fakeJob(async () => {
      calls += 1;
      if (calls === 1) throw new Error("provider unreachable");
      return { retried: 1 };
    });

    const failed = await runJob(job, "cli", tickingClock());
    expect(failed).toEqual({
      runId: expect.any(Number),
      outcome: "error",
      error: "provider unreachable",
    });
    expect(lastJobRun(job.name)).toMatchObject({
      id: failed.runId,
      outcome: "error",
      error: "provider unreachable",
      counts: null,
      finishedAt: expect.any(Date),
    });
    expect(lockFree(job.name, T0)).toBe(true);

    // The next run is not blocked by the failed one.
    const next = await runJob(job, "cli", tickingClock());
    expect(next).toMatchObject({ outcome: "ok", counts: { retried: 1 } });
    expect(next.runId).toBeGreaterThan(failed.runId!);
    expect(calls).toBe(2);
  });

  it("records a rejection that is not an Error by its string form", async () => {
    const job = fakeJob(() => Promise.reject("plain failure"));
    const result = await runJob(job, "cli", tickingClock());
    expect(result).toMatchObject({ outcome: "error", error: "plain failure" });
    expect(lastJobRun(job.name)).toMatchObject({ outcome: "error", error: "plain failure" });
    expect(lockFree(job.name, T0)).toBe(true);
  });

  it("skips a second run while the first holds the lock, in the same process", async () => {
    const gate = deferred();
    const entered = deferred();
    let calls = 0;
    const job = fakeJob(async () => {
      calls += 1;
      // Only the first run waits, so a wrongly admitted second run fails the test quickly.
      if (calls > 1) return { done: 0 };
      entered.resolve();
      await gate.promise;
      return { done: 1 };
    });

    const first = runJob(job, "schedule", tickingClock());
    await entered.promise;
    const second = await runJob(job, "cli", tickingClock(new Date(T0.getTime() + MINUTE)));

    expect(second).toEqual({
      runId: expect.any(Number),
      outcome: "skipped",
      error: "already running",
    });
    expect(calls).toBe(1);
    expect(lastJobRun(job.name)).toMatchObject({
      id: second.runId,
      trigger: "cli",
      outcome: "skipped",
      error: "already running",
      finishedAt: expect.any(Date),
    });
    // The skipped run did not release the first run's lock.
    expect(lockFree(job.name, new Date(T0.getTime() + MINUTE))).toBe(false);

    gate.resolve();
    const done = await first;
    expect(done).toMatchObject({ outcome: "ok", counts: { done: 1 } });
    expect(done.runId).toBeLessThan(second.runId!);
    expect(calls).toBe(1);
    expect(lockFree(job.name, T0)).toBe(true);
  });

  it("skips while another process holds a live lease, and leaves that lease alone", async () => {
    let calls = 0;
    const job = fakeJob(async () => void (calls += 1));
    expect(acquireJobLock(job.name, "other-host:4242", T0, 10 * MINUTE)).toBe(true);

    const result = await runJob(job, "cli", () => new Date(T0.getTime() + MINUTE));

    expect(result.outcome).toBe("skipped");
    expect(calls).toBe(0);
    expect(lastJobRun(job.name)).toMatchObject({ outcome: "skipped", error: "already running" });
    // Still the other holder's until its lease ends.
    expect(lockFree(job.name, new Date(T0.getTime() + 10 * MINUTE - 1))).toBe(false);
    expect(lockFree(job.name, new Date(T0.getTime() + 10 * MINUTE + 1))).toBe(true);
  });

  it("takes over an expired lease left by a crashed holder", async () => {
    let calls = 0;
    const job = fakeJob(async () => {
      calls += 1;
      return { recovered: 1 };
    });
    // A holder took the lock two hours ago with a one-hour lease and never released it.
    const crashedAt = new Date(T0.getTime() - 120 * MINUTE);
    expect(acquireJobLock(job.name, "crashed-host:99", crashedAt, 60 * MINUTE)).toBe(true);
    expect(lockFree(job.name, new Date(T0.getTime() - 90 * MINUTE))).toBe(false);

    const result = await runJob(job, "schedule", tickingClock());

    expect(result).toMatchObject({ outcome: "ok", counts: { recovered: 1 } });
    expect(calls).toBe(1);
    expect(lastJobRun(job.name)).toMatchObject({ outcome: "ok", startedAt: T0 });
    expect(lockFree(job.name, T0)).toBe(true);
  });
});
