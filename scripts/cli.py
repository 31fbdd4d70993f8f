"""The `navigator` command. Each subcommand lives in its own function; errors
that a person can fix end as one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from db import __version__
from db.embedded import OPENED_LOGGER
from db.errors import DatabaseError
from db.migrate import Migrator, load_migrations
from db.pool import connect
from db.settings import ConfigError, load_settings

EXIT_ERROR = 1
EXIT_USAGE = 2


def tune_garbage_collector() -> None:
    """For the long-running commands, once started: the objects loaded at start (modules, the
    compiled graph) are frozen out of the collector's scans, and young collections run every
    10,000 allocations instead of 700. With hundreds of runs in flight, the default settings
    spent about a quarter of the worker's CPU in the collector (docs/performance.md)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(10_000, middle, oldest)


class CommandError(Exception):
    """A one-line failure message for the person at the terminal."""


def _run(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


async def _migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrations = load_migrations()
    con = await connect(settings)
    try:
        async with Migrator(con, migrations) as migrator:
            if args.action in (None, "status"):
                for item in await migrator.status():
                    state = f"applied {item.applied_at:%Y-%m-%d %H:%M:%S%z}" if item.applied_at else "pending"
                    print(f"{item.version:03d} {item.name:<32} {state}")
            elif args.action == "up":
                applied = await migrator.up(args.to)
                for m in applied:
                    print(f"applied {m.version:03d} {m.name}")
                current = max((s.version for s in await migrator.status() if s.applied), default=0)
                print(f"at version {current:03d}" + ("" if applied else " (nothing to apply)"))
            else:
                rolled = await migrator.down(args.steps)
                for m in rolled:
                    print(f"rolled back {m.version:03d} {m.name}")
                current = max((s.version for s in await migrator.status() if s.applied), default=0)
                print(f"at version {current:03d}")
    finally:
        await con.close()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    return _run(_migrate(args))


def cmd_setup(args: argparse.Namespace) -> int:
    from scripts import setup

    return setup.main(["--json"] if args.json else [])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="navigator", description="Insurance Navigator service",
                                     epilog="Configuration comes from the environment and .env (see .env.example).")
    parser.add_argument("--version", action="version", version=f"navigator {__version__}",
                        help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = sub.add_parser("migrate", help="apply, roll back or list the SQL migrations")
    migrate_sub = migrate.add_subparsers(dest="action", metavar="ACTION")
    up = migrate_sub.add_parser("up", help="apply pending migrations")
    up.add_argument("--to", type=int, default=None, metavar="N",
                    help="stop once version N is applied (default: apply all)")
    down = migrate_sub.add_parser("down", help="roll back the last N migrations")
    down.add_argument("steps", type=int, metavar="N", help="how many applied migrations to roll back, newest first")
    migrate_sub.add_parser("status", help="one line per migration: applied or pending (the default action)")
    migrate.set_defaults(func=cmd_migrate)

    setup = sub.add_parser("setup", help="validate environment, database, migrations and services")
    setup.add_argument("--json", action="store_true", help="machine-readable output")
    setup.set_defaults(func=cmd_setup)

    # Modules that add subcommands: each has `register(subparsers)` and sets `func` on its
    # parsers (a function taking the parsed args and returning an exit code). Imported here,
    # not at the top, because they import this module for CommandError.
    from scripts import cmd_ask, cmd_cleanup, cmd_data, cmd_db, cmd_serve, cmd_worker

    for module in (cmd_worker, cmd_ask, cmd_serve, cmd_db, cmd_cleanup, cmd_data):
        module.register(sub)
    return parser


def announce_opened_databases() -> None:
    """Every command that opens the embedded database says which one on stderr (db.embedded logs
    it once per process), so a second, empty database opened by mistake cannot go unnoticed."""
    opened = logging.getLogger(OPENED_LOGGER)
    if not any(getattr(handler, "_navigator_cli", False) for handler in opened.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("navigator: %(message)s"))
        handler._navigator_cli = True  # type: ignore[attr-defined]
        opened.addHandler(handler)
    opened.setLevel(logging.INFO)
    opened.propagate = False  # `serve` logs it once, here, not again through its own log handler


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    announce_opened_databases()
    try:
        code: int = args.func(args)
    except (ConfigError, DatabaseError, CommandError) as exc:
        print(f"navigator: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
