"""`navigator worker --concurrency N`: run executors for queued runs until SIGTERM/SIGINT.

Scaling out is starting more of these (on any machine) against the same
PostgreSQL: they share nothing but the database.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from db import metrics
from db.lifecycle.scheduler import CleanupSchedule
from db.migrate import load_migrations
from db.pool import create_pool, resolve_dsn
from db.runs.queue import runs_table_exists
from db.settings import load_settings
from scripts.cli import CommandError, tune_garbage_collector

# Seconds a draining worker waits for in-flight steps before leaving them to lease expiry.
DRAIN_SECONDS = 60.0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="execute queued runs (scale out by starting more)")
    parser.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="concurrent runs in this process (default WORKER_CONCURRENCY)")
    parser.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise CommandError("--concurrency must be at least 1")
    return asyncio.run(run_worker(args.concurrency))


async def run_worker(concurrency: int | None) -> int:
    from api.case_loops import start_case_loops
    from api.graph_runner import start_workers  # the graph: imported by the commands that run it
    from api.instrumentation import forget_pool, sample_pool_forever
    from api.probes import ProbeTargets
    from db.clock import Clock
    from scripts.cmd_serve import start_ops_listener

    settings = load_settings()
    metrics.configure(settings.prometheus_multiproc_dir)
    dsn = resolve_dsn(settings)
    executors = concurrency or settings.worker_concurrency
    # Runs in flight hold no connection: DB_POOL_MAX_SIZE bounds the connections, not the runs.
    pool = await create_pool(settings, dsn, min_size=1)
    try:
        if not await runs_table_exists(pool):
            raise CommandError("the database has no runs table; run `navigator migrate up` first")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        workers = await start_workers(pool, settings, concurrency=executors)
        targets = ProbeTargets(pool=lambda: pool, migrations=load_migrations(), workers_running=lambda: workers.running)
        ops = await start_ops_listener(settings, targets)
        sampler = asyncio.create_task(sample_pool_forever(pool), name="pool-gauges")
        tune_garbage_collector()
        # Due timers become runs, and notifications go out, from every worker process; expired
        # data is deleted by one of them at a time.
        loops = start_case_loops(pool, settings, Clock())
        cleanup = CleanupSchedule(pool, settings)
        cleanup.start()
        print(f"worker {workers.worker_id} ready with {executors} executors", file=sys.stderr, flush=True)
        await stop.wait()
        print(f"worker {workers.worker_id} draining", file=sys.stderr, flush=True)
        await cleanup.stop()
        sampler.cancel()
        await loops.stop()
        await workers.stop(drain_seconds=DRAIN_SECONDS)
        if ops is not None:
            await ops.stop()
    finally:
        await pool.close()
        forget_pool()
    return 0
