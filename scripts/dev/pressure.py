"""Runs under database pressure: a small pool, and a server that refuses new connections.

    python -m scripts.dev.pressure                      # the issue's long versions (below)
    python -m scripts.dev.pressure --runs 200 --latency-ms 300 --outage-seconds 2   # quicker

1. `--runs` runs (default 1,000) queued at once on one in-process executor with
   the default WORKER_CONCURRENCY, model latency `--latency-ms` (1,000) and
   DB_POOL_MAX_SIZE=`--pool` (10), while `pg_stat_activity` is sampled every
   20 ms: prints the most connections the process ever had open (must be <= pool).
2. The same load on a server of its own with a small `max_connections`: once
   some runs finished, this script cuts every connection of the executor (in
   the middle of whatever they were doing), takes every connection the server
   has left and holds them `--outage-seconds` (5); prints how many runs ended
   `success` (must be all) and the retries they logged.

The test suite runs short versions of both (tests/api/test_executor_pressure.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg

from api.graph_runner import start_workers
from db.embedded import start_embedded
from db.pool import create_pool
from db.runs.executor import RunExecutor
from db.runs.sql import INSERT_RUN
from db.scratch import create_migrated_database
from scripts.dev.scratch_settings import INSERT_CONVERSATIONS, INSERT_USER, settings_for

QUESTION = "I need a prior authorization"
COUNT_SETTLED = ("SELECT count(*) FILTER (WHERE status IN ('success', 'error', 'cancelled', 'interrupted')) "
                 "AS settled, count(*) FILTER (WHERE status = 'success') AS succeeded "
                 "FROM runs WHERE id = ANY($1::uuid[])")
COUNT_PROCESS_CONNECTIONS = ("SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND application_name = $1")
COUNT_RETRIES = "SELECT count(*) FROM run_events WHERE run_id = ANY($1::uuid[]) AND event = 'retry'"
TERMINATE_APPLICATION = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                         "WHERE application_name = $1")
SAMPLE_SECONDS = 0.02


async def queue_runs(dsn: str, count: int, per_conversation: int = 1) -> list[uuid.UUID]:
    """`count` runs on fresh conversations (`per_conversation` on each, which then execute one
    after another), committed together: all pending at the same moment."""
    con = await asyncpg.connect(dsn)
    try:
        await con.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        user = await con.fetchval(INSERT_USER, f"pressure-{uuid.uuid4().hex[:8]}@example.com")
        async with con.transaction():
            conversations = [r["id"] for r in await con.fetch(INSERT_CONVERSATIONS, user,
                                                              -(-count // per_conversation))]
            order = [conversations[i // per_conversation] for i in range(count)]
            rows = await con.fetchmany(INSERT_RUN, [(c, user, "message", None, {"message": QUESTION}, None)
                                                    for c in order])
        return [row["id"] for row in rows]
    finally:
        await con.close()


async def wait_settled(dsn: str, run_ids: list[uuid.UUID], seconds: float,
                       poll_seconds: float = 0.1) -> tuple[int, int]:
    """(settled, succeeded) once every run settled, or after `seconds`; survives a refusing server."""
    deadline = time.monotonic() + seconds
    con: asyncpg.Connection | None = None
    settled = succeeded = 0
    try:
        while time.monotonic() < deadline:
            try:
                if con is None or con.is_closed():
                    con = await asyncpg.connect(dsn)
                row = await con.fetchrow(COUNT_SETTLED, run_ids)
                settled, succeeded = row["settled"], row["succeeded"]
                if settled == len(run_ids):
                    break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                con = None
            await asyncio.sleep(poll_seconds)
    finally:
        if con is not None:
            await con.close()
    return settled, succeeded


class ConnectionSampler:
    """The most connections one application name ever had open, read from pg_stat_activity."""

    def __init__(self, dsn: str, application_name: str) -> None:
        self.dsn = dsn
        self.application_name = application_name
        self.peak = 0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ConnectionSampler:
        con = await asyncpg.connect(self.dsn)

        async def sample() -> None:
            try:
                while True:
                    count = await con.fetchval(COUNT_PROCESS_CONNECTIONS, self.application_name)
                    self.peak = max(self.peak, count)
                    self.samples += 1
                    await asyncio.sleep(SAMPLE_SECONDS)
            finally:
                await con.close()

        self._task = asyncio.create_task(sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task


@asynccontextmanager
async def executor(dsn: str, *, pool_size: int, latency_ms: int,
                   **overrides: Any) -> AsyncIterator[tuple[RunExecutor, str]]:
    """An in-process executor on the real graph, and the application name of its pool's
    connections (so pg_stat_activity can tell them apart)."""
    name = f"pressure-{uuid.uuid4().hex[:8]}"
    settings = settings_for(dsn, db_pool_max_size=pool_size, db_pool_min_size=1,
                            offline_model_latency_ms=latency_ms, **overrides)
    pool = await create_pool(settings, f"{dsn}{'&' if '?' in dsn else '?'}application_name={name}")
    try:
        workers = await start_workers(pool, settings)
        try:
            yield workers, name
        finally:
            await workers.stop(drain_seconds=10)
    finally:
        await pool.close()


async def small_pool(admin_dsn: str, runs: int, latency_ms: int, pool_size: int) -> dict[str, Any]:
    dsn = await create_migrated_database(admin_dsn, "pressure")
    async with executor(dsn, pool_size=pool_size, latency_ms=latency_ms) as (_, name):
        async with ConnectionSampler(dsn, name) as sampler:
            started = time.monotonic()
            run_ids = await queue_runs(dsn, runs)
            settled, succeeded = await wait_settled(dsn, run_ids, seconds=max(120.0, runs * latency_ms / 1000))
            elapsed = time.monotonic() - started
    return {"runs": runs, "succeeded": succeeded, "settled": settled, "pool": pool_size,
            "peak_connections": sampler.peak, "samples": sampler.samples, "seconds": round(elapsed, 2)}


async def hold_every_connection(dsn: str, held: list[asyncpg.Connection], at_least: int = 0,
                                seconds: float = 1.0) -> None:
    """Add connections to `held` until the server refuses one and `held` has `at_least` (slots
    freed a moment ago are retaken, racing whoever else wants them, for up to `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            held.append(await asyncpg.connect(dsn))
        except asyncpg.TooManyConnectionsError:
            if len(held) >= at_least or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.002)


async def refused_connections(data_dir: Path, runs: int, latency_ms: int, outage_seconds: float,
                              max_connections: int = 30) -> dict[str, Any]:
    admin = start_embedded(data_dir, extra_conf={"max_connections": str(max_connections),
                                                 "superuser_reserved_connections": "0",
                                                 "fsync": "off", "synchronous_commit": "off"})
    dsn = await create_migrated_database(admin, "pressure")
    async with executor(dsn, pool_size=10, latency_ms=latency_ms) as (_, name):
        # Four runs per conversation, one after another: the load lasts through the outage.
        run_ids = await queue_runs(dsn, runs, per_conversation=4)
        await wait_until(dsn, run_ids, at_least=1)
        # Fill the server, then cut the executor's connections and take their slots too:
        # it must open new ones, and the server refuses them.
        held: list[asyncpg.Connection] = []
        await hold_every_connection(dsn, held)
        cut = await held[0].fetchval(TERMINATE_APPLICATION, name)
        await hold_every_connection(dsn, held, at_least=len(held) + cut)
        refused_at = time.monotonic()
        await asyncio.sleep(outage_seconds)
        for con in held:
            await con.close()
        settled, succeeded = await wait_settled(dsn, run_ids, seconds=120)
        retries = await fetch_value(dsn, COUNT_RETRIES, run_ids)
    return {"runs": runs, "succeeded": succeeded, "settled": settled, "connections_held": len(held),
            "connections_cut": cut, "outage_seconds": round(time.monotonic() - refused_at, 1),
            "retry_events": retries}


async def wait_until(dsn: str, run_ids: list[uuid.UUID], at_least: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await fetch_value(dsn, "SELECT count(*) FROM runs WHERE id = ANY($1::uuid[]) AND status = 'success'",
                              run_ids)) >= at_least:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"fewer than {at_least} runs finished in {seconds}s")


async def fetch_value(dsn: str, query: str, *args: object) -> Any:
    con = await asyncpg.connect(dsn)
    try:
        return await con.fetchval(query, *args)
    finally:
        await con.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    admin = args.dsn or start_embedded(Path(tempfile.mkdtemp(prefix="navigator-pressure-")))
    return {"small_pool": await small_pool(admin, args.runs, args.latency_ms, args.pool),
            "refused_connections": await refused_connections(Path(tempfile.mkdtemp(prefix="navigator-full-")),
                                                             args.runs // 4, args.latency_ms, args.outage_seconds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--dsn", default=None, help="server to create the small-pool database on")
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    print(json.dumps(result, indent=2))
    small, full = result["small_pool"], result["refused_connections"]
    ok = (small["succeeded"] == small["runs"] and small["peak_connections"] <= small["pool"]
          and full["succeeded"] == full["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
