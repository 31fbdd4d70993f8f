"""Every statement on `runs` and `run_events` (this package owns both tables).

Values only as `$n` parameters. The columns a `Run` is read from are written
once (`RUN_COLUMNS`) and every statement that returns runs is composed from it.
"""

from __future__ import annotations

from db.conversations.sql import APPEND_MESSAGES_TO_TARGET, CLAIMED_THREAD_GRAPH
from db.usage import COUNT_USAGE_OF_MESSAGES

# The columns of `db.runs.model.Run`, in its field order.
RUN_COLUMNS = (
    "id, seq, conversation_id, user_id, kind, resumes_run_id, status, input, output, error, "
    "idempotency_key, attempt, lost_attempts, steps, worker_id, lease_expires_at, cancel_requested, "
    "created_at, updated_at, started_at, finished_at"
)
_SELECT_RUN_COLUMNS = "\nSELECT " + RUN_COLUMNS

# A run is the user's only while its conversation is: past `expires_at` it is 404 at once too
# (the statements below that the API uses all check it).
_CONVERSATION_LIVE = """
   AND EXISTS (SELECT 1 FROM conversations c
                WHERE c.id = runs.conversation_id AND c.user_id = runs.user_id AND c.expires_at > now())"""

# --- runs: creation -------------------------------------------------------------

# The run's 'created' event (id 1, hence last_event_id 1) goes in with the row, written by the
# trigger runs_created_event (migration row_level_security), which sees the new row as a policy must.
_INSERT_RUN_ROW = """
WITH inserted AS (
    INSERT INTO runs (conversation_id, user_id, kind, resumes_run_id, input, idempotency_key, last_event_id)
    VALUES ($1, $2, $3, $4, $5, $6, 1)
    ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
)"""
INSERT_RUN = _INSERT_RUN_ROW + _SELECT_RUN_COLUMNS + "\n  FROM inserted\n"
SELECT_RUN_BY_IDEMPOTENCY_KEY = _SELECT_RUN_COLUMNS + """
  FROM runs WHERE user_id = $1 AND idempotency_key = $2
"""
# POST /chat with an Idempotency-Key: requests with one key of one user take turns (until their
# transaction ends), so a retry racing the original finds its run instead of creating a second
# conversation. Transaction-scoped, so it is safe behind a transaction-mode pooler.
LOCK_IDEMPOTENCY_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text || ' ' || $2::text, 0))"
SELECT_OWNED_RUN = _SELECT_RUN_COLUMNS + """
  FROM runs
 WHERE id = $1 AND user_id = $2""" + _CONVERSATION_LIVE + "\n"
SELECT_OWNED_RUN_FOR_UPDATE = SELECT_OWNED_RUN + " FOR UPDATE"
SELECT_LATER_RUN_EXISTS = "SELECT EXISTS (SELECT 1 FROM runs WHERE conversation_id = $1 AND seq > $2)"
SELECT_RUN_STATUS = """
SELECT status FROM runs
 WHERE id = $1 AND user_id = $2""" + _CONVERSATION_LIVE + "\n"
SELECT_RUNS_TABLE_EXISTS = "SELECT to_regclass('runs') IS NOT NULL"
COUNT_RUNS_BY_STATUS = "SELECT status, count(*) AS n FROM runs GROUP BY status"
# What /metrics reads at scrape time: the queue's depth and how long its oldest run has waited.
# The queue's age (its depth is COUNT_RUNS_BY_STATUS's pending).
SELECT_QUEUE_DEPTH = """
SELECT (SELECT extract(epoch FROM now() - created_at)::float8 FROM runs
         WHERE status = 'pending' ORDER BY seq LIMIT 1) AS oldest_pending_seconds
"""

# --- runs: cancel -------------------------------------------------------------

# A pending (or interrupted) run ends at once; a running one is flagged and its
# worker stops at the next step boundary. Terminal runs are left as they are.
_CANCEL_TARGET = """
WITH target AS (
    SELECT id, status FROM runs
     WHERE id = $1 AND user_id = $2"""
_CANCEL_UPDATE = """
       FOR UPDATE
), updated AS (
    UPDATE runs r SET
        status = CASE WHEN t.status IN ('pending', 'interrupted') THEN 'cancelled' ELSE r.status END,
        cancel_requested = CASE WHEN t.status = 'running' THEN true ELSE r.cancel_requested END,
        finished_at = CASE WHEN t.status IN ('pending', 'interrupted') THEN now() ELSE r.finished_at END,
        last_event_id = r.last_event_id + 1,
        updated_at = now()
      FROM target t
     WHERE r.id = t.id AND t.status IN ('pending', 'interrupted', 'running')
    RETURNING r.id, r.status, r.last_event_id, r.attempt
), cancel_event AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT id, last_event_id,
           CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'cancel_requested' END,
           '{}'::jsonb, attempt
      FROM updated
)
SELECT id FROM target
"""
CANCEL_RUN = _CANCEL_TARGET + _CONVERSATION_LIVE + _CANCEL_UPDATE

# --- worker side: claim, heartbeat, step fence, finish, release ----------------

# One statement: pick up to $4 claimable runs (expired leases first, then the
# oldest pending run of each conversation with nothing running or queued before it),
# lock them with SKIP LOCKED so concurrent claimers never take the same row, bump
# the attempt (the fence), and log the claim. An expired run that already lost
# $3 leases, or was cancelled meanwhile, is ended instead of being run again.
_CLAIM_AND_EVENT = """
WITH expired AS (
    SELECT id FROM runs
     WHERE status = 'running' AND lease_expires_at < now()
     ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED
), next_pending AS (
    SELECT r.id FROM runs r
     WHERE r.status = 'pending'
       AND NOT EXISTS (SELECT 1 FROM runs o
                        WHERE o.conversation_id = r.conversation_id AND o.id <> r.id
                          AND (o.status = 'running' OR (o.status = 'pending' AND o.seq < r.seq)))
     ORDER BY r.seq LIMIT greatest($4 - (SELECT count(*) FROM expired), 0) FOR UPDATE OF r SKIP LOCKED
), candidate AS (
    SELECT id FROM expired UNION ALL SELECT id FROM next_pending
), claimed AS (
    UPDATE runs r SET
        status = CASE WHEN r.cancel_requested THEN 'cancelled'
                      WHEN r.status = 'running' AND r.lost_attempts + 1 >= $3 THEN 'error'
                      ELSE 'running' END,
        error = CASE WHEN NOT r.cancel_requested AND r.status = 'running' AND r.lost_attempts + 1 >= $3
                     THEN 'max_attempts_exceeded' ELSE r.error END,
        lost_attempts = r.lost_attempts + (r.status = 'running')::int,
        attempt = CASE WHEN r.cancel_requested OR (r.status = 'running' AND r.lost_attempts + 1 >= $3)
                       THEN r.attempt ELSE r.attempt + 1 END,
        worker_id = $1,
        lease_expires_at = now() + make_interval(secs => $2),
        started_at = coalesce(r.started_at, now()),
        finished_at = CASE WHEN r.cancel_requested OR (r.status = 'running' AND r.lost_attempts + 1 >= $3)
                           THEN now() END,
        last_event_id = r.last_event_id + 1,
        updated_at = now()
      FROM candidate c
     WHERE r.id = c.id
    RETURNING r.*
), claim_event AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT id, last_event_id,
           CASE status WHEN 'running' THEN 'started' WHEN 'error' THEN 'error' ELSE 'cancelled' END,
           CASE status WHEN 'running' THEN jsonb_build_object('worker_id', worker_id, 'recovered', steps > 0,
                                                              'lost_attempts', lost_attempts)
                       WHEN 'error' THEN jsonb_build_object('error', error, 'lost_attempts', lost_attempts)
                       ELSE '{}'::jsonb END,
           attempt
      FROM claimed
)"""
# With each run, the graph of its thread (db/conversations/sql.py).
CLAIM_RUN = _CLAIM_AND_EVENT + _SELECT_RUN_COLUMNS + ",\n       " + CLAIMED_THREAD_GRAPH + "\n  FROM claimed\n"

HEARTBEAT_RUN = """
UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3)
 WHERE id = $1 AND attempt = $2 AND status = 'running'
RETURNING cancel_requested, steps
"""
# Every lease a process holds, in one statement ($1 ids, $2 attempts); rows locked in id
# order, as the checkpointer's batches lock them, so the two never deadlock.
HEARTBEAT_RUNS = """
WITH held AS (
    SELECT r.id FROM runs r JOIN unnest($1::uuid[], $2::int[]) AS h(id, attempt)
        ON r.id = h.id AND r.attempt = h.attempt
     WHERE r.status = 'running'
     ORDER BY r.id
       FOR UPDATE OF r
)
UPDATE runs SET lease_expires_at = now() + make_interval(secs => $3)
  FROM held WHERE runs.id = held.id
RETURNING runs.id, runs.cancel_requested, runs.steps
"""

# A step that ran past RUN_STEP_TIMEOUT_SECONDS: the lease ends now, so the next claim
# takes the run again as if its worker had died ($3: the 'retry' event's data).
EXPIRE_LEASE = """
WITH expired AS (
    UPDATE runs SET lease_expires_at = now(), last_event_id = last_event_id + 1, updated_at = now()
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING id, last_event_id
)
INSERT INTO run_events (run_id, id, event, data, attempt)
SELECT id, last_event_id, 'retry', $3::text::jsonb, $2 FROM expired
RETURNING run_id
"""

# Composed into the checkpointer's statements (db/checkpoint/sql.py), whose own parameters
# come first: a step's fence takes $29-$32 (run id, attempt, event names, event JSON texts),
# a task's writes fence $11-$12 (run id, attempt). When the attempt no
# longer owns the run, `fenced` is empty and the checkpointer writes nothing.
# A step: count it and log its events: node_finished for the nodes it completed, then (last,
# so the events kept are always the first ones) node_started for the tasks the graph starts
# next (db/runs/fence.py), which are left out when a cancel is pending: the graph stops at this
# boundary and starts none. The lease is the heartbeat's to extend: this UPDATE changes no
# indexed column, so PostgreSQL can update the row in place (HOT).
FENCE_STEP_CTES = """
WITH fenced AS (
    UPDATE runs SET steps = steps + 1,
                    last_event_id = last_event_id + cardinality($31::text[])
                        - CASE WHEN cancel_requested THEN cardinality(array_positions($31::text[], 'node_started'))
                               ELSE 0 END,
                    updated_at = now()
     WHERE id = $29 AND attempt = $30 AND status = 'running'
    RETURNING last_event_id, cancel_requested
), step_events AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT $29, f.last_event_id - count(*) OVER () + e.ord, e.event, e.data::jsonb, $30
      FROM fenced f, unnest($31::text[], $32::text[]) WITH ORDINALITY AS e (event, data, ord)
     WHERE NOT (f.cancel_requested AND e.event = 'node_started')
)"""
# A task's writes: FOR SHARE holds off a new claim (an UPDATE) until the writes commit.
FENCE_WRITES_CTE = """
WITH fenced AS (
    SELECT cancel_requested FROM runs WHERE id = $11 AND attempt = $12 AND status = 'running' FOR SHARE
)"""
# Exactly one row per fenced statement, so a batch's rows line up with its items.
FENCE_RESULT = """
SELECT EXISTS (SELECT FROM fenced) AS owned, (SELECT cancel_requested FROM fenced) AS cancel_requested
"""

# Events outside a checkpoint (node started, retry), fenced by the attempt; one row.
_APPEND_EVENTS = """
WITH fenced AS (
    UPDATE runs SET last_event_id = last_event_id + cardinality($3::text[]), updated_at = now()
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING last_event_id, cancel_requested
), appended AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT $1, f.last_event_id - cardinality($3::text[]) + e.ord, e.event, e.data::jsonb, $2
      FROM fenced f, unnest($3::text[], $4::text[]) WITH ORDINALITY AS e (event, data, ord)
)"""
APPEND_FENCED_EVENTS = _APPEND_EVENTS + FENCE_RESULT
# The end of a run ($3 'success' | 'interrupted' | 'error'), fenced by the attempt, with its
# final events and, in the same statement, its conversation messages ($8-$11, appended by
# db/conversations/sql.py's fragment; a conversation that expired or was deleted meanwhile gets
# none, and the run still ends). A cancel that arrived after the last step wins: the run ends
# cancelled, without output or messages. The `runs` row is locked before the conversation,
# the order a conversation's delete takes them in. One row: the stored status (NULL: not ours).
_FINISH_AND_EVENTS = """
WITH finished AS (
    UPDATE runs SET
        status = CASE WHEN cancel_requested THEN 'cancelled' ELSE $3 END,
        output = CASE WHEN cancel_requested THEN NULL ELSE $4::jsonb END,
        error = CASE WHEN cancel_requested THEN NULL ELSE $5 END,
        worker_id = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now(),
        last_event_id = last_event_id + CASE WHEN cancel_requested THEN 1 ELSE cardinality($6::text[]) END
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING id, status, last_event_id, conversation_id, user_id
), final_events AS (
    INSERT INTO run_events (run_id, id, event, data, attempt)
    SELECT $1, f.last_event_id - cardinality($6::text[]) + e.ord, e.event, e.data::jsonb, $2
      FROM finished f, unnest($6::text[], $7::text[]) WITH ORDINALITY AS e (event, data, ord)
     WHERE f.status <> 'cancelled'
    UNION ALL
    SELECT $1, f.last_event_id, 'cancelled', '{}'::jsonb, $2 FROM finished f WHERE f.status = 'cancelled'
), message_target AS (
    SELECT conversation_id, user_id FROM finished WHERE status <> 'cancelled'
)"""
_FINISH_RESULT = """
SELECT (SELECT status FROM finished) AS status
"""
# The assistant message's `metadata.usage` is added to the day's model usage (db/usage.py).
FINISH_RUN = _FINISH_AND_EVENTS + APPEND_MESSAGES_TO_TARGET + COUNT_USAGE_OF_MESSAGES + _FINISH_RESULT

# SIGTERM drain: the step in flight has committed; hand the run back to the queue.
RELEASE_RUN = """
WITH released AS (
    UPDATE runs SET status = 'pending', worker_id = NULL, lease_expires_at = NULL,
                    last_event_id = last_event_id + 1, updated_at = now()
     WHERE id = $1 AND attempt = $2 AND status = 'running'
    RETURNING id, last_event_id
)
INSERT INTO run_events (run_id, id, event, data, attempt)
SELECT id, last_event_id, 'released', '{}'::jsonb, $2 FROM released
RETURNING run_id
"""

# --- run_events ---------------------------------------------------------------

SELECT_EVENTS_AFTER = """
SELECT e.run_id, e.id, e.event, e.data, e.attempt, e.created_at
  FROM run_events e JOIN runs r ON r.id = e.run_id
  JOIN conversations c ON c.id = r.conversation_id AND c.user_id = r.user_id AND c.expires_at > now()
 WHERE e.run_id = $1 AND r.user_id = $2 AND e.id > $3
 ORDER BY e.id
 LIMIT $4
"""

# --- runs of a conversation (the Agent Protocol lists, answers and deletes them) -------

# Newest first; $3 the statuses wanted, or NULL for all.
SELECT_OWNED_CONVERSATION_RUNS = _SELECT_RUN_COLUMNS + """
  FROM runs
 WHERE conversation_id = $1 AND user_id = $2 AND ($3::text[] IS NULL OR status = ANY($3::text[]))
""" + _CONVERSATION_LIVE + """
 ORDER BY seq DESC
 LIMIT $4 OFFSET $5
"""
SELECT_LATEST_CONVERSATION_RUN = _SELECT_RUN_COLUMNS + """
  FROM runs
 WHERE conversation_id = $1 AND user_id = $2""" + _CONVERSATION_LIVE + """
 ORDER BY seq DESC
 LIMIT 1
"""
# Only a settled run goes, and not one whose continuation exists (the foreign key would take
# the continuation with it). Returns the run's status and whether it was deleted.
_DELETE_TARGET = """
WITH target AS (
    SELECT id, status, EXISTS (SELECT 1 FROM runs c WHERE c.resumes_run_id = runs.id) AS resumed
      FROM runs
     WHERE id = $1 AND user_id = $2"""
_DELETE_SETTLED = """
       FOR UPDATE
), deleted AS (
    DELETE FROM runs r USING target t
     WHERE r.id = t.id AND t.status NOT IN ('pending', 'running') AND NOT t.resumed
    RETURNING r.id
)
SELECT t.status, t.resumed, EXISTS (SELECT 1 FROM deleted) AS deleted FROM target t
"""
DELETE_OWNED_SETTLED_RUN = _DELETE_TARGET + _CONVERSATION_LIVE + _DELETE_SETTLED

# --- the account export, import and erasure (db/lifecycle) ---------------------------------

# What a run was, without the queue's mechanics (lease, worker, event counter, queue position).
EXPORT_RUNS = """
SELECT id, conversation_id, kind, resumes_run_id, status, input, output, error, idempotency_key, attempt,
       lost_attempts, steps, created_at, updated_at, started_at, finished_at
  FROM runs WHERE user_id = $1 ORDER BY created_at, seq
"""
# Runs move in settled: one that was pending or running where it was exported cannot continue here
# (its worker and lease stayed there), so it arrives cancelled. $3 the conversations that are the
# user's; a run of any other is skipped.
IMPORT_RUNS = """
INSERT INTO runs (user_id, id, conversation_id, kind, resumes_run_id, status, input, output, error, idempotency_key,
                  attempt, lost_attempts, steps, created_at, updated_at, started_at, finished_at)
SELECT $1, r.id, r.conversation_id, r.kind, r.resumes_run_id,
       CASE WHEN r.status IN ('pending', 'running') THEN 'cancelled' ELSE r.status END,
       r.input, r.output, r.error, r.idempotency_key, r.attempt, r.lost_attempts, r.steps, r.created_at,
       r.updated_at, r.started_at,
       CASE WHEN r.status IN ('pending', 'running') THEN coalesce(r.finished_at, r.updated_at) ELSE r.finished_at END
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, conversation_id uuid, kind text, resumes_run_id uuid, status text,
                                     input jsonb, output jsonb, error text, idempotency_key text, attempt integer,
                                     lost_attempts integer, steps integer, created_at timestamptz,
                                     updated_at timestamptz, started_at timestamptz, finished_at timestamptz)
 WHERE r.conversation_id = ANY($3::uuid[])
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""
# First in an account's erasure: its runs in flight, locked in the order a finishing run takes its
# locks (its run, then its conversation), so the erasure waits for it instead of deadlocking.
LOCK_USER_RUNS_IN_FLIGHT = """
SELECT id FROM runs WHERE user_id = $1 AND status IN ('pending', 'running', 'interrupted') ORDER BY id FOR UPDATE
"""
