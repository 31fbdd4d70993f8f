-- The messages stored by the up migration stay: they are what people said.
DROP INDEX analytics_events_user_idx;
DROP INDEX revoked_access_tokens_user_idx;
DROP INDEX document_conversations_user_idx;
DROP INDEX runs_user_idx;
DROP INDEX conversation_messages_user_idx;
