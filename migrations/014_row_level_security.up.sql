-- Isolation in PostgreSQL as well: every user-owned table gets a row-level security policy
-- keyed on the transaction-local setting app.user_id (set by db/scope.py right after BEGIN),
-- and the request handlers connect as `navigator_app`, a role that owns nothing, is not a
-- superuser, has no BYPASSRLS and holds only the DML it needs. So a query that forgot its
-- `user_id = $n` still sees only the acting user's rows.
--
-- The tables' owner (the role that runs migrations, DATABASE_URL) is the documented bypass:
-- RLS is not FORCEd, so the owner's connections (run workers, timers, outbox, cleanup, admin
-- totals, sign-in lookups by email or token hash) see every row, as they must. The service role
-- never gets the owner's password: it connects with APP_DATABASE_URL (or, embedded, a login
-- made at start; db/service_role.py).

-- The policies' subject: the acting user of this transaction (NULL, so no rows, when unset).
-- Inlined by the planner (a plain SQL expression), evaluated once per statement.
CREATE FUNCTION navigator_acting_user() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

-- A thread id as the conversation it belongs to; NULL for a thread with no conversation (CLI).
CREATE FUNCTION navigator_thread_uuid(thread_id text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN thread_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                THEN thread_id::uuid END
$$;

-- Tables with a user_id column (007_documents and 010_cases enabled theirs already).
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE revoked_access_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE risk_detections ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_states ENABLE ROW LEVEL SECURITY;
CREATE POLICY conversations_owner ON conversations USING (user_id = navigator_acting_user());
CREATE POLICY conversation_messages_owner ON conversation_messages USING (user_id = navigator_acting_user());
CREATE POLICY runs_owner ON runs USING (user_id = navigator_acting_user());
CREATE POLICY refresh_tokens_owner ON refresh_tokens USING (user_id = navigator_acting_user());
CREATE POLICY revoked_access_tokens_owner ON revoked_access_tokens USING (user_id = navigator_acting_user());
CREATE POLICY analytics_events_owner ON analytics_events USING (user_id = navigator_acting_user());
CREATE POLICY api_keys_owner ON api_keys USING (user_id = navigator_acting_user());
CREATE POLICY risk_detections_owner ON risk_detections USING (user_id = navigator_acting_user());
-- The projection's user_id is NULL for a thread written without one: the conversation decides.
CREATE POLICY workflow_states_owner ON workflow_states
    USING ((user_id IS NULL OR user_id = navigator_acting_user())
           AND EXISTS (SELECT 1 FROM conversations c
                        WHERE c.id = navigator_thread_uuid(workflow_states.conversation_id)
                          AND c.user_id = navigator_acting_user()));

-- Tables keyed by thread or run, not user: a policy through the owning conversation or run
-- (one primary-key probe per row). The hot path (a run's steps, checkpoint and event writes)
-- runs on the owner's connections, which policies do not touch, so no user_id column is added
-- to the checkpointer's or the queue's rows.
ALTER TABLE checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoint_blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkpoint_writes ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_protocol_options ENABLE ROW LEVEL SECURITY;
CREATE POLICY checkpoints_owner ON checkpoints
    USING (EXISTS (SELECT 1 FROM conversations c
                    WHERE c.id = navigator_thread_uuid(checkpoints.thread_id) AND c.user_id = navigator_acting_user()));
CREATE POLICY checkpoint_blobs_owner ON checkpoint_blobs
    USING (EXISTS (SELECT 1 FROM conversations c
                    WHERE c.id = navigator_thread_uuid(checkpoint_blobs.thread_id)
                      AND c.user_id = navigator_acting_user()));
CREATE POLICY checkpoint_writes_owner ON checkpoint_writes
    USING (EXISTS (SELECT 1 FROM conversations c
                    WHERE c.id = navigator_thread_uuid(checkpoint_writes.thread_id)
                      AND c.user_id = navigator_acting_user()));
CREATE POLICY agent_states_owner ON agent_states
    USING (EXISTS (SELECT 1 FROM conversations c
                    WHERE c.id = navigator_thread_uuid(agent_states.conversation_id)
                      AND c.user_id = navigator_acting_user()));
CREATE POLICY run_events_owner ON run_events
    USING (EXISTS (SELECT 1 FROM runs r WHERE r.id = run_events.run_id AND r.user_id = navigator_acting_user()));
CREATE POLICY run_protocol_options_owner ON run_protocol_options
    USING (EXISTS (SELECT 1 FROM runs r
                    WHERE r.id = run_protocol_options.run_id AND r.user_id = navigator_acting_user()));

-- A run's 'created' event is written by a trigger after the run's row, not by a CTE of the
-- INSERT: a policy's check cannot see a row that the same statement inserts, so the event of a
-- run the service role creates would be refused (run_events_owner looks the run up). A run
-- inserted with last_event_id 1 announces that event; one inserted with 0 has none yet.
CREATE FUNCTION runs_created_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_events (run_id, id, event, data, attempt)
    VALUES (NEW.id, 1, 'created', jsonb_build_object('kind', NEW.kind, 'input', NEW.input), 0);
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_created_event AFTER INSERT ON runs
    FOR EACH ROW WHEN (NEW.last_event_id = 1) EXECUTE FUNCTION runs_created_event();

-- A view reads its tables with its owner's rights, and the owner is not restricted: the
-- service role reads checkpoint_tuples as itself (PostgreSQL 15+), or not at all (14).
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 150000 THEN
        EXECUTE 'ALTER VIEW checkpoint_tuples SET (security_invoker = true)';
    END IF;
END
$$;

-- The service role and its grants. Creating a role needs CREATEROLE: where the migrating role
-- lacks it (some managed databases), an administrator creates navigator_app first (README,
-- "Row-level security") and this grants to it; without the role, only the policies are made.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'navigator_app') THEN
        BEGIN
            CREATE ROLE navigator_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database on this server made it just now
        WHEN insufficient_privilege THEN
            RAISE NOTICE 'cannot create role navigator_app here (no CREATEROLE): create it as an administrator, '
                         'then run the grants of the README';
            RETURN;
        END;
    END IF;
    EXECUTE 'GRANT USAGE ON SCHEMA public TO navigator_app';
    EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO navigator_app';
    EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO navigator_app';
    -- Tables that later migrations create (as this same owner) get the same grants.
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO navigator_app';
    EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO navigator_app';
    -- Not the service role's: accounts and registrations (every password hash; sign-in reads
    -- them as the owner), throttling, the audit trail (written and read for admins as the owner:
    -- its admin policy trusts a setting any role may set) and the migration history. The
    -- knowledge base is shared and read-only.
    EXECUTE 'REVOKE ALL ON users, pending_registrations, auth_throttle, audit_events, schema_migrations '
            'FROM navigator_app';
    EXECUTE 'REVOKE INSERT, UPDATE, DELETE ON knowledge_documents FROM navigator_app';
    IF current_setting('server_version_num')::int < 150000 THEN
        EXECUTE 'REVOKE ALL ON checkpoint_tuples FROM navigator_app';
    END IF;
END
$$;
