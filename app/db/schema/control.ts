import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/**
 * The control database: everything that is not one workspace's own data.
 * Times are stored as integer milliseconds since the epoch.
 */

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

const time = (name: string) => integer(name, { mode: "timestamp_ms" });

// Relative, not "~/": drizzle-kit loads this file without the app's path aliases.
import { CHANNELS } from "../../lib/channels";
import { ROLES, type Role } from "../../lib/roles";
export { ROLES, type Role };
export const CURRENCIES = ["INR", "USD"] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Registry of workspaces; each owns one SQLite file under DATA_DIR/tenants. */
export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  status: text("status", { enum: ["active", "suspended", "deleted"] })
    .notNull()
    .default("active"),
  createdAt: createdAt(),
  deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  /** ISO 3166 alpha-2 country used to read phone numbers written without a country code. */
  country: text("country").notNull().default("IN"),
  timezone: text("timezone").notNull().default("Asia/Kolkata"),
  currency: text("currency", { enum: CURRENCIES }).notNull().default("INR"),
  /** Campaigns to more recipients than this need a second admin's approval; null: never. */
  approvalThreshold: integer("approval_threshold"),
  /** Members without MFA are sent to enrolment before they see anything else. */
  requireMfa: integer("require_mfa", { mode: "boolean" }).notNull().default(false),
  suspendedAt: time("suspended_at"),
  /** Marketing email: the open pixel and click-tracking redirects (both signed). */
  trackOpens: integer("track_opens", { mode: "boolean" }).notNull().default(true),
  trackClicks: integer("track_clicks", { mode: "boolean" }).notNull().default(true),
  /** Extra opt-out keywords beyond STOP / UNSUBSCRIBE / STOP ALL / रोकें; comma-separated. */
  stopKeywords: text("stop_keywords").notNull().default(""),
  /** Privacy requests about this workspace's contacts are approved without waiting for an admin. */
  dsarAutoApprove: integer("dsar_auto_approve", { mode: "boolean" }).notNull().default(false),
});

/**
 * People who sign in. Email is stored normalised (trimmed, lower-cased). A Google-only user has
 * no password hash until they set one.
 */
export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  passwordHash: text("password_hash"),
  passwordChangedAt: time("password_changed_at"),
  googleSub: text("google_sub").unique(),
  emailVerifiedAt: time("email_verified_at"),
  /** The "I am 18 or older" confirmation (policy: users 18 and over). */
  ageConfirmedAt: time("age_confirmed_at").notNull(),
  policyVersion: text("policy_version").notNull(),
  policyAcceptedAt: time("policy_accepted_at").notNull(),
  /** TOTP secret, vault-encrypted; MFA is on when totpEnabledAt is set. */
  totpSecretEnc: text("totp_secret_enc"),
  totpEnabledAt: time("totp_enabled_at"),
  /** Last accepted TOTP time step, so a code is refused a second time (replay). */
  totpLastStep: integer("totp_last_step"),
  isPlatformAdmin: integer("is_platform_admin", { mode: "boolean" }).notNull().default(false),
  status: text("status", { enum: ["active", "suspended", "closed"] })
    .notNull()
    .default("active"),
  createdAt: createdAt(),
  /** The owner closed the account: it is deleted 90 days later (policy §8) unless reopened. */
  closedAt: time("closed_at"),
});

/** Ten single-use MFA recovery codes per enrolment, stored as hashes. */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: time("used_at"),
  },
  (t) => [index("recovery_codes_user_idx").on(t.userId)],
);

/**
 * Server-side sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy
 * of the database does not hand out live sessions. `mfaPending` sessions may only finish the
 * second factor.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    idHash: text("id_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: time("created_at").notNull(),
    lastSeenAt: time("last_seen_at").notNull(),
    expiresAt: time("expires_at").notNull(),
    mfaPending: integer("mfa_pending", { mode: "boolean" }).notNull().default(false),
    /** Last time the user proved who they are in this session (password or TOTP). */
    authenticatedAt: time("authenticated_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** Single-use links sent by email: verify address, reset password, confirm a new address. */
export const authTokens = sqliteTable(
  "auth_tokens",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tokenHash: text("token_hash").notNull().unique(),
    kind: text("kind", { enum: ["verify_email", "reset_password", "change_email"] }).notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** For change_email: the address being confirmed. */
    email: text("email"),
    /**
     * For verify_email: a local path to continue to once verified (an invitation the person
     * signed up from), kept here so it survives the trip through their inbox.
     */
    returnTo: text("return_to"),
    createdAt: time("created_at").notNull(),
    expiresAt: time("expires_at").notNull(),
    usedAt: time("used_at"),
  },
  (t) => [index("auth_tokens_user_idx").on(t.userId, t.kind)],
);

export const memberships = sqliteTable(
  "memberships",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    index("memberships_user_idx").on(t.userId),
  ],
);

export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: time("created_at").notNull(),
    expiresAt: time("expires_at").notNull(),
    acceptedAt: time("accepted_at"),
    revokedAt: time("revoked_at"),
  },
  (t) => [index("invitations_workspace_idx").on(t.workspaceId)],
);

/** CIDR entries; when a workspace has any, its dashboard and API answer only those addresses. */
export const ipAllowlist = sqliteTable(
  "ip_allowlist",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    cidr: text("cidr").notNull(),
    label: text("label").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("ip_allowlist_entry_idx").on(t.workspaceId, t.cidr)],
);

/** Workspace API keys: shown once, stored as SHA-256 of the secret part. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the key, shown in lists so people can tell keys apart. */
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    role: text("role", { enum: ROLES }).notNull(),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    lastUsedAt: time("last_used_at"),
    revokedAt: time("revoked_at"),
  },
  (t) => [index("api_keys_workspace_idx").on(t.workspaceId)],
);

/**
 * Counters for abuse limits (per IP, per account). `strikes` counts lockouts in a row so each
 * one lasts longer than the last (progressive lockout).
 */
export const rateLimits = sqliteTable("rate_limits", {
  key: text("key").primaryKey(),
  count: integer("count").notNull(),
  windowStart: time("window_start").notNull(),
  lockedUntil: time("locked_until"),
  strikes: integer("strikes").notNull().default(0),
});

/** Addresses that asked for no more non-essential mail of a category (policy §6). */
export const mailOptOuts = sqliteTable(
  "mail_opt_outs",
  {
    email: text("email").notNull(),
    category: text("category").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.email, t.category] })],
);

/**
 * Append-only audit trail. Each row carries the hash of the previous row, so an edit or a
 * deletion in the middle breaks the chain (see domain/audit). Triggers in the migration refuse
 * UPDATE, and DELETE of rows younger than the 7-year retention.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    actorType: text("actor_type", {
      enum: ["user", "admin", "system", "api_key", "cli"],
    }).notNull(),
    actorId: text("actor_id"),
    workspaceId: text("workspace_id"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: text("details"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("audit_log_workspace_idx").on(t.workspaceId, t.id),
    index("audit_log_actor_idx").on(t.actorId, t.id),
    index("audit_log_at_idx").on(t.at),
  ],
);

/** One row per job run, whatever started it. */
export const jobRuns = sqliteTable(
  "job_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    trigger: text("trigger", { enum: ["schedule", "cli"] }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
    outcome: text("outcome", { enum: ["running", "ok", "error", "skipped"] }).notNull(),
    counts: text("counts"),
    error: text("error"),
  },
  (t) => [index("job_runs_name_idx").on(t.name, t.startedAt)],
);

/** Lease per job so that no two processes (server, CLI) run the same job at once. */
export const jobLocks = sqliteTable("job_locks", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  lockedUntil: integer("locked_until", { mode: "timestamp_ms" }).notNull(),
});

// ---------------------------------------------------------------------------------------------
// Delivery (area: delivery). Integrations live here, not in the workspace's file, because a
// provider webhook arrives with nothing but the integration id in its URL: one indexed lookup
// finds the workspace (ADR 0008).

export const INTEGRATION_PROVIDERS = [
  "whatsapp",
  "email-ses",
  "email-smtp",
  "sms",
  "telegram",
] as const;
export type IntegrationProvider = (typeof INTEGRATION_PROVIDERS)[number];

/** A workspace's account with a provider: one per channel; none means the channel's sandbox. */
export const integrations = sqliteTable(
  "integrations",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    provider: text("provider", { enum: INTEGRATION_PROVIDERS }).notNull(),
    /** Every field of the provider's form as JSON, vault-encrypted (secrets and all). */
    configEnc: text("config_enc").notNull(),
    /** The pace the dispatcher keeps for this account, messages per second. */
    ratePerSecond: integer("rate_per_second").notNull(),
    /** Non-secret facts learnt from the provider (messaging tier, bot username); JSON. */
    details: text("details").notNull().default("{}"),
    lastCheckedAt: time("last_checked_at"),
    lastCheckOk: integer("last_check_ok", { mode: "boolean" }),
    lastCheckDetail: text("last_check_detail"),
    /** The part of the setup the last failed check stopped at, e.g. "Access token". */
    lastCheckStep: text("last_check_step"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [uniqueIndex("integrations_workspace_channel_unique").on(t.workspaceId, t.channel)],
);

/**
 * Which workspaces have messages waiting, and from when: the dispatcher reads this instead of
 * opening every workspace's file. A row stays until the workspace's outbox is empty.
 */
export const deliveryQueue = sqliteTable(
  "delivery_queue",
  {
    workspaceId: text("workspace_id")
      .primaryKey()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    nextDueAt: time("next_due_at").notNull(),
  },
  (t) => [index("delivery_queue_due_idx").on(t.nextDueAt)],
);

/**
 * Which workspaces have inbox work coming (a snooze ending, conversations waiting in the
 * assignment queue), and from when: the minutely inbox job reads this instead of opening every
 * workspace's file. No row: nothing in the inbox is due.
 */
export const inboxDue = sqliteTable(
  "inbox_due",
  {
    workspaceId: text("workspace_id")
      .primaryKey()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    nextDueAt: time("next_due_at").notNull(),
  },
  (t) => [index("inbox_due_due_idx").on(t.nextDueAt)],
);

/** Messages sent per workspace, channel and day (UTC): usage metering for billing. */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** YYYY-MM-DD, UTC. */
    day: text("day").notNull(),
    channel: text("channel").notNull(),
    messages: integer("messages").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.day, t.channel] })],
);

/** Every AI copy request: who, when, which model and the tokens it used (never the prompt). */
export const aiUsage = sqliteTable(
  "ai_usage",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: text("user_id"),
    at: time("at").notNull(),
    model: text("model").notNull(),
    purpose: text("purpose").notNull(),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    outcome: text("outcome").notNull(),
  },
  (t) => [index("ai_usage_workspace_idx").on(t.workspaceId, t.at)],
);

// ---------------------------------------------------------------------------------------------
// Privacy operations (area: privacy).

/**
 * Which workspaces hold a person, by a keyed hash (HMAC with the platform's subject-index key)
 * of their normalised email or phone: a privacy request finds its subject among thousands of
 * workspace files without opening them, and the index holds no readable address.
 */
export const subjectIndex = sqliteTable(
  "subject_index",
  {
    hash: text("hash").notNull(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.hash, t.workspaceId] }),
    index("subject_index_workspace_idx").on(t.workspaceId),
  ],
);

export const DSAR_TYPES = [
  "access",
  "export",
  "correction",
  "erasure",
  "opt_out",
  "child",
] as const;
export type DsarType = (typeof DSAR_TYPES)[number];
export const DSAR_STATUSES = ["unverified", "open", "completed", "declined", "expired"] as const;
export type DsarStatus = (typeof DSAR_STATUSES)[number];

/**
 * A data subject request, from the platform portal (`workspaceId` null: every workspace and the
 * person's own account) or a workspace's portal. Identifiers are vault-encrypted, with keyed
 * hashes to find them; nothing is revealed to the requester before verification.
 */
export const dsarRequests = sqliteTable(
  "dsar_requests",
  {
    id: text("id").primaryKey(),
    /** The portal it came through: null for the platform's /dsar. */
    portalWorkspaceId: text("portal_workspace_id").references(() => workspaces.id, {
      onDelete: "set null",
    }),
    type: text("type", { enum: DSAR_TYPES }).notNull(),
    emailEnc: text("email_enc"),
    phoneEnc: text("phone_enc"),
    emailHash: text("email_hash"),
    phoneHash: text("phone_hash"),
    /**
     * Whether the requester proved each identifier (the link for the email, the code for the
     * phone): null when not given, false until proven. Only proven identifiers are ever used;
     * an unproven one is cleared when the request is confirmed (ADR 0014).
     */
    emailProven: integer("email_proven", { mode: "boolean" }),
    phoneProven: integer("phone_proven", { mode: "boolean" }),
    /** What to change (correction) or other details the requester gave; vault-encrypted. */
    detailsEnc: text("details_enc"),
    /** Opt-out: "all" workspaces that hold the subject, or a JSON list of workspace ids. */
    scope: text("scope"),
    source: text("source", { enum: ["portal", "email"] }).notNull(),
    /** The operator who logged a request that came by email. */
    loggedBy: text("logged_by"),
    status: text("status", { enum: DSAR_STATUSES }).notNull(),
    /** Single-use verification: a link token or a phone code, stored as hashes. */
    verifyTokenHash: text("verify_token_hash").unique(),
    verifyCodeHash: text("verify_code_hash"),
    verifyExpiresAt: time("verify_expires_at"),
    verifyAttempts: integer("verify_attempts").notNull().default(0),
    receivedAt: time("received_at").notNull(),
    verifiedAt: time("verified_at"),
    /** Received + 30 days (policy §6). */
    dueAt: time("due_at").notNull(),
    completedAt: time("completed_at"),
    outcome: text("outcome"),
    /** When the platform operators were told it is past its due date unanswered (once). */
    escalatedAt: time("escalated_at"),
  },
  (t) => [
    index("dsar_requests_status_idx").on(t.status, t.dueAt),
    index("dsar_requests_email_idx").on(t.emailHash),
    index("dsar_requests_phone_idx").on(t.phoneHash),
  ],
);

export const DSAR_TASK_STATUSES = ["pending", "approved", "declined", "completed"] as const;
export type DsarTaskStatus = (typeof DSAR_TASK_STATUSES)[number];

/**
 * One holder's part of a request: the platform for account data (`workspaceId` null, the admin
 * queue) or a workspace for its contacts (its privacy queue). `dueAt` is the request's 30 days;
 * it never moves.
 */
export const dsarTasks = sqliteTable(
  "dsar_tasks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    requestId: text("request_id")
      .notNull()
      .references(() => dsarRequests.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").references(() => workspaces.id, { onDelete: "cascade" }),
    /** Account data: the user the request is about. */
    userId: text("user_id"),
    status: text("status", { enum: DSAR_TASK_STATUSES }).notNull(),
    dueAt: time("due_at").notNull(),
    decidedBy: text("decided_by"),
    decidedAt: time("decided_at"),
    declineReason: text("decline_reason"),
    remindedAt7: time("reminded_at_7"),
    remindedAt2: time("reminded_at_2"),
    /** When owners and admins were told the task arrived (null: on the job's next run). */
    notifiedAt: time("notified_at"),
    /** Access/export: the zip under DATA_DIR/exports, downloadable until `exportExpiresAt`. */
    exportFile: text("export_file"),
    exportExpiresAt: time("export_expires_at"),
    completedAt: time("completed_at"),
    /** What fulfilment did, as counts per kind (never content). */
    counts: text("counts"),
    createdAt: time("created_at").notNull(),
  },
  (t) => [
    index("dsar_tasks_request_idx").on(t.requestId),
    index("dsar_tasks_workspace_idx").on(t.workspaceId, t.status, t.dueAt),
    index("dsar_tasks_status_idx").on(t.status, t.dueAt),
  ],
);

/**
 * Privacy policy versions. Version 1 (effective 2026-06-10) ships with the product; a new one
 * takes effect at least 14 days after it is published (policy §9), and publishing notifies
 * every user by email and an in-app banner until then.
 */
export const policyVersions = sqliteTable("policy_versions", {
  version: integer("version").primaryKey(),
  /** YYYY-MM-DD, the day it takes effect (UTC). */
  effectiveDate: text("effective_date").notNull(),
  markdown: text("markdown").notNull(),
  publishedAt: time("published_at").notNull(),
  publishedBy: text("published_by"),
  /** How many users the notice email was queued for. */
  notified: integer("notified").notNull().default(0),
});

/** Each user's acceptance of each policy version. */
export const policyAcceptances = sqliteTable(
  "policy_acceptances",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    version: integer("version")
      .notNull()
      .references(() => policyVersions.version),
    acceptedAt: time("accepted_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.version] })],
);

export const LEDGER_KINDS = [
  "charge",
  "payment",
  "refund",
  "credit_note",
  "wallet_topup",
  "wallet_debit",
  "wallet_refund",
] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/**
 * Every movement of money, append-only (triggers refuse UPDATE, and DELETE of rows younger than
 * 7 years). No foreign key to workspaces: billing records outlive a deleted workspace. The sign
 * of `amount` is fixed by its kind (CHECK below): what the customer owes goes up with a charge or
 * refund and down with a payment or credit note; the wallet goes up with a top-up or wallet
 * refund and down with a debit.
 */
export const billingLedger = sqliteTable(
  "billing_ledger",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: text("workspace_id").notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    kind: text("kind", { enum: LEDGER_KINDS }).notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency", { enum: CURRENCIES }).notNull(),
    /** "stripe", "razorpay", "sandbox"; null for an entry no provider saw. */
    provider: text("provider"),
    providerRef: text("provider_ref"),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    /** invoices.id; not a foreign key so the 7-year purge can take rows in any order. */
    invoiceId: integer("invoice_id"),
    data: text("data"),
  },
  (t) => [
    index("billing_ledger_workspace_idx").on(t.workspaceId, t.id),
    index("billing_ledger_at_idx").on(t.at),
    check(
      "billing_ledger_amount_sign",
      sql`(${t.kind} IN ('charge', 'refund', 'wallet_topup', 'wallet_refund') AND ${t.amount} > 0) OR (${t.kind} IN ('payment', 'credit_note', 'wallet_debit') AND ${t.amount} < 0)`,
    ),
  ],
);

/**
 * Tax invoices, numbered gaplessly per Indian financial year (`PE2627-000123`). Append-only like
 * the ledger, and kept after the workspace is deleted.
 */
export const invoices = sqliteTable(
  "invoices",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    number: text("number").notNull().unique(),
    /** "2627" for April 2026 to March 2027. */
    financialYear: text("financial_year").notNull(),
    sequence: integer("sequence").notNull(),
    workspaceId: text("workspace_id").notNull(),
    currency: text("currency", { enum: CURRENCIES }).notNull(),
    subtotal: integer("subtotal").notNull(),
    cgst: integer("cgst").notNull(),
    sgst: integer("sgst").notNull(),
    igst: integer("igst").notNull(),
    total: integer("total").notNull(),
    taxKind: text("tax_kind", { enum: ["intra_state", "inter_state", "export"] }).notNull(),
    placeOfSupply: text("place_of_supply"),
    /** Name, GSTIN, address and state as they were when the invoice was issued. */
    customer: text("customer").notNull(),
    /** Lines, SAC, LUT reference: what the printed invoice shows beyond the totals. */
    data: text("data").notNull(),
    issuedAt: integer("issued_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("invoices_year_sequence_idx").on(t.financialYear, t.sequence),
    index("invoices_workspace_idx").on(t.workspaceId, t.id),
  ],
);

/** The last invoice number handed out in each financial year. */
export const invoiceSequences = sqliteTable("invoice_sequences", {
  financialYear: text("financial_year").primaryKey(),
  lastNumber: integer("last_number").notNull(),
});
