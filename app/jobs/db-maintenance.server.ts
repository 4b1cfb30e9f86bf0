import { optimizeAllDatabases } from "~/domain/operations/maintenance.server";
import type { Job } from "./job";

export const dbMaintenance: Job = {
  name: "db-maintenance",
  schedule: "23 4 * * 0",
  description: "Refresh SQLite planner statistics and checkpoint WAL files, weekly",
  maxRunMs: 2 * 60 * 60 * 1000,
  async run() {
    return optimizeAllDatabases();
  },
};
