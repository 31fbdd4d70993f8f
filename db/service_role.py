"""How the request handlers reach PostgreSQL as the restricted service role.

Migration row_level_security creates `navigator_app` (NOLOGIN, no BYPASSRLS, owns
nothing) with the DML grants the request handlers need. Something must let it
log in: in embedded mode the service does it here, with a password generated
once and kept in the data dir (0600); with DATABASE_URL the operator does it
(README, "Row-level security") and gives APP_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from db.settings import Settings, load_or_create_secret

SERVICE_ROLE = "navigator_app"
SERVICE_PASSWORD_FILE = "app_db_password"
LOGIN_ATTEMPTS = 3

SELECT_ROLE_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)"
# Utility statements take no parameters: the server quotes the password (format's %L) and the
# role name (%I) into the statement it then runs, so neither is ever spliced in by Python.
SELECT_ENABLE_LOGIN = "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)"
# What makes the service role safe to hand to request handlers (tests/db/test_row_level_security.py).
SELECT_ROLE_POWERS = """
SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb,
       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned_relations
  FROM pg_roles r WHERE r.rolname = $1
"""
# The login a connection uses (APP_DATABASE_URL's user): the service role or a member of it,
# and no more powerful than it.
SELECT_LOGIN_POWERS = """
SELECT current_user AS login, pg_has_role(current_user, $1, 'MEMBER') AS member, r.rolsuper, r.rolbypassrls,
       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owned_relations
  FROM pg_roles r WHERE r.rolname = current_user
"""
# Tables with a user_id column whose rows no policy guards (migrations forgot one).
SELECT_UNGUARDED_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
   AND NOT (c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
 ORDER BY c.relname
"""
SELECT_GUARDED_TABLE_COUNT = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
"""


def powerless(powers: asyncpg.Record) -> bool:
    """Neither superuser nor BYPASSRLS, and owner of nothing: policies bind it."""
    return not powers["rolsuper"] and not powers["rolbypassrls"] and powers["owned_relations"] == 0


def with_login(dsn: str, user: str, password: str) -> str:
    """The same server and database, as another user."""
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))


async def enable_service_login(owner: asyncpg.Connection, password: str) -> bool:
    """Let `navigator_app` log in with `password` (the owner's connection must hold CREATEROLE
    or be a superuser); False when the role does not exist (migrations not applied yet)."""
    if not await owner.fetchval(SELECT_ROLE_EXISTS, SERVICE_ROLE):
        return False
    statement = await owner.fetchval(SELECT_ENABLE_LOGIN, SERVICE_ROLE, password)
    for attempt in range(LOGIN_ATTEMPTS):
        try:
            await owner.execute(statement)
            return True
        except asyncpg.InternalServerError:
            # "tuple concurrently updated": processes starting together on one data dir.
            if attempt == LOGIN_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))
    return True


async def service_dsn(settings: Settings, owner_dsn: str) -> str | None:
    """The DSN the request handlers use: APP_DATABASE_URL, or in embedded mode the service role's
    login made now; None when neither is possible (the caller warns and falls back to the owner)."""
    if settings.app_database_url is not None:
        return settings.app_database_url.get_secret_value()
    if not settings.embedded:
        return None
    password = load_or_create_secret(settings.data_dir / SERVICE_PASSWORD_FILE, key="APP_DATABASE_URL")
    owner = await asyncpg.connect(owner_dsn, timeout=settings.db_connect_timeout_seconds)
    try:
        if not await enable_service_login(owner, password):
            return None
    finally:
        await owner.close()
    return with_login(owner_dsn, SERVICE_ROLE, password)
