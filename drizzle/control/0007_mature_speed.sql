ALTER TABLE `auth_tokens` ADD `return_to` text;--> statement-breakpoint
ALTER TABLE `dsar_tasks` ADD `notified_at` integer;--> statement-breakpoint
-- Tasks that arrived before arrival notices existed were seen on the queue already: no mail now.
UPDATE `dsar_tasks` SET `notified_at` = `created_at` WHERE `notified_at` IS NULL;
