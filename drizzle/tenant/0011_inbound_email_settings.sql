CREATE TABLE `inbound_email_settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`webhook_secret_enc` text,
	`mailgun_signing_key_enc` text,
	`rotated_at` integer NOT NULL
);
