CREATE TABLE `contact_import_warnings` (
	`import_id` text NOT NULL,
	`row` integer NOT NULL,
	`column` text NOT NULL,
	`reason` text NOT NULL,
	FOREIGN KEY (`import_id`) REFERENCES `contact_imports`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `contact_import_warnings_import_idx` ON `contact_import_warnings` (`import_id`,`row`);--> statement-breakpoint
ALTER TABLE `contact_imports` ADD `warnings` integer DEFAULT 0 NOT NULL;