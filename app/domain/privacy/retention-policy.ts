/**
 * How long each kind of data is kept: the one place the periods live (privacy policy §5,
 * ADR 0013). The retention job, the housekeeping jobs and the pages that show the policy all
 * read these. Plain data, no server imports: pages render it too.
 */

const DAY_MS = 24 * 3_600_000;

export const RETENTION = {
  /** Policy §5: account data 90 days after closure; reopening is possible until then. */
  closedAccountDays: 90,
  /**
   * Policy §5: contact data within 30 days of workspace deletion. The daily job purges from day
   * 29, so it is gone by day 30; restorable until day 29.
   */
  deletedWorkspaceDays: 30,
  /** Policy §5: audit logs and billing records "up to 7 years". */
  auditYears: 7,
  billingYears: 7,
  /** Message content and recipient address on sent messages; the row and status stay. */
  messageContentDays: 90,
  /** AI reply drafts: their text is cleared; the row stays for the acceptance rates. */
  aiDraftDays: 30,
  /** Provider webhook events (delivery receipts, replies as received). */
  webhookEventDays: 30,
  /** Rejected rows of contact imports quote what was typed: gone 30 days after the import. */
  importErrorDays: 30,
  /** Privacy requests never verified: expired after 7 days and their identifiers cleared. */
  unverifiedDsarDays: 7,
} as const;

export const daysMs = (days: number): number => days * DAY_MS;

/** `years` calendar years before `now` (as SQLite's '-7 years' modifier counts them). */
export function yearsBefore(now: Date, years: number): Date {
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years);
  return cutoff;
}

export interface RetentionRule {
  /** What is kept. */
  data: string;
  /** For how long, in words. */
  period: string;
  /** What happens then, and which job does it. */
  then: string;
  /** Who the rule is about: the workspace's own data, or the platform's. */
  scope: "workspace" | "platform";
}

/** The rules as the pages show them, in the policy's words where it has some. */
export const RETENTION_RULES: readonly RetentionRule[] = [
  {
    data: "Message content and recipient address of sent messages",
    period: `${RETENTION.messageContentDays} days after the message was created`,
    then: "Cleared; the message row, its status and timestamps stay for reports (daily, retention job).",
    scope: "workspace",
  },
  {
    data: "Text of AI reply drafts (sent, discarded or never used)",
    period: `${RETENTION.aiDraftDays} days after the draft was made`,
    then: "Cleared; whether it was sent, edited or discarded stays for the acceptance rates (daily, retention job). A sent reply stays in the conversation like any message.",
    scope: "workspace",
  },
  {
    data: "Provider webhook events (delivery receipts and replies as received)",
    period: `${RETENTION.webhookEventDays} days`,
    then: "Deleted (daily, retention job). Replies stay in the conversation history.",
    scope: "workspace",
  },
  {
    data: "Rejected rows of contact imports",
    period: `${RETENTION.importErrorDays} days after the import finished`,
    then: "Deleted (daily, contacts-housekeeping job).",
    scope: "workspace",
  },
  {
    data: "Contact export files",
    period: "Until the download link expires (24 hours)",
    then: "File deleted (daily, contacts-housekeeping job).",
    scope: "workspace",
  },
  {
    data: "Contacts, their consents, events, conversations and suppressions",
    period: "While the workspace exists, or until a verified erasure request",
    then: `Deleted with the workspace's file within ${RETENTION.deletedWorkspaceDays} days of the workspace's deletion (retention job).`,
    scope: "workspace",
  },
  {
    data: "A deleted workspace",
    period: `Up to ${RETENTION.deletedWorkspaceDays} days (a platform admin can restore it for the first ${RETENTION.deletedWorkspaceDays - 1})`,
    then: "Its database file, backups of it, uploads, exports, channel connections, API keys, members and privacy-index entries are deleted (retention job).",
    scope: "platform",
  },
  {
    data: "A closed account (profile, sessions, memberships, sign-in tokens)",
    period: `${RETENTION.closedAccountDays} days after closure (it can be reopened until then)`,
    then: "Deleted; audit and billing rows keep only the account's id (retention job).",
    scope: "platform",
  },
  {
    data: "Audit log",
    period: `${RETENTION.auditYears} years`,
    then: "Deleted (retention job).",
    scope: "platform",
  },
  {
    data: "Billing records (message usage, AI usage)",
    period: `${RETENTION.billingYears} years`,
    then: "Deleted (retention job).",
    scope: "platform",
  },
  {
    data: "Privacy requests that were never verified",
    period: `${RETENTION.unverifiedDsarDays} days`,
    then: "Marked expired and their email, phone and details cleared (retention job).",
    scope: "platform",
  },
  {
    data: "Privacy request export bundles",
    period: "Until the download link expires (7 days)",
    then: "File deleted (retention job).",
    scope: "platform",
  },
  {
    data: "Sessions, email-link tokens, invitations, abuse counters",
    period: "Until they end; tokens 7 days and invitations 30 days after",
    then: "Deleted (hourly, auth-cleanup job).",
    scope: "platform",
  },
];

/** The jobs that carry out these rules, for the "last runs" tables. */
export const RETENTION_JOBS = ["retention", "contacts-housekeeping", "auth-cleanup"] as const;

/** Names for the counts a retention run records (job_runs.counts keys). */
export const RETENTION_COUNT_LABELS: Record<string, string> = {
  accountsDeleted: "Closed accounts deleted",
  workspacesPurged: "Deleted workspaces purged",
  tenantFilesRemoved: "Workspace files removed",
  backupFilesRemoved: "Backup copies removed",
  subjectEntriesDropped: "Privacy-index entries dropped",
  auditRowsDeleted: "Audit rows deleted (7 years)",
  billingLedgerRowsDeleted: "Billing ledger rows deleted (7 years)",
  invoicesDeleted: "Invoices deleted (7 years)",
  usageRowsDeleted: "Message usage rows deleted (7 years)",
  aiUsageRowsDeleted: "AI usage rows deleted (7 years)",
  dsarRequestsExpired: "Unverified privacy requests expired",
  dsarExportsDeleted: "Privacy export bundles deleted",
  messagesCleared: "Message contents cleared",
  aiDraftsCleared: "AI draft texts cleared",
  webhookEventsDeleted: "Webhook events deleted",
  workspaces: "Workspaces visited",
  failed: "Workspaces that failed",
  importErrorsDeleted: "Rejected import rows deleted",
  exportsPurged: "Contact export files deleted",
  sessionsDeleted: "Ended sessions deleted",
  tokensDeleted: "Email-link tokens deleted",
  invitationsDeleted: "Old invitations deleted",
  rateLimitsDeleted: "Abuse counters deleted",
};
