import { systemContext } from "~/domain/context";
import { runDsarTasks } from "~/domain/privacy/dsar-queues.server";
import type { Job } from "./job";

export const dsarTasks: Job = {
  name: "dsar-tasks",
  schedule: "*/5 * * * *",
  description:
    "Fulfil approved privacy requests (auto-approved ones too), remind owners and admins 7 and 2 days before a request is due, and escalate overdue ones to the platform admins, every 5 minutes",
  maxRunMs: 30 * 60 * 1000,
  async run({ now }) {
    return runDsarTasks(systemContext("dsar-tasks", now));
  },
};
