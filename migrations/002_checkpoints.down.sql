DROP FUNCTION checkpoint_delta_chain(text, text, text, text[]);
DROP VIEW checkpoint_tuples;
DROP TABLE agent_states;
DROP TABLE workflow_states;
DROP TABLE checkpoint_writes;
DROP TABLE checkpoint_blobs;
DROP TABLE checkpoints;
