CREATE TABLE `inbox_due` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`next_due_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `inbox_due_due_idx` ON `inbox_due` (`next_due_at`);