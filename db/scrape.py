"""What /metrics reads from PostgreSQL at scrape time: the same answer from every process.

Runs by status, the queue's depth and the age of its oldest pending run, and
today's model usage are facts of the database, not of one process, so they are
read there for each scrape (a few index-backed statements under a short
timeout) rather than counted in memory.
"""

from __future__ import annotations

import asyncio

import asyncpg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from db.errors import Unavailable
from db.pool import CONNECTION_ERRORS
from db.runs.model import RUN_STATUSES
from db.runs.sql import COUNT_RUNS_BY_STATUS, SELECT_QUEUE_DEPTH
from db.usage import usage_by_day

SCRAPE_TIMEOUT_SECONDS = 3.0


async def database_families(pool: asyncpg.Pool) -> list[Metric]:
    """The gauges read from PostgreSQL; `navigator_database_up` 0 (and nothing else) when it does not answer."""
    up = GaugeMetricFamily("navigator_database_up", "1 when this scrape could read PostgreSQL")
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT_SECONDS), pool.acquire() as con:
            by_status = {row["status"]: row["n"] for row in await con.fetch(COUNT_RUNS_BY_STATUS)}
            queue = await con.fetchrow(SELECT_QUEUE_DEPTH)
            usage = await usage_by_day(con, 1)  # today (UTC)
    except CONNECTION_ERRORS + (Unavailable, asyncpg.PostgresError):
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    runs = GaugeMetricFamily("navigator_runs", "Runs in the database by status", labels=["status"])
    for status in RUN_STATUSES:
        runs.add_metric([status], by_status.get(status, 0))
    assert queue is not None
    depth = GaugeMetricFamily("navigator_run_queue_depth", "Runs waiting to be claimed (pending)")
    depth.add_metric([], by_status.get("pending", 0))
    oldest = GaugeMetricFamily("navigator_run_queue_oldest_pending_seconds",
                               "How long the oldest pending run has waited (0 when none waits)")
    oldest.add_metric([], queue["oldest_pending_seconds"] or 0.0)
    messages = GaugeMetricFamily("navigator_model_usage_today_messages",
                                 "Assistant messages stored today (UTC) by provider and model",
                                 labels=["provider", "model"])
    tokens = GaugeMetricFamily("navigator_model_usage_today_tokens",
                               "Tokens reported today (UTC) by provider, model and direction",
                               labels=["provider", "model", "direction"])
    latency = GaugeMetricFamily("navigator_model_usage_today_latency_seconds",
                                "Model time spent today (UTC) by provider and model", labels=["provider", "model"])
    for row in usage:
        labels = [row["provider"], row["model"]]
        messages.add_metric(labels, row["messages"])
        tokens.add_metric([*labels, "input"], row["input_tokens"])
        tokens.add_metric([*labels, "output"], row["output_tokens"])
        latency.add_metric(labels, row["latency_ms"] / 1000)
    return [up, runs, depth, oldest, messages, tokens, latency]
