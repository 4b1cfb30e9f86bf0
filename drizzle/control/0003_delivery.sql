CREATE TABLE `delivery_queue` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`next_due_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `delivery_queue_due_idx` ON `delivery_queue` (`next_due_at`);--> statement-breakpoint
CREATE TABLE `integrations` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`channel` text NOT NULL,
	`provider` text NOT NULL,
	`config_enc` text NOT NULL,
	`rate_per_second` integer NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	`last_checked_at` integer,
	`last_check_ok` integer,
	`last_check_detail` text,
	`created_by` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `integrations_workspace_channel_unique` ON `integrations` (`workspace_id`,`channel`);--> statement-breakpoint
ALTER TABLE `workspaces` ADD `track_opens` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `track_clicks` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `stop_keywords` text DEFAULT '' NOT NULL;