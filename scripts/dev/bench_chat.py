#!/usr/bin/env python3
"""POST /chat latency under concurrent clients, over a real `navigator serve` process.

    .venv/bin/python -m scripts.dev.bench_chat --clients 32 --requests 10

Starts `navigator serve --port 0` on a throw-away embedded PostgreSQL (or on
DATABASE_URL when set: it then writes users and conversations there, and, as any
`navigator serve` on DATABASE_URL, needs JWT_SECRET_KEY and DOCUMENT_ENCRYPTION_KEY), with the
offline model. Each client registers once, logs in, then sends its chats one
after another, each in a new conversation; the figures are per request, as the
client sees them (HTTP, queueing, the durable run on the in-process workers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a file: the shared server helper

from scripts.dev.serving import navigator_serve  # noqa: E402

QUESTIONS = ["What is a deductible?", "How do I read my explanation of benefits?",
             "What is the difference between a copay and coinsurance?", "Can I keep my coverage after I quit?"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def client_session(base: str, requests: int, latencies: list[float], statuses: dict[str, int]) -> None:
    email, password = f"bench-{uuid.uuid4().hex[:10]}@example.com", "bench password 1"
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        (await http.post("/auth/register", json={"email": email, "password": password})).raise_for_status()
        login = await http.post("/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for i in range(requests):
            started = time.perf_counter()
            response = await http.post("/chat", json={"message": QUESTIONS[i % len(QUESTIONS)]}, headers=auth)
            latencies.append((time.perf_counter() - started) * 1000)
            key = f"{response.status_code} {response.json().get('status', '?')}"
            statuses[key] = statuses.get(key, 0) + 1


async def bench(base: str, clients: int, requests: int) -> None:
    await asyncio.gather(*(client_session(base, 1, [], {}) for _ in range(min(clients, 4))))  # warm up
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(client_session(base, requests, latencies, statuses) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    print(f"POST /chat, {clients} concurrent clients x {requests} requests = {len(latencies)} "
          f"(offline model, in-process workers)")
    print(f"  p50 {percentile(latencies, 50):.0f} ms  p95 {percentile(latencies, 95):.0f} ms  "
          f"p99 {percentile(latencies, 99):.0f} ms  max {max(latencies):.0f} ms  "
          f"mean {statistics.fmean(latencies):.0f} ms")
    print(f"  {len(latencies) / elapsed:.1f} chats/s over {elapsed:.1f} s (including each client's register+login)")
    print(f"  statuses: {statuses}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=10, help="chats per client")
    parser.add_argument("--worker-concurrency", type=int, default=None,
                        help="WORKER_CONCURRENCY for the server (default: its own setting)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.setdefault("LLM_PROVIDER", "offline")
    # Every client registers from 127.0.0.1: more than the per-address registration limit allows.
    env.setdefault("REGISTER_ADDRESS_ATTEMPTS", "100000")
    if args.worker_concurrency:
        env["WORKER_CONCURRENCY"] = str(args.worker_concurrency)
    with navigator_serve(env, prefix="bench-chat-") as base:
        asyncio.run(bench(base, args.clients, args.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
