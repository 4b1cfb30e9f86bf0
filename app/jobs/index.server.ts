import { auditVerify } from "./audit-verify.server";
import { authCleanup } from "./auth-cleanup.server";
import { contactsHousekeepingJob } from "./contacts-housekeeping.server";
import { dbMaintenance } from "./db-maintenance.server";
import { policyNotices } from "./policy-notices.server";
import { retention } from "./retention.server";
import { dsarTasksJob } from "./dsar-tasks.server";
import { privacyReindexJob } from "./privacy-reindex.server";
import type { Job } from "./types";
import { whatsappTemplateSync } from "./whatsapp-template-sync.server";

/** Every job the process runs. Adding a job is adding a file and a line here. */
export const jobs: readonly Job[] = [
  auditVerify,
  dbMaintenance,
  authCleanup,
  contactsHousekeepingJob,
  whatsappTemplateSync,
  policyNotices,
  retention,
  dsarTasksJob,
  privacyReindexJob,
];

export function findJob(name: string): Job | undefined {
  return jobs.find((job) => job.name === name);
}
