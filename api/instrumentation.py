"""How the application feeds `db.metrics`: model calls, HTTP requests, event streams, the pool.

Each piece is small and never fails what it measures: the HTTP observer
(fed by api.middleware.RequestContext, which times every request for the
access log anyway) labels a request by its route template (`/runs/{run_id}`,
never the path itself, so a scan of random URLs cannot grow the series), the
model-call observer turns `agents.usage.ModelCall` into histograms and
counters, and the pool sampler copies the pool's size and waiters into gauges
every few seconds (and before each scrape).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import asyncpg
from starlette.types import Scope

from agents.usage import ModelCall
from db.metrics import metrics

POOL_SAMPLE_SECONDS = 5.0
UNMATCHED_ROUTE = "unmatched"


def observe_model_call(call: ModelCall) -> None:
    counted = metrics()
    counted.model_call_duration.labels(call.provider).observe(call.seconds)
    if call.error is not None:
        counted.model_call_errors.labels(call.provider, call.error).inc()
    if call.input_tokens:
        counted.model_tokens.labels(call.provider, call.model, "input").inc(call.input_tokens)
    if call.output_tokens:
        counted.model_tokens.labels(call.provider, call.model, "output").inc(call.output_tokens)


def route_template(scope: Scope) -> str:
    """The template of the route that served the request (`/runs/{run_id}`), or "unmatched".
    The router records the route (a full match, or the partial one that answers 405) in the scope."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """One HTTP request by method, route template and status, and its duration (called by
    api.middleware.RequestContext, which already times every request for the access log)."""
    route = route_template(scope)
    counted = metrics()
    counted.http_requests.labels(scope["method"], route, str(status)).inc()
    counted.http_duration.labels(scope["method"], route).observe(seconds)


class StepTimer:
    """Times each task of a graph run from its start to its result, as the `tasks` stream reports
    them, into `navigator_step_duration_seconds{node}`."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def start(self, task: Mapping[str, Any]) -> None:
        self._started[task["id"]] = time.monotonic()

    def finish(self, task: Mapping[str, Any]) -> None:
        started = self._started.pop(task["id"], None)
        if started is not None:
            metrics().step_duration.labels(task["name"]).observe(time.monotonic() - started)


@contextlib.contextmanager
def sse_client() -> Iterator[None]:
    """Count an open event stream for as long as it is open."""
    gauge = metrics().sse_clients
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


async def counted_stream(events: AsyncIterator[object]) -> AsyncIterator[object]:
    """An event stream that counts itself among the open ones while it is consumed."""
    with sse_client():
        async for event in events:
            yield event


def sample_pool(pool: asyncpg.Pool | None) -> None:
    """Copy the pool's connections (in use, idle, max) and waiters into the gauges."""
    if pool is None:
        return
    counted = metrics()
    size, idle = pool.get_size(), pool.get_idle_size()
    counted.pool_connections.labels("in_use").set(size - idle)
    counted.pool_connections.labels("idle").set(idle)
    counted.pool_connections.labels("max").set(pool.get_max_size())
    # asyncpg exposes no count of the tasks waiting in acquire(); its queue's getters are them.
    getters = getattr(getattr(pool, "_queue", None), "_getters", ())
    counted.pool_waiters.set(sum(1 for waiter in getters if not waiter.done()))


async def sample_pool_forever(pool: asyncpg.Pool, every: float = POOL_SAMPLE_SECONDS) -> None:
    """Keep the pool gauges fresh (other processes' scrapes read them from the shared files)."""
    while True:
        sample_pool(pool)
        await asyncio.sleep(every)


def forget_pool() -> None:
    """The pool closed: this process holds no connections any more."""
    counted = metrics()
    for state in ("in_use", "idle", "max"):
        counted.pool_connections.labels(state).set(0)
    counted.pool_waiters.set(0)
