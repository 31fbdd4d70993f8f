"""One real PostgreSQL per test session: the embedded server (or TEST_DATABASE_URL when given).

Tests get fresh databases on it (`fresh_dsn`, or `migrated_dsn` per module)
rather than sharing one, so they can run migrations, kill workers and truncate
without seeing each other.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from db.embedded import start_embedded
from db.pool import create_pool
from db.scratch import create_database, drop_database
from db.settings import Settings
from tests.utils.db import TEST_DOCUMENT_KEY, TEST_SECRET, create_migrated_database, service_role_dsn
from tests.utils.factories import NewConversation, NewUser, insert_conversation, insert_user

# Crash tests kill processes, not the OS: durability of fsync is not what they test.
FAST_TEST_CONF = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        return given
    # Not under pytest's temp folder: every pytest session that starts on the machine makes
    # /tmp/pytest-of-<user> private again, which locks the server's own user (pgserver) out of its
    # data directory and stops the server mid-suite. Removed at exit, after the server stops
    # (exit handlers run last-registered first, and the server registers its own after this one).
    data_dir = Path(tempfile.mkdtemp(prefix="navigator-tests-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    return start_embedded(data_dir, extra_conf=FAST_TEST_CONF)


@pytest.fixture
async def fresh_dsn(admin_dsn: str) -> AsyncIterator[str]:
    """An empty database of its own for one test."""
    dsn = await create_database(admin_dsn)
    yield dsn
    await drop_database(admin_dsn, dsn)


@pytest.fixture(scope="module")
async def migrated_dsn(admin_dsn: str) -> AsyncIterator[str]:
    """A database with every migration applied, shared by one test module."""
    dsn = await create_migrated_database(admin_dsn)
    yield dsn
    await drop_database(admin_dsn, dsn)


def make_settings(dsn: str, **overrides: object) -> Settings:
    """Settings for an app on `dsn` whose request handlers connect as the restricted service role."""
    # Every in-process client is 127.0.0.1 and a module registers dozens of accounts: the
    # per-address registration limit is tested where it is the subject (tests/api/test_account_probing.py).
    values: dict[str, object] = {"database_url": dsn, "app_database_url": service_role_dsn(dsn),
                                 "jwt_secret_key": TEST_SECRET, "document_encryption_key": TEST_DOCUMENT_KEY,
                                 "register_address_attempts": 100_000}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def settings(migrated_dsn: str) -> Settings:
    return make_settings(migrated_dsn)


@pytest.fixture(scope="module")
async def pool(settings: Settings, migrated_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings, migrated_dsn, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
def new_user(pool: asyncpg.Pool) -> NewUser:
    return lambda: insert_user(pool)


@pytest.fixture
def new_conversation(pool: asyncpg.Pool) -> NewConversation:
    return lambda user_id: insert_conversation(pool, user_id)
