-- LangGraph checkpoints (AsyncpgSaver, db/checkpointer.py) and the per-step projection.
-- Identifiers compare bytewise (COLLATE "C"): checkpoint ids sort by time and
-- versions by their zero-padded counter whatever the database's locale.
CREATE TABLE checkpoints (
    thread_id            text COLLATE "C" NOT NULL,
    checkpoint_ns        text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id        text COLLATE "C" NOT NULL,
    parent_checkpoint_id text COLLATE "C",
    type                 text NOT NULL,
    checkpoint           bytea NOT NULL,
    metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Which stored values this checkpoint reads: blobs by (channel, version), and
    -- channels whose (primitive) value sits inline in `checkpoint`.
    blob_channels        text[] NOT NULL DEFAULT '{}',
    blob_versions        text[] NOT NULL DEFAULT '{}',
    inline_channels      text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
-- delete_for_runs finds a run's checkpoints without a scan.
CREATE INDEX checkpoints_run_id_idx ON checkpoints ((metadata ->> 'run_id'));

-- One row per channel version: a step writes only the channels it changed.
CREATE TABLE checkpoint_blobs (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    channel       text COLLATE "C" NOT NULL,
    version       text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    blob          bytea,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);

-- A task's writes against the checkpoint it ran from; DeltaChannel history replays them.
CREATE TABLE checkpoint_writes (
    thread_id     text COLLATE "C" NOT NULL,
    checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id text COLLATE "C" NOT NULL,
    task_id       text COLLATE "C" NOT NULL,
    idx           integer NOT NULL,
    channel       text COLLATE "C" NOT NULL,
    type          text NOT NULL,
    blob          bytea,
    task_path     text COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);

-- Where each workflow is, upserted in the transaction of its checkpoint.
-- conversation_id is the graph's thread_id; no FK: CLI threads have no conversation row.
CREATE TABLE workflow_states (
    conversation_id text PRIMARY KEY,
    user_id         uuid,
    workflow_type   text NOT NULL,
    current_step    text,
    state_data      jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_states_user_idx ON workflow_states (user_id);

-- What each agent concluded last, and in which step.
CREATE TABLE agent_states (
    conversation_id text NOT NULL,
    agent_name      text NOT NULL,
    state_data      jsonb NOT NULL DEFAULT '{}'::jsonb,
    workflow_step   text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, agent_name)
);

-- A checkpoint with the blobs it reads and its pending writes, as arrays: one row
-- per checkpoint for get_tuple/list (filters on `checkpoints` columns push down,
-- and LIMIT stops the lateral lookups after the rows it keeps).
CREATE VIEW checkpoint_tuples AS
SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint,
       c.metadata, b.channels AS blob_channels, b.types AS blob_types, b.blobs,
       w.task_ids AS write_task_ids, w.channels AS write_channels, w.types AS write_types,
       w.blobs AS write_blobs, w.task_paths AS write_task_paths, w.idxs AS write_idxs
FROM checkpoints c
CROSS JOIN LATERAL (
    SELECT array_agg(bl.channel) AS channels, array_agg(bl.type) AS types, array_agg(bl.blob) AS blobs
    FROM unnest(c.blob_channels, c.blob_versions) AS r(channel, version)
    -- One primary-key probe per (channel, version): LIMIT 1 keeps the planner from
    -- flattening this into a join that reads every blob of the thread (a cost that
    -- would grow with the thread's length).
    CROSS JOIN LATERAL (
        SELECT cb.channel, cb.type, cb.blob FROM checkpoint_blobs cb
        WHERE cb.thread_id = c.thread_id AND cb.checkpoint_ns = c.checkpoint_ns
          AND cb.channel = r.channel AND cb.version = r.version
        LIMIT 1
    ) AS bl
) AS b
CROSS JOIN LATERAL (
    SELECT array_agg(cw.task_id) AS task_ids, array_agg(cw.channel) AS channels, array_agg(cw.type) AS types,
           array_agg(cw.blob) AS blobs, array_agg(cw.task_path) AS task_paths, array_agg(cw.idx) AS idxs
    FROM checkpoint_writes cw
    WHERE cw.thread_id = c.thread_id AND cw.checkpoint_ns = c.checkpoint_ns AND cw.checkpoint_id = c.checkpoint_id
) AS w;

-- The parent chain above a checkpoint for DeltaChannel replay: each ancestor with
-- the channels still looking for a seed when the walk reaches it (`wanted`). A
-- channel's walk ends at the first ancestor that stores a value for it (a blob or
-- an inline scalar); the whole walk ends when every channel has one.
CREATE FUNCTION checkpoint_delta_chain(p_thread_id text, p_checkpoint_ns text, p_checkpoint_id text,
                                       p_channels text[])
RETURNS TABLE (checkpoint_id text, depth integer, wanted text[])
LANGUAGE sql STABLE AS $$
WITH RECURSIVE chain AS (
    SELECT p.checkpoint_id, p.parent_checkpoint_id, 1 AS depth, p_channels AS wanted,
           ARRAY(SELECT unnest(p_channels) EXCEPT SELECT unnest(p.blob_channels || p.inline_channels))
               AS still_wanted
    FROM checkpoints t
    JOIN checkpoints p
      ON p.thread_id = t.thread_id AND p.checkpoint_ns = t.checkpoint_ns
     AND p.checkpoint_id = t.parent_checkpoint_id
    WHERE t.thread_id = p_thread_id AND t.checkpoint_ns = p_checkpoint_ns AND t.checkpoint_id = p_checkpoint_id
  UNION ALL
    SELECT p.checkpoint_id, p.parent_checkpoint_id, chain.depth + 1, chain.still_wanted,
           ARRAY(SELECT unnest(chain.still_wanted) EXCEPT SELECT unnest(p.blob_channels || p.inline_channels))
    FROM chain
    JOIN checkpoints p
      ON p.thread_id = p_thread_id AND p.checkpoint_ns = p_checkpoint_ns
     AND p.checkpoint_id = chain.parent_checkpoint_id
    WHERE cardinality(chain.still_wanted) > 0
)
SELECT checkpoint_id, depth, wanted FROM chain
$$;
