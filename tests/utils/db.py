"""Shared helpers for tests that need their own database on the session's server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import asyncpg

from db import scratch
from db.service_role import SERVICE_ROLE, enable_service_login, with_login

ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# 32 bytes, URL-safe base64 (what DOCUMENT_ENCRYPTION_KEY takes).
TEST_DOCUMENT_KEY = "dGVzdC1kb2N1bWVudC1rZXktMzItYnl0ZXMtbG9uZyE="
# The service role's password on the test server (what embedded mode keeps in the data dir).
TEST_SERVICE_PASSWORD = "test-service-role-password-0123456789abcdef"


async def create_migrated_database(admin_dsn: str, prefix: str = "scratch", name: str | None = None) -> str:
    """A migrated database whose service role may log in (the API's apps then connect as it)."""
    dsn = await scratch.create_migrated_database(admin_dsn, prefix, name)
    con = await asyncpg.connect(admin_dsn)
    try:
        await enable_service_login(con, TEST_SERVICE_PASSWORD)
    finally:
        await con.close()
    return dsn


def service_role_dsn(dsn: str) -> str:
    """`dsn`'s database as the restricted service role."""
    return with_login(dsn, SERVICE_ROLE, TEST_SERVICE_PASSWORD)


def navigator_cmd() -> list[str]:
    """The installed console script when present, else the module."""
    script = Path(sys.executable).parent / "navigator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scripts.cli"]


def cli_env(dsn: str | None, **extra: str) -> dict[str, str]:
    """An environment for a `navigator` subprocess: only what the test chose, no .env surprises."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "JWT_", "NAVIGATOR_", "LLM_", "OPENAI_", "DOCUMENT_", "EMBEDDING_"))}
    if dsn is not None:
        env["DATABASE_URL"] = dsn
    env.setdefault("JWT_SECRET_KEY", TEST_SECRET)
    env.setdefault("DOCUMENT_ENCRYPTION_KEY", TEST_DOCUMENT_KEY)
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
