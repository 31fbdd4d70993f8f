"""`navigator cleanup [--dry-run]`: says what expired and would go, then deletes it, and purges
expired refresh tokens and drained sign-in throttle buckets."""

from __future__ import annotations

import subprocess
import uuid

import asyncpg

from tests.utils.db import ROOT, cli_env, navigator_cmd
from tests.utils.factories import insert_conversation, insert_user

COUNTS = """
SELECT (SELECT count(*) FROM conversations WHERE id = $1) AS conversations,
       (SELECT count(*) FROM conversation_messages WHERE conversation_id = $1) AS messages,
       (SELECT count(*) FROM refresh_tokens WHERE user_id = $2) AS tokens,
       (SELECT count(*) FROM auth_throttle WHERE key = $3) AS buckets
"""


def cleanup(dsn: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*navigator_cmd(), "cleanup", *extra], cwd=ROOT, env=cli_env(dsn), text=True,
                          capture_output=True, timeout=120)


async def test_dry_run_then_cleanup(migrated_dsn: str) -> None:
    con = await asyncpg.connect(migrated_dsn)
    try:
        user = await insert_user(con)
        expired = await insert_conversation(con, user)
        await con.execute("INSERT INTO conversation_messages (conversation_id, user_id, role, content) "
                          "VALUES ($1, $2, 'user', 'my claim'), ($1, $2, 'assistant', 'appeal it')", expired, user)
        await con.execute("UPDATE conversations SET expires_at = now() - interval '1 hour' WHERE id = $1", expired)
        await con.execute("INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) "
                          "VALUES ($1, $2, $3, now() - interval '3 days')", user, uuid.uuid4(), uuid.uuid4().bytes)
        key = uuid.uuid4().bytes * 2  # a bucket drained long ago (no sign-in from its address)
        await con.execute("INSERT INTO auth_throttle (key, level, updated_at) VALUES ($1, 3, now() - interval '1 day')",
                          key)

        dry = cleanup(migrated_dsn, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "would delete 1 expired conversations (2 messages" in dry.stdout, dry.stdout
        assert "1 refresh tokens" in dry.stdout and "1 auth throttle" in dry.stdout, dry.stdout
        assert tuple(await con.fetchrow(COUNTS, expired, user, key)) == (1, 2, 1, 1)  # nothing deleted

        done = cleanup(migrated_dsn)
        assert done.returncode == 0, done.stderr
        assert "deleted 1 expired conversations" in done.stdout, done.stdout
        assert tuple(await con.fetchrow(COUNTS, expired, user, key)) == (0, 0, 0, 0)
    finally:
        await con.close()
