-- An erased contact's words must leave the full-text indexes too, not linger in old index
-- segments until a merge: FTS5's secure-delete removes them from the index as rows go.
INSERT INTO inbound_messages_fts(inbound_messages_fts, rank) VALUES ('secure-delete', 1);
--> statement-breakpoint
INSERT INTO kb_snippets_fts(kb_snippets_fts, rank) VALUES ('secure-delete', 1);
