-- Personal API keys (for programs and the LangGraph SDKs: `x-api-key`), stored as SHA-256
-- of a high-entropy random key; revoked keys stay listed nowhere and authenticate nothing.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The first characters of the key, shown in lists so a person can tell keys apart.
    prefix       text NOT NULL CHECK (length(prefix) <= 20),
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

-- What an Agent Protocol client (/lg) asked of a run, beside the run itself: the
-- assistant, its metadata, the stream modes a join replays by default and the
-- multitask strategy. A run made by the service's own API has no row here.
CREATE TABLE run_protocol_options (
    run_id             uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    assistant_id       uuid NOT NULL,
    metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
    stream_mode        text[] NOT NULL DEFAULT '{values}',
    multitask_strategy text NOT NULL DEFAULT 'reject'
                       CHECK (multitask_strategy IN ('reject', 'enqueue', 'interrupt', 'rollback'))
);
