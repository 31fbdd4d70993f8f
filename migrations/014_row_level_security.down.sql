DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'navigator_app') THEN
        -- This database's grants and default privileges of the role.
        BEGIN
            EXECUTE 'DROP OWNED BY navigator_app';
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'cannot drop the grants of navigator_app here: an administrator revokes them';
        END;
        -- The role is the server's, not the database's: it goes only when nothing else uses it.
        BEGIN
            EXECUTE 'DROP ROLE navigator_app';
        EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege OR object_in_use THEN
            RAISE NOTICE 'role navigator_app is kept (another database on this server uses it)';
        END;
    END IF;
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW checkpoint_tuples RESET (security_invoker)';
    END IF;
END
$$;

DROP TRIGGER runs_created_event ON runs;
DROP FUNCTION runs_created_event();
DROP POLICY run_protocol_options_owner ON run_protocol_options;
DROP POLICY run_events_owner ON run_events;
DROP POLICY agent_states_owner ON agent_states;
DROP POLICY checkpoint_writes_owner ON checkpoint_writes;
DROP POLICY checkpoint_blobs_owner ON checkpoint_blobs;
DROP POLICY checkpoints_owner ON checkpoints;
DROP POLICY workflow_states_owner ON workflow_states;
DROP POLICY risk_detections_owner ON risk_detections;
DROP POLICY api_keys_owner ON api_keys;
DROP POLICY analytics_events_owner ON analytics_events;
DROP POLICY revoked_access_tokens_owner ON revoked_access_tokens;
DROP POLICY refresh_tokens_owner ON refresh_tokens;
DROP POLICY runs_owner ON runs;
DROP POLICY conversation_messages_owner ON conversation_messages;
DROP POLICY conversations_owner ON conversations;
ALTER TABLE run_protocol_options DISABLE ROW LEVEL SECURITY;
ALTER TABLE run_events DISABLE ROW LEVEL SECURITY;
ALTER TABLE agent_states DISABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoint_writes DISABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoint_blobs DISABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoints DISABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_states DISABLE ROW LEVEL SECURITY;
ALTER TABLE risk_detections DISABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys DISABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events DISABLE ROW LEVEL SECURITY;
ALTER TABLE revoked_access_tokens DISABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens DISABLE ROW LEVEL SECURITY;
ALTER TABLE runs DISABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_messages DISABLE ROW LEVEL SECURITY;
ALTER TABLE conversations DISABLE ROW LEVEL SECURITY;
DROP FUNCTION navigator_thread_uuid(text);
DROP FUNCTION navigator_acting_user();
