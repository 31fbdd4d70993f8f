#!/usr/bin/env python3
"""What the Agent Protocol stream costs: a run streamed through /lg (rebuilt from run events and
checkpoints) against the same run streamed as the service's own events, over one real server.

    python scripts/dev/bench_lg_stream.py --runs 30 --clients 4

Starts `navigator serve --port 0` on a throw-away embedded PostgreSQL (or DATABASE_URL) with
the offline model. Each client alternates the two ways for one new conversation each time:
- peer: POST /conversations/{id}/runs, then GET /runs/{id}/events until the stream ends;
- /lg:  POST /lg/threads/{id}/runs/stream (values, updates, messages-tuple) until `end`.
Reported per way: time to the first event and to the end, as the client sees them.
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

QUESTION = "I need a prior authorization"  # guard -> navigator -> strategy -> communicator: four steps


async def timed_stream(http: httpx.AsyncClient, method: str, url: str, **kwargs: object) -> tuple[float, float, int]:
    """(ms to the first event, ms to the end of the stream, events) from the moment of the call."""
    started = time.perf_counter()
    first = None
    events = 0
    async with http.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                events += 1
                first = first if first is not None else time.perf_counter()
    ended = time.perf_counter()
    return ((first or ended) - started) * 1000, (ended - started) * 1000, events


async def peer_run(http: httpx.AsyncClient) -> tuple[float, float, int]:
    started = time.perf_counter()
    conversation = (await http.post("/conversations", json={})).json()["id"]
    run = (await http.post(f"/conversations/{conversation}/runs", json={"message": QUESTION})).json()["id"]
    first, end, events = await timed_stream(http, "GET", f"/runs/{run}/events")
    offset = (time.perf_counter() - started) * 1000 - end
    return first + offset, end + offset, events


async def lg_run(http: httpx.AsyncClient) -> tuple[float, float, int]:
    started = time.perf_counter()
    thread = (await http.post("/lg/threads", json={})).json()["thread_id"]
    body = {"assistant_id": "navigator", "input": {"messages": [{"role": "user", "content": QUESTION}]},
            "stream_mode": ["values", "updates", "messages-tuple"]}
    first, end, events = await timed_stream(http, "POST", f"/lg/threads/{thread}/runs/stream", json=body)
    offset = (time.perf_counter() - started) * 1000 - end
    return first + offset, end + offset, events


async def client(base: str, key: str, runs: int, results: dict[str, list[tuple[float, float, int]]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120, headers={"x-api-key": key}) as http:
        for i in range(runs):
            ways = [("peer", peer_run), ("lg", lg_run)]
            for name, way in ways if i % 2 == 0 else reversed(ways):
                results[name].append(await way(http))


async def bench(base: str, runs: int, clients: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        email, password = f"bench-{uuid.uuid4().hex[:10]}@example.com", "bench password 1"
        (await http.post("/auth/register", json={"email": email, "password": password})).raise_for_status()
        token = (await http.post("/auth/login", json={"email": email, "password": password})).json()["access_token"]
        key = (await http.post("/auth/api-keys", json={"name": "bench"},
                               headers={"Authorization": f"Bearer {token}"})).json()["key"]
    await client(base, key, 2, {"peer": [], "lg": []})  # warm up
    results: dict[str, list[tuple[float, float, int]]] = {"peer": [], "lg": []}
    await asyncio.gather(*(client(base, key, runs, results) for _ in range(clients)))
    print(f"{clients} clients x {runs} runs each way (offline model, in-process workers, 4 steps per run)")
    medians = {}
    for name, label in (("peer", "GET /runs/{id}/events "), ("lg", "POST /lg/.../runs/stream")):
        firsts, ends, events = zip(*results[name], strict=True)
        medians[name] = statistics.median(ends)
        print(f"  {label}  first event p50 {statistics.median(firsts):6.1f} ms   end p50 {medians[name]:6.1f} ms  "
              f"p95 {sorted(ends)[int(len(ends) * 0.95) - 1]:6.1f} ms   events/run {statistics.median(events):.0f}")
    print(f"  /lg over the service's own stream, to the end: {medians['lg'] / medians['peer']:.2f}x "
          f"({medians['lg'] - medians['peer']:+.1f} ms per run)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per client and way")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env.setdefault("LLM_PROVIDER", "offline")
    with navigator_serve(env, prefix="bench-lg-") as base:
        asyncio.run(bench(base, args.runs, args.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
