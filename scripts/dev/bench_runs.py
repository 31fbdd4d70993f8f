"""Durable runs at model latency: throughput against the limit, and against LangGraph's own server.

    python -m scripts.dev.bench_runs                      # everything, about 5 minutes
    python -m scripts.dev.bench_runs --skip-langgraph --skip-zero-latency

Every figure comes from this one run, on a throwaway embedded PostgreSQL:

1. One `navigator serve` process with default settings (WORKER_CONCURRENCY 256)
   and OFFLINE_MODEL_LATENCY_MS=1000 (three model calls per run): T1, the median
   time of a run alone (three runs one after another), then 256 and 1,000 runs
   queued at once. Time = from the commit that queues them until every one has
   settled (the client polls every 20 ms). The limit for N runs is
   min(N, WORKER_CONCURRENCY) / T1: more runs than executors cannot all be in flight.
2. Four `navigator worker` processes (256 each): 1,000 runs at once.
3. Zero model latency: 1,000 runs on one process and on four (runs/s, p50, p99
   of create -> finished as PostgreSQL stamps them).
4. In process: 256 runs at 1 s latency, then 1,000 at zero latency, on an
   executor in this process whose pool counts what it sends (a pipelined batch
   is one round trip; statements counts each of its items), with the process's
   CPU time per run (less noisy than runs/s on a shared machine; `--profile`
   runs cProfile over the zero-latency case).
5. LangGraph's development server (`langgraph dev --no-browser --no-reload
   --n-jobs-per-worker 256`, the `bench` optional dependencies, installed on
   first use into a virtual environment of its own, `.venv-bench`) on a graph
   of three nodes that each wait 1 s: its own T1, then 256 and 1,000 runs created
   at once over its HTTP API and joined; the same ratio to its own limit.

Prints the machine's load average next to the figures: they are only comparable
within one run of this script.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import os
import pstats
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg

from db.embedded import start_embedded
from db.scratch import create_migrated_database
from scripts.dev.pressure import queue_runs, wait_settled
from scripts.dev.scratch_settings import SECRET, settings_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LISTENING = re.compile(r"listening on (http://\S+) ")
CONCURRENCY = 256  # WORKER_CONCURRENCY's default
SELECT_TIMES = ("SELECT extract(epoch from finished_at - created_at) AS seconds FROM runs "
                "WHERE id = ANY($1::uuid[]) AND status = 'success'")
LANGGRAPH_GRAPH = '''
import asyncio
from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    steps: int


async def step(state: State) -> State:
    await asyncio.sleep(1)  # a 1 s model call
    return {"steps": state.get("steps", 0) + 1}


builder = StateGraph(State)
for name in ("a", "b", "c"):
    builder.add_node(name, step)
builder.add_edge(START, "a")
builder.add_edge("a", "b")
builder.add_edge("b", "c")
builder.add_edge("c", END)
graph = builder.compile()
'''


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] if ordered else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A `navigator serve` or `navigator worker` process, ready once it says so."""

    def __init__(self, args: list[str], env: dict[str, str], ready: str) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", prefix="navigator-bench-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([str(BIN / "navigator"), *args], cwd=ROOT, env=env, text=True,
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 120
        while ready not in Path(self.log.name).read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"navigator {args[0]} did not start: {Path(self.log.name).read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        os.unlink(self.log.name)


def service_env(dsn: str, latency_ms: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "JWT_", "NAVIGATOR_", "LLM_",
                                                                      "WORKER_", "DB_", "OFFLINE_"))}
    # A throwaway key for the throwaway database (DOCUMENT_ENCRYPTION_KEY is required with DATABASE_URL).
    document_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return {**env, "DATABASE_URL": dsn, "JWT_SECRET_KEY": SECRET, "OFFLINE_MODEL_LATENCY_MS": str(latency_ms),
            "DOCUMENT_ENCRYPTION_KEY": env.get("DOCUMENT_ENCRYPTION_KEY", document_key), "LOG_LEVEL": "WARNING"}


async def timed(dsn: str, count: int) -> tuple[float, list[float], int]:
    """Queue `count` runs at once; (seconds until all settled, per-run seconds, succeeded)."""
    started = time.monotonic()
    run_ids = await queue_runs(dsn, count)
    settled, succeeded = await wait_settled(dsn, run_ids, seconds=600, poll_seconds=0.02)
    elapsed = time.monotonic() - started
    con = await asyncpg.connect(dsn)
    try:
        times = [r["seconds"] for r in await con.fetch(SELECT_TIMES, run_ids)]
    finally:
        await con.close()
    if settled != count:
        raise RuntimeError(f"only {settled} of {count} runs settled")
    return elapsed, [float(t) for t in times], succeeded


async def t1(measure: Any) -> float:
    """The median of three single runs, one after another."""
    return statistics.median([await measure(1) for _ in range(3)])


def ratio_line(label: str, count: int, elapsed: float, t1_seconds: float, succeeded: int | None = None,
               slots: int = CONCURRENCY) -> dict:
    limit = min(count, slots) / t1_seconds
    row = {"case": label, "runs": count, "seconds": round(elapsed, 2), "runs_per_second": round(count / elapsed, 1),
           "limit_runs_per_second": round(limit, 1), "ratio": round(count / elapsed / limit, 2), "load": load()}
    if succeeded is not None:
        row["succeeded"] = succeeded
    return row


async def ours(admin: str, counts: list[int], processes: int, latency_ms: int) -> list[dict]:
    dsn = await create_migrated_database(admin, "bench")
    env = service_env(dsn, latency_ms)
    if processes == 1:
        procs = [Process(["serve", "--port", "0"], env, "listening on")]
    else:
        procs = [Process(["worker"], env, "ready with") for _ in range(processes)]
    try:
        await timed(dsn, 4)  # warm-up: every process has built its graph and prepared its statements
        rows = []
        if latency_ms:
            single = await t1(lambda n: _elapsed(dsn, n))
            rows.append({"case": f"{processes} process(es): T1", "seconds": round(single, 3), "load": load()})
            for count in counts:
                elapsed, _, succeeded = await timed(dsn, count)
                rows.append(ratio_line(f"{processes} process(es) x {CONCURRENCY}", count, elapsed, single, succeeded,
                                       slots=processes * CONCURRENCY))
        else:
            for count in counts:
                elapsed, times, succeeded = await timed(dsn, count)
                rows.append({"case": f"{processes} process(es), latency 0", "runs": count, "succeeded": succeeded,
                             "runs_per_second": round(count / elapsed, 1),
                             "p50_ms": round(percentile(times, 50) * 1000),
                             "p99_ms": round(percentile(times, 99) * 1000), "load": load()})
        return rows
    finally:
        for proc in procs:
            proc.stop()


async def _elapsed(dsn: str, count: int) -> float:
    return (await timed(dsn, count))[0]


async def in_process(admin: str, count: int, latency_ms: int, profile: Path | None = None) -> dict:
    """Statements and round trips per run, counted by the pool of an in-process executor, and the
    process's CPU time per run (executor, graph, pool; plus this client's polling, a few percent).
    With `profile`, cProfile covers the measured runs and its stats are written there."""
    from api.graph_runner import start_workers
    from db.batch import BatchStats
    from db.pool import create_pool

    class Counting(asyncpg.Connection):  # type: ignore[misc]
        sent = {"round_trips": 0, "statements": 0}

        async def _execute(self, *args: Any, **kwargs: Any) -> Any:
            Counting.sent["round_trips"] += 1
            Counting.sent["statements"] += 1
            return await super()._execute(*args, **kwargs)

        async def _executemany(self, query: str, args: Any, *rest: Any, **kwargs: Any) -> Any:
            args = list(args)
            Counting.sent["round_trips"] += 1
            Counting.sent["statements"] += len(args)
            return await super()._executemany(query, args, *rest, **kwargs)

    dsn = await create_migrated_database(admin, "bench")
    settings = settings_for(dsn, offline_model_latency_ms=latency_ms)
    pool = await create_pool(settings, dsn, connection_class=Counting)
    stats = BatchStats()
    profiler = cProfile.Profile() if profile is not None else None
    try:
        workers = await start_workers(pool, settings, stats=stats)
        try:
            await timed(dsn, 4)
            Counting.sent.update(round_trips=0, statements=0)
            cpu = time.process_time()
            if profiler is not None:
                profiler.enable()
            elapsed, _, succeeded = await timed(dsn, count)
            if profiler is not None:
                profiler.disable()
            cpu = time.process_time() - cpu
            sent = dict(Counting.sent)
        finally:
            await workers.stop(drain_seconds=10)
    finally:
        await pool.close()
    if profiler is not None and profile is not None:
        profiler.dump_stats(str(profile))
        pstats.Stats(str(profile), stream=sys.stderr).sort_stats("tottime").print_stats(40)
    return {"case": f"in-process, {count} runs at {latency_ms} ms", "succeeded": succeeded,
            "runs_per_second": round(count / elapsed, 1), "cpu_ms_per_run": round(cpu * 1000 / count, 2),
            "round_trips_per_run": round(sent["round_trips"] / count, 1),
            "statements_per_run": round(sent["statements"] / count, 1), "load": load()}


def langgraph_cli() -> Path:
    """`langgraph` from the benchmark's own virtual environment, created and filled on first use
    with the `bench` optional dependencies (they cannot share the `dev` environment)."""
    import tomllib
    import venv

    home = Path(os.environ.get("NAVIGATOR_BENCH_VENV", ROOT / ".venv-bench"))
    cli = home / "bin" / "langgraph"
    if not cli.exists():
        requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["bench"]
        print(f"installing {', '.join(requirements)} into {home} (first run)", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(home)
        subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *requirements], check=True)
    return cli


def start_langgraph_dev(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH", "LANGCHAIN", "VIRTUAL_ENV"))}
    env["LANGGRAPH_NO_VERSION_CHECK"] = "true"
    log = (workdir / "server.log").open("w")
    return subprocess.Popen([str(langgraph_cli()), "dev", "--no-browser", "--no-reload", "--n-jobs-per-worker",
                             str(CONCURRENCY), "--port", str(port), "--config", "langgraph.json"], cwd=workdir,
                            env=env, stdout=log, stderr=log)


async def langgraph(counts: list[int]) -> list[dict]:
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="langgraph-bench-"))
    (workdir / "graph.py").write_text(LANGGRAPH_GRAPH)
    config = {"dependencies": ["."], "graphs": {"three": "./graph.py:graph"}}
    (workdir / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    server = await asyncio.to_thread(start_langgraph_dev, workdir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        # 64 connections: the development server drops some when 256 requests arrive at once.
        async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(600, connect=10),
                                     limits=httpx.Limits(max_connections=64)) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if (await client.get("/ok")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"langgraph dev did not start: {(workdir / 'server.log').read_text()[-2000:]}")
                await asyncio.sleep(0.2)

            async def runs_at_once(count: int) -> float:
                threads = await asyncio.gather(*(client.post("/threads", json={}) for _ in range(count)))
                thread_ids = [t.json()["thread_id"] for t in threads]
                started = time.monotonic()

                async def create(thread_id: str) -> str:
                    for attempt in range(5):
                        try:
                            created = await client.post(f"/threads/{thread_id}/runs",
                                                        json={"assistant_id": "three", "input": {}})
                            return str(created.json()["run_id"])
                        except httpx.HTTPError:
                            if attempt == 4:
                                raise
                            await asyncio.sleep(0.2)
                    raise AssertionError("unreachable")

                async def status(thread_id: str, run_id: str) -> str:
                    try:
                        return str((await client.get(f"/threads/{thread_id}/runs/{run_id}")).json()["status"])
                    except httpx.HTTPError:
                        return "pending"

                run_ids = await asyncio.gather(*(create(t) for t in thread_ids))
                # Poll cheaply (is any thread still busy?), then confirm every run's own status.
                while True:
                    busy = (await client.post("/threads/search", json={"status": "busy", "limit": 1})).json()
                    if not busy:
                        statuses = await asyncio.gather(*(status(t, r) for t, r in zip(thread_ids, run_ids,
                                                                                         strict=True)))
                        if all(s not in ("pending", "running") for s in statuses):
                            break
                    await asyncio.sleep(0.05)
                elapsed = time.monotonic() - started
                if statuses.count("success") != count:
                    raise RuntimeError(f"langgraph dev: {statuses.count('success')} of {count} runs succeeded")
                return elapsed

            await runs_at_once(2)  # warm-up
            single = await t1(runs_at_once)
            rows: list[dict] = [{"case": "langgraph dev: T1", "seconds": round(single, 3), "load": load()}]
            for count in counts:
                rows.append(ratio_line(f"langgraph dev --n-jobs-per-worker {CONCURRENCY}", count,
                                       await runs_at_once(count), single, count))
            return rows
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


async def bench(args: argparse.Namespace) -> None:
    admin = args.dsn or start_embedded(Path(tempfile.mkdtemp(prefix="navigator-bench-")))

    def emit(rows: list[dict]) -> None:
        for row in rows:
            print(json.dumps(row) if args.json else "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)

    if not args.skip_ours:
        emit(await ours(admin, args.counts, 1, args.latency_ms))
    if not args.skip_four:
        emit(await ours(admin, [max(args.counts)], 4, args.latency_ms))
    if not args.skip_zero_latency:
        emit(await ours(admin, [max(args.counts)], 1, 0))
        emit(await ours(admin, [max(args.counts)], 4, 0))
    if not args.skip_round_trips:
        emit([await in_process(admin, min(args.counts), args.latency_ms)])
        emit([await in_process(admin, max(args.counts), 0, args.profile)])
    if not args.skip_langgraph:
        emit(await langgraph(args.counts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[256, 1000], help="runs queued at once")
    parser.add_argument("--latency-ms", type=int, default=1000, help="OFFLINE_MODEL_LATENCY_MS")
    parser.add_argument("--skip-ours", action="store_true", help="no one-process case at model latency")
    parser.add_argument("--skip-four", action="store_true", help="no 4-process case")
    parser.add_argument("--skip-zero-latency", action="store_true")
    parser.add_argument("--skip-round-trips", action="store_true", help="no in-process cases (round trips, CPU)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="cProfile the in-process zero-latency case, write its stats here, print the top")
    parser.add_argument("--skip-langgraph", action="store_true")
    parser.add_argument("--dsn", default=None, help="server to create the throwaway databases on")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(bench(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
