import { verifyAuditChain } from "~/domain/audit/audit.server";
import type { Job } from "./job";

/** Daily proof that nobody edited or removed audit rows. A broken chain fails the run. */
export const auditVerify: Job = {
  name: "audit-verify",
  schedule: "41 2 * * *",
  description: "Verify the audit log's hash chain",
  async run() {
    const result = verifyAuditChain();
    if (!result.ok) {
      throw new Error(`audit chain broken at row ${result.brokenAt}: ${result.reason}`);
    }
    return { rows: result.rows };
  },
};
