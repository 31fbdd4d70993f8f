-- Case threads go first (their runs, checkpoints and projection with them), so the old
-- constraints hold again.
DELETE FROM checkpoint_writes WHERE thread_id IN (SELECT id::text FROM conversations WHERE graph_id = 'case');
DELETE FROM checkpoint_blobs WHERE thread_id IN (SELECT id::text FROM conversations WHERE graph_id = 'case');
DELETE FROM checkpoints WHERE thread_id IN (SELECT id::text FROM conversations WHERE graph_id = 'case');
DELETE FROM agent_states WHERE conversation_id IN (SELECT id::text FROM conversations WHERE graph_id = 'case');
DROP TRIGGER workflow_states_case_effects ON workflow_states;
DROP FUNCTION case_step_effects();
DELETE FROM workflow_states WHERE conversation_id IN (SELECT id::text FROM conversations WHERE graph_id = 'case');
DROP TABLE outbox;
DROP TABLE notifications;
DROP TABLE webhooks;
DROP TABLE timers;
DROP TABLE case_events;
DROP TABLE cases;
DELETE FROM conversations WHERE graph_id = 'case';
DELETE FROM runs WHERE kind NOT IN ('message', 'resume');
ALTER TABLE runs DROP CONSTRAINT runs_kind_check;
ALTER TABLE runs ADD CONSTRAINT runs_kind_check CHECK (kind IN ('message', 'resume'));
ALTER TABLE conversations DROP COLUMN graph_id;
