ALTER TABLE `dsar_requests` ADD `email_proven` integer;--> statement-breakpoint
ALTER TABLE `dsar_requests` ADD `phone_proven` integer;--> statement-breakpoint
ALTER TABLE `dsar_requests` ADD `escalated_at` integer;--> statement-breakpoint
ALTER TABLE `dsar_tasks` DROP COLUMN `extended_at`;--> statement-breakpoint
ALTER TABLE `dsar_tasks` DROP COLUMN `extension_reason`;--> statement-breakpoint
-- Requests confirmed before identifiers were tracked: one identifier was necessarily the one proven.
UPDATE `dsar_requests` SET `email_proven` = 1 WHERE `verified_at` IS NOT NULL AND `email_enc` IS NOT NULL AND `phone_enc` IS NULL;--> statement-breakpoint
UPDATE `dsar_requests` SET `phone_proven` = 1 WHERE `verified_at` IS NOT NULL AND `phone_enc` IS NOT NULL AND `email_enc` IS NULL;;--> statement-breakpoint
-- Extensions are gone: every request and task is due 30 days after it was received again.
UPDATE `dsar_requests` SET `due_at` = `received_at` + 2592000000 WHERE `due_at` > `received_at` + 2592000000;--> statement-breakpoint
UPDATE `dsar_tasks` SET `due_at` = (SELECT r.`due_at` FROM `dsar_requests` r WHERE r.`id` = `dsar_tasks`.`request_id`) WHERE `due_at` > (SELECT r.`due_at` FROM `dsar_requests` r WHERE r.`id` = `dsar_tasks`.`request_id`);
