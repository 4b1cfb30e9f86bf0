-- Knowledge-base search for AI drafts: FTS5 over kb_snippets (external content, kept in step by triggers).
CREATE VIRTUAL TABLE `kb_snippets_fts` USING fts5(title, body, content='kb_snippets', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `kb_snippets_fts_ai` AFTER INSERT ON `kb_snippets` BEGIN
  INSERT INTO kb_snippets_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
--> statement-breakpoint
CREATE TRIGGER `kb_snippets_fts_ad` AFTER DELETE ON `kb_snippets` BEGIN
  INSERT INTO kb_snippets_fts(kb_snippets_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
--> statement-breakpoint
CREATE TRIGGER `kb_snippets_fts_au` AFTER UPDATE ON `kb_snippets` BEGIN
  INSERT INTO kb_snippets_fts(kb_snippets_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
  INSERT INTO kb_snippets_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
--> statement-breakpoint
-- Inbox search by what customers wrote: FTS5 over inbound_messages.text.
CREATE VIRTUAL TABLE `inbound_messages_fts` USING fts5(text, content='inbound_messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO inbound_messages_fts(rowid, text) SELECT id, text FROM inbound_messages;
--> statement-breakpoint
CREATE TRIGGER `inbound_messages_fts_ai` AFTER INSERT ON `inbound_messages` BEGIN
  INSERT INTO inbound_messages_fts(rowid, text) VALUES (new.id, new.text);
END;
--> statement-breakpoint
CREATE TRIGGER `inbound_messages_fts_ad` AFTER DELETE ON `inbound_messages` BEGIN
  INSERT INTO inbound_messages_fts(inbound_messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
--> statement-breakpoint
CREATE TRIGGER `inbound_messages_fts_au` AFTER UPDATE OF text ON `inbound_messages` BEGIN
  INSERT INTO inbound_messages_fts(inbound_messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO inbound_messages_fts(rowid, text) VALUES (new.id, new.text);
END;
--> statement-breakpoint
-- AI drafts are never sent over a human. A member's reply in the conversation (a message with
-- an author) discards every pending or ready draft of it, in the same transaction.
CREATE TRIGGER `ai_drafts_discard_on_reply` AFTER INSERT ON `messages`
WHEN new.conversation_id IS NOT NULL AND new.author_id IS NOT NULL BEGIN
  UPDATE ai_drafts SET status = 'discarded', discard_reason = 'A member replied', closed_at = new.created_at
  WHERE conversation_id = new.conversation_id AND status IN ('pending', 'ready');
END;
--> statement-breakpoint
-- So does a member taking the conversation (an assignment a person made; auto-assignment has no actor).
CREATE TRIGGER `ai_drafts_discard_on_takeover` AFTER INSERT ON `conversation_activity`
WHEN new.kind = 'assigned' AND new.actor_id IS NOT NULL BEGIN
  UPDATE ai_drafts SET status = 'discarded', discard_reason = 'A member took over', closed_at = new.at
  WHERE conversation_id = new.conversation_id AND status IN ('pending', 'ready');
END;
--> statement-breakpoint
-- A closed draft stays closed: a generation finishing late cannot bring a discarded draft back.
CREATE TRIGGER `ai_drafts_closed_stay_closed` BEFORE UPDATE OF status ON `ai_drafts`
WHEN old.status IN ('discarded', 'sent', 'failed') AND new.status <> old.status BEGIN
  SELECT RAISE(IGNORE);
END;
