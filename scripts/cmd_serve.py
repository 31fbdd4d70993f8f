"""`navigator serve`: the HTTP API with in-process run workers, and
`navigator users create-admin`: the first administrator.

serve applies pending migrations first (under the migration advisory lock, so
replicas starting together are safe; `--no-migrate` when an operator runs them
separately), then prints where to open the web client (and /docs) once the port is listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import ValidationError

from db.errors import Conflict
from db.migrate import Migrator, load_migrations
from db.pool import connect, create_pool, resolve_dsn
from db.settings import Settings, load_settings
from scripts.cli import CommandError, tune_garbage_collector

if TYPE_CHECKING:
    from api.ops_app import OpsListener
    from api.probes import ProbeTargets

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="start the web client and the HTTP API (docs at /docs) "
                                                "with in-process workers")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    serve.add_argument("--no-workers", action="store_true",
                       help="run no workers in this process (run `navigator worker` elsewhere)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply pending migrations at start")
    serve.set_defaults(func=cmd_serve)

    users = subparsers.add_parser("users", help="manage accounts")
    users_sub = users.add_subparsers(dest="users_action", metavar="ACTION", required=True)
    admin = users_sub.add_parser("create-admin", help="create an administrator (or promote an existing account)")
    admin.add_argument("--email", required=True, help="the administrator's email, their sign-in name")
    admin.add_argument("--full-name", default=None, metavar="NAME", help="a display name (optional)")
    admin.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of stdin instead of prompting "
                            "(with --promote: the account's new password)")
    admin.add_argument("--promote", action="store_true",
                       help="if the account exists, make it an administrator (its password is kept unless "
                            "--password-stdin gives a new one)")
    admin.set_defaults(func=cmd_create_admin)


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port < 65536:
        raise CommandError("--port must be between 0 and 65535")
    settings = load_settings()
    settings.jwt_secret()
    return asyncio.run(serve(settings, args.host, args.port, workers=not args.no_workers,
                             migrate=not args.no_migrate))


async def apply_migrations(settings: Settings, dsn: str) -> int:
    con = await connect(settings, dsn)
    try:
        async with Migrator(con, load_migrations()) as migrator:
            return len(await migrator.up())
    finally:
        await con.close()


async def serve(settings: Settings, host: str, port: int, *, workers: bool, migrate: bool) -> int:
    import uvicorn
    from sse_starlette.sse import AppStatus

    from api.app import create_app, start_in_process_workers
    from api.logging import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    dsn = await asyncio.to_thread(resolve_dsn, settings)
    if migrate:
        applied = await apply_migrations(settings, dsn)
        if applied:
            print(f"applied {applied} pending migration(s)", file=sys.stderr, flush=True)
    app = create_app(settings, dsn=dsn, workers=start_in_process_workers if workers else None)
    ops = await start_ops_listener(settings, app.state.probe_targets)
    # uvicorn's access log would print query strings; ours (api.access) logs the path only.
    # proxy_headers off: TRUSTED_PROXIES alone decides when X-Forwarded-For is believed
    # (uvicorn would otherwise believe it from 127.0.0.1).
    config = uvicorn.Config(app, host=host, port=port, access_log=False, log_config=None, proxy_headers=False,
                            log_level=settings.log_level.lower(), timeout_graceful_shutdown=30)
    listening = asyncio.Event()

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
            await super().startup(sockets)
            listening.set()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises SIGTERM after its shutdown, killing the process before atexit
            # handlers run (the embedded PostgreSQL's stop among them); we stop it ourselves.
            yield

    server = AnnouncingServer(config)

    def request_exit() -> None:
        server.should_exit = True
        # End open event streams now rather than after the graceful timeout: their runs go back
        # to the queue, and their clients rejoin (Last-Event-ID) on whichever server is up next.
        AppStatus.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_exit)
    task = asyncio.create_task(server.serve())
    await asyncio.wait([task, asyncio.create_task(listening.wait())], return_when=asyncio.FIRST_COMPLETED)
    if server.started:
        tune_garbage_collector()
        bound = server.servers[0].sockets[0].getsockname()[1]
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        base = f"http://{shown}:{bound}"
        mode = "with in-process workers" if workers else "without workers"
        print(f"Insurance Navigator listening on {base} ({mode}); open {base}/ in a browser "
              f"(API docs at {base}/docs)", flush=True)
    try:
        await task
    finally:
        if ops is not None:
            await ops.stop()
    return 0 if server.started else 1


async def start_ops_listener(settings: Settings, targets: ProbeTargets) -> OpsListener | None:
    """METRICS_PORT: /metrics, /livez and /readyz on METRICS_HOST, without a token."""
    from api.ops_app import OpsListener

    if settings.metrics_port is None:
        return None
    listener = OpsListener(targets, settings.metrics_host, settings.metrics_port)
    address = await listener.start()
    print(f"metrics and probes on {address} (/metrics, /livez, /readyz)", file=sys.stderr, flush=True)
    return listener


NO_TERMINAL = "no terminal to ask for the password: pipe it with --password-stdin (echo ... | navigator users ...)"


def read_password(from_stdin: bool) -> str:
    """The first line of stdin, or typed twice at the terminal; a one-line error when neither can be."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError("--password-stdin read an empty line; pipe the password on the first line")
        return password
    if not sys.stdin.isatty():
        raise CommandError(NO_TERMINAL)
    try:
        first = getpass.getpass("password for the administrator: ")
        again = getpass.getpass("again: ")
    except EOFError:
        raise CommandError(NO_TERMINAL) from None
    if again != first:
        raise CommandError("the passwords differ")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    """With --promote, a password is read only when --password-stdin gives one: an existing account
    keeps its own otherwise (so promoting needs no terminal)."""
    from api.schemas import RegisterRequest

    password = read_password(args.password_stdin) if args.password_stdin or not args.promote else None
    try:
        request = RegisterRequest(email=args.email, password=password or "placeholder password",
                                  full_name=args.full_name)
    except ValidationError as exc:
        fields = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CommandError(f"invalid account: {fields}") from None
    return asyncio.run(create_admin(load_settings(), request.email, request.password if password else None,
                                    request.full_name, promote=args.promote))


async def create_admin(settings: Settings, email: str, password: str | None, full_name: str | None, *,
                       promote: bool) -> int:
    """Create the administrator; with `promote`, make an existing account one (and give it `password`
    when one was read)."""
    from api.security import hash_password
    from db.audit import AuditLog
    from db.users import UserService

    pool = await create_pool(settings, min_size=1, max_size=2)
    try:
        users = UserService(pool)
        existing = await users.credentials(email)
        if existing is None:
            if password is None:
                raise CommandError(f"no account with email {email} to promote; to create it, give its password "
                                   "with --password-stdin (or run without --promote at a terminal)")
            user = await users.create(email, await asyncio.to_thread(hash_password, password), full_name, "admin")
            await AuditLog(pool).record("admin.created", user_id=user.id, details={"via": "cli"})
            print(f"created administrator {user.email} ({user.id})")
            return 0
        if not promote:
            raise CommandError(f"an account with email {email} exists; add --promote to make it an administrator")
        if password is not None:
            new_hash = await asyncio.to_thread(hash_password, password)
            await users.replace_password_hash(existing.user.id, existing.password_hash, new_hash)
        user = await users.promote_to_admin(email)
        await AuditLog(pool).record("admin.promoted", user_id=user.id, details={"via": "cli"})
        print(f"promoted {user.email} ({user.id}) to administrator"
              + ("; its password is the one read from stdin" if password is not None else ""))
    except Conflict:  # created by someone else between the look-up and the insert
        raise CommandError(f"an account with email {email} was created meanwhile; run again with --promote") from None
    finally:
        await pool.close()
    return 0
