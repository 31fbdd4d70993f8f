"""`navigator db status|stop`: the embedded PostgreSQL, seen and stopped without starting it."""

from __future__ import annotations

import argparse

from db.embedded import EmbeddedInUse, embedded_status, server_bin_dir, stop_embedded
from db.settings import Settings, load_settings
from scripts.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="the embedded PostgreSQL: where it is, who uses it; stop it")
    db_sub = db.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    db_sub.add_parser("status", help="data directory, server pid and socket, size, the processes using it")
    stop = db_sub.add_parser("stop", help="stop the embedded server (refused while a live process uses it)")
    stop.add_argument("--force", action="store_true",
                      help="stop it even while processes use it (they then answer 503 until it is back)")
    db.set_defaults(func=cmd_db)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


def print_status(settings: Settings) -> None:
    status = embedded_status(settings.data_dir)
    print(f"data directory  {status.data_dir}")
    if not status.initialized:
        print("server          not created yet (the first command that needs the database creates it)")
        return
    if status.running:
        where = f"socket {status.socket_dir}/.s.PGSQL.{status.port}" if status.socket_dir else f"port {status.port}"
        print(f"server          running, pid {status.pid}, {where}")
        host = f"-h {status.socket_dir}" if status.socket_dir else f"-h 127.0.0.1 -p {status.port}"
        print(f"backup          {server_bin_dir() / 'pg_dump'} {host} -U postgres -Fc -f navigator.dump postgres")
    else:
        print("server          stopped")
    print(f"size            {_size(status.size_bytes)}")
    if not status.users:
        print("used by         no process" + (" (`navigator db stop` stops it)" if status.running else ""))
    for n, user in enumerate(status.users):
        label = "used by" if n == 0 else ""
        state = (user.command or "?") if user.alive else "gone without saying so (forgotten at the next start)"
        print(f"{label:<15} pid {user.pid}: {state}")


def cmd_db(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.embedded:
        if args.db_action == "stop":
            raise CommandError("DATABASE_URL is set: the service uses that server; stop it with its own tools")
        print("DATABASE_URL is set: the service uses that server, not the embedded one")
        return 0
    if args.db_action == "status":
        print_status(settings)
        return 0
    try:
        stopped = stop_embedded(settings.data_dir, force=args.force)
    except EmbeddedInUse as exc:
        raise CommandError(str(exc)) from None
    print(f"stopped the embedded PostgreSQL under {settings.data_dir}" if stopped
          else f"the embedded PostgreSQL under {settings.data_dir} is not running")
    return 0
