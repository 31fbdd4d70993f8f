"""Readiness and the metrics scrape, shared by the public app and the private ops listener.

Liveness needs nothing (the process answers); readiness asks whether this
process can do its work now: PostgreSQL answers on every pool the process uses
(the owner's, and the service role's that requests run as), its schema is exactly the
one this code expects (no pending migration, none newer), and the run
workers this process started are running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from api.instrumentation import sample_pool
from db.errors import Unavailable
from db.metrics import render
from db.migrate import Migration, schema_lag
from db.pool import CONNECTION_ERRORS
from db.scrape import database_families

PROBE_TIMEOUT_SECONDS = 3.0


@dataclass
class ProbeTargets:
    """What a process's probes look at: its pool, the migrations it was built with, its workers
    (`workers_running` is None when this process runs none: nothing to check), and the service
    role's pool requests run on (None without APP_DATABASE_URL or before it opens)."""

    pool: Callable[[], asyncpg.Pool | None]
    migrations: list[Migration]
    workers_running: Callable[[], bool] | None = None
    service_pool: Callable[[], asyncpg.Pool | None] = lambda: None
    checks: dict[str, str] = field(default_factory=dict)


async def readiness(targets: ProbeTargets) -> tuple[bool, dict[str, str]]:
    """(ready, one line per check): "ok" or why not."""
    checks: dict[str, str] = {}
    pool = targets.pool()
    if pool is None:
        checks["database"] = "not open yet"
        checks["migrations"] = "unknown: the database is not reachable"
    else:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                await pool.fetchval("SELECT 1")
                lag = await schema_lag(pool, targets.migrations)
                service_pool = targets.service_pool()
                if service_pool is not None:
                    await service_pool.fetchval("SELECT 1")
            checks["database"] = "ok"
            checks["migrations"] = lag or "ok"
        except CONNECTION_ERRORS + (Unavailable, asyncpg.PostgresError):
            checks["database"] = "unavailable"
            checks["migrations"] = "unknown: the database is not reachable"
    if targets.workers_running is None:
        checks["workers"] = "ok (none in this process)"
    else:
        checks["workers"] = "ok" if targets.workers_running() else "not running"
    ready = all(value.startswith("ok") for value in checks.values())
    return ready, checks


async def scrape(pool: asyncpg.Pool | None) -> bytes:
    """The Prometheus text: this process's (or every local process's) metrics and the database's."""
    sample_pool(pool)
    families = await database_families(pool) if pool is not None else []
    return render(families)
