CREATE TABLE `dsar_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`portal_workspace_id` text,
	`type` text NOT NULL,
	`email_enc` text,
	`phone_enc` text,
	`email_hash` text,
	`phone_hash` text,
	`details_enc` text,
	`scope` text,
	`source` text NOT NULL,
	`logged_by` text,
	`status` text NOT NULL,
	`verify_token_hash` text,
	`verify_code_hash` text,
	`verify_expires_at` integer,
	`verify_attempts` integer DEFAULT 0 NOT NULL,
	`received_at` integer NOT NULL,
	`verified_at` integer,
	`due_at` integer NOT NULL,
	`completed_at` integer,
	`outcome` text,
	FOREIGN KEY (`portal_workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dsar_requests_verify_token_hash_unique` ON `dsar_requests` (`verify_token_hash`);--> statement-breakpoint
CREATE INDEX `dsar_requests_status_idx` ON `dsar_requests` (`status`,`due_at`);--> statement-breakpoint
CREATE INDEX `dsar_requests_email_idx` ON `dsar_requests` (`email_hash`);--> statement-breakpoint
CREATE INDEX `dsar_requests_phone_idx` ON `dsar_requests` (`phone_hash`);--> statement-breakpoint
CREATE TABLE `dsar_tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`workspace_id` text,
	`user_id` text,
	`status` text NOT NULL,
	`due_at` integer NOT NULL,
	`extended_at` integer,
	`extension_reason` text,
	`decided_by` text,
	`decided_at` integer,
	`decline_reason` text,
	`reminded_at_7` integer,
	`reminded_at_2` integer,
	`export_file` text,
	`export_expires_at` integer,
	`completed_at` integer,
	`counts` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`request_id`) REFERENCES `dsar_requests`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `dsar_tasks_request_idx` ON `dsar_tasks` (`request_id`);--> statement-breakpoint
CREATE INDEX `dsar_tasks_workspace_idx` ON `dsar_tasks` (`workspace_id`,`status`,`due_at`);--> statement-breakpoint
CREATE INDEX `dsar_tasks_status_idx` ON `dsar_tasks` (`status`,`due_at`);--> statement-breakpoint
CREATE TABLE `policy_acceptances` (
	`user_id` text NOT NULL,
	`version` integer NOT NULL,
	`accepted_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `version`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`version`) REFERENCES `policy_versions`(`version`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`version` integer PRIMARY KEY NOT NULL,
	`effective_date` text NOT NULL,
	`markdown` text NOT NULL,
	`published_at` integer NOT NULL,
	`published_by` text,
	`notified` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `subject_index` (
	`hash` text NOT NULL,
	`workspace_id` text NOT NULL,
	PRIMARY KEY(`hash`, `workspace_id`),
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `subject_index_workspace_idx` ON `subject_index` (`workspace_id`);--> statement-breakpoint
ALTER TABLE `users` ADD `closed_at` integer;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `dsar_auto_approve` integer DEFAULT false NOT NULL;