"""The statements of the conversations and conversation_messages tables (owned by
db.conversations), lifecycle ones included (expiry, export, import)."""

from __future__ import annotations

# graph_id: the graph that drives the thread (`navigator`; `case` for a case's thread, db/cases.py).
CONVERSATION_COLUMNS = "id, user_id, title, pinned, metadata, created_at, updated_at, expires_at, graph_id"
_SELECT_CONVERSATION_COLUMNS = "\nSELECT " + CONVERSATION_COLUMNS

INSERT_CONVERSATION = """
INSERT INTO conversations (user_id, title, metadata, expires_at)
VALUES ($1, $2, $3, now() + make_interval(hours => $4))
RETURNING """ + CONVERSATION_COLUMNS
# A case's thread (graph_id 'case', db/cases.py) is not a conversation of the person: the case's
# routes reach it, these do not (extending or deleting it here would break its case).
SELECT_OWNED_CONVERSATION = _SELECT_CONVERSATION_COLUMNS + """
  FROM conversations
 WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
"""
# Keyset pagination, newest first; the cursor is the last row's (created_at, id).
LIST_OWNED_CONVERSATIONS = _SELECT_CONVERSATION_COLUMNS + """
  FROM conversations
 WHERE user_id = $1 AND expires_at > now() AND graph_id = 'navigator'
   AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
   AND ($5::boolean IS NULL OR pinned = $5)
 ORDER BY created_at DESC, id DESC
 LIMIT $4
"""
EXTEND_OWNED_CONVERSATION = """
UPDATE conversations
   SET expires_at = now() + make_interval(hours => $3), updated_at = now()
 WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
RETURNING """ + CONVERSATION_COLUMNS
# Rename and/or pin: a NULL leaves that column as it is. Not activity, so updated_at stays.
UPDATE_OWNED_CONVERSATION = """
UPDATE conversations
   SET title = COALESCE($3, title), pinned = COALESCE($4, pinned)
 WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
RETURNING """ + CONVERSATION_COLUMNS
# Before a delete: lock the conversation's runs, so the delete takes its locks in the order a
# finishing run does (its `runs` row, then the conversation) instead of deadlocking with it.
LOCK_OWNED_CONVERSATION_RUNS = """
SELECT r.id FROM runs r
 WHERE r.conversation_id = $1 AND r.user_id = $2
   AND r.status IN ('pending', 'running', 'interrupted')
 ORDER BY r.id
   FOR UPDATE
"""
DELETE_OWNED_CONVERSATION = """
DELETE FROM conversations WHERE id = $1 AND user_id = $2 AND expires_at > now() AND graph_id = 'navigator'
RETURNING id
"""
# One round trip: touch the owned (unexpired) conversation and insert every message.
APPEND_MESSAGES = """
WITH owned AS (
    UPDATE conversations SET updated_at = now()
     WHERE id = $1 AND user_id = $2 AND expires_at > now()
    RETURNING id, user_id
)
INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata)
SELECT owned.id, owned.user_id, m.role, m.content, m.agent_name, m.metadata::jsonb
  FROM owned, unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
       AS m(role, content, agent_name, metadata, position)
 ORDER BY m.position
RETURNING id
"""
# The same, composed into a statement of the run queue (db/runs/sql.py: FINISH_RUN) that
# defines `message_target (conversation_id, user_id)`; the messages are its $8-$11.
APPEND_MESSAGES_TO_TARGET = """,
touched AS (
    UPDATE conversations c SET updated_at = now()
      FROM message_target t
     WHERE c.id = t.conversation_id AND c.user_id = t.user_id AND c.expires_at > now()
       AND cardinality($8::text[]) > 0
    RETURNING c.id, c.user_id
), appended AS (
    INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata)
    SELECT touched.id, touched.user_id, m.role, m.content, m.agent_name, m.metadata::jsonb
      FROM touched, unnest($8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
           AS m(role, content, agent_name, metadata, position)
     ORDER BY m.position
)"""
SELECT_MESSAGES_AFTER = """
SELECT id, role, content, agent_name, metadata, created_at
  FROM conversation_messages
 WHERE conversation_id = $1 AND user_id = $2 AND id > $3
 ORDER BY id
 LIMIT $4
"""
SELECT_ALL_MESSAGES = """
SELECT id, role, content, agent_name, metadata, created_at
  FROM conversation_messages
 WHERE conversation_id = $1 AND user_id = $2
 ORDER BY id
"""
SELECT_WORKFLOW_STATE = """
SELECT w.workflow_type, w.current_step, w.state_data, w.updated_at
  FROM workflow_states w
  JOIN conversations c ON c.id::text = w.conversation_id
 WHERE w.conversation_id = $1::text AND c.user_id = $2 AND c.expires_at > now() AND c.graph_id = 'navigator'
   AND (w.user_id IS NULL OR w.user_id = $2)
"""
SELECT_AGENT_STATES = """
SELECT a.agent_name, a.state_data, a.workflow_step, a.updated_at
  FROM agent_states a
  JOIN conversations c ON c.id::text = a.conversation_id
 WHERE a.conversation_id = $1::text AND c.user_id = $2 AND c.expires_at > now() AND c.graph_id = 'navigator'
 ORDER BY a.agent_name
"""
# --- the Agent Protocol's threads are conversations (api/agent_protocol.py) ---------------

# A client-chosen id; DO NOTHING when it exists (whoever owns it), so the caller can tell.
INSERT_CONVERSATION_WITH_ID = """
INSERT INTO conversations (id, user_id, title, metadata, expires_at)
VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))
ON CONFLICT (id) DO NOTHING
RETURNING """ + CONVERSATION_COLUMNS
# Keys given replace those stored; other keys stay (LangGraph's metadata update).
MERGE_OWNED_CONVERSATION_METADATA = """
UPDATE conversations SET metadata = metadata || $3::jsonb, updated_at = now()
 WHERE id = $1 AND user_id = $2 AND expires_at > now()
RETURNING """ + CONVERSATION_COLUMNS
# Serialises the runs an Agent Protocol client starts on one thread (multitask_strategy).
LOCK_OWNED_CONVERSATION = SELECT_OWNED_CONVERSATION.rstrip() + "\n   FOR UPDATE\n"
COPY_OWNED_CONVERSATION = """
INSERT INTO conversations (user_id, title, metadata, expires_at)
SELECT user_id, title, metadata, now() + make_interval(hours => $3)
  FROM conversations WHERE id = $1 AND user_id = $2 AND expires_at > now()
RETURNING """ + CONVERSATION_COLUMNS
COPY_MESSAGES = """
INSERT INTO conversation_messages (conversation_id, user_id, role, content, agent_name, metadata, created_at)
SELECT $2, user_id, role, content, agent_name, metadata, created_at
  FROM conversation_messages WHERE conversation_id = $1 ORDER BY id
"""

# Which graph drives a thread: 'navigator' (a conversation) or 'case' (db/cases.py); one row
# (null) when the thread does not exist, so that lookups can be batched (db/batch.py).
SELECT_THREAD_GRAPH = "SELECT (SELECT graph_id FROM conversations WHERE id = $1) AS graph_id"
# Composed into the runs queue's claim (db/runs/sql.py): the graph of each claimed run's thread, so
# the executor routes it without a lookup of its own.
CLAIMED_THREAD_GRAPH = "(SELECT c.graph_id FROM conversations c WHERE c.id = claimed.conversation_id) AS graph_id"
# A thread of either graph, for readers that show both (the Agent Protocol's threads).
SELECT_OWNED_THREAD = _SELECT_CONVERSATION_COLUMNS + """
  FROM conversations
 WHERE id = $1 AND user_id = $2 AND expires_at > now()
"""
COUNT_CONVERSATIONS = "SELECT count(*) FROM conversations WHERE expires_at > now() AND graph_id = 'navigator'"
COUNT_MESSAGES = "SELECT count(*) FROM conversation_messages"

# --- expiry: the cleanup job (db/lifecycle/cleanup.py) deletes what expired ---------------

# Fragments of the cleanup's one statement per batch. `expired (id)`: a batch of expired
# conversations, oldest expiry first, once the statement's `cleanup_lock` is held ($2 the batch
# size). One with a run pending or running waits until the run settles; a row another transaction
# holds (a run finishing, a delete) is skipped, never waited for.
EXPIRED_BATCH = """
expired AS (
    SELECT c.id FROM conversations c
     WHERE (SELECT held FROM cleanup_lock) AND c.expires_at <= now()
       AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id AND r.status IN ('pending', 'running'))
     ORDER BY c.expires_at
     LIMIT $2
       FOR UPDATE OF c SKIP LOCKED
)"""
# Last: the conversations go, taking their messages, runs (with their events and protocol
# options) and document links along (ON DELETE CASCADE).
DELETE_EXPIRED_BATCH = """,
expired_conversations AS (DELETE FROM conversations WHERE id = ANY (ARRAY(SELECT id FROM expired)) RETURNING id)"""

# --- the account export and import (db/lifecycle/transfer.py) ------------------------------

# A case's thread is a conversation too (graph_id 'case'); it never expires ("infinity").
EXPORT_CONVERSATIONS = """
SELECT id, graph_id, title, pinned, metadata, created_at, updated_at, expires_at
  FROM conversations WHERE user_id = $1 ORDER BY created_at, id
"""
IMPORT_CONVERSATIONS = """
INSERT INTO conversations (user_id, id, graph_id, title, pinned, metadata, created_at, updated_at, expires_at)
SELECT $1, r.id, coalesce(r.graph_id, 'navigator'), r.title, r.pinned, r.metadata, r.created_at, r.updated_at,
       r.expires_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, graph_id text, title text, pinned boolean, metadata jsonb,
                                     created_at timestamptz, updated_at timestamptz, expires_at timestamptz)
 ORDER BY e.ord
ON CONFLICT (id) DO NOTHING
"""
# Which of these ids are the user's conversations (after an import: an id someone else holds is not).
SELECT_OWNED_AMONG = "SELECT id FROM conversations WHERE user_id = $1 AND id = ANY($2::uuid[])"
SELECT_USER_CONVERSATION_IDS = "SELECT id FROM conversations WHERE user_id = $1"
EXPORT_MESSAGES = """
SELECT id, conversation_id, role, content, agent_name, metadata, created_at
  FROM conversation_messages WHERE user_id = $1 ORDER BY id
"""
# A message already stored (same conversation, time, role and words) is not stored again ($3 the
# user's conversations). The first statement keeps each message's id where that id is free; the
# second stores the rest under new ids (a database whose ids have run elsewhere).
_IMPORT_MESSAGES_FROM = """
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id bigint, conversation_id uuid, role text, content text, agent_name text,
                                     metadata jsonb, created_at timestamptz)
 WHERE r.conversation_id = ANY($3::uuid[])
   AND NOT EXISTS (SELECT 1 FROM conversation_messages m
                    WHERE m.conversation_id = r.conversation_id AND m.created_at = r.created_at
                      AND m.role = r.role AND m.content = r.content)
 ORDER BY e.ord"""
IMPORT_MESSAGES_KEEPING_IDS = """
INSERT INTO conversation_messages (user_id, id, conversation_id, role, content, agent_name, metadata, created_at)
OVERRIDING SYSTEM VALUE
SELECT $1, r.id, r.conversation_id, r.role, r.content, r.agent_name, r.metadata, r.created_at""" \
    + _IMPORT_MESSAGES_FROM + """
ON CONFLICT (id) DO NOTHING
"""
IMPORT_MESSAGES_NEW_IDS = """
INSERT INTO conversation_messages (user_id, conversation_id, role, content, agent_name, metadata, created_at)
SELECT $1, r.conversation_id, r.role, r.content, r.agent_name, r.metadata, r.created_at""" \
    + _IMPORT_MESSAGES_FROM + "\n"
# After ids were given explicitly: the next message is numbered past every stored one.
ADVANCE_MESSAGE_IDS = """
SELECT setval(s, greatest((SELECT max(id) FROM conversation_messages), pg_sequence_last_value(s), 1))
  FROM CAST(pg_get_serial_sequence('conversation_messages', 'id') AS regclass) AS s
"""
# What the cleanup has still to delete (admin /stats, `navigator cleanup --dry-run`).
COUNT_EXPIRED = """
SELECT count(*) AS conversations,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM runs r WHERE r.conversation_id = c.id
                                        AND r.status IN ('pending', 'running'))) AS waiting_for_runs,
       coalesce(sum((SELECT count(*) FROM conversation_messages m WHERE m.conversation_id = c.id)), 0)::bigint
           AS messages,
       coalesce(sum((SELECT count(*) FROM runs r WHERE r.conversation_id = c.id)), 0)::bigint AS runs
  FROM conversations c
 WHERE c.expires_at <= now()
"""
