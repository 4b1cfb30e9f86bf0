-- Corrects opens and clicks that were counted before machine hits were told apart. Only what the
-- stored rows can prove is corrected (no user agent or IP was ever stored): such a hit becomes a
-- message.open_not_counted / message.click_not_counted event with a reason, and the message's
-- first open/click is recomputed from the hits that remain.

-- A message that reached nobody (sandbox: no integration; or never sent), or a hit before it
-- left us: someone was viewing it inside the app.
UPDATE contact_events
   SET type = CASE type WHEN 'message.opened' THEN 'message.open_not_counted'
                        ELSE 'message.click_not_counted' END,
       data = json_set(coalesce(data, '{}'), '$.reason', 'our-app')
 WHERE type IN ('message.opened', 'message.clicked')
   AND EXISTS (SELECT 1 FROM messages m
                WHERE m.id = json_extract(contact_events.data, '$.messageId')
                  AND (m.integration_id IS NULL OR m.sent_at IS NULL
                       OR contact_events.at < m.sent_at));
--> statement-breakpoint
-- A click within 2 s of sending is a mail scanner: no person is that fast.
UPDATE contact_events
   SET type = 'message.click_not_counted',
       data = json_set(coalesce(data, '{}'), '$.reason', 'too-soon')
 WHERE type = 'message.clicked'
   AND EXISTS (SELECT 1 FROM messages m
                WHERE m.id = json_extract(contact_events.data, '$.messageId')
                  AND contact_events.at < m.sent_at + 2000);
--> statement-breakpoint
-- The first open/click that remains; none: the message is no longer opened/clicked.
UPDATE messages
   SET opened_at = (SELECT min(e.at) FROM contact_events e
                     WHERE e.type = 'message.opened'
                       AND json_extract(e.data, '$.messageId') = messages.id)
 WHERE opened_at IS NOT NULL
   AND (integration_id IS NULL OR sent_at IS NULL OR opened_at < sent_at);
--> statement-breakpoint
UPDATE messages
   SET clicked_at = (SELECT min(e.at) FROM contact_events e
                      WHERE e.type = 'message.clicked'
                        AND json_extract(e.data, '$.messageId') = messages.id)
 WHERE clicked_at IS NOT NULL
   AND (integration_id IS NULL OR sent_at IS NULL OR clicked_at < sent_at + 2000);
