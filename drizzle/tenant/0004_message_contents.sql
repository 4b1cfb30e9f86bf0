CREATE TABLE `message_contents` (
	`message_id` text PRIMARY KEY NOT NULL,
	`content` text NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- Existing content moves over first ('' marked a campaign message not yet written: no row).
INSERT INTO `message_contents` (`message_id`, `content`)
  SELECT `id`, `content` FROM `messages` WHERE `content` <> '';
--> statement-breakpoint
ALTER TABLE `messages` DROP COLUMN `content`;