"""Throwaway databases on one server, for the test suite and the benchmarks.

CREATE/DROP DATABASE take an identifier, which cannot be a `$n` parameter:
the name is checked against a strict pattern before it is quoted in.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.migrate import migrate_up

DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CREATE_DATABASE = 'CREATE DATABASE "{name}"'
DROP_DATABASE = 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def with_database(dsn: str, database: str) -> str:
    """The same server, another database."""
    return urlunsplit(urlsplit(dsn)._replace(path="/" + database))


def database_of(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")


def _checked(name: str) -> str:
    if not DATABASE_NAME.match(name):
        raise ValueError(f"not a scratch database name: {name!r}")
    return name


async def create_database(admin_dsn: str, prefix: str = "scratch", name: str | None = None) -> str:
    """Create `name` (or `<prefix>_<random>`) on the admin DSN's server and return its DSN."""
    name = _checked(name or f"{prefix}_{uuid.uuid4().hex[:12]}")
    con = await asyncpg.connect(admin_dsn)
    try:
        await con.execute(CREATE_DATABASE.format(name=name))
    finally:
        await con.close()
    return with_database(admin_dsn, name)


async def create_migrated_database(admin_dsn: str, prefix: str = "scratch", name: str | None = None) -> str:
    """`create_database`, then every migration applied; its DSN."""
    dsn = await create_database(admin_dsn, prefix, name)
    con = await asyncpg.connect(dsn)
    try:
        await migrate_up(con)
    finally:
        await con.close()
    return dsn


async def drop_database(admin_dsn: str, dsn: str) -> None:
    name = _checked(database_of(dsn))
    con = await asyncpg.connect(admin_dsn)
    try:
        await con.execute(DROP_DATABASE.format(name=name))
    finally:
        await con.close()
