import { runRetention } from "~/domain/privacy/retention-run.server";
import type { Job } from "./job";

export const retention: Job = {
  name: "retention",
  schedule: "23 2 * * *",
  description:
    "Delete what the privacy policy's periods have ended for (closed accounts, deleted workspaces, old audit and billing rows, message content, webhook events), daily",
  maxRunMs: 2 * 60 * 60 * 1000,
  async run({ now }) {
    return { ...(await runRetention(now())) };
  },
};
