-- Durable runs: a queue in PostgreSQL (claimed with FOR UPDATE SKIP LOCKED, leased,
-- fenced by attempt) and each run's ordered event log (backs SSE with Last-Event-ID).
CREATE TABLE runs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Queue order: runs of one conversation execute one at a time in this order.
    seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             text NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'resume')),
    -- A continuation answers exactly one interrupt: unique, so a second resume conflicts.
    resumes_run_id   uuid UNIQUE REFERENCES runs (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'interrupted', 'success', 'error', 'cancelled')),
    input            jsonb NOT NULL,
    output           jsonb,
    error            text,
    idempotency_key  text CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255),
    -- Incremented by every claim; every write a worker makes is fenced by it.
    attempt          integer NOT NULL DEFAULT 0,
    -- Claims whose lease expired (the worker died or froze); RUN_MAX_ATTEMPTS bounds it.
    lost_attempts    integer NOT NULL DEFAULT 0,
    -- Checkpoints committed by this run: 0 means recovery must replay the input.
    steps            integer NOT NULL DEFAULT 0,
    worker_id        text,
    lease_expires_at timestamptz,
    cancel_requested boolean NOT NULL DEFAULT false,
    -- Last id handed to run_events of this run (ids are dense and ordered per run).
    last_event_id    bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
-- Ordering is the database's job: at most one running run per conversation.
CREATE UNIQUE INDEX runs_one_running_per_conversation ON runs (conversation_id) WHERE status = 'running';
CREATE UNIQUE INDEX runs_user_idempotency_key ON runs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_pending_queue ON runs (seq) WHERE status = 'pending';
CREATE INDEX runs_running_lease ON runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX runs_conversation_seq ON runs (conversation_id, seq);

CREATE TABLE run_events (
    run_id     uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    id         bigint NOT NULL,
    event      text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempt    integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, id)
);

-- Wake idle workers: a run was queued, or a running one ended (the next of its conversation may go).
CREATE FUNCTION runs_notify_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('navigator_runs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER runs_notify_on_insert AFTER INSERT ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION runs_notify_workers();
CREATE TRIGGER runs_notify_on_release AFTER UPDATE OF status ON runs
    FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running')
    EXECUTE FUNCTION runs_notify_workers();

-- Wake event streams and waiters of a run when its log grows (payload: the run id).
CREATE FUNCTION run_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('navigator_run_events', NEW.run_id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER run_events_notify_on_insert AFTER INSERT ON run_events
    FOR EACH ROW EXECUTE FUNCTION run_events_notify();
