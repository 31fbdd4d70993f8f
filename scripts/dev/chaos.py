"""Chaos: runs on several worker processes while a random worker is SIGKILLed every few seconds.

    python -m scripts.dev.chaos                 # 1,000 runs, 4 workers, >= 50 kills every 2-5 s
    python -m scripts.dev.chaos --short         # the suite's version: 40 runs, 2 workers, 3 kills

Prints lost runs (must be 0), runs with a wrong final state (must be 0),
repeated node executions per kill, and the time from the last kill until
every run finished. Exit code 1 when anything was lost or wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.dev.runs_harness import Harness, Worker, fresh_database


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small and quick (used by the test suite)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--kills", type=int, default=50, help="minimum number of SIGKILLs")
    parser.add_argument("--min-interval", type=float, default=2.0)
    parser.add_argument("--max-interval", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=int, default=500, help="OFFLINE_MODEL_LATENCY_MS")
    parser.add_argument("--lease", type=float, default=2.0, help="RUN_LEASE_SECONDS")
    # Random kills are not poison runs: a run may be in flight at several kills in a row.
    parser.add_argument("--max-attempts", type=int, default=10, help="RUN_MAX_ATTEMPTS")
    parser.add_argument("--dsn", default=None, help="server to create a throwaway database on")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.short:
        (args.runs, args.workers, args.kills, args.min_interval, args.max_interval,
         args.latency_ms) = 40, 2, 3, 1.0, 1.5, 100
    return args


async def chaos(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    dsn = await fresh_database(args.dsn)
    env = {"RUN_LEASE_SECONDS": str(args.lease), "OFFLINE_MODEL_LATENCY_MS": str(args.latency_ms),
           "RUN_MAX_ATTEMPTS": str(args.max_attempts)}
    async with Harness(dsn) as harness:
        workers = [Worker(dsn, args.concurrency, env) for _ in range(args.workers)]
        expected_seconds = args.kills * (args.min_interval + args.max_interval) / 2
        kills = 0
        started = time.monotonic()
        try:
            # Everything queued up front: with the model latency, the executors stay busy through
            # the kill window, so every kill lands on runs in flight.
            await harness.queue(args.runs)
            while kills < args.kills:
                await asyncio.sleep(rng.uniform(args.min_interval, args.max_interval))
                index = rng.randrange(len(workers))
                workers[index].kill()
                workers[index] = Worker(dsn, args.concurrency, env)
                kills += 1
            last_kill = time.monotonic()
            rows = await harness.wait_all(seconds=max(120.0, expected_seconds))
            settled = time.monotonic() - last_kill
        finally:
            for worker in workers:
                worker.stop()
        audit = await harness.audit()
    return {"runs": args.runs, "workers": args.workers, "kills": kills, **audit,
            "repeated_per_kill": round(audit["repeated_node_executions"] / max(kills, 1), 2),
            "seconds_from_last_kill_to_all_finished": round(settled, 2),
            "total_seconds": round(time.monotonic() - started, 1), "settled_runs": len(rows)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(chaos(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<40} {value}")
    return 1 if result["lost"] or result["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
