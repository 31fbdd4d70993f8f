"""Shared helpers for tests that need their own database on the session's server."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def with_database(dsn: str, database: str) -> str:
    """The same server, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def create_database(admin_dsn: str, prefix: str = "test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    con = await asyncpg.connect(admin_dsn)
    try:
        await con.execute(f'CREATE DATABASE "{name}"')
    finally:
        await con.close()
    return with_database(admin_dsn, name)


async def drop_database(admin_dsn: str, dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    con = await asyncpg.connect(admin_dsn)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await con.close()


def navigator_cmd() -> list[str]:
    """The installed console script when present, else the module."""
    script = Path(sys.executable).parent / "navigator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scripts.cli"]


def cli_env(dsn: str | None, **extra: str) -> dict[str, str]:
    """An environment for a `navigator` subprocess: only what the test chose, no .env surprises."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "JWT_", "NAVIGATOR_", "LLM_", "OPENAI_"))}
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    env.setdefault("JWT_SECRET_KEY", TEST_SECRET)
    env.update(extra)
    return env


async def tables_containing(con: asyncpg.Connection | asyncpg.Pool, needles: list[str]) -> list[tuple[str, str]]:
    """(table, needle) for every needle found in any row of any public table, as text or hex (bytea)."""
    needles = needles + [n.encode().hex() for n in needles]
    tables = [r["tablename"] for r in await con.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    found = []
    for table in tables:
        for row in await con.fetch(f'SELECT row_to_json(t)::text AS j FROM "{table}" t'):
            found += [(table, needle) for needle in needles if needle in row["j"]]
    return found
