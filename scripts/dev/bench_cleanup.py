"""Benchmark the expiry cleanup (short batches) against the same deletion in one transaction.

    .venv/bin/python scripts/dev/bench_cleanup.py [--expired 20000] [--live 50] [--rounds 2]

A fresh embedded PostgreSQL (the server's defaults: fsync on) in a temporary directory, or
DATABASE_URL's server. One real conversation (the offline graph; every row a run writes) is
copied `--expired` times, expired, owned in turn by 20 people; once per contestant and round, in
a database of its own. While a contestant deletes them, a probe appends a message to one of
`--live` live conversations every 20 ms and times it (what the people using the service feel).

Contestants: `cleanup` (db.lifecycle.cleanup: one-statement batches of about 30 ms, SKIP
LOCKED, adaptive size) and `one transaction` (the very same statement with the whole set as one
batch). Per contestant: total seconds, conversations deleted per second, the longest committed
transaction (how long it holds its locks and the vacuum horizon; a cleanup batch still running
after BATCH_MAX_SECONDS is cancelled, rolled back and counted apart), the median batch, and the probe's p50, p99
and max. Ratios: cleanup / one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg

from api.graph_runner import start_workers
from db.conversations import ConversationService
from db.embedded import start_embedded
from db.lifecycle.cleanup import CLEANUP_LOCK_ID, DELETE_EXPIRED_CONVERSATIONS, Cleanup
from db.migrate import migrate_up
from db.pool import create_pool
from db.runs.service import RunService
from db.scratch import create_database, drop_database
from db.settings import Settings
from scripts.dev.expired_data import clone_expired
from scripts.dev.scratch_settings import INSERT_USER, settings_for

INSERT_CONVERSATION = ("INSERT INTO conversations (user_id, expires_at) VALUES ($1, now() + interval '1 day') "
                       "RETURNING id")
QUESTION = "I need a prior authorization"
PROBE_EVERY_SECONDS = 0.02
OWNERS = 20


@dataclass
class Result:
    seconds: float
    deleted: int
    batches: list[float]
    cancelled: int
    probes: list[float] = field(default_factory=list)


async def seeded(admin: str, expired: int, live: int) -> tuple[str, list[tuple[uuid.UUID, uuid.UUID]]]:
    """A migrated database holding `expired` expired conversations and `live` live ones (id, owner)."""
    dsn = await create_database(admin, "bench")
    con = await asyncpg.connect(dsn)
    try:
        await migrate_up(con)
    finally:
        await con.close()
    settings = settings_for(dsn)
    pool = await create_pool(settings, dsn, min_size=1, max_size=8)
    try:
        owners = [await pool.fetchval(INSERT_USER, f"bench-{i}-{uuid.uuid4().hex[:6]}@example.com")
                  for i in range(OWNERS)]
        template = await pool.fetchval(INSERT_CONVERSATION, owners[0])
        workers = await start_workers(pool, settings, concurrency=1)
        try:
            run = await RunService(pool).create(owners[0], template, QUESTION)
            await RunService(pool).wait(run.id, owners[0], timeout=60)
        finally:
            await workers.stop(drain_seconds=5)
        await clone_expired(pool, template, run.id, owners, expired)
        lives = [(await pool.fetchval(INSERT_CONVERSATION, owners[i % OWNERS]), owners[i % OWNERS])
                 for i in range(live)]
        await pool.execute("ANALYZE")
    finally:
        await pool.close()
    return dsn, lives


async def probe(pool: asyncpg.Pool, lives: list[tuple[uuid.UUID, uuid.UUID]], stop: asyncio.Event,
                out: list[float]) -> None:
    conversations = ConversationService(pool)
    i = 0
    while not stop.is_set():
        cid, owner = lives[i % len(lives)]
        started = time.perf_counter()
        await conversations.append(cid, owner, [{"role": "user", "content": "still here"}])
        out.append(time.perf_counter() - started)
        i += 1
        await asyncio.sleep(PROBE_EVERY_SECONDS)


async def one_transaction(pool: asyncpg.Pool, settings: Settings, expired: int) -> tuple[int, list[float], int]:
    started = time.perf_counter()
    row = await pool.fetchrow(DELETE_EXPIRED_CONVERSATIONS, CLEANUP_LOCK_ID, expired + 1)
    assert row is not None
    return int(row["conversations"]), [time.perf_counter() - started], 0


async def batched(pool: asyncpg.Pool, settings: Settings, expired: int) -> tuple[int, list[float], int]:
    """The cleanup's pass; its cancelled batches (cut at BATCH_MAX_SECONDS) are counted apart."""
    report = await Cleanup(pool, settings, purges=[]).run()
    return report.conversations, report.batch_seconds, report.cancelled


CONTESTANTS = {"cleanup": batched, "one transaction": one_transaction}


async def measure(admin: str, name: str, expired: int, live: int) -> Result:
    dsn, lives = await seeded(admin, expired, live)
    settings = settings_for(dsn)
    pool = await create_pool(settings, dsn, min_size=2, max_size=4)
    try:
        stop, probes = asyncio.Event(), []
        prober = asyncio.create_task(probe(pool, lives, stop, probes))
        await asyncio.sleep(0.5)  # the probe's baseline
        started = time.perf_counter()
        deleted, batches, cancelled = await CONTESTANTS[name](pool, settings, expired)
        seconds = time.perf_counter() - started
        stop.set()
        await prober
    finally:
        await pool.close()
        await drop_database(admin, dsn)
    return Result(seconds, deleted, batches, cancelled, probes)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, results: list[Result]) -> dict[str, float]:
    seconds = statistics.median(r.seconds for r in results)
    figures = {
        "seconds": seconds,
        "per_second": statistics.median(r.deleted / r.seconds for r in results),
        "longest_ms": max(max(r.batches) for r in results) * 1000,
        "median_batch_ms": statistics.median(b for r in results for b in r.batches) * 1000,
        "batches": statistics.median(len(r.batches) for r in results),
        "cancelled": sum(r.cancelled for r in results),
        "probe_p50_ms": quantile([p for r in results for p in r.probes], 0.5) * 1000,
        "probe_p99_ms": quantile([p for r in results for p in r.probes], 0.99) * 1000,
        "probe_max_ms": max(max(r.probes) for r in results) * 1000,
    }
    print(f"{name:<16} {figures['seconds']:7.2f} s {figures['per_second']:8.0f}/s  longest transaction "
          f"{figures['longest_ms']:8.1f} ms  median batch {figures['median_batch_ms']:7.1f} ms "
          f"({figures['batches']:.0f} batches, {figures['cancelled']:.0f} cancelled in all)  probe p50 "
          f"{figures['probe_p50_ms']:5.1f} p99 {figures['probe_p99_ms']:6.1f} max {figures['probe_max_ms']:6.1f} ms",
          flush=True)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expired", type=int, default=20_000)
    parser.add_argument("--live", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL") or start_embedded(Path(tempfile.mkdtemp(prefix="navigator-bench-")))
    print(f"{args.expired} expired conversations, {args.live} live ones probed every "
          f"{PROBE_EVERY_SECONDS * 1000:.0f} ms, {args.rounds} rounds", flush=True)
    results: dict[str, list[Result]] = {name: [] for name in CONTESTANTS}
    for _ in range(args.rounds):
        for name in CONTESTANTS:  # interleaved, so a noisy minute hurts both
            results[name].append(await measure(admin, name, args.expired, args.live))
    figures = {name: line(name, rs) for name, rs in results.items()}
    ours, peer = figures["cleanup"], figures["one transaction"]
    print(f"ratios cleanup / one transaction: total time {ours['seconds'] / peer['seconds']:.2f}, longest "
          f"transaction {ours['longest_ms'] / peer['longest_ms']:.3f}, probe p99 "
          f"{ours['probe_p99_ms'] / peer['probe_p99_ms']:.2f}, "
          f"probe max {ours['probe_max_ms'] / peer['probe_max_ms']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
