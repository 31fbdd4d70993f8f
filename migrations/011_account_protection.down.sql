DROP TABLE IF EXISTS audit_events;
DROP FUNCTION IF EXISTS audit_events_append_only();
DROP FUNCTION IF EXISTS audit_events_no_truncate();
DROP TABLE IF EXISTS pending_registrations;
DROP TABLE IF EXISTS auth_throttle;
-- As migration 006 made it.
CREATE TABLE login_throttle (
    account_key       text PRIMARY KEY,
    attempts          integer NOT NULL,
    window_started_at timestamptz NOT NULL
);
