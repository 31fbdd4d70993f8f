-- Placeholder reserved for issue 3 (checkpointer tables, workflow_states, agent_states); replaced by that work before it lands.
SELECT 1;
