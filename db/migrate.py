"""Numbered SQL migrations: `NNN_name.up.sql` + `NNN_name.down.sql`.

One transaction per file together with its `schema_migrations` row, an
advisory lock held on a dedicated connection for the whole run (so replicas
starting together apply each file once), and a refusal to touch anything when
the files on disk and the recorded history disagree.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import asyncpg

from db.errors import MigrationError

CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_APPLIED = "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"
DELETE_APPLIED = "DELETE FROM schema_migrations WHERE version = $1"
SELECT_TABLE_EXISTS = "SELECT to_regclass('schema_migrations') IS NOT NULL"
LOCK = "SELECT pg_advisory_lock($1)"
UNLOCK = "SELECT pg_advisory_unlock($1)"

FILE_PATTERN = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.(up|down)\.sql$")
NO_TRANSACTION = "-- no-transaction"
LOCK_NAME = "insurance-navigator:schema_migrations"


def advisory_lock_id(name: str) -> int:
    """A stable signed 64-bit lock id derived from a name (golang-migrate style), not a magic number."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


MIGRATION_LOCK_ID = advisory_lock_id(LOCK_NAME)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up_sql: str
    down_sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up_sql.encode()).hexdigest()

    @property
    def transactional(self) -> bool:
        return not self.up_sql.lstrip().startswith(NO_TRANSACTION)


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    applied_at: datetime | None

    @property
    def applied(self) -> bool:
        return self.applied_at is not None


def default_migrations_dir() -> Path:
    return Path(str(resources.files("migrations")))


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """Read and check the files: pairs complete, numbers unique and without gaps from 1."""
    directory = directory or default_migrations_dir()
    found: dict[int, dict[str, tuple[str, Path]]] = {}
    for path in sorted(directory.iterdir()):
        if not path.name.endswith(".sql"):
            continue
        match = FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: not named NNN_name.up.sql / NNN_name.down.sql")
        version, name, direction = int(match[1]), match[2], match[3]
        sides = found.setdefault(version, {})
        if direction in sides or any(other_name != name for other_name, _ in sides.values()):
            names = sorted({n for n, _ in sides.values()} | {name})
            raise MigrationError(f"migration number {version:03d} is used more than once: {', '.join(names)}")
        sides[direction] = (name, path)
    migrations = []
    for expected, version in enumerate(sorted(found), start=1):
        if version != expected:
            raise MigrationError(f"migration {expected:03d} is missing (found {version:03d} after "
                                 f"{expected - 1:03d}); numbers must have no gaps")
        sides = found[version]
        for direction in ("up", "down"):
            if direction not in sides:
                name = next(iter(sides.values()))[0]
                raise MigrationError(f"{version:03d}_{name}.{direction}.sql is missing")
        name = sides["up"][0]
        migrations.append(Migration(version, name, sides["up"][1].read_text(), sides["down"][1].read_text()))
    return migrations


class Migrator:
    """Applies and rolls back migrations over one dedicated connection."""

    def __init__(self, con: asyncpg.Connection, migrations: list[Migration]) -> None:
        self.con = con
        self.migrations = migrations

    async def __aenter__(self) -> Migrator:
        await self.con.execute(LOCK, MIGRATION_LOCK_ID)
        try:
            await self.con.execute(CREATE_SCHEMA_MIGRATIONS)
        except BaseException:
            await self.con.execute(UNLOCK, MIGRATION_LOCK_ID)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if not self.con.is_closed():
            await self.con.execute(UNLOCK, MIGRATION_LOCK_ID)

    async def _applied(self) -> list[asyncpg.Record]:
        rows = await self.con.fetch(SELECT_APPLIED)
        known = {m.version: m for m in self.migrations}
        for row in rows:
            migration = known.get(row["version"])
            if migration is None:
                raise MigrationError(f"the database has migration {row['version']:03d}_{row['name']} "
                                     "which is not on disk (newer code applied it?); refusing to continue")
            if row["checksum"] != migration.checksum:
                raise MigrationError(f"{migration.version:03d}_{migration.name}.up.sql was edited after it "
                                     "was applied (checksum differs); add a new migration instead")
        versions = [row["version"] for row in rows]
        if versions != list(range(1, len(versions) + 1)):
            raise MigrationError(f"applied migrations are not contiguous: {versions}")
        return rows

    async def status(self) -> list[MigrationStatus]:
        applied = {row["version"]: row["applied_at"] for row in await self._applied()}
        return [MigrationStatus(m.version, m.name, applied.get(m.version)) for m in self.migrations]

    async def up(self, to: int | None = None) -> list[Migration]:
        """Apply pending migrations up to `to` (all when None); return those applied now."""
        current = len(await self._applied())
        target = len(self.migrations) if to is None else to
        if not 0 <= target <= len(self.migrations):
            raise MigrationError(f"--to {target}: no such migration (latest is {len(self.migrations):03d})")
        done = []
        for migration in self.migrations[current:target]:
            await self._run(migration, migration.up_sql, migration.transactional, INSERT_APPLIED,
                            (migration.version, migration.name, migration.checksum))
            done.append(migration)
        return done

    async def down(self, steps: int) -> list[Migration]:
        """Roll back the last `steps` applied migrations, newest first."""
        if steps < 0:
            raise MigrationError("down takes a number of steps >= 0")
        current = len(await self._applied())
        done = []
        for migration in reversed(self.migrations[max(0, current - steps):current]):
            transactional = not migration.down_sql.lstrip().startswith(NO_TRANSACTION)
            await self._run(migration, migration.down_sql, transactional, DELETE_APPLIED, (migration.version,))
            done.append(migration)
        return done

    async def _run(self, migration: Migration, sql: str, transactional: bool,
                   record_sql: str, record_args: tuple[object, ...]) -> None:
        try:
            if transactional:
                async with self.con.transaction():
                    await self.con.execute(sql)
                    await self.con.execute(record_sql, *record_args)
            else:
                await self.con.execute(sql)
                await self.con.execute(record_sql, *record_args)
        except asyncpg.PostgresError as exc:
            raise MigrationError(f"{migration.version:03d}_{migration.name} failed: "
                                 f"{type(exc).__name__}: {exc}; nothing of it was applied"
                                 if transactional else
                                 f"{migration.version:03d}_{migration.name} failed: {exc}") from None


SELECT_APPLIED_CHECKSUMS = "SELECT version, checksum FROM schema_migrations"


async def schema_lag(con: asyncpg.Connection | asyncpg.Pool, migrations: list[Migration]) -> str | None:
    """None when the database has exactly these migrations applied, else why not (for /readyz).
    Reads without the migration lock, so a probe never waits behind a migration in progress."""
    if not await con.fetchval(SELECT_TABLE_EXISTS):
        return "no migration applied (run navigator migrate up)"
    applied = {row["version"]: row["checksum"] for row in await con.fetch(SELECT_APPLIED_CHECKSUMS)}
    known = {m.version: m.checksum for m in migrations}
    newer = sorted(set(applied) - set(known))
    if newer:
        return f"the database has migration {newer[-1]:03d}, newer than this code"
    pending = sorted(set(known) - set(applied))
    if pending:
        return f"{len(pending)} pending migration(s), first {pending[0]:03d} (run navigator migrate up)"
    if any(applied[v] != checksum for v, checksum in known.items()):
        return "an applied migration differs from its file (checksum)"
    return None


async def migrate_up(con: asyncpg.Connection, to: int | None = None,
                     directory: Path | None = None) -> list[Migration]:
    """Convenience for callers that only need 'bring the schema up to date'."""
    async with Migrator(con, load_migrations(directory)) as migrator:
        return await migrator.up(to)
