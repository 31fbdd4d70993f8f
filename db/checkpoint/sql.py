"""The checkpointer's SQL: every statement on `checkpoints`, `checkpoint_blobs`,
`checkpoint_writes` and the step projection (`workflow_states` / `agent_states`).

Values only as `$n` parameters; the tables and the `checkpoint_tuples` view come
from migration 002. A queued run's fence (`runs` and `run_events`, owned by
db/runs) is composed in from db/runs/sql.py.
"""

from db.runs.sql import FENCE_RESULT, FENCE_STEP_CTES, FENCE_WRITES_CTE

# --- writes -------------------------------------------------------------------

# A step is one statement: the changed blobs, the projection ($15-$21, for the root
# graph; NULL and empty arrays otherwise), the task writes that waited for this
# checkpoint ($22-$28, see AsyncpgSaver.aput_writes) and the checkpoint row. Every
# part selects FROM `guard`: one row, unless a run's fence (db/runs/sql.py) found
# that the run's attempt no longer owns it, and then nothing of the step is written.
# Concurrent steps go out as one pipelined batch (db/batch.py).
_GUARD_ALWAYS = """
WITH guard AS (SELECT)"""
_GUARD_FENCED = """,
guard AS (SELECT FROM fenced)"""
_SAVE_CHECKPOINT_PARTS = """,
new_blobs AS (
    INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT $1::text, $2::text, nb.channel, nb.version, nb.type, nb.blob
    FROM guard, unnest($11::text[], $12::text[], $13::text[], $14::bytea[]) AS nb(channel, version, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
), workflow AS (
    INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data, updated_at)
    SELECT $1::text, $15::uuid, $16::text, $17::text, $18::text::jsonb, now()
    FROM guard
    WHERE $16::text IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE SET
        user_id = COALESCE(EXCLUDED.user_id, workflow_states.user_id),
        workflow_type = EXCLUDED.workflow_type,
        current_step = EXCLUDED.current_step,
        state_data = EXCLUDED.state_data,
        updated_at = EXCLUDED.updated_at
), agents AS (
    INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step, updated_at)
    SELECT $1::text, a.agent_name, a.state_data::jsonb, a.workflow_step, now()
    FROM guard, unnest($19::text[], $20::text[], $21::text[]) AS a(agent_name, state_data, workflow_step)
    ON CONFLICT (conversation_id, agent_name) DO UPDATE SET
        state_data = EXCLUDED.state_data,
        workflow_step = EXCLUDED.workflow_step,
        updated_at = EXCLUDED.updated_at
), waiting_writes AS (
    INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type,
                                   blob)
    SELECT $1::text, $2::text, w.checkpoint_id, w.task_id, w.task_path, w.idx, w.channel, w.type, w.blob
    FROM guard, unnest($22::text[], $23::text[], $24::text[], $25::int[], $26::text[], $27::text[], $28::bytea[])
         AS w(checkpoint_id, task_id, task_path, idx, channel, type, blob)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING
)"""
_SAVE_CHECKPOINT_ROW = """
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                         metadata, blob_channels, blob_versions, inline_channels)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bytea, $7::text::jsonb, $8::text[], $9::text[],
       $10::text[]
FROM guard
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
    type = EXCLUDED.type,
    checkpoint = EXCLUDED.checkpoint,
    metadata = EXCLUDED.metadata,
    blob_channels = EXCLUDED.blob_channels,
    blob_versions = EXCLUDED.blob_versions,
    inline_channels = EXCLUDED.inline_channels"""
SAVE_CHECKPOINT = _GUARD_ALWAYS + _SAVE_CHECKPOINT_PARTS + _SAVE_CHECKPOINT_ROW + "\n"
# With a run's fence ($29-$32): one row per step, (owned, cancel_requested).
SAVE_FENCED_CHECKPOINT = (FENCE_STEP_CTES + _GUARD_FENCED + _SAVE_CHECKPOINT_PARTS + ",\nsaved AS ("
                          + _SAVE_CHECKPOINT_ROW + "\n)" + FENCE_RESULT)
CHECKPOINT_ARGS = 28  # $1-$28; a fence's arguments follow

_SAVE_WRITES_PARTS = """
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, w.idx, w.channel, w.type, w.blob
FROM guard, unnest($6::int[], $7::text[], $8::text[], $9::bytea[]) AS w(idx, channel, type, blob)
CROSS JOIN (SELECT set_config('synchronous_commit', $10::text, true)) AS commit_setting
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)"""
# A retried task's regular writes are the same writes: the first stays.
_ON_CONFLICT_KEEP = " DO NOTHING"
# Special channels (error, interrupt, resume...) take their latest value.
_ON_CONFLICT_REPLACE = """ DO UPDATE SET
    channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob, task_path = EXCLUDED.task_path"""
SAVE_WRITES = _GUARD_ALWAYS + _SAVE_WRITES_PARTS + _ON_CONFLICT_KEEP + "\n"
SAVE_SPECIAL_WRITES = _GUARD_ALWAYS + _SAVE_WRITES_PARTS + _ON_CONFLICT_REPLACE + "\n"
# With a run's fence ($11-$12): one row per task, (owned, cancel_requested).
SAVE_FENCED_WRITES = (FENCE_WRITES_CTE + _GUARD_FENCED + ",\nsaved AS (" + _SAVE_WRITES_PARTS + _ON_CONFLICT_KEEP
                      + "\n)" + FENCE_RESULT)
SAVE_FENCED_SPECIAL_WRITES = (FENCE_WRITES_CTE + _GUARD_FENCED + ",\nsaved AS (" + _SAVE_WRITES_PARTS
                              + _ON_CONFLICT_REPLACE + "\n)" + FENCE_RESULT)
WRITES_ARGS = 10  # $1-$10; a fence's arguments follow
WRITES_COMMIT_ARG = 9  # index of $10

# --- reads --------------------------------------------------------------------

# `checkpoint_tuples` (migration 002) joins each checkpoint to its blobs and writes.
SELECT_CHECKPOINT_BY_ID = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata::text AS metadata,
       blob_channels, blob_types, blobs, write_task_ids, write_channels, write_types, write_blobs,
       write_task_paths, write_idxs
FROM checkpoint_tuples
WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3
"""

# Exactly one row, NULLs when the thread has no checkpoint yet: the latest-checkpoint reads
# of concurrent workflows then share one batch (one round trip), their rows in order.
SELECT_LATEST_CHECKPOINT = """
SELECT latest.* FROM (SELECT) AS one LEFT JOIN LATERAL (
    SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
           metadata::text AS metadata, blob_channels, blob_types, blobs, write_task_ids, write_channels,
           write_types, write_blobs, write_task_paths, write_idxs
    FROM checkpoint_tuples
    WHERE thread_id = $1 AND checkpoint_ns = $2
    ORDER BY checkpoint_id DESC LIMIT 1
) AS latest ON true
"""

SELECT_LATEST_CHECKPOINT_ID = """
SELECT checkpoint_id FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = $2
ORDER BY checkpoint_id DESC LIMIT 1
"""

# Optional filters are NULL-able parameters, so one fixed statement serves every call;
# `$1` (the thread) is NULL only for alist(None), across threads.
SELECT_CHECKPOINTS = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata::text AS metadata,
       blob_channels, blob_types, blobs, write_task_ids, write_channels, write_types, write_blobs,
       write_task_paths, write_idxs
FROM checkpoint_tuples
WHERE ($1::text IS NULL OR thread_id = $1)
  AND ($2::text IS NULL OR checkpoint_ns = $2)
  AND ($3::text IS NULL OR checkpoint_id = $3)
  AND ($4::text IS NULL OR metadata @> $4::text::jsonb)
  AND ($5::text IS NULL OR checkpoint_id < $5)
ORDER BY checkpoint_id DESC LIMIT $6
"""

# Per ancestor (`checkpoint_delta_chain`, migration 002): its writes to the channels
# still wanted there ('w'), the seed blobs it holds for them ('b'), and its row when
# it holds a seed inline ('c').
SELECT_DELTA_HISTORY = """
WITH chain AS (SELECT * FROM checkpoint_delta_chain($1, $2, $3, $4::text[]))
SELECT 'w' AS kind, chain.depth, w.channel, w.type, w.blob, w.task_id, w.task_path, w.idx,
       NULL::text[] AS seed_channels
FROM chain
JOIN checkpoint_writes w
  ON w.thread_id = $1 AND w.checkpoint_ns = $2 AND w.checkpoint_id = chain.checkpoint_id
 AND w.channel = ANY(chain.wanted)
UNION ALL
SELECT 'b', chain.depth, bl.channel, bl.type, bl.blob, NULL, NULL, NULL, NULL
FROM chain
JOIN checkpoints p ON p.thread_id = $1 AND p.checkpoint_ns = $2 AND p.checkpoint_id = chain.checkpoint_id
CROSS JOIN LATERAL unnest(p.blob_channels, p.blob_versions) AS r(channel, version)
CROSS JOIN LATERAL (
    SELECT cb.channel, cb.type, cb.blob FROM checkpoint_blobs cb
    WHERE cb.thread_id = $1 AND cb.checkpoint_ns = $2 AND cb.channel = r.channel AND cb.version = r.version
    LIMIT 1  -- one primary-key probe per key, never a scan of the thread's blobs
) AS bl
WHERE r.channel = ANY(chain.wanted)
UNION ALL
SELECT 'c', chain.depth, NULL, p.type, p.checkpoint, NULL, NULL, NULL,
       ARRAY(SELECT unnest(p.inline_channels) INTERSECT SELECT unnest(chain.wanted))
FROM chain
JOIN checkpoints p ON p.thread_id = $1 AND p.checkpoint_ns = $2 AND p.checkpoint_id = chain.checkpoint_id
WHERE p.inline_channels && chain.wanted
"""

# --- deletes, copies, pruning ---------------------------------------------------

DELETE_THREAD = """
WITH gone_checkpoints AS (DELETE FROM checkpoints WHERE thread_id = $1),
     gone_blobs AS (DELETE FROM checkpoint_blobs WHERE thread_id = $1),
     gone_writes AS (DELETE FROM checkpoint_writes WHERE thread_id = $1),
     gone_agents AS (DELETE FROM agent_states WHERE conversation_id = $1)
DELETE FROM workflow_states WHERE conversation_id = $1
"""

DELETE_THREADS = """
WITH gone_checkpoints AS (DELETE FROM checkpoints WHERE thread_id = ANY($1::text[])),
     gone_blobs AS (DELETE FROM checkpoint_blobs WHERE thread_id = ANY($1::text[])),
     gone_writes AS (DELETE FROM checkpoint_writes WHERE thread_id = ANY($1::text[])),
     gone_agents AS (DELETE FROM agent_states WHERE conversation_id = ANY($1::text[]))
DELETE FROM workflow_states WHERE conversation_id = ANY($1::text[])
"""

# A fragment of the expiry cleanup's statement (db/lifecycle/cleanup.py): the threads of its
# batch of expired conversations `expired (id)` go, as DELETE_THREADS does.
DELETE_THREADS_OF_EXPIRED = """,
expired_checkpoints AS (DELETE FROM checkpoints WHERE thread_id = ANY (ARRAY(SELECT id::text FROM expired))),
expired_blobs AS (DELETE FROM checkpoint_blobs WHERE thread_id = ANY (ARRAY(SELECT id::text FROM expired))),
expired_writes AS (DELETE FROM checkpoint_writes WHERE thread_id = ANY (ARRAY(SELECT id::text FROM expired))),
expired_agents AS (DELETE FROM agent_states WHERE conversation_id = ANY (ARRAY(SELECT id::text FROM expired))),
expired_workflows AS (DELETE FROM workflow_states WHERE conversation_id = ANY (ARRAY(SELECT id::text FROM expired)))"""

# Blobs stay: a live thread's next step may still reference them (they go with
# delete_thread / prune). Writes go with their checkpoints, not as orphans, since a
# running step may have saved writes whose checkpoint has not committed yet.
DELETE_FOR_RUNS = """
WITH doomed AS (
    DELETE FROM checkpoints WHERE metadata ->> 'run_id' = ANY($1::text[])
    RETURNING thread_id, checkpoint_ns, checkpoint_id
)
DELETE FROM checkpoint_writes w USING doomed d
WHERE w.thread_id = d.thread_id AND w.checkpoint_ns = d.checkpoint_ns AND w.checkpoint_id = d.checkpoint_id
"""

COPY_THREAD = """
WITH copied_checkpoints AS (
    INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                             metadata, blob_channels, blob_versions, inline_channels)
    SELECT $2::text, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
           metadata, blob_channels, blob_versions, inline_channels
    FROM checkpoints WHERE thread_id = $1
    ON CONFLICT DO NOTHING
), copied_blobs AS (
    INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT $2::text, checkpoint_ns, channel, version, type, blob FROM checkpoint_blobs WHERE thread_id = $1
    ON CONFLICT DO NOTHING
), copied_workflow AS (
    INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data, updated_at)
    SELECT $2::text, user_id, workflow_type, current_step, state_data, updated_at
    FROM workflow_states WHERE conversation_id = $1
    ON CONFLICT DO NOTHING
), copied_agents AS (
    INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step, updated_at)
    SELECT $2::text, agent_name, state_data, workflow_step, updated_at FROM agent_states WHERE conversation_id = $1
    ON CONFLICT DO NOTHING
)
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob)
SELECT $2::text, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, blob
FROM checkpoint_writes WHERE thread_id = $1
ON CONFLICT DO NOTHING
"""

# keep_latest reads one snapshot: what a run saves meanwhile is neither seen nor deleted.
PRUNE_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"

SELECT_NAMESPACE_HEADS = """
SELECT DISTINCT ON (checkpoint_ns) checkpoint_ns, checkpoint_id,
       ARRAY(SELECT jsonb_object_keys(COALESCE(metadata -> 'counters_since_delta_snapshot', '{}'::jsonb)))
           AS delta_channels
FROM checkpoints WHERE thread_id = $1
ORDER BY checkpoint_ns, checkpoint_id DESC
"""

SELECT_DELTA_CHAIN = "SELECT checkpoint_id FROM checkpoint_delta_chain($1, $2, $3, $4::text[])"

PRUNE_NAMESPACE = """
WITH doomed AS (
    DELETE FROM checkpoints
    WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id <> ALL($3::text[])
    RETURNING checkpoint_id
), doomed_writes AS (
    DELETE FROM checkpoint_writes w USING doomed
    WHERE w.thread_id = $1 AND w.checkpoint_ns = $2 AND w.checkpoint_id = doomed.checkpoint_id
), orphans AS (
    UPDATE checkpoints SET parent_checkpoint_id = NULL
    WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = ANY($3::text[])
      AND parent_checkpoint_id <> ALL($3::text[])
)
DELETE FROM checkpoint_blobs b
WHERE b.thread_id = $1 AND b.checkpoint_ns = $2 AND NOT EXISTS (
    SELECT 1 FROM checkpoints c CROSS JOIN LATERAL unnest(c.blob_channels, c.blob_versions) AS r(channel, version)
    WHERE c.thread_id = $1 AND c.checkpoint_ns = $2 AND c.checkpoint_id = ANY($3::text[])
      AND r.channel = b.channel AND r.version = b.version
)
"""

# --- the account export and import (db/lifecycle/transfer.py) ------------------------------
# A person's threads (their conversations' ids, $1) move whole: checkpoints, blobs and writes with
# their bytes (base64 in the export: LangGraph's serialized state), and the readable projection.
# Rows already stored are left as they are.
EXPORT_CHECKPOINTS = """
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata, blob_channels,
       blob_versions, inline_channels
  FROM checkpoints WHERE thread_id = ANY($1::text[]) ORDER BY thread_id, checkpoint_ns, checkpoint_id
"""
EXPORT_BLOBS = """
SELECT thread_id, checkpoint_ns, channel, version, type, blob
  FROM checkpoint_blobs WHERE thread_id = ANY($1::text[]) ORDER BY thread_id, checkpoint_ns, channel, version
"""
EXPORT_WRITES = """
SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path
  FROM checkpoint_writes WHERE thread_id = ANY($1::text[])
 ORDER BY thread_id, checkpoint_ns, checkpoint_id, task_id, idx
"""
EXPORT_WORKFLOW_STATES = """
SELECT conversation_id, workflow_type, current_step, state_data, updated_at
  FROM workflow_states WHERE conversation_id = ANY($1::text[]) ORDER BY conversation_id
"""
EXPORT_AGENT_STATES = """
SELECT conversation_id, agent_name, state_data, workflow_step, updated_at
  FROM agent_states WHERE conversation_id = ANY($1::text[]) ORDER BY conversation_id, agent_name
"""
IMPORT_CHECKPOINTS = """
INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata,
                         blob_channels, blob_versions, inline_channels)
SELECT r.thread_id, r.checkpoint_ns, r.checkpoint_id, r.parent_checkpoint_id, r.type, decode(r.checkpoint, 'base64'),
       r.metadata, r.blob_channels, r.blob_versions, r.inline_channels
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(thread_id text, checkpoint_ns text, checkpoint_id text, parent_checkpoint_id text,
                                     type text, checkpoint text, metadata jsonb, blob_channels text[],
                                     blob_versions text[], inline_channels text[])
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""
IMPORT_BLOBS = """
INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT r.thread_id, r.checkpoint_ns, r.channel, r.version, r.type, decode(r.blob, 'base64')
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(thread_id text, checkpoint_ns text, channel text, version text, type text,
                                     blob text)
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""
IMPORT_WRITES = """
INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
SELECT r.thread_id, r.checkpoint_ns, r.checkpoint_id, r.task_id, r.idx, r.channel, r.type, decode(r.blob, 'base64'),
       r.task_path
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(thread_id text, checkpoint_ns text, checkpoint_id text, task_id text, idx integer,
                                     channel text, type text, blob text, task_path text)
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""
# $2 the owner (workflow_states.user_id).
IMPORT_WORKFLOW_STATES = """
INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data, updated_at)
SELECT r.conversation_id, $2, r.workflow_type, r.current_step, r.state_data, r.updated_at
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(conversation_id text, workflow_type text, current_step text, state_data jsonb,
                                     updated_at timestamptz)
 ORDER BY e.ord
ON CONFLICT (conversation_id) DO NOTHING
"""
IMPORT_AGENT_STATES = """
INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step, updated_at)
SELECT r.conversation_id, r.agent_name, r.state_data, r.workflow_step, r.updated_at
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(conversation_id text, agent_name text, state_data jsonb, workflow_step text,
                                     updated_at timestamptz)
 ORDER BY e.ord
ON CONFLICT (conversation_id, agent_name) DO NOTHING
"""
# An account's erasure: projections of its threads that have no conversation (its own CLI threads).
DELETE_USER_WORKFLOWS = "DELETE FROM workflow_states WHERE user_id = $1"
