CREATE TABLE `campaigns` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`channel` text NOT NULL,
	`integration_id` text,
	`status` text NOT NULL,
	`audience` text NOT NULL,
	`variants` text NOT NULL,
	`ab_test` text,
	`winner` text,
	`schedule` text NOT NULL,
	`throttle_per_second` integer,
	`review` text,
	`queued` integer DEFAULT 0 NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_by` text,
	`approved_by` text,
	`approved_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `campaigns_status_idx` ON `campaigns` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `prices` (
	`channel` text NOT NULL,
	`unit` text NOT NULL,
	`country` text NOT NULL,
	`price_minor` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`channel`, `unit`, `country`)
);
--> statement-breakpoint
CREATE TABLE `templates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel` text NOT NULL,
	`name` text NOT NULL,
	`language` text DEFAULT '' NOT NULL,
	`category` text,
	`status` text NOT NULL,
	`status_reason` text,
	`external_id` text,
	`content` text NOT NULL,
	`variables` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`synced_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `templates_channel_name_unique` ON `templates` (`channel`,`name`,`language`);--> statement-breakpoint
ALTER TABLE `messages` ADD `variant` text;