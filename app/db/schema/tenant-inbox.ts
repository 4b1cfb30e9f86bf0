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
import { CHANNELS } from "../../lib/channels";
import { contacts } from "./tenant";

/**
 * The inbox's tables in the workspace's own database (area: inbox): conversations with the
 * people who write back, and the team answering them. Same file and rules as ./tenant.ts.
 */

const time = (name: string) => integer(name, { mode: "timestamp_ms" });

/** A group of members that conversations can be routed to (e.g. "Sales", "Support"). */
export const teams = sqliteTable("teams", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  createdAt: time("created_at").notNull(),
});

/** Which members (control-db user ids) belong to which team. */
export const teamMembers = sqliteTable(
  "team_members",
  {
    teamId: integer("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.userId] }),
    index("team_members_user_idx").on(t.userId),
  ],
);

/**
 * A member's inbox state: whether they take auto-assigned conversations (`available`), when
 * the inbox last heard from them (an open inbox page), their cap (null: the workspace's), and
 * when they were last given one (round-robin order).
 */
export const agentStates = sqliteTable("agent_states", {
  userId: text("user_id").primaryKey(),
  available: integer("available", { mode: "boolean" }).notNull().default(false),
  capacity: integer("capacity"),
  lastSeenAt: time("last_seen_at"),
  lastAssignedAt: time("last_assigned_at"),
  updatedAt: time("updated_at").notNull(),
});

export const CONVERSATION_STATUSES = ["open", "pending", "snoozed", "resolved"] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/**
 * One thread with one contact on one channel account. At most one conversation per contact,
 * channel and account is not resolved at a time (partial unique index): every reply, template
 * and campaign answer joins it. `accountKey` is the integration id, "" for the sandbox.
 * `waitingSince` is the oldest customer message nobody has answered (null: nothing waits);
 * `queuedAt` is set while it waits in the auto-assignment queue (FIFO by it).
 */
export const conversations = sqliteTable(
  "conversations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    contactId: integer("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    accountKey: text("account_key").notNull(),
    status: text("status", { enum: CONVERSATION_STATUSES }).notNull(),
    assigneeId: text("assignee_id"),
    teamId: integer("team_id").references(() => teams.id, { onDelete: "set null" }),
    /** Snoozed: wakes at this time; null while snoozed means "until the next reply". */
    snoozedUntil: time("snoozed_until"),
    waitingSince: time("waiting_since"),
    queuedAt: time("queued_at"),
    lastMessageAt: time("last_message_at").notNull(),
    lastInboundAt: time("last_inbound_at"),
    /** The newest message's first characters, for the list. */
    preview: text("preview").notNull().default(""),
    /** The campaign the customer last answered, named in the thread. */
    lastCampaignId: integer("last_campaign_id"),
    firstResponseAt: time("first_response_at"),
    resolvedAt: time("resolved_at"),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("conversations_active_unique")
      .on(t.contactId, t.channel, t.accountKey)
      .where(sql`${t.status} <> 'resolved'`),
    index("conversations_contact_idx").on(t.contactId, t.lastMessageAt),
    index("conversations_status_idx").on(t.status, t.lastMessageAt),
    index("conversations_assignee_idx").on(t.assigneeId, t.status, t.lastMessageAt),
    index("conversations_team_idx").on(t.teamId, t.status, t.lastMessageAt),
    // "Oldest waiting first" walks these per view instead of sorting the whole status.
    index("conversations_status_waiting_idx").on(t.status, t.waitingSince),
    index("conversations_assignee_waiting_idx").on(t.assigneeId, t.status, t.waitingSince),
    index("conversations_team_waiting_idx").on(t.teamId, t.status, t.waitingSince),
    index("conversations_queue_idx")
      .on(t.queuedAt)
      .where(sql`${t.queuedAt} IS NOT NULL`),
    index("conversations_snoozed_idx")
      .on(t.snoozedUntil)
      .where(sql`${t.status} = 'snoozed'`),
  ],
);

/**
 * What happened in a conversation besides messages: private notes (kind "note", with
 * @mentioned user ids in `data`) and activity (assigned, status changes, labels, CSAT...).
 * `actorId` is a user id, null for the system.
 */
export const conversationActivity = sqliteTable(
  "conversation_activity",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    at: time("at").notNull(),
    actorId: text("actor_id"),
    kind: text("kind").notNull(),
    body: text("body").notNull().default(""),
    data: text("data"),
  },
  (t) => [index("conversation_activity_conversation_idx").on(t.conversationId, t.at)],
);

export const labels = sqliteTable("labels", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  color: text("color").notNull().default("gray"),
  createdAt: time("created_at").notNull(),
});

export const conversationLabels = sqliteTable(
  "conversation_labels",
  {
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    labelId: integer("label_id")
      .notNull()
      .references(() => labels.id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.labelId] }),
    index("conversation_labels_label_idx").on(t.labelId),
  ],
);

/** Someone's attention is needed: an @mention in a note, an assignment. Read when opened. */
export const inboxNotifications = sqliteTable(
  "inbox_notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id").notNull(),
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["mention", "assigned"] }).notNull(),
    actorId: text("actor_id"),
    createdAt: time("created_at").notNull(),
    readAt: time("read_at"),
  },
  (t) => [index("inbox_notifications_user_idx").on(t.userId, t.readAt, t.createdAt)],
);

/**
 * A file a member uploaded (canned-response attachments, composer uploads) or a customer sent
 * (inbound media): bytes on disk under DATA_DIR/attachments/<workspaceId>/<id>, its kind and
 * MIME type sniffed from the bytes, never taken from the name.
 */
export const attachments = sqliteTable("attachments", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["image", "document", "audio", "video"] }).notNull(),
  mimeType: text("mime_type").notNull(),
  filename: text("filename").notNull(),
  size: integer("size").notNull(),
  sha256: text("sha256").notNull(),
  createdBy: text("created_by"),
  createdAt: time("created_at").notNull(),
});

/**
 * A reusable reply: `body` with {{contact.*}} variables (with fallbacks) and {{prompt:...}}
 * values asked per use; `attachmentIds` JSON array. Typed as "/shortcut" in the composer.
 */
export const cannedResponses = sqliteTable("canned_responses", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  shortcut: text("shortcut").notNull().unique(),
  title: text("title").notNull(),
  body: text("body").notNull(),
  attachmentIds: text("attachment_ids").notNull().default("[]"),
  createdBy: text("created_by"),
  createdAt: time("created_at").notNull(),
  updatedAt: time("updated_at").notNull(),
});

/**
 * The workspace's inbox rules (one row, id 1): reopening, auto-assignment, business hours
 * (JSON {days: {mon: [["09:00","17:00"]], ...}} in the workspace's time zone; null: always open)
 * and the auto-reply outside them, CSAT, and AI drafts.
 */
export const inboxSettings = sqliteTable("inbox_settings", {
  id: integer("id").primaryKey(),
  reopenWithinDays: integer("reopen_within_days").notNull().default(7),
  autoAssign: integer("auto_assign", { mode: "boolean" }).notNull().default(false),
  agentCapacity: integer("agent_capacity").notNull().default(10),
  businessHours: text("business_hours"),
  outsideHoursReply: text("outside_hours_reply"),
  csatEnabled: integer("csat_enabled", { mode: "boolean" }).notNull().default(false),
  csatQuestion: text("csat_question")
    .notNull()
    .default("How would you rate our help? Reply with a number from 1 (poor) to 5 (great)."),
  aiEnabled: integer("ai_enabled", { mode: "boolean" }).notNull().default(true),
  aiAutoDraft: integer("ai_auto_draft", { mode: "boolean" }).notNull().default(false),
  updatedAt: time("updated_at").notNull(),
});

/** One CSAT question asked after a conversation was resolved, and the answer (1-5). */
export const csatResponses = sqliteTable(
  "csat_responses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    /** Who resolved it (the agent the score is counted for). */
    agentId: text("agent_id"),
    messageId: text("message_id"),
    askedAt: time("asked_at").notNull(),
    score: integer("score"),
    answeredAt: time("answered_at"),
  },
  (t) => [
    index("csat_responses_conversation_idx").on(t.conversationId, t.askedAt),
    index("csat_responses_asked_idx").on(t.askedAt),
  ],
);

/** Snippets the workspace writes for AI drafts to draw on (searched with FTS5: kb_snippets_fts). */
export const kbSnippets = sqliteTable("kb_snippets", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  title: text("title").notNull(),
  body: text("body").notNull(),
  createdAt: time("created_at").notNull(),
  updatedAt: time("updated_at").notNull(),
});

export const AI_DRAFT_STATUSES = ["pending", "ready", "failed", "discarded", "sent"] as const;
export type AiDraftStatus = (typeof AI_DRAFT_STATUSES)[number];

/**
 * An AI reply draft. Never sent by itself: a member sends it (status "sent", `edited` when the
 * text changed). A human reply or takeover discards every pending or ready draft of the
 * conversation in the database itself (triggers in the migration), so a draft finishing after
 * the human answered can only land on a discarded row.
 */
export const aiDrafts = sqliteTable(
  "ai_drafts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    status: text("status", { enum: AI_DRAFT_STATUSES }).notNull(),
    /** The member who asked; null: an automatic draft. */
    requestedBy: text("requested_by"),
    body: text("body").notNull().default(""),
    /** kb_snippets ids the draft used, JSON array. */
    citations: text("citations").notNull().default("[]"),
    model: text("model"),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    error: text("error"),
    edited: integer("edited", { mode: "boolean" }),
    discardReason: text("discard_reason"),
    createdAt: time("created_at").notNull(),
    completedAt: time("completed_at"),
    closedAt: time("closed_at"),
  },
  (t) => [
    index("ai_drafts_conversation_idx").on(t.conversationId, t.status),
    index("ai_drafts_created_idx").on(t.createdAt),
  ],
);

/**
 * Inbound email for self-hosters (one row, id 1): the secret that signs the mail forwarder's
 * webhook (Standard Webhooks), vault-encrypted; shown once when generated.
 */
export const inboundEmailSettings = sqliteTable("inbound_email_settings", {
  id: integer("id").primaryKey(),
  webhookSecretEnc: text("webhook_secret_enc"),
  /** The workspace's Mailgun HTTP webhook signing key (for Mailgun route forwards), encrypted. */
  mailgunSigningKeyEnc: text("mailgun_signing_key_enc"),
  rotatedAt: time("rotated_at").notNull(),
});
