CREATE TABLE `billing_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` text NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`provider` text,
	`provider_ref` text,
	`idempotency_key` text NOT NULL,
	`invoice_id` integer,
	`data` text,
	CONSTRAINT "billing_ledger_amount_sign" CHECK(("billing_ledger"."kind" IN ('charge', 'refund', 'wallet_topup', 'wallet_refund') AND "billing_ledger"."amount" > 0) OR ("billing_ledger"."kind" IN ('payment', 'credit_note', 'wallet_debit') AND "billing_ledger"."amount" < 0))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_ledger_idempotency_key_unique` ON `billing_ledger` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `billing_ledger_workspace_idx` ON `billing_ledger` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `billing_ledger_at_idx` ON `billing_ledger` (`at`);--> statement-breakpoint
CREATE TABLE `invoice_sequences` (
	`financial_year` text PRIMARY KEY NOT NULL,
	`last_number` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`number` text NOT NULL,
	`financial_year` text NOT NULL,
	`sequence` integer NOT NULL,
	`workspace_id` text NOT NULL,
	`currency` text NOT NULL,
	`subtotal` integer NOT NULL,
	`cgst` integer NOT NULL,
	`sgst` integer NOT NULL,
	`igst` integer NOT NULL,
	`total` integer NOT NULL,
	`tax_kind` text NOT NULL,
	`place_of_supply` text,
	`customer` text NOT NULL,
	`data` text NOT NULL,
	`issued_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_number_unique` ON `invoices` (`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_year_sequence_idx` ON `invoices` (`financial_year`,`sequence`);--> statement-breakpoint
CREATE INDEX `invoices_workspace_idx` ON `invoices` (`workspace_id`,`id`);--> statement-breakpoint
-- Billing records are append-only like the audit log: never edited, and deleted only once past
-- the 7-year retention (by purgeExpiredBilling). Deleting a workspace leaves them in place.
CREATE TRIGGER billing_ledger_no_update BEFORE UPDATE ON billing_ledger
BEGIN
  SELECT RAISE(ABORT, 'billing_ledger is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER billing_ledger_retention_only_delete BEFORE DELETE ON billing_ledger
WHEN old.at > (unixepoch('now', '-7 years') * 1000)
BEGIN
  SELECT RAISE(ABORT, 'billing_ledger rows are kept for 7 years');
END;
--> statement-breakpoint
CREATE TRIGGER invoices_no_update BEFORE UPDATE ON invoices
BEGIN
  SELECT RAISE(ABORT, 'invoices are append-only');
END;
--> statement-breakpoint
CREATE TRIGGER invoices_retention_only_delete BEFORE DELETE ON invoices
WHEN old.issued_at > (unixepoch('now', '-7 years') * 1000)
BEGIN
  SELECT RAISE(ABORT, 'invoices are kept for 7 years');
END;
--> statement-breakpoint
-- Invoice numbers are gapless: a year's counter only ever moves up by one.
CREATE TRIGGER invoice_sequences_step_by_one BEFORE UPDATE ON invoice_sequences
WHEN new.last_number <> old.last_number + 1 OR new.financial_year <> old.financial_year
BEGIN
  SELECT RAISE(ABORT, 'invoice numbers move up by one');
END;
--> statement-breakpoint
CREATE TRIGGER invoice_sequences_no_delete BEFORE DELETE ON invoice_sequences
BEGIN
  SELECT RAISE(ABORT, 'invoice sequences are never deleted');
END;
