CREATE INDEX `inbound_messages_at_idx` ON `inbound_messages` (`at`);--> statement-breakpoint
CREATE INDEX `messages_campaign_opened_idx` ON `messages` (`campaign_id`) WHERE "messages"."opened_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_campaign_read_idx` ON `messages` (`campaign_id`) WHERE "messages"."read_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_campaign_clicked_idx` ON `messages` (`campaign_id`) WHERE "messages"."clicked_at" IS NOT NULL;