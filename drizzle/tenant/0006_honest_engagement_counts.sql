-- Corrects opens and clicks that were counted before machine hits were told apart. Only what the
-- stored rows can prove is corrected (no user agent or IP was ever stored): the hits become
-- message.open_not_counted / message.click_not_counted events with a reason, the message's
-- first open/click is recomputed from the hits that remain. See
-- docs/decisions/0016-honest-engagement-counts.md.

-- A sandbox message (no integration) reached nobody: an open or click on it came from someone
-- viewing it inside the app.
UPDATE contact_events
   SET type = CASE type WHEN 'message.opened' THEN 'message.open_not_counted'
                        ELSE 'message.click_not_counted' END,
       data = json_set(coalesce(data, '{}'), '$.reason', 'our-app')
 WHERE type IN ('message.opened', 'message.clicked')
   AND json_extract(data, '$.messageId') IN (
         SELECT id FROM messages
          WHERE integration_id IS NULL AND (opened_at IS NOT NULL OR clicked_at IS NOT NULL));
--> statement-breakpoint
-- An open before the email left us was someone viewing the queued message inside the app.
UPDATE contact_events
   SET type = 'message.open_not_counted',
       data = json_set(coalesce(data, '{}'), '$.reason', 'our-app')
 WHERE type = 'message.opened'
   AND EXISTS (SELECT 1 FROM messages m
                WHERE m.id = json_extract(contact_events.data, '$.messageId')
                  AND m.sent_at IS NOT NULL AND contact_events.at < m.sent_at);
--> statement-breakpoint
-- A click within 2 s of sending (or before it) is a mail scanner: no person is that fast.
UPDATE contact_events
   SET type = 'message.click_not_counted',
       data = json_set(coalesce(data, '{}'), '$.reason', 'too-soon')
 WHERE type = 'message.clicked'
   AND EXISTS (SELECT 1 FROM messages m
                WHERE m.id = json_extract(contact_events.data, '$.messageId')
                  AND m.sent_at IS NOT NULL AND contact_events.at < m.sent_at + 2000);
--> statement-breakpoint
UPDATE messages SET opened_at = NULL, clicked_at = NULL
 WHERE integration_id IS NULL AND (opened_at IS NOT NULL OR clicked_at IS NOT NULL);
--> statement-breakpoint
-- The first open/click that remains (none: no longer opened/clicked).
UPDATE messages
   SET opened_at = (SELECT min(e.at) FROM contact_events e
                     WHERE e.type = 'message.opened'
                       AND json_extract(e.data, '$.messageId') = messages.id)
 WHERE sent_at IS NOT NULL AND opened_at IS NOT NULL AND opened_at < sent_at;
--> statement-breakpoint
UPDATE messages
   SET clicked_at = (SELECT min(e.at) FROM contact_events e
                      WHERE e.type = 'message.clicked'
                        AND json_extract(e.data, '$.messageId') = messages.id)
 WHERE sent_at IS NOT NULL AND clicked_at IS NOT NULL AND clicked_at < sent_at + 2000;
