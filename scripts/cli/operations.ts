import { verifyAuditChain } from "~/domain/audit/audit.server";
import { cliContext } from "~/domain/context";
import { createBackup, migrateEverything, restoreBackup } from "~/domain/operations/backup.server";
import { lastJobRun } from "~/domain/operations/job-runs.server";
import { findJob, jobs } from "~/jobs/index.server";
import { runJob } from "~/jobs/runner.server";
import { resolve } from "node:path";
import { stringOption, UsageError, type Command } from "./command";

export const operationsCommands: Command[] = [
  {
    path: ["migrate"],
    summary: "Migrate the control database and every workspace file to this release",
    run(_args, io) {
      io.print(migrateEverything(cliContext()));
    },
  },
  {
    path: ["jobs", "list"],
    summary: "List the scheduled jobs with their last run",
    run(_args, io) {
      for (const job of jobs) {
        const last = lastJobRun(job.name);
        io.print({
          name: job.name,
          schedule: job.schedule,
          description: job.description,
          lastRun: last
            ? { startedAt: last.startedAt.toISOString(), outcome: last.outcome, error: last.error }
            : null,
        });
      }
    },
  },
  {
    path: ["jobs", "run"],
    summary: "Run a job now and record the run",
    positionals: ["name"],
    async run({ positionals }, io) {
      const name = positionals[0]!;
      const job = findJob(name);
      if (!job) {
        throw new UsageError(`unknown job "${name}"; known: ${jobs.map((j) => j.name).join(", ")}`);
      }
      const result = await runJob(job, "cli");
      io.print({ job: name, ...result });
      return result.outcome === "ok" ? 0 : 1;
    },
  },
  {
    path: ["audit", "verify"],
    summary: "Verify the audit log's hash chain",
    run(_args, io) {
      const result = verifyAuditChain();
      io.print(result);
      return result.ok ? 0 : 1;
    },
  },
  {
    path: ["backup"],
    summary: "Back up the control db and every workspace file (safe while the app runs)",
    options: { out: { type: "string" } },
    required: ["out"],
    async run(args, io) {
      const out = resolve(stringOption(args, "out"));
      const manifest = await createBackup(cliContext(), out);
      io.print({ out, files: manifest.files.length, createdAt: manifest.createdAt });
    },
  },
  {
    path: ["restore"],
    summary: "Restore a backup into DATA_DIR (stop the app first; current files are kept aside)",
    options: { from: { type: "string" } },
    required: ["from"],
    run(args, io) {
      io.print(restoreBackup(cliContext(), resolve(stringOption(args, "from"))));
    },
  },
];
