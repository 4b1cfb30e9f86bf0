import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
// Relative, not "~/": drizzle-kit loads this file without the app's path aliases.
import { ATTRIBUTE_TYPES, type AttributeType } from "../../lib/attribute-types";
import { CHANNELS } from "../../lib/channels";

/**
 * One workspace's own database (DATA_DIR/tenants/<workspaceId>.db). Domain areas add their
 * tables here (contacts, templates, campaigns, messages, ...), each owned by one area.
 * Times are integer milliseconds since the epoch.
 */

const time = (name: string) => integer(name, { mode: "timestamp_ms" });

/** Facts about the file itself, e.g. which workspace it belongs to. */
export const tenantMeta = sqliteTable("tenant_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

// ---------------------------------------------------------------------------------------------
// Contacts (area: contacts). The people a workspace messages (policy §2.3).

export { ATTRIBUTE_TYPES, type AttributeType };

/**
 * A contact: unique by normalised email and by E.164 phone (either may be missing, not both).
 * `nameKey` is the lower-cased name, so prefix search is an index range scan.
 */
export const contacts = sqliteTable(
  "contacts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email"),
    phone: text("phone"),
    name: text("name").notNull().default(""),
    nameKey: text("name_key").notNull().default(""),
    /** ISO 3166 alpha-2 country of the phone number, for segments. */
    country: text("country"),
    /** The Telegram chat this person linked through the workspace's bot (deep link /start). */
    telegramChatId: text("telegram_chat_id"),
    /** Custom attribute values by definition key, validated against attribute_definitions. */
    attributes: text("attributes").notNull().default("{}"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("contacts_email_unique").on(t.email),
    uniqueIndex("contacts_phone_unique").on(t.phone),
    index("contacts_name_key_idx").on(t.nameKey),
    index("contacts_created_idx").on(t.createdAt),
    index("contacts_country_idx").on(t.country),
    uniqueIndex("contacts_telegram_chat_unique").on(t.telegramChatId),
  ],
);

/** Custom attribute definitions: every write of `contacts.attributes` is checked against them. */
export const attributeDefinitions = sqliteTable("attribute_definitions", {
  key: text("key").primaryKey(),
  label: text("label").notNull(),
  type: text("type", { enum: ATTRIBUTE_TYPES }).notNull(),
  /** For "choice": the allowed values, JSON array of strings. */
  options: text("options"),
  createdAt: time("created_at").notNull(),
});

export const tags = sqliteTable(
  "tags",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    createdAt: time("created_at").notNull(),
  },
  (t) => [uniqueIndex("tags_name_unique").on(sql`lower(${t.name})`)],
);

export const contactTags = sqliteTable(
  "contact_tags",
  {
    contactId: integer("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    tagId: integer("tag_id")
      .notNull()
      .references(() => tags.id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.contactId, t.tagId] }),
    index("contact_tags_tag_idx").on(t.tagId, t.contactId),
  ],
);

export const lists = sqliteTable(
  "lists",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    createdAt: time("created_at").notNull(),
  },
  (t) => [uniqueIndex("lists_name_unique").on(sql`lower(${t.name})`)],
);

export const listMembers = sqliteTable(
  "list_members",
  {
    listId: integer("list_id")
      .notNull()
      .references(() => lists.id, { onDelete: "cascade" }),
    contactId: integer("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    addedAt: time("added_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.listId, t.contactId] }),
    index("list_members_contact_idx").on(t.contactId),
  ],
);

/** Current consent per contact and channel; every change is also a contact event. */
export const consents = sqliteTable(
  "consents",
  {
    contactId: integer("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    status: text("status", { enum: ["granted", "withdrawn"] }).notNull(),
    /** Where the consent came from, in the tenant's words ("signed up on website form"). */
    source: text("source").notNull(),
    at: time("at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.contactId, t.channel] }),
    index("consents_channel_status_idx").on(t.channel, t.status, t.contactId),
  ],
);

/**
 * A contact's timeline: consent changes, imports, edits, and (from the delivery engine)
 * message.sent / delivered / opened / clicked / replied. Segments filter on it.
 */
export const contactEvents = sqliteTable(
  "contact_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    contactId: integer("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    at: time("at").notNull(),
    type: text("type").notNull(),
    channel: text("channel", { enum: CHANNELS }),
    /** JSON details for display. */
    data: text("data"),
  },
  (t) => [
    index("contact_events_contact_idx").on(t.contactId, t.at),
    index("contact_events_type_idx").on(t.type, t.at, t.contactId),
  ],
);

export const SUPPRESSION_REASONS = [
  "unsubscribe",
  "erasure",
  "bounce",
  "complaint",
  "manual",
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * People who must not be messaged, kept as a keyed hash (HMAC with this workspace's own key in
 * tenant_meta) of the normalised email or phone, so an erased person leaves no readable trace
 * yet a re-import cannot re-subscribe them. `channel` "all" covers every channel.
 */
export const suppressions = sqliteTable(
  "suppressions",
  {
    hash: text("hash").notNull(),
    /** "email" or "phone": which identifier was hashed. */
    kind: text("kind", { enum: ["email", "phone"] }).notNull(),
    channel: text("channel", { enum: [...CHANNELS, "all"] }).notNull(),
    reason: text("reason", { enum: SUPPRESSION_REASONS }).notNull(),
    createdAt: time("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hash, t.channel] })],
);

export const SEGMENT_VERSION = 1;

/** Saved audience definitions (a filter tree, JSON), usable by campaigns. */
export const segments = sqliteTable("segments", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  definition: text("definition").notNull(),
  createdAt: time("created_at").notNull(),
  updatedAt: time("updated_at").notNull(),
});

export const IMPORT_STATUSES = [
  "uploaded",
  "queued",
  "running",
  "cancelling",
  "cancelled",
  "completed",
  "failed",
] as const;

/** One CSV import: the upload, its column mapping and options, progress and counts. */
export const contactImports = sqliteTable(
  "contact_imports",
  {
    id: text("id").primaryKey(),
    status: text("status", { enum: IMPORT_STATUSES }).notNull(),
    fileName: text("file_name").notNull(),
    /** Relative to DATA_DIR. */
    filePath: text("file_path").notNull(),
    fileBytes: integer("file_bytes").notNull(),
    /** Detected encoding, delimiter and headers; JSON. */
    format: text("format"),
    /** Column index → field; JSON. */
    mapping: text("mapping"),
    /** on-existing, list, tags, consent + source; JSON. */
    options: text("options"),
    bytesDone: integer("bytes_done").notNull().default(0),
    rowsDone: integer("rows_done").notNull().default(0),
    imported: integer("imported").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    suppressed: integer("suppressed").notNull().default(0),
    errors: integer("errors").notNull().default(0),
    /** Rows imported without a value that could not be used (see contact_import_warnings). */
    warnings: integer("warnings").notNull().default(0),
    error: text("error"),
    createdBy: text("created_by"),
    createdAt: time("created_at").notNull(),
    startedAt: time("started_at"),
    finishedAt: time("finished_at"),
  },
  (t) => [index("contact_imports_created_idx").on(t.createdAt)],
);

/** Rows an import rejected, with the reason; downloadable as CSV. */
export const contactImportErrors = sqliteTable(
  "contact_import_errors",
  {
    importId: text("import_id")
      .notNull()
      .references(() => contactImports.id, { onDelete: "cascade" }),
    row: integer("row").notNull(),
    column: text("column").notNull(),
    reason: text("reason").notNull(),
  },
  (t) => [index("contact_import_errors_import_idx").on(t.importId, t.row)],
);

/**
 * Values an import left out of rows it kept (an unusable email beside a usable phone, or the
 * reverse), with the reason; shown in the import report. Rejected rows are in
 * contact_import_errors.
 */
export const contactImportWarnings = sqliteTable(
  "contact_import_warnings",
  {
    importId: text("import_id")
      .notNull()
      .references(() => contactImports.id, { onDelete: "cascade" }),
    row: integer("row").notNull(),
    column: text("column").notNull(),
    reason: text("reason").notNull(),
  },
  (t) => [index("contact_import_warnings_import_idx").on(t.importId, t.row)],
);

/** Contact exports, written by a worker, downloadable by an expiring link. */
export const contactExports = sqliteTable("contact_exports", {
  id: text("id").primaryKey(),
  status: text("status", { enum: ["queued", "running", "completed", "failed"] }).notNull(),
  /** What was exported: all, list:<id> or segment:<id>. */
  scope: text("scope").notNull(),
  filePath: text("file_path"),
  rows: integer("rows").notNull().default(0),
  tokenHash: text("token_hash").notNull(),
  expiresAt: time("expires_at").notNull(),
  error: text("error"),
  createdBy: text("created_by"),
  createdAt: time("created_at").notNull(),
  finishedAt: time("finished_at"),
});

// ---------------------------------------------------------------------------------------------
// Delivery (area: delivery). The outbox and the message history are one table.

export const MESSAGE_STATUSES = [
  "queued",
  "sending",
  "sent",
  "delivered",
  "read",
  "failed",
  "bounced",
  "skipped",
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * One message to one recipient. `queued` rows with `next_attempt_at` due are claimed by the
 * dispatcher (status `sending`, a lease owned by the claiming process); the result moves them
 * on. Provider status webhooks move them forward only. Every row ends delivered/read, failed or
 * bounced with a reason, or skipped with a reason.
 */
export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    contactId: integer("contact_id").references(() => contacts.id, { onDelete: "set null" }),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    /** The integration that sends it; null: the channel's sandbox (nothing leaves the box). */
    integrationId: text("integration_id"),
    /**
     * "marketing" needs consent and carries unsubscribe; "service" answers a person;
     * "confirmation" is the one reply to an opt-out (it goes despite the new suppression).
     */
    kind: text("kind", { enum: ["marketing", "service", "confirmation"] }).notNull(),
    /** E.164 phone, email address or Telegram chat id. */
    recipient: text("recipient").notNull(),
    status: text("status", { enum: MESSAGE_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: time("next_attempt_at").notNull(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: time("lease_expires_at"),
    providerMessageId: text("provider_message_id"),
    /** Caller's key (e.g. campaign:contact): queueing twice does not send twice. */
    idempotencyKey: text("idempotency_key"),
    /** Why it failed, bounced or was skipped (the provider's reason where there is one). */
    error: text("error"),
    campaignId: integer("campaign_id"),
    /** The inbox conversation it belongs to (replies, templates and campaign messages alike). */
    conversationId: integer("conversation_id"),
    /** The member who wrote it (inbox replies); null for campaigns and the system. */
    authorId: text("author_id"),
    /** A/B variant of the campaign ("A", "B", ...), null outside tests. */
    variant: text("variant"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
    sentAt: time("sent_at"),
    deliveredAt: time("delivered_at"),
    readAt: time("read_at"),
    openedAt: time("opened_at"),
    clickedAt: time("clicked_at"),
    failedAt: time("failed_at"),
  },
  (t) => [
    index("messages_due_idx").on(t.status, t.nextAttemptAt),
    uniqueIndex("messages_provider_id_unique").on(t.providerMessageId),
    uniqueIndex("messages_idempotency_unique").on(t.idempotencyKey),
    index("messages_contact_idx").on(t.contactId, t.createdAt),
    index("messages_campaign_idx").on(t.campaignId, t.status),
    index("messages_created_idx").on(t.createdAt),
    index("messages_conversation_idx")
      .on(t.conversationId, t.createdAt)
      .where(sql`${t.conversationId} IS NOT NULL`),
    // A campaign's opens, reads and clicks are counted from these small partial indexes (the
    // progress bar asks every few seconds), not from a pass over all its messages.
    index("messages_campaign_opened_idx")
      .on(t.campaignId)
      .where(sql`${t.openedAt} IS NOT NULL`),
    index("messages_campaign_read_idx")
      .on(t.campaignId)
      .where(sql`${t.readAt} IS NOT NULL`),
    index("messages_campaign_clicked_idx")
      .on(t.campaignId)
      .where(sql`${t.clickedAt} IS NOT NULL`),
  ],
);

/**
 * What a message says: rendered MessageContent (app/channels/types.ts), JSON. Kept apart from
 * `messages` so the rows that reports, queues and lists scan stay small (an email's HTML is
 * often larger than a page), and so retention can drop content while the delivery record stays.
 * A campaign message has no row until it is sent (it is written then, ADR 0011).
 */
export const messageContents = sqliteTable("message_contents", {
  messageId: text("message_id")
    .primaryKey()
    .references(() => messages.id, { onDelete: "cascade" }),
  content: text("content").notNull(),
});

/**
 * Verified provider webhook events, stored before the provider gets its 200 and applied
 * afterwards; unique per integration and provider event id, so a replay is stored once.
 */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    integrationId: text("integration_id").notNull(),
    eventId: text("event_id").notNull(),
    /** The ChannelEvent (app/channels/types.ts), JSON. */
    event: text("event").notNull(),
    receivedAt: time("received_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    processedAt: time("processed_at"),
    /** What applying it did, or why it could not be applied. */
    outcome: text("outcome"),
  },
  (t) => [
    uniqueIndex("webhook_events_unique").on(t.integrationId, t.eventId),
    index("webhook_events_pending_idx").on(t.processedAt, t.id),
  ],
);

/** Messages people sent us (WhatsApp, SMS, Telegram replies): the conversation history. */
export const inboundMessages = sqliteTable(
  "inbound_messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    contactId: integer("contact_id").references(() => contacts.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    integrationId: text("integration_id"),
    sender: text("sender").notNull(),
    text: text("text").notNull(),
    providerMessageId: text("provider_message_id").notNull(),
    at: time("at").notNull(),
    conversationId: integer("conversation_id"),
    /** Media the customer sent (image, document...), stored as an attachment. */
    attachmentId: text("attachment_id"),
    /** The campaign this answers (WhatsApp reply context, or the last campaign message). */
    campaignId: integer("campaign_id"),
    /** Email: the customer's Message-ID (no angle brackets), answered with In-Reply-To. */
    emailMessageId: text("email_message_id"),
    /** Email: the subject as the customer sent it, answered with "Re: <subject>". */
    emailSubject: text("email_subject"),
    /** Email: the References chain it carried (ids oldest first, space-separated). */
    emailReferences: text("email_references"),
    /** Written by a machine (an out-of-office reply, a mailing list): shown so, never answered. */
    automated: integer("automated", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("inbound_messages_conversation_idx")
      .on(t.conversationId, t.at)
      .where(sql`${t.conversationId} IS NOT NULL`),
    uniqueIndex("inbound_messages_provider_unique").on(t.channel, t.providerMessageId),
    index("inbound_messages_contact_idx").on(t.contactId, t.channel, t.at),
    index("inbound_messages_at_idx").on(t.at),
  ],
);

/** Telegram deep-link tokens: t.me/<bot>?start=<token> links the chat to a contact. */
export const telegramLinks = sqliteTable("telegram_links", {
  token: text("token").primaryKey(),
  /** The contact to link; null: a workspace-wide link that creates a contact per chat. */
  contactId: integer("contact_id").references(() => contacts.id, { onDelete: "cascade" }),
  createdAt: time("created_at").notNull(),
  usedAt: time("used_at"),
});

// ---------------------------------------------------------------------------------------------
// Templates and campaigns (area: campaigns).

export const TEMPLATE_STATUSES = [
  "draft",
  "ready",
  "pending",
  "approved",
  "rejected",
  "paused",
  "disabled",
] as const;

/**
 * A message written once per channel. `content` holds the channel's fields (email subject,
 * preheader, html/text; SMS text + DLT id; Telegram text + buttons; WhatsApp components and the
 * mapping of {{n}} to contact fields). WhatsApp templates come from Meta (sync) or are submitted
 * to it; `status` is Meta's review state there, "ready" for the other channels.
 */
export const templates = sqliteTable(
  "templates",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    name: text("name").notNull(),
    /** WhatsApp: language code (en, hi, en_US); others: "". */
    language: text("language").notNull().default(""),
    /** WhatsApp: MARKETING, UTILITY or AUTHENTICATION; others: null. */
    category: text("category"),
    status: text("status", { enum: TEMPLATE_STATUSES }).notNull(),
    /** Why Meta rejected it, in Meta's words. */
    statusReason: text("status_reason"),
    /** Meta's template id. */
    externalId: text("external_id"),
    content: text("content").notNull(),
    /** Variables the content uses (checked at save), JSON array. */
    variables: text("variables").notNull().default("[]"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
    syncedAt: time("synced_at"),
  },
  (t) => [uniqueIndex("templates_channel_name_unique").on(t.channel, t.name, t.language)],
);

export const CAMPAIGN_STATUSES = [
  "draft",
  "pending_approval",
  "scheduled",
  "queuing",
  "sending",
  "testing",
  "paused",
  "completed",
  "cancelled",
  "failed",
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/**
 * A send of templates to an audience on one channel. `audience` is {type: segment|list, id};
 * `variants` [{key, templateId}] (one for a plain campaign, 2-4 for an A/B test with
 * `abTest` {samplePercent, metric, decideAfterMinutes}); `schedule` {type: now|at|local, ...}.
 * `review` is what the person saw before sending (audience, skips, cost, duration).
 */
export const campaigns = sqliteTable(
  "campaigns",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    integrationId: text("integration_id"),
    status: text("status", { enum: CAMPAIGN_STATUSES }).notNull(),
    audience: text("audience").notNull(),
    variants: text("variants").notNull(),
    abTest: text("ab_test"),
    winner: text("winner"),
    schedule: text("schedule").notNull(),
    /** Messages per second for this campaign (under the account's own rate); null: the account's. */
    throttlePerSecond: integer("throttle_per_second"),
    review: text("review"),
    /** How many recipients have been queued so far (progress of the queuing worker). */
    queued: integer("queued").notNull().default(0),
    total: integer("total").notNull().default(0),
    error: text("error"),
    createdBy: text("created_by"),
    approvedBy: text("approved_by"),
    approvedAt: time("approved_at"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
    startedAt: time("started_at"),
    finishedAt: time("finished_at"),
  },
  (t) => [index("campaigns_status_idx").on(t.status, t.updatedAt)],
);

/** Per-channel prices for the cost estimate, in the workspace currency's minor unit. */
export const prices = sqliteTable(
  "prices",
  {
    channel: text("channel", { enum: CHANNELS }).notNull(),
    /** WhatsApp: template category; SMS: "segment"; email/telegram: "message". */
    unit: text("unit").notNull(),
    /** ISO country of the recipient, or "*" for any. */
    country: text("country").notNull(),
    priceMinor: integer("price_minor").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.channel, t.unit, t.country] })],
);
