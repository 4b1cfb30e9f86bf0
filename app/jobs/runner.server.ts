import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  acquireJobLock,
  finishJobRun,
  releaseJobLock,
  startJobRun,
  type JobOutcome,
  type JobTrigger,
} from "~/domain/operations/job-runs.server";
import { logger } from "~/lib/logger.server";
import type { Job, JobCounts } from "./job";

export interface JobResult {
  runId?: number;
  outcome: JobOutcome;
  counts?: JobCounts;
  error?: string;
}

const PROCESS = `${hostname()}:${process.pid}`;

/**
 * Runs a job under its lease and records the run. A job already running anywhere (this
 * process or another) is recorded as skipped rather than run twice.
 */
export async function runJob(
  job: Job,
  trigger: JobTrigger,
  now: () => Date = () => new Date(),
): Promise<JobResult> {
  const log = logger.child({ job: job.name, trigger });
  const startedAt = now();
  // One holder per run, not per process: acquireJobLock lets a holder re-take its own lock, so
  // a process-wide holder would let a second run in this process start while the first runs.
  const holder = `${PROCESS}:${randomUUID()}`;
  if (!acquireJobLock(job.name, holder, startedAt, job.maxRunMs ?? 30 * 60 * 1000)) {
    const runId = startJobRun(job.name, trigger, startedAt);
    finishJobRun(runId, { outcome: "skipped", error: "already running" }, now());
    log.warn("job skipped: already running");
    return { runId, outcome: "skipped", error: "already running" };
  }
  const runId = startJobRun(job.name, trigger, startedAt);
  try {
    const counts = (await job.run({ now, log })) ?? {};
    finishJobRun(runId, { outcome: "ok", counts }, now());
    log.info({ runId, counts, ms: now().getTime() - startedAt.getTime() }, "job finished");
    return { runId, outcome: "ok", counts };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    finishJobRun(runId, { outcome: "error", error }, now());
    log.error({ runId, err }, "job failed");
    return { runId, outcome: "error", error };
  } finally {
    releaseJobLock(job.name, holder);
  }
}
