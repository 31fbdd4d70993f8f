"""Benchmark AsyncpgSaver against AsyncPostgresSaver, InMemorySaver and a raw asyncpg floor.

    .venv/bin/python scripts/dev/bench_checkpointer.py [--workflows 300] [--concurrency 32] [--long-steps 1000]

A fresh embedded PostgreSQL (fsync on, the server's defaults) in a temporary
directory; each Postgres contestant gets its own database. The workload is a
3-node StateGraph run with durability="sync": each node appends a short message
(to `messages` declared as the project's graph declares it, a DeltaChannel) and
sets a few scalars. Every contestant runs the same workflows one after another,
then the same number at `--concurrency` in flight. Commits and WAL come from
`pg_stat_database.xact_commit` and `pg_current_wal_lsn()` before/after.

The long-thread line runs one thread of `--long-steps` supersteps (a node that
loops on itself, appending a message each step) and divides the mean time of the
last ten steps by the mean of the first ten.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import _messages_delta_reducer

from db.checkpoint import AsyncpgSaver
from db.embedded import start_embedded
from db.migrate import migrate_up
from db.pool import create_pool
from db.scratch import create_database
from db.settings import Settings

ORDER = ["AsyncpgSaver", "AsyncPostgresSaver", "InMemorySaver", "floor (raw asyncpg)"]
CREATE_FLOOR_TABLE = "CREATE TABLE floor_steps (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, doc jsonb NOT NULL)"
INSERT_FLOOR_STEP = "INSERT INTO floor_steps (doc) VALUES ($1::text::jsonb)"
SELECT_DB_STATS = """
SELECT xact_commit, pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = current_database()
"""
SELECT_WAL_DIFF = "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint"
SELECT_STEPS_PER_THREAD = "SELECT count(*) / count(DISTINCT thread_id) FROM checkpoints"
CLEAR_STATS_SNAPSHOT = "SELECT pg_stat_clear_snapshot()"
FLOOR_DOC = json.dumps({"step": 0, "text": "x" * 2000})


class BenchState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], DeltaChannel(_messages_delta_reducer)]
    intent: str
    current_step: str
    turns: int
    score: float


def _node(name: str) -> Callable[[BenchState], dict[str, Any]]:
    def node(state: BenchState) -> dict[str, Any]:
        return {
            "messages": [AIMessage(content=f"{name} says hello", id=str(uuid.uuid4()))],
            "intent": "claim_denial",
            "current_step": name,
            "turns": state.get("turns", 0) + 1,
            "score": 0.5,
        }
    return node


def build_workflow(checkpointer: BaseCheckpointSaver) -> Any:
    builder = StateGraph(BenchState)
    for name in ("guard", "navigator", "communicator"):
        builder.add_node(name, _node(name))
    builder.add_edge(START, "guard")
    builder.add_edge("guard", "navigator")
    builder.add_edge("navigator", "communicator")
    builder.add_edge("communicator", END)
    return builder.compile(checkpointer=checkpointer)


def build_long_thread(checkpointer: BaseCheckpointSaver, steps: int, stamps: list[float]) -> Any:
    def step(state: BenchState) -> dict[str, Any]:
        stamps.append(time.perf_counter())
        turns = state.get("turns", 0) + 1
        return {"messages": [AIMessage(content=f"step {turns}", id=str(uuid.uuid4()))], "turns": turns}

    builder = StateGraph(BenchState)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: "step" if s["turns"] < steps else END)
    return builder.compile(checkpointer=checkpointer)


def workflow_input() -> dict[str, Any]:
    return {"messages": [HumanMessage(content="my MRI claim was denied, what now?", id=str(uuid.uuid4()))]}


@dataclass
class Row:
    name: str
    mode: str
    workflows: int
    seconds: float
    steps_per_workflow: int
    commits: float | None
    wal_kb: float | None

    @property
    def per_second(self) -> float:
        return self.workflows / self.seconds

    @property
    def ms_per_step(self) -> float:
        return self.seconds * 1000 / (self.workflows * self.steps_per_workflow)


async def run_workflows(graph: Any, count: int, concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            config = {"configurable": {"thread_id": str(uuid.uuid4())}}
            await graph.ainvoke(workflow_input(), config, durability="sync")

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


async def run_floor(pool: asyncpg.Pool, count: int, concurrency: int, steps: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            for _ in range(steps):
                await pool.execute(INSERT_FLOOR_STEP, FLOOR_DOC)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


async def db_stats(dsn: str) -> tuple[int, str]:
    """Commits so far (minus this query's own) and the WAL position; stats flushed by closed pools."""
    con = await asyncpg.connect(dsn)
    try:
        await con.execute(CLEAR_STATS_SNAPSHOT)
        row = await con.fetchrow(SELECT_DB_STATS)
        return int(row["xact_commit"]), str(row["lsn"])
    finally:
        await con.close()


async def measured(
    dsn: str | None, name: str, mode: str, count: int, steps: int, work: Callable[[], Awaitable[float]],
) -> Row:
    """Run `work` (which opens and closes its own pool, so the server has flushed its stats)."""
    before = await db_stats(dsn) if dsn else None
    seconds = await work()
    if dsn is None or before is None:
        return Row(name, mode, count, seconds, steps, None, None)
    await asyncio.sleep(0.6)  # backends publish their commit counts when they exit
    after = await db_stats(dsn)
    con = await asyncpg.connect(dsn)
    try:
        wal = await con.fetchval(SELECT_WAL_DIFF, after[1], before[1])
    finally:
        await con.close()
    commits = after[0] - before[0] - 2  # the two stats connections' own transactions
    return Row(name, mode, count, seconds, steps, commits / count, wal / 1024 / count)


def settings_for(dsn: str) -> Settings:
    return Settings(_env_file=None, database_url=dsn, jwt_secret_key=secrets.token_urlsafe(48))  # type: ignore[call-arg]


async def bench(args: argparse.Namespace) -> None:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    tmp = tempfile.mkdtemp(prefix="bench-checkpointer-")
    admin_dsn = start_embedded(Path(tmp))
    ours_dsn = await create_database(admin_dsn, name="bench_asyncpg")
    official_dsn = await create_database(admin_dsn, name="bench_official")
    floor_dsn = await create_database(admin_dsn, name="bench_floor")
    con = await asyncpg.connect(ours_dsn)
    await migrate_up(con)
    await con.close()
    con = await asyncpg.connect(floor_dsn)
    await con.execute(CREATE_FLOOR_TABLE)
    fsync = await con.fetchval("SHOW fsync")
    await con.close()
    async with AsyncConnectionPool(official_dsn, kwargs={"autocommit": True, "prepare_threshold": 0,
                                                         "row_factory": dict_row}, open=False) as setup_pool:
        await AsyncPostgresSaver(setup_pool).setup()

    pool_size = args.concurrency

    async def with_ours(fn: Callable[[BaseCheckpointSaver], Awaitable[float]]) -> float:
        pool = await create_pool(settings_for(ours_dsn), ours_dsn, min_size=pool_size, max_size=pool_size)
        try:
            return await fn(AsyncpgSaver(pool))
        finally:
            await pool.close()

    async def with_official(fn: Callable[[BaseCheckpointSaver], Awaitable[float]]) -> float:
        async with AsyncConnectionPool(
            official_dsn, min_size=pool_size, max_size=pool_size, open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        ) as pg_pool:
            await pg_pool.wait()
            return await fn(AsyncPostgresSaver(pg_pool))

    async def with_memory(fn: Callable[[BaseCheckpointSaver], Awaitable[float]]) -> float:
        return await fn(InMemorySaver())

    contestants: list[tuple[str, str | None, Callable[..., Awaitable[float]]]] = [
        ("AsyncpgSaver", ours_dsn, with_ours),
        ("AsyncPostgresSaver", official_dsn, with_official),
        ("InMemorySaver", None, with_memory),
    ]
    count = args.workflows
    steps = 5  # checkpoints per workflow: the input, __start__'s step and one per node (checked below)
    async def floor(concurrency: int) -> float:
        pool = await create_pool(settings_for(floor_dsn), floor_dsn, min_size=pool_size, max_size=pool_size)
        try:
            return await run_floor(pool, count, concurrency, steps)
        finally:
            await pool.close()

    # Warm up imports, statement caches and the server's buffers.
    for _, _, opener in contestants:
        await opener(lambda saver: run_workflows(build_workflow(saver), 20, 4))
    await floor(4)
    modes = (("sequential", 1), (f"{args.concurrency} in flight", args.concurrency))
    runs: dict[tuple[str, str], list[Row]] = {}
    # Rounds interleave the contestants, so a slow spell of the shared machine
    # (its disk's fsync latency above all) does not fall on one of them only.
    for _ in range(args.rounds):
        for mode, concurrency in modes:
            for name, dsn, opener in contestants:
                def work(opener: Any = opener, concurrency: int = concurrency) -> Awaitable[float]:
                    return opener(lambda saver: run_workflows(build_workflow(saver), count, concurrency))
                runs.setdefault((name, mode), []).append(await measured(dsn, name, mode, count, steps, work))
            runs.setdefault(("floor (raw asyncpg)", mode), []).append(await measured(
                floor_dsn, "floor (raw asyncpg)", mode, count, steps, lambda c=concurrency: floor(c)))
    # The median round of each contestant and mode.
    rows = [sorted(found, key=lambda r: r.per_second)[len(found) // 2]
            for (_, _), found in sorted(runs.items(), key=lambda kv: (ORDER.index(kv[0][0]), kv[0][1] != "sequential"))]

    con = await asyncpg.connect(ours_dsn)
    stored = await con.fetchval(SELECT_STEPS_PER_THREAD)
    await con.close()
    assert stored == steps, f"expected {steps} checkpoints per workflow, found {stored}"
    print(f"\nPostgreSQL fsync={fsync}; {count} workflows x {steps} checkpointed steps, durability=sync; "
          f"median of {args.rounds} interleaved rounds\n")
    print(f"{'saver':<22}{'mode':<16}{'wf/s':>9}{'ms/step':>10}{'commits/wf':>12}{'WAL KB/wf':>11}")
    for r in rows:
        commits = f"{r.commits:.1f}" if r.commits is not None else "-"
        wal = f"{r.wal_kb:.1f}" if r.wal_kb is not None else "-"
        print(f"{r.name:<22}{r.mode:<16}{r.per_second:>9.1f}{r.ms_per_step:>10.3f}{commits:>12}{wal:>11}")
    by = {(r.name, r.mode.split()[0]): r.per_second for r in rows}
    print()
    for mode in ("sequential", str(args.concurrency)):
        label = "sequential" if mode == "sequential" else f"{args.concurrency} in flight"
        ours = by[("AsyncpgSaver", mode)]
        print(f"{label:<14} AsyncpgSaver/AsyncPostgresSaver {ours / by[('AsyncPostgresSaver', mode)]:.2f}x   "
              f"AsyncpgSaver/InMemorySaver {ours / by[('InMemorySaver', mode)]:.2f}x   "
              f"AsyncpgSaver/floor {ours / by[('floor (raw asyncpg)', mode)]:.2f}x")

    if args.long_steps:
        print(f"\nlong thread: {args.long_steps} supersteps on one thread; mean ms of the last 10 steps / first 10, "
              f"median of {args.rounds} interleaved rounds")
        savers = (("AsyncpgSaver", with_ours), ("AsyncPostgresSaver", with_official))
        windows: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in savers}
        for _ in range(args.rounds):
            for name, opener in savers:
                stamps: list[float] = []

                async def long_run(saver: BaseCheckpointSaver, stamps: list[float] = stamps) -> float:
                    graph = build_long_thread(saver, args.long_steps, stamps)
                    config = {"configurable": {"thread_id": str(uuid.uuid4())},
                              "recursion_limit": args.long_steps + 10}
                    await graph.ainvoke(workflow_input(), config, durability="sync")
                    return 0.0

                await opener(long_run)
                durations = [(b - a) * 1000 for a, b in zip(stamps, stamps[1:], strict=False)]
                windows[name].append((statistics.mean(durations[:10]), statistics.mean(durations[-10:])))
        for name, found in windows.items():
            ratios = sorted(last / first for first, last in found)
            first, last = (statistics.median(w) for w in zip(*found, strict=True))
            print(f"  {name:<20} first 10: {first:.3f} ms  last 10: {last:.3f} ms  "
                  f"ratio {statistics.median(ratios):.2f}  (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--long-steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions; the median is shown")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
