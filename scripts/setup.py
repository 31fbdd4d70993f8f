"""Validate an installation end to end: `navigator setup` and `python scripts/setup.py` are this.

One line per check with a mark and, on failure, the reason; `--json` for
machines; exit code 0 only when every check passed. Later checks are skipped
(and reported as failed) once one they depend on has failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from db.document_crypto import decrypt, encrypt, key_id
from db.documents import count_documents_by_key
from db.errors import DatabaseError
from db.migrate import Migrator, load_migrations
from db.pool import CONNECTION_ERRORS, connect, create_pool, describe_connection_error, redact_dsn, resolve_dsn
from db.service_role import (
    SELECT_GUARDED_TABLE_COUNT,
    SELECT_LOGIN_POWERS,
    SELECT_ROLE_POWERS,
    SELECT_UNGUARDED_TABLES,
    SERVICE_ROLE,
    powerless,
    service_dsn,
)
from db.settings import DOCUMENT_KEY_FILE, JWT_SECRET_FILE, ConfigError, Settings, load_settings

MIN_SERVER_VERSION = 14
SETUP_QUESTION = "My MRI claim was denied on March 3 and I have an employer plan. How do I appeal?"


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class SetupContext:
    """What earlier checks learned and later ones use."""

    settings: Settings | None = None
    dsn: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


CheckFn = Callable[[SetupContext], Awaitable[str]]


class CheckFailed(Exception):
    """Raised by a check with the one-line reason it failed."""


def kept_secret_source(path: Path, existed: bool) -> str:
    """How a secret kept in the data dir came to be: reused from an earlier start, or made now."""
    return f"reused from {path}" if existed else f"generated now, kept in {path} (0600)"


async def check_environment(ctx: SetupContext) -> str:
    try:
        settings = load_settings()
        kept = settings.data_dir / JWT_SECRET_FILE
        secret_source = "JWT_SECRET_KEY" if settings.jwt_secret_key else kept_secret_source(kept, kept.exists())
        settings.jwt_secret()
        settings.check_registration_confirmation()
    except ConfigError as exc:
        raise CheckFailed(str(exc)) from None
    ctx.settings = settings
    where = (f"embedded PostgreSQL under {settings.data_dir}" if settings.embedded
             else f"DATABASE_URL {redact_dsn(settings.database_url.get_secret_value())}"  # type: ignore[union-attr]
             )
    return f"{where}; JWT secret {secret_source}"


async def check_connectivity(ctx: SetupContext) -> str:
    assert ctx.settings is not None
    try:
        ctx.dsn = await asyncio.to_thread(resolve_dsn, ctx.settings)
        con = await connect(ctx.settings, ctx.dsn)
    except DatabaseError as exc:
        raise CheckFailed(str(exc)) from None
    except Exception as exc:  # the embedded server failing to start
        raise CheckFailed(f"embedded PostgreSQL did not start: {type(exc).__name__}: {exc}") from None
    try:
        version = con.get_server_version()
    finally:
        await con.close()
    if version.major < MIN_SERVER_VERSION:
        raise CheckFailed(f"PostgreSQL {version.major} is too old; {MIN_SERVER_VERSION} or newer is required")
    return f"PostgreSQL {version.major}.{version.minor}"


async def check_migrations(ctx: SetupContext) -> str:
    assert ctx.settings is not None and ctx.dsn is not None
    try:
        migrations = load_migrations()
        con = await connect(ctx.settings, ctx.dsn)
        try:
            async with Migrator(con, migrations) as migrator:
                applied = await migrator.up()
        finally:
            await con.close()
    except (DatabaseError, asyncpg.PostgresError) as exc:
        raise CheckFailed(str(exc)) from None
    latest = migrations[-1].version if migrations else 0
    return f"at version {latest:03d} ({len(applied)} applied now)"


async def check_row_level_security(ctx: SetupContext) -> str:
    """Every user-owned table has its policy, and the request handlers' login is bound by them."""
    assert ctx.settings is not None and ctx.dsn is not None
    try:
        owner = await connect(ctx.settings, ctx.dsn)
        try:
            unguarded = [r["relname"] for r in await owner.fetch(SELECT_UNGUARDED_TABLES)]
            guarded = await owner.fetchval(SELECT_GUARDED_TABLE_COUNT)
            role = await owner.fetchrow(SELECT_ROLE_POWERS, SERVICE_ROLE)
        finally:
            await owner.close()
        if unguarded:
            raise CheckFailed(f"tables with user_id but no row-level security policy: {', '.join(unguarded)}")
        if role is None:
            raise CheckFailed(f"role {SERVICE_ROLE} does not exist: an administrator creates it (README, "
                              "Row-level security), then run the migrations again")
        if not powerless(role):
            raise CheckFailed(f"role {SERVICE_ROLE} is a superuser, has BYPASSRLS or owns tables: "
                              "policies cannot bind it")
        app_dsn = await service_dsn(ctx.settings, ctx.dsn)
    except (DatabaseError, asyncpg.PostgresError) as exc:
        raise CheckFailed(str(exc)) from None
    if app_dsn is None:
        return (f"policies on {guarded} tables, NOT enforced: requests would use the owner's connection "
                "(set APP_DATABASE_URL)")
    try:
        service = await asyncpg.connect(app_dsn, timeout=ctx.settings.db_connect_timeout_seconds)
        try:
            login = await service.fetchrow(SELECT_LOGIN_POWERS, SERVICE_ROLE)
        finally:
            await service.close()
    except CONNECTION_ERRORS + (asyncpg.PostgresError,) as exc:
        raise CheckFailed(f"APP_DATABASE_URL: cannot connect as the service role: "
                          f"{describe_connection_error(exc)}") from None
    assert login is not None
    if not login["member"] or not powerless(login):
        raise CheckFailed(f"APP_DATABASE_URL logs in as {login['login']}, which is not a plain member of "
                          f"{SERVICE_ROLE} (a superuser, BYPASSRLS or a table owner bypasses the policies)")
    return f"enforced on {guarded} tables: requests connect as {login['login']}"


async def check_document_key(ctx: SetupContext) -> str:
    """The key of uploaded files: present (or generated in embedded mode), working, and the one every
    stored document was encrypted with (a changed key would make their files unreadable)."""
    assert ctx.settings is not None and ctx.dsn is not None
    kept = ctx.settings.data_dir / DOCUMENT_KEY_FILE
    existed = kept.exists()
    try:
        key = ctx.settings.document_key()
    except ConfigError as exc:
        raise CheckFailed(str(exc)) from None
    probe, owner = b"navigator setup", uuid.uuid4()
    if decrypt(key, encrypt(key, probe, user_id=owner, document_id=owner), user_id=owner, document_id=owner,
               stored_key_id=key_id(key)) != probe:
        raise CheckFailed("DOCUMENT_ENCRYPTION_KEY does not round-trip through AES-GCM")
    con = await connect(ctx.settings, ctx.dsn)
    try:
        counts = await count_documents_by_key(con)
    finally:
        await con.close()
    ours = key_id(key)
    others = {kid: n for kid, n in counts.items() if kid != ours}
    if others:
        raise CheckFailed(f"{sum(others.values())} stored document(s) were encrypted with another "
                          f"DOCUMENT_ENCRYPTION_KEY (key id {', '.join(sorted(others))}; this one is {ours}): "
                          "restore the key they were stored with")
    source = "DOCUMENT_ENCRYPTION_KEY" if ctx.settings.document_encryption_key else \
        kept_secret_source(kept, existed)
    return f"{source}; key id {ours}; {counts.get(ours, 0)} document(s) stored with it"


ServiceCheck = Callable[[Settings, str], Awaitable[str]]


def service_check(run: ServiceCheck) -> CheckFn:
    """A check that runs `run(settings, dsn)` and reports any failure as one line. The checks
    import the services they exercise inside their bodies, so `navigator setup` does not pay
    for FastAPI or langgraph until it gets there."""
    async def check(ctx: SetupContext) -> str:
        assert ctx.settings is not None and ctx.dsn is not None
        try:
            return await run(ctx.settings, ctx.dsn)
        except Exception as exc:
            raise CheckFailed(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    return check


class _RollBack(Exception):
    """Raised to undo a setup check's writes."""


@contextlib.asynccontextmanager
async def rolled_back(settings: Settings, dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction that is always undone: a check writes real rows, reads them, leaves none."""
    con = await connect(settings, dsn)
    try:
        try:
            async with con.transaction():
                yield con
                raise _RollBack
        except _RollBack:
            pass
    finally:
        await con.close()


async def user_service_check(settings: Settings, dsn: str) -> str:
    """argon2id hashing and verification, a token round trip, and a user row written then rolled back."""
    from api.security import create_access_token, decode_access_token, hash_password, verify_password
    from db.users import INSERT_USER

    started = time.perf_counter()
    password = uuid.uuid4().hex
    password_hash = await asyncio.to_thread(hash_password, password)
    ok, _ = await asyncio.to_thread(verify_password, password, password_hash)
    hash_ms = (time.perf_counter() - started) * 1000
    if not ok:
        raise RuntimeError("a fresh password hash does not verify")
    async with rolled_back(settings, dsn) as con:
        row = await con.fetchrow(INSERT_USER, f"setup-{uuid.uuid4().hex}@example.com", password_hash, None, "user")
        token = create_access_token(settings, row["id"], session_id=uuid.uuid4()).token
        claims = decode_access_token(settings, token)
        if claims.user_id != row["id"]:
            raise RuntimeError("access token does not round-trip")
    return f"argon2id hash+verify {hash_ms:.0f} ms, JWT round trip, users writable (rolled back)"


async def conversation_service_check(settings: Settings, dsn: str) -> str:
    """A conversation with messages written, read back as its owner, hidden from others, rolled back."""
    from db.conversations import append_messages, get_owned
    from db.conversations.sql import INSERT_CONVERSATION
    from db.errors import NotFound
    from db.users import INSERT_USER

    async with rolled_back(settings, dsn) as con:
        owner = await con.fetchval(INSERT_USER, f"setup-{uuid.uuid4().hex}@example.com", "x", None, "user")
        conversation = await con.fetchrow(INSERT_CONVERSATION, owner, "setup check", {},
                                          settings.conversation_ttl_hours)
        await append_messages(con, conversation["id"], owner, [{"role": "user", "content": "hello"}])
        await get_owned(con, conversation["id"], owner)
        try:
            await get_owned(con, conversation["id"], uuid.uuid4())
            raise RuntimeError("a conversation is visible to a user who does not own it")
        except NotFound:
            pass
    return f"create, append, owner-only read (TTL {settings.conversation_ttl_hours} h; rolled back)"


async def orchestrator_check(settings: Settings, dsn: str) -> str:
    """One offline question through the real graph, checkpointer and knowledge, then cleanup."""
    from agents.graph import user_input
    from agents.offline import OfflineChatModel
    from agents.outcome import read_outcome
    from api.orchestrator import build_orchestrator

    pool = await create_pool(settings, dsn, min_size=1, max_size=2)
    try:
        graph = await build_orchestrator(pool, settings, model=OfflineChatModel())
        config: Any = {"configurable": {"thread_id": f"setup-check-{uuid.uuid4()}", "user_id": None}}
        started = time.perf_counter()
        try:
            await graph.ainvoke(user_input(SETUP_QUESTION), config, durability="sync")
            outcome = await read_outcome(graph, config)
        finally:
            assert graph.checkpointer is not None
            await graph.checkpointer.adelete_thread(config["configurable"]["thread_id"])  # type: ignore[union-attr]
        elapsed_ms = (time.perf_counter() - started) * 1000
    finally:
        await pool.close()
    if outcome.status != "answered" or outcome.intent != "claim_denial_appeal":
        raise RuntimeError(f"unexpected outcome {outcome.status}/{outcome.intent}")
    return f"offline question answered end to end ({outcome.intent}, {len(outcome.steps)} steps, " \
           f"{elapsed_ms:.0f} ms)"


# Later issues append their service checks here, in dependency order.
CHECKS: list[tuple[str, CheckFn]] = [
    ("environment", check_environment),
    ("connectivity", check_connectivity),
    ("migrations", check_migrations),
    ("row-level security", check_row_level_security),
    ("document key", check_document_key),
    # Each rolls back what it writes; see the named functions.
    ("user service", service_check(user_service_check)),
    ("conversation service", service_check(conversation_service_check)),
    ("orchestrator", service_check(orchestrator_check)),
]


async def run_checks(checks: list[tuple[str, CheckFn]] | None = None) -> list[CheckResult]:
    ctx = SetupContext()
    results: list[CheckResult] = []
    failed: str | None = None
    for name, check in checks or CHECKS:
        if failed is not None:
            results.append(CheckResult(name, False, f"skipped: {failed} failed"))
            continue
        started = time.perf_counter()
        try:
            detail = await check(ctx)
            ok = True
        except CheckFailed as exc:
            detail, ok = str(exc), False
        results.append(CheckResult(name, ok, detail, round(time.perf_counter() - started, 3)))
        if not ok:
            failed = name
    return results


def format_line(result: CheckResult) -> str:
    mark = "✓" if result.ok else "✗"
    return f"{mark} {result.name:<21} {result.detail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="navigator setup", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of lines")
    args = parser.parse_args(argv)
    results = asyncio.run(run_checks())
    ok = all(r.ok for r in results)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [asdict(r) for r in results]}, indent=2))
    else:
        for result in results:
            print(format_line(result))
        print("setup: all checks passed" if ok else "setup: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
