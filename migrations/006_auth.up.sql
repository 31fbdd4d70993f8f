-- Accounts, part two: refresh tokens (stored hashed, rotated in families),
-- revoked access tokens (logout, until they expire), per-account login
-- throttling shared by every process, and analytics events.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Every token rotated from one login shares the family; reuse revokes all of it.
    family_id   uuid NOT NULL,
    parent_id   uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Access tokens revoked by logout; a row can go once the token has expired.
CREATE TABLE revoked_access_tokens (
    jti        text PRIMARY KEY CHECK (length(jti) <= 100),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_access_tokens_expires_idx ON revoked_access_tokens (expires_at);

-- Login attempts per account (lower-cased email, known or not) in a fixed window.
CREATE TABLE login_throttle (
    account_key       text PRIMARY KEY,
    attempts          integer NOT NULL,
    window_started_at timestamptz NOT NULL
);

CREATE TABLE analytics_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    event      text NOT NULL CHECK (length(event) <= 100),
    properties jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX analytics_events_event_created_idx ON analytics_events (event, created_at);
