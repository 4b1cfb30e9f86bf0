CREATE INDEX `conversations_status_waiting_idx` ON `conversations` (`status`,`waiting_since`);--> statement-breakpoint
CREATE INDEX `conversations_assignee_waiting_idx` ON `conversations` (`assignee_id`,`status`,`waiting_since`);--> statement-breakpoint
CREATE INDEX `conversations_team_waiting_idx` ON `conversations` (`team_id`,`status`,`waiting_since`);