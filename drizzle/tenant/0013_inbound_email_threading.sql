ALTER TABLE `inbound_messages` ADD `email_message_id` text;--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `email_subject` text;--> statement-breakpoint
ALTER TABLE `inbound_messages` ADD `email_references` text;