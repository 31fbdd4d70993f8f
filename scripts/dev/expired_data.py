"""Many expired conversations, fast: copies of one real conversation (its messages, run and events,
checkpoints, blobs, writes, workflow and agent states, a risk detection) under new ids, owned in
turn by the given people and expired an hour ago. For the cleanup's test and benchmark.

The copies go in one transaction with session_replication_role=replica, which skips the
triggers (a NOTIFY per event row) and foreign-key checks of a bulk load whose rows are consistent
by construction; it takes a superuser (the embedded server's, or the test server's).
"""

from __future__ import annotations

import uuid

import asyncpg

# $1 the owners (in turn), $2 how many, $3 the template conversation, $4 its run.
CREATE_CLONES = """
CREATE TEMP TABLE clones ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, gen_random_uuid() AS run_id, ($1::uuid[])[1 + n % cardinality($1::uuid[])] AS user_id,
       $3::uuid AS template, $4::uuid AS template_run
  FROM generate_series(0, $2 - 1) AS n
"""
CLONE = [
    """INSERT INTO conversations (id, user_id, title, metadata, created_at, updated_at, expires_at)
       SELECT k.id, k.user_id, c.title, c.metadata, c.created_at, c.updated_at, now() - interval '1 hour'
         FROM clones k, conversations c WHERE c.id = k.template""",
    """INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata, created_at)
       SELECT k.id, k.user_id, m.role, m.content, m.agent_name, m.metadata, m.created_at
         FROM clones k, conversation_messages m WHERE m.conversation_id = k.template""",
    """INSERT INTO runs (id, conversation_id, user_id, kind, status, input, output, attempt, steps, last_event_id,
                         created_at, updated_at, started_at, finished_at)
       SELECT k.run_id, k.id, k.user_id, r.kind, r.status, r.input, r.output, r.attempt, r.steps, r.last_event_id,
              r.created_at, r.updated_at, r.started_at, r.finished_at
         FROM clones k, runs r WHERE r.id = k.template_run""",
    """INSERT INTO run_events (run_id, id, event, data, attempt, created_at)
       SELECT k.run_id, e.id, e.event, e.data, e.attempt, e.created_at
         FROM clones k, run_events e WHERE e.run_id = k.template_run""",
    """INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
                                metadata, blob_channels, blob_versions, inline_channels)
       SELECT k.id::text, x.checkpoint_ns, x.checkpoint_id, x.parent_checkpoint_id, x.type, x.checkpoint, x.metadata,
              x.blob_channels, x.blob_versions, x.inline_channels
         FROM clones k, checkpoints x WHERE x.thread_id = k.template::text""",
    """INSERT INTO checkpoint_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
       SELECT k.id::text, x.checkpoint_ns, x.channel, x.version, x.type, x.blob
         FROM clones k, checkpoint_blobs x WHERE x.thread_id = k.template::text""",
    """INSERT INTO checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob,
                                      task_path)
       SELECT k.id::text, x.checkpoint_ns, x.checkpoint_id, x.task_id, x.idx, x.channel, x.type, x.blob, x.task_path
         FROM clones k, checkpoint_writes x WHERE x.thread_id = k.template::text""",
    """INSERT INTO workflow_states (conversation_id, user_id, workflow_type, current_step, state_data, updated_at)
       SELECT k.id::text, k.user_id, x.workflow_type, x.current_step, x.state_data, x.updated_at
         FROM clones k, workflow_states x WHERE x.conversation_id = k.template::text""",
    """INSERT INTO agent_states (conversation_id, agent_name, state_data, workflow_step, updated_at)
       SELECT k.id::text, x.agent_name, x.state_data, x.workflow_step, x.updated_at
         FROM clones k, agent_states x WHERE x.conversation_id = k.template::text""",
    """INSERT INTO risk_detections (conversation_id, user_id, message_id, category, severity, excerpt)
       SELECT k.id::text, k.user_id, 'input', 'self_harm', 'urgent', 'what the person said'
         FROM clones k""",
]
SELECT_CLONES = "SELECT id, user_id FROM conversations WHERE expires_at < now() - interval '30 minutes' ORDER BY id"


async def clone_expired(pool: asyncpg.Pool, template: uuid.UUID, template_run: uuid.UUID, owners: list[uuid.UUID],
                        count: int) -> list[asyncpg.Record]:
    """`count` expired copies of the template conversation; (id, user_id) of every copy."""
    async with pool.acquire() as con, con.transaction():
        await con.execute("SET LOCAL session_replication_role = replica")
        await con.execute(CREATE_CLONES, owners, count, template, template_run)
        for statement in CLONE:
            await con.execute(statement)
    return list(await pool.fetch(SELECT_CLONES))
