"""Row-level security as the catalog states it: every user-owned table has a policy, and the
service role the request handlers connect as can neither own nor bypass anything."""

from __future__ import annotations

import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from db.batch import StatementBatcher
from db.scope import SET_ACTING_USER, UserScopedPool, acting_as, scoped
from db.service_role import SELECT_ROLE_POWERS, SERVICE_PASSWORD_FILE, SERVICE_ROLE, service_dsn
from db.settings import Settings
from tests.conftest import make_settings
from tests.utils.db import service_role_dsn
from tests.utils.factories import NewConversation, NewUser

# Tables of the public schema with a user_id column, and whether RLS is on with a policy.
USER_TABLES = """
SELECT c.relname, c.relrowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
   AND EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
 ORDER BY c.relname
"""
# Tables keyed by thread or run rather than by user: they need a policy as much.
THREAD_KEYED = {"checkpoints", "checkpoint_blobs", "checkpoint_writes", "agent_states", "run_events",
                "run_protocol_options"}
RLS_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
   AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
"""
# Views the service role may read; each must read its tables as the reader (security_invoker),
# or the policies would be checked against the view's owner, whom they do not restrict.
READABLE_VIEWS = """
SELECT c.relname, coalesce('security_invoker=true' = ANY (c.reloptions)
                           OR 'security_invoker=on' = ANY (c.reloptions), false) AS invoker
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'v' AND has_table_privilege($1, c.oid, 'SELECT')
"""
# No table that holds secrets of every account, nor the migration history, is the service role's.
PRIVILEGES = "SELECT has_table_privilege($1, $2, $3)"


async def test_every_table_with_a_user_id_has_row_level_security(pool: asyncpg.Pool) -> None:
    rows = await pool.fetch(USER_TABLES)
    assert len(rows) >= 20, [r["relname"] for r in rows]  # the catalog query does find them
    missing = [r["relname"] for r in rows if not (r["relrowsecurity"] and r["has_policy"])]
    assert missing == [], f"tables with user_id but no row-level security policy: {missing}"
    protected = {r["relname"] for r in await pool.fetch(RLS_TABLES)}
    assert THREAD_KEYED <= protected, THREAD_KEYED - protected


async def test_the_service_role_owns_nothing_and_cannot_bypass(pool: asyncpg.Pool) -> None:
    powers = await pool.fetchrow(SELECT_ROLE_POWERS, SERVICE_ROLE)
    assert powers is not None, "migrations create the service role"
    assert dict(powers) == {"rolsuper": False, "rolbypassrls": False, "rolcreaterole": False, "rolcreatedb": False,
                            "owned_relations": 0}
    # It is no member of a role that could (a superuser, or one with BYPASSRLS, or a table owner).
    inherited = await pool.fetch(
        "SELECT r.rolname FROM pg_roles r WHERE pg_has_role($1, r.oid, 'MEMBER') AND r.rolname <> $1 "
        "AND (r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid))",
        SERVICE_ROLE)
    assert inherited == []
    assert not await pool.fetchval(PRIVILEGES, SERVICE_ROLE, "users", "SELECT")
    assert not await pool.fetchval(PRIVILEGES, SERVICE_ROLE, "schema_migrations", "SELECT")
    assert not await pool.fetchval(PRIVILEGES, SERVICE_ROLE, "conversations", "TRUNCATE")
    assert await pool.fetchval(PRIVILEGES, SERVICE_ROLE, "conversations", "DELETE")
    views = await pool.fetch(READABLE_VIEWS, SERVICE_ROLE)
    assert [v["relname"] for v in views if not v["invoker"]] == []


async def test_tables_of_later_migrations_get_the_grants(pool: asyncpg.Pool) -> None:
    """Default privileges: a table the owner creates after migration row_level_security is usable
    by the service role without a GRANT of its own (the next migrations need none)."""
    name = f"later_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as con:
        with pytest.raises(RolledBack):
            async with con.transaction():
                await con.execute(f"CREATE TABLE {name} (id int)")
                assert await con.fetchval(PRIVILEGES, SERVICE_ROLE, name, "INSERT")
                assert not await con.fetchval(PRIVILEGES, SERVICE_ROLE, name, "TRUNCATE")
                raise RolledBack


class RolledBack(Exception):
    """Leaves the test's table uncreated."""


@pytest.fixture(scope="module")
async def service_pool(migrated_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    raw = await asyncpg.create_pool(service_role_dsn(migrated_dsn), min_size=1, max_size=2)
    assert raw is not None
    yield raw
    await raw.close()


async def test_without_an_acting_user_the_service_role_sees_nothing(pool: asyncpg.Pool, service_pool: asyncpg.Pool,
                                                                   new_user: NewUser,
                                                                   new_conversation: NewConversation) -> None:
    user = await new_user()
    await new_conversation(user)
    assert await pool.fetchval("SELECT count(*) FROM conversations WHERE user_id = $1", user) == 1
    # Fail closed: no setting, an empty one, or a session-level one that a pooler would leak.
    assert await service_pool.fetchval("SELECT count(*) FROM conversations") == 0
    scoped = UserScopedPool(service_pool)
    assert await scoped.fetchval("SELECT count(*) FROM conversations") == 0
    with acting_as(user):
        assert await scoped.fetchval("SELECT count(*) FROM conversations") == 1
        async with scoped.acquire() as con:
            assert await con.fetchval("SELECT count(*) FROM conversations") == 1
            # The setting was transaction-local: nothing of it is left on the connection.
            assert await con._con.fetchval("SELECT current_setting('app.user_id', true)") in (None, "")
    async with service_pool.acquire() as con:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await con.execute("SET row_security = off; SELECT count(*) FROM conversations")
        await con.execute("RESET row_security")
        # Nor can it take the policies off, become the owner, or make objects of its own.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await con.execute("ALTER TABLE conversations DISABLE ROW LEVEL SECURITY")
        owner = await pool.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'conversations'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await con.execute(f'SET ROLE "{owner}"')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await con.execute("CREATE TABLE mine (id int)")
        # Writing another user's row is refused too (WITH CHECK), not only reading it.
        async with con.transaction():
            await con.execute(SET_ACTING_USER, str(uuid.uuid4()))
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await con.execute("INSERT INTO conversations (user_id, expires_at) VALUES ($1, now())", user)


async def test_embedded_mode_makes_the_service_login_and_keeps_its_password_private(
        migrated_dsn: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, navigator_data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.embedded
    dsn = await service_dsn(settings, migrated_dsn)
    assert dsn is not None and urlsplit(dsn).username == SERVICE_ROLE
    kept = tmp_path / SERVICE_PASSWORD_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert urlsplit(dsn).password == kept.read_text().strip()
    con = await asyncpg.connect(dsn)
    try:
        assert await con.fetchval("SELECT current_user") == SERVICE_ROLE
    finally:
        await con.close()
    # The same password at the next start (the file is read, not remade).
    assert await service_dsn(settings, migrated_dsn) == dsn


async def test_an_external_database_uses_app_database_url_or_none(migrated_dsn: str) -> None:
    given = service_role_dsn(migrated_dsn)
    assert await service_dsn(make_settings(migrated_dsn, app_database_url=given), migrated_dsn) == given
    # Without it nothing is invented for someone else's server: the caller warns and uses the owner.
    assert await service_dsn(make_settings(migrated_dsn, app_database_url=None), migrated_dsn) is None


async def test_a_batcher_refuses_the_request_pool(service_pool: asyncpg.Pool) -> None:
    """A batch is one transaction, hence one acting user: on the request pool it would read one
    user's rows for another's request."""
    with pytest.raises(TypeError, match="owner's pool"):
        StatementBatcher(scoped(service_pool), "SELECT 1")
