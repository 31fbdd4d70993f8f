-- Privacy and data lifecycle (issue 14).
--
-- Deleting an account (DELETE /me) cascades from users to every table that references it; these
-- indexes let each cascade find the account's rows instead of reading the whole table. The
-- account export reads the same rows.
CREATE INDEX conversation_messages_user_idx ON conversation_messages (user_id);
CREATE INDEX runs_user_idx ON runs (user_id);
CREATE INDEX document_conversations_user_idx ON document_conversations (user_id);
CREATE INDEX revoked_access_tokens_user_idx ON revoked_access_tokens (user_id);
CREATE INDEX analytics_events_user_idx ON analytics_events (user_id) WHERE user_id IS NOT NULL;

-- The person's message is now stored when its run is created (the reply when the run ends).
-- A run queued before this version stored both at its end: its message is stored now, once,
-- so the new workers, which store only the reply, lose nothing.
INSERT INTO conversation_messages (conversation_id, user_id, role, content, metadata, created_at)
SELECT r.conversation_id, r.user_id, 'user',
       CASE WHEN r.kind = 'message' THEN r.input ->> 'message'
            WHEN jsonb_typeof(r.input -> 'resume') = 'string' THEN r.input ->> 'resume'
            ELSE (r.input -> 'resume')::text END,
       jsonb_build_object('run_id', r.id::text), r.created_at
  FROM runs r
 WHERE r.status IN ('pending', 'running') AND r.kind IN ('message', 'resume')
   AND NOT EXISTS (SELECT 1 FROM conversation_messages m
                    WHERE m.conversation_id = r.conversation_id AND m.role = 'user'
                      AND m.metadata ->> 'run_id' = r.id::text)
 ORDER BY r.seq;
