"""Expiry that deletes: expired conversations go with every row of theirs, in short batches, one
process at a time, while live runs carry on untouched."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

import asyncpg
import pytest

from api.graph_runner import start_workers
from db.lifecycle.cleanup import (
    CLEANUP_LOCK_ID,
    MIN_BATCH,
    UNLINKED_CONVERSATION_COLUMNS,
    Cleanup,
    CleanupReport,
    count_expired,
    run_cleanup,
)
from db.pool import create_pool
from db.runs.service import RunService
from db.settings import Settings
from scripts.dev.expired_data import clone_expired
from tests.conftest import make_settings
from tests.utils.catalog import CASCADE, SET_NULL, conversation_columns, rows_naming, tables_deleted_with
from tests.utils.factories import insert_conversation, insert_user
from tests.utils.graphs import ANSWERED, offline_graph_factory

EXPIRED = 10_000
LIVE = 200
EXPIRE = "UPDATE conversations SET expires_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])"
MESSAGES = "SELECT role FROM conversation_messages WHERE conversation_id = $1 ORDER BY id"

INSERT_DOCUMENT = """
INSERT INTO documents (user_id, kind, filename, media_type, size_bytes, digest, content, key_id, pages, text,
                       standalone)
VALUES ($1, 'denial_letter', $2, 'text/plain', 4, sha256(convert_to($2, 'UTF8')), '\\x00'::bytea, 'k', 1, 'text', $3)
RETURNING id
"""
LINK = "INSERT INTO document_conversations (document_id, conversation_id, user_id) VALUES ($1, $2, $3)"

# A stall that only one conversation's delete meets (a test's own trigger, dropped after it).
SLOW_DELETE = """
CREATE FUNCTION test_slow_delete() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(2); RETURN OLD; END $$;
CREATE TRIGGER test_slow_delete BEFORE DELETE ON conversations FOR EACH ROW
  WHEN (OLD.title = 'stalls its batch') EXECUTE FUNCTION test_slow_delete();
"""
DROP_SLOW_DELETE = "DROP TRIGGER test_slow_delete ON conversations; DROP FUNCTION test_slow_delete()"


@pytest.fixture(scope="module")
async def big_pool(settings: Settings, migrated_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """Room for 25 executors (two connections each) beside the cleanup."""
    pool = await create_pool(settings, migrated_dsn, min_size=2, max_size=60)
    yield pool
    await pool.close()


def cleanup_in_a_process_of_its_own(dsn: str) -> CleanupReport:
    """A pass in another process, while this one drives the live runs: a batch's time is then the
    database's and the round trip's, not the time this process's loop (or its GIL, from a thread)
    spends on 200 runs' graph steps before it comes back to the cleanup. A batch's locks go when
    its statement ends, whatever the client does next."""

    async def one_pass() -> CleanupReport:
        settings = make_settings(dsn)
        pool = await create_pool(settings, dsn, min_size=1, max_size=2)
        try:
            return await run_cleanup(pool, settings)
        finally:
            await pool.close()

    return asyncio.run(one_pass())


async def finished(service: RunService, runs: list[tuple[uuid.UUID, uuid.UUID]], timeout: float = 120) -> None:
    for run_id, user in runs:
        assert (await service.wait(run_id, user, timeout=timeout)).settled


async def test_the_cleanup_knows_every_column_that_names_a_conversation_without_a_foreign_key(
        pool: asyncpg.Pool) -> None:
    columns = await conversation_columns(pool)
    unlinked = {(c.table, c.column) for c in columns if c.on_delete is None and c.table != "conversations"}
    assert unlinked == set(UNLINKED_CONVERSATION_COLUMNS), \
        "a table names a conversation without a foreign key: delete its rows in db/lifecycle/cleanup.py " \
        "(and db/lifecycle/erase.py) and list it in UNLINKED_CONVERSATION_COLUMNS"
    # Everything else that hangs off a conversation goes with it (or lets go of it): a foreign key
    # that refused would make the cleanup fail, one that is missing would leave rows behind.
    for table, actions in (await tables_deleted_with(pool, "conversations")).items():
        assert actions <= {CASCADE, SET_NULL}, (table, actions)


async def test_a_conversation_with_a_run_in_flight_goes_once_the_run_settles(
        pool: asyncpg.Pool, settings: Settings) -> None:
    user = await insert_user(pool)
    conversation = await insert_conversation(pool, user)
    run = await RunService(pool).create(user, conversation, "Is an MRI covered?")
    await pool.execute(EXPIRE, [conversation])
    waiting = await count_expired(pool)
    assert waiting.waiting_for_runs >= 1
    await run_cleanup(pool, settings)
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = $1", conversation) == 1
    await pool.execute("UPDATE runs SET status = 'error', finished_at = now() WHERE id = $1", run.id)
    await run_cleanup(pool, settings)
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = $1", conversation) == 0
    assert await pool.fetchval("SELECT count(*) FROM runs WHERE id = $1", run.id) == 0


async def test_one_process_cleans_at_a_time(pool: asyncpg.Pool, settings: Settings) -> None:
    user = await insert_user(pool)
    conversation = await insert_conversation(pool, user)
    await pool.execute(EXPIRE, [conversation])
    async with pool.acquire() as other, other.transaction():
        assert await other.fetchval("SELECT pg_try_advisory_xact_lock($1)", CLEANUP_LOCK_ID)  # another process's pass
        report = await run_cleanup(pool, settings)
        assert report.busy and report.conversations == 0 and report.purged == {}
        assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = $1", conversation) == 1
    report = await run_cleanup(pool, settings)
    assert not report.busy and report.conversations >= 1
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = $1", conversation) == 0


async def test_a_batch_that_outlasts_its_time_limit_is_cancelled_and_lets_its_locks_go(
        pool: asyncpg.Pool, settings: Settings) -> None:
    user = await insert_user(pool)
    stalls, beside = await insert_conversation(pool, user), await insert_conversation(pool, user)
    await pool.execute("UPDATE conversations SET title = 'stalls its batch', expires_at = '2000-01-01' WHERE id = $1",
                       stalls)
    await pool.execute("UPDATE conversations SET expires_at = '2000-01-02' WHERE id = $1", beside)
    await pool.execute(SLOW_DELETE)
    try:
        cleanup = Cleanup(pool, settings, max_seconds=0.2, purges=[])
        started = asyncio.get_running_loop().time()
        report = await cleanup.run()
        elapsed = asyncio.get_running_loop().time() - started
        # Each try was cut at 0.2 s (not the trigger's 2 s), smaller each time, until the smallest
        # batch was cancelled five times running: the pass gave up, leaving both for the next.
        assert report.interrupted and report.cancelled >= 5 and cleanup.batch_size == MIN_BATCH, report
        assert elapsed < 0.2 * report.cancelled + 3, (elapsed, report)
        assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = ANY($1::uuid[])",
                                   [stalls, beside]) == 2
        async with pool.acquire() as con, con.transaction():  # the rolled-back batches hold no lock
            await con.execute("SET LOCAL lock_timeout = '100ms'")
            assert await con.fetchval("SELECT count(*) FROM (SELECT 1 FROM conversations WHERE id = ANY($1::uuid[]) "
                                      "FOR UPDATE) locked", [stalls, beside]) == 2
    finally:
        await pool.execute(DROP_SLOW_DELETE)
    report = await run_cleanup(pool, settings)
    assert not report.interrupted and report.cancelled == 0
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = ANY($1::uuid[])", [stalls, beside]) == 0


@pytest.mark.timeout(240)
async def test_ten_thousand_expired_conversations_go_while_two_hundred_live_runs_continue(
        big_pool: asyncpg.Pool, migrated_dsn: str) -> None:
    pool = big_pool
    service = RunService(pool)
    settings = make_settings(migrated_dsn, worker_concurrency=25)
    workers = await start_workers(pool, settings, graph_factory=offline_graph_factory(pool, latency_ms=100))
    try:
        # One real conversation (every row a run writes) to copy, and the people who own the copies.
        users = [await insert_user(pool) for _ in range(20)]
        template = await insert_conversation(pool, users[0])
        template_run = await service.create(users[0], template, ANSWERED)
        await finished(service, [(template_run.id, users[0])])
        cloned = await clone_expired(pool, template, template_run.id, users, EXPIRED)
        expired = [row["id"] for row in cloned]
        assert len(expired) == EXPIRED

        # Documents of one person: one attached only to an expired conversation, one to two expired
        # ones (both go); one shared with a live conversation, one uploaded for every conversation (stay).
        live_conversations = [await insert_conversation(pool, users[i % 20]) for i in range(LIVE)]
        owner = {cid: users[i % 20] for i, cid in enumerate(live_conversations)}
        person = users[0]
        first, second, third, fourth = [row["id"] for row in cloned if row["user_id"] == person][:4]
        goes = await pool.fetchval(INSERT_DOCUMENT, person, "only expired", False)
        goes_too = await pool.fetchval(INSERT_DOCUMENT, person, "two expired", False)
        stays = await pool.fetchval(INSERT_DOCUMENT, person, "shared", False)
        standalone = await pool.fetchval(INSERT_DOCUMENT, person, "for every conversation", True)
        for document, cid in ((goes, first), (goes_too, second), (goes_too, third), (stays, fourth),
                              (stays, live_conversations[0]), (standalone, fourth)):
            await pool.execute(LINK, document, cid, person)

        # 200 live runs in flight while the cleanup deletes the 10,000.
        live = [(await service.create(owner[cid], cid, ANSWERED), owner[cid]) for cid in live_conversations]
        in_flight = await pool.fetchval("SELECT count(*) FROM runs WHERE status IN ('pending', 'running')")
        assert in_flight > 0
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
            report = await asyncio.get_running_loop().run_in_executor(
                process, cleanup_in_a_process_of_its_own, migrated_dsn)
        await finished(service, [(run.id, user) for run, user in live])
    finally:
        await workers.stop(drain_seconds=10)

    # Every batch let its locks go within 200 ms: those that ran longer (a stall of a shared
    # machine) were cancelled and done again smaller. A cancelled batch may have committed just
    # before its cancel, uncounted; the tables below say whether every conversation went.
    assert report.conversations > EXPIRED // 2 and not report.interrupted
    slowest = max(report.batch_seconds)
    assert slowest < 0.2, f"slowest batch {slowest * 1000:.0f} ms over {len(report.batch_seconds)} batches"
    assert report.cancelled < len(report.batch_seconds), report

    # No row of an expired conversation is left in any table that names a conversation.
    names = [str(cid) for cid in expired]
    for column in await conversation_columns(pool):
        assert await rows_naming(pool, column, names) == 0, column
    remaining = {row["filename"] for row in await pool.fetch(
        "SELECT filename FROM documents WHERE id = ANY($1::uuid[])", [goes, goes_too, stays, standalone])}
    assert remaining == {"shared", "for every conversation"}

    # No live run disturbed: each answered, its messages stored once, its checkpoints in place.
    for run, _user in live:
        row = await pool.fetchrow("SELECT status, attempt FROM runs WHERE id = $1", run.id)
        assert (row["status"], row["attempt"]) == ("success", 1), (run.id, row)
        assert [r["role"] for r in await pool.fetch(MESSAGES, run.conversation_id)] == ["user", "assistant"]
        assert await pool.fetchval("SELECT count(*) FROM checkpoints WHERE thread_id = $1",
                                   str(run.conversation_id)) > 0
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE id = ANY($1::uuid[])",
                               live_conversations) == LIVE
