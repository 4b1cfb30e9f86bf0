-- The audit log is append-only: rows are never edited, and only rows past the 7-year
-- retention may be deleted (by the retention job).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
--> statement-breakpoint
CREATE TRIGGER audit_log_retention_only_delete BEFORE DELETE ON audit_log
WHEN old.at > (unixepoch('now', '-7 years') * 1000)
BEGIN
  SELECT RAISE(ABORT, 'audit_log rows are kept for 7 years');
END;
