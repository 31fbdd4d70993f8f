"""The migration runner against a real server: round trips, refusals, failures, races."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from db.errors import MigrationError
from db.migrate import Migrator, default_migrations_dir, load_migrations, migrate_up

SCHEMA_SNAPSHOT = """
SELECT 'column' AS kind, table_name || '.' || column_name AS name,
       concat_ws(' ', data_type, is_nullable, column_default) AS definition
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'index', tablename || '.' || indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'function', proname, pg_get_function_identity_arguments(oid)
  FROM pg_proc WHERE pronamespace = 'public'::regnamespace
ORDER BY 1, 2, 3
"""
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
VERSIONS = "SELECT version FROM schema_migrations ORDER BY version"


async def snapshot(con: asyncpg.Connection) -> list[tuple[str, str, str]]:
    return [tuple(row) for row in await con.fetch(SCHEMA_SNAPSHOT)]


def copy_migrations(target: Path) -> Path:
    target.mkdir()
    for path in default_migrations_dir().glob("*.sql"):
        shutil.copy(path, target / path.name)
    return target


def write_pair(directory: Path, version: int, name: str, up: str, down: str = "SELECT 1;") -> None:
    (directory / f"{version:03d}_{name}.up.sql").write_text(up)
    (directory / f"{version:03d}_{name}.down.sql").write_text(down)


@pytest.fixture
async def con(fresh_dsn: str):
    con = await asyncpg.connect(fresh_dsn)
    yield con
    await con.close()


async def test_up_down_up_gives_identical_schema(con: asyncpg.Connection) -> None:
    migrations = load_migrations()
    assert migrations, "the project ships migrations"
    async with Migrator(con, migrations) as migrator:
        applied = await migrator.up()
        assert [m.version for m in applied] == list(range(1, len(migrations) + 1))
        first = await snapshot(con)
        assert any(kind == "column" and name == "users.email" for kind, name, _ in first)

        rolled = await migrator.down(len(migrations))
        assert [m.version for m in rolled] == list(range(len(migrations), 0, -1))
        assert await con.fetch(TABLES) == [("schema_migrations",)]
        assert await con.fetch(VERSIONS) == []

        await migrator.up()
        assert await snapshot(con) == first
        assert [r["version"] for r in await con.fetch(VERSIONS)] == [m.version for m in migrations]


async def test_each_step_down_and_up_round_trips(con: asyncpg.Connection) -> None:
    """Every single down file undoes exactly its up file."""
    migrations = load_migrations()
    async with Migrator(con, migrations) as migrator:
        before = await snapshot(con)
        for migration in migrations:
            await migrator.up(migration.version)
            after_up = await snapshot(con)
            await migrator.down(1)
            assert await snapshot(con) == before, f"{migration.name}.down.sql left something behind"
            await migrator.up(migration.version)
            assert await snapshot(con) == after_up
            before = after_up


async def test_up_to_and_status(con: asyncpg.Connection, tmp_path: Path) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    write_pair(directory, 1, "a", "CREATE TABLE a (id int);", "DROP TABLE a;")
    write_pair(directory, 2, "b", "CREATE TABLE b (id int);", "DROP TABLE b;")
    async with Migrator(con, load_migrations(directory)) as migrator:
        assert [m.version for m in await migrator.up(to=1)] == [1]
        status = await migrator.status()
        assert [(s.version, s.applied) for s in status] == [(1, True), (2, False)]
        assert await migrator.up() and await migrator.up() == []
        with pytest.raises(MigrationError, match="no such migration"):
            await migrator.up(to=7)


async def test_edited_applied_migration_is_refused(con: asyncpg.Connection, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path / "m")
    await migrate_up(con, directory=directory)
    before = await snapshot(con)
    first_up = sorted(directory.glob("001_*.up.sql"))[0]
    first_up.write_text(first_up.read_text() + "\n-- a harmless looking edit\n")
    write_pair(directory, len(load_migrations(directory)) + 1, "later", "CREATE TABLE later (id int);")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate_up(con, directory=directory)
    assert await snapshot(con) == before
    assert await con.fetchval("SELECT to_regclass('later')") is None


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"001_a.up.sql": "", "001_a.down.sql": "", "001_b.up.sql": "", "001_b.down.sql": ""}, "more than once"),
        ({"001_a.up.sql": "", "001_a.down.sql": "", "003_c.up.sql": "", "003_c.down.sql": ""}, "002 is missing"),
        ({"001_a.up.sql": "", "001_a.down.sql": "", "002_b.up.sql": ""}, "002_b.down.sql is missing"),
        ({"1_a.up.sql": "", "1_a.down.sql": ""}, "not named NNN_name"),
    ],
)
async def test_bad_file_sets_are_refused_before_anything_runs(
    con: asyncpg.Connection, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    await migrate_up(con)
    before = await snapshot(con)
    versions = await con.fetch(VERSIONS)
    directory = tmp_path / "bad"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text or "CREATE TABLE should_not_exist (id int);")
    with pytest.raises(MigrationError, match=message):
        await migrate_up(con, directory=directory)
    assert await snapshot(con) == before
    assert await con.fetch(VERSIONS) == versions


async def test_failing_migration_leaves_no_partial_change(con: asyncpg.Connection, tmp_path: Path) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    write_pair(directory, 1, "good", "CREATE TABLE good (id int);", "DROP TABLE good;")
    write_pair(directory, 2, "bad", "CREATE TABLE half (id int);\nINSERT INTO good VALUES (1);\nSELECT 1/0;",
               "DROP TABLE half;")
    with pytest.raises(MigrationError, match="002_bad failed.*nothing of it was applied"):
        await migrate_up(con, directory=directory)
    assert [r["version"] for r in await con.fetch(VERSIONS)] == [1]
    assert await con.fetchval("SELECT to_regclass('half')") is None
    assert await con.fetchval("SELECT count(*) FROM good") == 0
    # The fixed file then applies normally.
    write_pair(directory, 2, "bad", "CREATE TABLE half (id int);", "DROP TABLE half;")
    assert [m.version for m in await migrate_up(con, directory=directory)] == [2]


async def test_unknown_applied_version_is_refused(con: asyncpg.Connection, tmp_path: Path) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    write_pair(directory, 1, "a", "CREATE TABLE a (id int);")
    write_pair(directory, 2, "b", "CREATE TABLE b (id int);")
    await migrate_up(con, directory=directory)
    (directory / "002_b.up.sql").unlink()
    (directory / "002_b.down.sql").unlink()
    with pytest.raises(MigrationError, match="not on disk"):
        await migrate_up(con, directory=directory)


async def test_no_transaction_migration(con: asyncpg.Connection, tmp_path: Path) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    write_pair(directory, 1, "t", "CREATE TABLE t (id int);", "DROP TABLE t;")
    write_pair(directory, 2, "idx", "-- no-transaction\nCREATE INDEX CONCURRENTLY t_id ON t (id);",
               "-- no-transaction\nDROP INDEX CONCURRENTLY t_id;")
    await migrate_up(con, directory=directory)
    assert await con.fetchval("SELECT to_regclass('t_id')") is not None
    async with Migrator(con, load_migrations(directory)) as migrator:
        await migrator.down(1)
    assert await con.fetchval("SELECT to_regclass('t_id')") is None
