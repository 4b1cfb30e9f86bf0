import { auditVerify } from "./audit-verify.server";
import { authCleanup } from "./auth-cleanup.server";
import { contactsHousekeeping } from "./contacts-housekeeping.server";
import { dbMaintenance } from "./db-maintenance.server";
import { policyNotices } from "./policy-notices.server";
import { retention } from "./retention.server";
import { dsarTasks } from "./dsar-tasks.server";
import { inboxMinutely } from "./inbox-minutely.server";
import { privacyReindex } from "./privacy-reindex.server";
import type { Job } from "./job";
import { whatsappTemplateSync } from "./whatsapp-template-sync.server";

/**
 * Every job the process runs. Adding a job is adding a file and a line here: the file is named
 * after the job (`app/jobs/<name>.server.ts`) and exports one `Job` named by the job's name in
 * camelCase (`db-maintenance` -> `dbMaintenance`), so the name an operator types
 * (`engage jobs run <name>`) leads straight to its code. A check in tests/conventions holds it.
 */
export const jobs: readonly Job[] = [
  auditVerify,
  dbMaintenance,
  authCleanup,
  contactsHousekeeping,
  whatsappTemplateSync,
  policyNotices,
  retention,
  dsarTasks,
  privacyReindex,
  inboxMinutely,
];

export function findJob(name: string): Job | undefined {
  return jobs.find((job) => job.name === name);
}
