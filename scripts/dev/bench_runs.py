"""Durable-run throughput and latency with the offline model.

    python -m scripts.dev.bench_runs [--processes 1 4] [--in-flight 32 256] [--concurrency 8] [--latency-ms 0]

For each (worker processes, runs in flight): queue that many runs at once on
fresh conversations, and report runs completed per second and p50/p99 of the
time from create to success (`finished_at - created_at`, measured by PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.dev.runs_harness import Harness, Worker, fresh_database


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def one_case(dsn: str, processes: int, in_flight: int, concurrency: int, latency_ms: int) -> dict:
    env = {"OFFLINE_MODEL_LATENCY_MS": str(latency_ms)}
    workers = [Worker(dsn, concurrency, env) for _ in range(processes)]
    try:
        async with Harness(dsn) as harness:
            await harness.queue(4)  # warm-up: every process has built its graph
            await harness.wait_all(seconds=120)
            harness.run_ids.clear()
            harness.conversations.clear()
            started = time.monotonic()
            await harness.queue(in_flight)
            rows = await harness.wait_all(seconds=600)
            elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            worker.stop()
    latencies = [(r["finished_at"] - r["created_at"]).total_seconds() * 1000 for r in rows
                 if r["status"] == "success"]
    return {"processes": processes, "executors_per_process": concurrency, "in_flight": in_flight,
            "succeeded": len(latencies), "runs_per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 50)), "p99_ms": round(percentile(latencies, 99)),
            "mean_ms": round(statistics.fmean(latencies))}


async def bench(args: argparse.Namespace) -> list[dict]:
    dsn = await fresh_database(args.dsn)
    return [await one_case(dsn, p, n, args.concurrency, args.latency_ms)
            for p in args.processes for n in args.in_flight]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--in-flight", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--concurrency", type=int, default=8, help="executors per worker process")
    parser.add_argument("--latency-ms", type=int, default=0, help="OFFLINE_MODEL_LATENCY_MS")
    parser.add_argument("--dsn", default=None, help="server to create a throwaway database on")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = asyncio.run(bench(args))
    for row in results:
        print(json.dumps(row) if args.json else
              "{processes} proc x {executors_per_process} exec, {in_flight:>3} in flight: "
              "{runs_per_second:>6} runs/s  p50 {p50_ms} ms  p99 {p99_ms} ms  ({succeeded} ok)".format(**row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
