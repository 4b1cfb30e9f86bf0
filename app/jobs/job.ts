import type { Logger } from "~/lib/logger.server";

export type JobCounts = Record<string, number>;

export interface JobContext {
  now(): Date;
  log: Logger;
}

/** One file per job: a name, a cron schedule, and a run that calls domain functions. */
export interface Job {
  name: string;
  /** node-cron expression, evaluated in UTC. */
  schedule: string;
  description: string;
  /** Lease length; another process may take the job over after this if the holder died. */
  maxRunMs?: number;
  run(ctx: JobContext): Promise<JobCounts | void>;
}
