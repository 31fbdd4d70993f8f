-- Accounts hard to probe and hard to lock (issue 14, part A), and the audit trail.
--
-- auth_throttle replaces login_throttle: one leaky bucket per limit and subject (an account at
-- a client address, an address, the whole service; registrations per address and in total).
-- The key is a SHA-256 of the limit's name and its subject, so neither the emails tried nor the
-- addresses they came from are kept in clear. last_success_at marks an address the account
-- signed in from: attempts from there are exempt from the per-address and global limits.
DROP TABLE login_throttle;
CREATE TABLE auth_throttle (
    key             bytea PRIMARY KEY CHECK (length(key) = 32),
    level           double precision NOT NULL DEFAULT 0 CHECK (level >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz
);
CREATE INDEX auth_throttle_updated_idx ON auth_throttle (updated_at);

-- Registrations waiting for their email to be confirmed (only when the service sends email).
-- The account is created from the row whose link was opened, with that row's password hash:
-- whoever registers an address first cannot keep its owner out, and nothing here says whether
-- an address has an account. No user_id: nobody owns these rows yet.
CREATE TABLE pending_registrations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,
    full_name     text CHECK (full_name IS NULL OR length(full_name) <= 200),
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX pending_registrations_email_idx ON pending_registrations (lower(email));
CREATE INDEX pending_registrations_expires_idx ON pending_registrations (expires_at);

-- Security events, append-only: sign-ins, failed sign-ins, refresh-token reuse, API keys,
-- exports, account deletions, admin actions. user_id is whom the event concerns and has no
-- foreign key: the trail outlives a deleted account (until AUDIT_RETENTION_DAYS).
-- actor_id is who acted when that is someone else (an administrator).
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    event          text NOT NULL CHECK (event ~ '^[a-z_]+(\.[a-z_]+)*$' AND length(event) <= 64),
    user_id        uuid,
    actor_id       uuid,
    client_address inet,
    request_id     text CHECK (length(request_id) <= 64),
    details        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX audit_events_created_idx ON audit_events (created_at DESC, id DESC);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, created_at DESC, id DESC);
CREATE INDEX audit_events_event_idx ON audit_events (event, created_at DESC, id DESC);

-- Append-only even for the service's own code: no UPDATE, no TRUNCATE, and DELETE only of rows
-- older than the retention the deleting transaction declares (db/audit.py's purge sets
-- app.audit_retention_days with set_config(..., true) for its own transaction).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    retention integer := nullif(current_setting('app.audit_retention_days', true), '')::integer;
BEGIN
    IF TG_OP = 'DELETE' AND retention IS NOT NULL THEN
        IF OLD.created_at < now() - make_interval(days => retention) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE FUNCTION audit_events_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_no_truncate();

-- Row-level security (no effect while the service connects as the owner; it binds once it
-- connects as a role without BYPASSRLS): anyone may append (a failed sign-in has no user yet);
-- a person reads the events about them; administrators read all, declared per transaction by
-- the data layer with app.user_role (db/audit.py sets it where an admin reads the trail). There
-- is no UPDATE or DELETE policy: only a role that bypasses RLS purges.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_events_append ON audit_events FOR INSERT WITH CHECK (true);
CREATE POLICY audit_events_owner ON audit_events FOR SELECT
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY audit_events_admin ON audit_events FOR SELECT
    USING (current_setting('app.user_role', true) = 'admin');
