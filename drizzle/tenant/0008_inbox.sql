CREATE TABLE `agent_states` (
	`user_id` text PRIMARY KEY NOT NULL,
	`available` integer DEFAULT false NOT NULL,
	`capacity` integer,
	`last_seen_at` integer,
	`last_assigned_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ai_drafts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` integer NOT NULL,
	`status` text NOT NULL,
	`requested_by` text,
	`body` text DEFAULT '' NOT NULL,
	`citations` text DEFAULT '[]' NOT NULL,
	`model` text,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`error` text,
	`edited` integer,
	`discard_reason` text,
	`created_at` integer NOT NULL,
	`completed_at` integer,
	`closed_at` integer,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `ai_drafts_conversation_idx` ON `ai_drafts` (`conversation_id`,`status`);--> statement-breakpoint
CREATE INDEX `ai_drafts_created_idx` ON `ai_drafts` (`created_at`);--> statement-breakpoint
CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`mime_type` text NOT NULL,
	`filename` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `canned_responses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`shortcut` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`attachment_ids` text DEFAULT '[]' NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `canned_responses_shortcut_unique` ON `canned_responses` (`shortcut`);--> statement-breakpoint
CREATE TABLE `conversation_activity` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` integer NOT NULL,
	`at` integer NOT NULL,
	`actor_id` text,
	`kind` text NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`data` text,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conversation_activity_conversation_idx` ON `conversation_activity` (`conversation_id`,`at`);--> statement-breakpoint
CREATE TABLE `conversation_labels` (
	`conversation_id` integer NOT NULL,
	`label_id` integer NOT NULL,
	PRIMARY KEY(`conversation_id`, `label_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`label_id`) REFERENCES `labels`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conversation_labels_label_idx` ON `conversation_labels` (`label_id`);--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer NOT NULL,
	`channel` text NOT NULL,
	`account_key` text NOT NULL,
	`status` text NOT NULL,
	`assignee_id` text,
	`team_id` integer,
	`snoozed_until` integer,
	`waiting_since` integer,
	`queued_at` integer,
	`last_message_at` integer NOT NULL,
	`last_inbound_at` integer,
	`preview` text DEFAULT '' NOT NULL,
	`last_campaign_id` integer,
	`first_response_at` integer,
	`resolved_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`team_id`) REFERENCES `teams`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `conversations_active_unique` ON `conversations` (`contact_id`,`channel`,`account_key`) WHERE "conversations"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX `conversations_contact_idx` ON `conversations` (`contact_id`,`last_message_at`);--> statement-breakpoint
CREATE INDEX `conversations_status_idx` ON `conversations` (`status`,`last_message_at`);--> statement-breakpoint
CREATE INDEX `conversations_assignee_idx` ON `conversations` (`assignee_id`,`status`,`last_message_at`);--> statement-breakpoint
CREATE INDEX `conversations_team_idx` ON `conversations` (`team_id`,`status`,`last_message_at`);--> statement-breakpoint
CREATE INDEX `conversations_queue_idx` ON `conversations` (`queued_at`) WHERE "conversations"."queued_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `conversations_snoozed_idx` ON `conversations` (`snoozed_until`) WHERE "conversations"."status" = 'snoozed';--> statement-breakpoint
CREATE TABLE `csat_responses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversation_id` integer NOT NULL,
	`agent_id` text,
	`message_id` text,
	`asked_at` integer NOT NULL,
	`score` integer,
	`answered_at` integer,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `csat_responses_conversation_idx` ON `csat_responses` (`conversation_id`,`asked_at`);--> statement-breakpoint
CREATE INDEX `csat_responses_asked_idx` ON `csat_responses` (`asked_at`);--> statement-breakpoint
CREATE TABLE `inbox_notifications` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`conversation_id` integer NOT NULL,
	`kind` text NOT NULL,
	`actor_id` text,
	`created_at` integer NOT NULL,
	`read_at` integer,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `inbox_notifications_user_idx` ON `inbox_notifications` (`user_id`,`read_at`,`created_at`);--> statement-breakpoint
CREATE TABLE `inbox_settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`reopen_within_days` integer DEFAULT 7 NOT NULL,
	`auto_assign` integer DEFAULT false NOT NULL,
	`agent_capacity` integer DEFAULT 10 NOT NULL,
	`business_hours` text,
	`outside_hours_reply` text,
	`csat_enabled` integer DEFAULT false NOT NULL,
	`csat_question` text DEFAULT 'How would you rate our help? Reply with a number from 1 (poor) to 5 (great).' NOT NULL,
	`ai_enabled` integer DEFAULT true NOT NULL,
	`ai_auto_draft` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kb_snippets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `labels` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`color` text DEFAULT 'gray' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `labels_name_unique` ON `labels` (`name`);--> statement-breakpoint
CREATE TABLE `team_members` (
	`team_id` integer NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`team_id`, `user_id`),
	FOREIGN KEY (`team_id`) REFERENCES `teams`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `team_members_user_idx` ON `team_members` (`user_id`);--> statement-breakpoint
CREATE TABLE `teams` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `teams_name_unique` ON `teams` (`name`);--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `conversation_id` integer;--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `attachment_id` text;--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `campaign_id` integer;--> statement-breakpoint
CREATE INDEX `inbound_messages_conversation_idx` ON `inbound_messages` (`conversation_id`,`at`) WHERE "inbound_messages"."conversation_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `conversation_id` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `author_id` text;--> statement-breakpoint
CREATE INDEX `messages_conversation_idx` ON `messages` (`conversation_id`,`created_at`) WHERE "messages"."conversation_id" IS NOT NULL;