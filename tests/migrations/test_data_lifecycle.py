"""The data-lifecycle migration stores, once, the message of a run queued before it (older workers
stored it only when the run ended; the new ones store only the reply)."""

from __future__ import annotations

import json
import uuid

import asyncpg

from db.migrate import Migrator, load_migrations
from tests.utils.factories import insert_conversation, insert_user

INSERT_OLD_RUN = """
INSERT INTO runs (conversation_id, user_id, kind, status, input) VALUES ($1, $2, $3, $4, $5) RETURNING id
"""
USER_MESSAGES = """
SELECT content, metadata ->> 'run_id' AS run_id FROM conversation_messages
 WHERE conversation_id = $1 AND role = 'user' ORDER BY id
"""


async def test_runs_in_flight_get_their_message_once(fresh_dsn: str) -> None:
    migrations = load_migrations()
    version = next(m.version for m in migrations if m.name == "data_lifecycle")
    con = await asyncpg.connect(fresh_dsn)
    try:
        async with Migrator(con, migrations) as migrator:
            await migrator.up(version - 1)
        user = await insert_user(con)
        conversation = await insert_conversation(con, user)
        done = await con.fetchval(INSERT_OLD_RUN, conversation, user, "message", "success",
                                  json.dumps({"message": "stored when it ended"}))
        await con.execute("INSERT INTO conversation_messages (conversation_id, user_id, role, content, metadata) "
                          "VALUES ($1, $2, 'user', 'stored when it ended', $3)", conversation, user,
                          json.dumps({"run_id": str(done)}))
        pending = await con.fetchval(INSERT_OLD_RUN, conversation, user, "message", "pending",
                                     json.dumps({"message": "queued before the upgrade"}))
        answer = await con.fetchval(INSERT_OLD_RUN, conversation, user, "resume", "pending",
                                    json.dumps({"resume": {"plan_type": "employer"}}))
        async with Migrator(con, migrations) as migrator:
            await migrator.up(version)
            await migrator.down(1)
            await migrator.up(version)  # down keeps what people said; up again adds nothing
        said = [(r["content"], uuid.UUID(r["run_id"])) for r in await con.fetch(USER_MESSAGES, conversation)]
        assert said == [("stored when it ended", done), ("queued before the upgrade", pending),
                        ('{"plan_type": "employer"}', answer)]
    finally:
        await con.close()
