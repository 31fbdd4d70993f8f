-- Cases (issue 16): long-running workflows for one appeal, prior authorization or billing
-- dispute, with durable timers, notifications delivered through an outbox, and webhooks.
--
-- A case owns a thread: a conversations row whose graph_id is 'case' and whose expiry is the
-- case's own ('infinity' until the case is deleted), so the durable run queue drives it like
-- any conversation. Runs on it are of kind 'timer' (a timer fired) or 'event' (the person told
-- the case something), besides 'message'.
ALTER TABLE conversations ADD COLUMN graph_id text NOT NULL DEFAULT 'navigator'
    CHECK (graph_id IN ('navigator', 'case'));
ALTER TABLE runs DROP CONSTRAINT runs_kind_check;
ALTER TABLE runs ADD CONSTRAINT runs_kind_check CHECK (kind IN ('message', 'resume', 'timer', 'event'));

-- The case's id is its thread's id (the conversations row it owns).
CREATE TABLE cases (
    id                     uuid PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    user_id                uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind                   text NOT NULL CHECK (kind IN ('appeal', 'prior_authorization', 'billing_dispute')),
    title                  text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- The conversation it was opened from ("track this for me"), while that conversation exists.
    source_conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
    idempotency_key        text CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255),
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cases_user_idempotency_key ON cases (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX cases_user_created_idx ON cases (user_id, created_at DESC, id DESC);
CREATE INDEX cases_source_conversation_idx ON cases (source_conversation_id) WHERE source_conversation_id IS NOT NULL;

-- What the person told the case (opened, facts, a document, filed, a decision, closed, a note),
-- each delivered to the case's graph by one run (idempotency key 'case-event:<id>').
CREATE TABLE case_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type            text NOT NULL CHECK (type IN ('opened', 'facts', 'document', 'filed', 'decision', 'closed',
                                                  'note')),
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The service clock's time when it was told (tests advance that clock).
    occurred_at     timestamptz NOT NULL,
    run_id          uuid,
    idempotency_key text CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 1 AND 255),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);
CREATE UNIQUE INDEX case_events_idempotency_key ON case_events (case_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Durable timers: due at a time, claimed by any worker with SKIP LOCKED, fired once. Firing
-- marks the row and queues the run that resumes its thread, in one transaction; a key is
-- armed at most once per thread, so a timer that fired is never armed again.
CREATE TABLE timers (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    thread_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    purpose    text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 50),
    due_at     timestamptz NOT NULL,
    payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    fired_at   timestamptz,
    -- The run its firing queued (no foreign key: a settled run may be deleted, the timer stays fired).
    run_id     uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (thread_id, key)
);
CREATE INDEX timers_due_idx ON timers (due_at) WHERE status = 'pending';

-- Webhooks a person registered; the signing secret is stored encrypted (AES-GCM under a key
-- derived from DOCUMENT_ENCRYPTION_KEY), shown to the person once, when it is created.
CREATE TABLE webhooks (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    secret     bytea NOT NULL,
    key_id     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_user_idx ON webhooks (user_id, created_at);

-- What a case told the person: the in-app inbox. The idempotency key is stable (the case and the
-- timer or event that caused it), and deliveries carry it.
CREATE TABLE notifications (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_id         uuid REFERENCES cases (id) ON DELETE CASCADE,
    idempotency_key text NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 300),
    kind            text NOT NULL CHECK (length(kind) BETWEEN 1 AND 50),
    title           text NOT NULL,
    body            text NOT NULL,
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL,
    read_at         timestamptz
);
CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC, id DESC);

-- The outbox: one delivery per notification and channel target (each webhook; email), with
-- attempts, exponential backoff, a lease while one is being sent, and a dead letter.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel          text NOT NULL CHECK (channel IN ('webhook', 'email')),
    webhook_id       uuid REFERENCES webhooks (id) ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'delivered', 'dead', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_expires_at timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
);
CREATE UNIQUE INDEX outbox_one_webhook_delivery ON outbox (notification_id, webhook_id) WHERE channel = 'webhook';
CREATE UNIQUE INDEX outbox_one_email_delivery ON outbox (notification_id) WHERE channel = 'email';
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_sending_idx ON outbox (lease_expires_at) WHERE status = 'sending';
CREATE INDEX outbox_notification_idx ON outbox (notification_id);

-- A case step's effects, in the step's own transaction: the checkpointer writes the case
-- graph's projection to workflow_states in the statement (or transaction) that writes the
-- checkpoint, whatever form that statement takes, and this trigger turns the projection's
-- `timers` (the timers the case wants now) and `notify` (what it decided to tell the person)
-- into rows. So a crash either keeps the step and its effects, or neither. Effects are
-- idempotent: a timer key is armed once per thread, a notification key written once.
CREATE FUNCTION case_step_effects() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    case_row cases%ROWTYPE;
    wanted jsonb := CASE WHEN jsonb_typeof(NEW.state_data -> 'timers') = 'array'
                         THEN NEW.state_data -> 'timers' ELSE '[]'::jsonb END;
    told jsonb := CASE WHEN jsonb_typeof(NEW.state_data -> 'notify') = 'array'
                       THEN NEW.state_data -> 'notify' ELSE '[]'::jsonb END;
BEGIN
    IF NEW.conversation_id !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO case_row FROM cases WHERE id = NEW.conversation_id::uuid;
    IF NOT FOUND THEN
        RETURN NULL;  -- a copy of a case thread, say: not a case
    END IF;
    -- Cancel first, then arm: timer rows are locked before the thread's row, as a deletion takes them.
    UPDATE timers SET status = 'cancelled', updated_at = now()
     WHERE thread_id = case_row.id AND status = 'pending'
       AND key <> ALL (ARRAY(SELECT t.key FROM jsonb_to_recordset(wanted)
                                                AS t(key text)));
    INSERT INTO timers (thread_id, user_id, key, purpose, due_at, payload)
    SELECT case_row.id, case_row.user_id, t.key, t.purpose, t.due_at, coalesce(t.payload, '{}'::jsonb)
      FROM jsonb_to_recordset(wanted)
           AS t(key text, purpose text, due_at timestamptz, payload jsonb)
    ON CONFLICT (thread_id, key) DO NOTHING;
    WITH decided AS (
        SELECT n.key, n.kind, n.title, n.body, coalesce(n.data, '{}'::jsonb) AS data, n.at,
               coalesce(n.channels, '{}'::text[]) AS channels
          FROM jsonb_to_recordset(told)
               AS n(key text, kind text, title text, body text, data jsonb, at timestamptz, channels text[])
    ), written AS (
        INSERT INTO notifications (user_id, case_id, idempotency_key, kind, title, body, data, created_at)
        SELECT case_row.user_id, case_row.id, d.key, d.kind, d.title, d.body, d.data, d.at FROM decided d
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, idempotency_key, created_at
    )
    INSERT INTO outbox (notification_id, user_id, channel, webhook_id, next_attempt_at)
    SELECT w.id, case_row.user_id, 'webhook', h.id, w.created_at
      FROM written w CROSS JOIN webhooks h
     WHERE h.user_id = case_row.user_id
    UNION ALL
    SELECT w.id, case_row.user_id, 'email', NULL, w.created_at
      FROM written w JOIN decided d ON d.key = w.idempotency_key
     WHERE 'email' = ANY (d.channels);
    RETURN NULL;
END
$$;
CREATE TRIGGER workflow_states_case_effects
    AFTER INSERT OR UPDATE ON workflow_states
    FOR EACH ROW WHEN (NEW.workflow_type = 'case')
    EXECUTE FUNCTION case_step_effects();

ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY cases_owner ON cases
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY case_events_owner ON case_events
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY timers_owner ON timers
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY webhooks_owner ON webhooks
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY notifications_owner ON notifications
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY outbox_owner ON outbox
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
