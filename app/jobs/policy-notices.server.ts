import { systemContext } from "~/domain/context";
import { sendPolicyNotices } from "~/domain/privacy/policy-versions.server";
import type { Job } from "./job";

export const policyNotices: Job = {
  name: "policy-notices",
  schedule: "*/5 * * * *",
  description:
    "Email every user the notice of a newly published privacy policy version, in batches, resuming where a stopped run left off",
  maxRunMs: 60 * 60 * 1000,
  async run({ now }) {
    const report = await sendPolicyNotices(systemContext("policy-notices", now));
    return {
      versions: report.versions,
      sent: report.sent,
      failed: report.failed,
      unfinished: report.unfinished ? 1 : 0,
    };
  },
};
