-- What the model cost, per UTC day, provider and model: summed from each assistant message's
-- `metadata.usage` in the statement that stores the message (db/usage.py). It holds no user or
-- conversation, so it outlives the conversations the expiry cleanup deletes.
CREATE TABLE model_usage_daily (
    day           date   NOT NULL,
    provider      text   NOT NULL,
    model         text   NOT NULL,
    messages      bigint NOT NULL DEFAULT 0,
    calls         bigint NOT NULL DEFAULT 0,
    errors        bigint NOT NULL DEFAULT 0,
    -- Tokens of the calls whose provider reported them (the offline model reports none).
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    latency_ms    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, provider, model)
);
