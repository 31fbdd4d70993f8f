"""A `navigator serve --port 0` process for the development scripts (benchmarks, screenshots).

On a throwaway embedded PostgreSQL in a temporary data directory, unless the environment
given names DATABASE_URL (then it writes there). Stopped with SIGTERM when the block ends.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"listening on (http://\S+) ")
STOP_TIMEOUT_SECONDS = 60


def navigator_command() -> list[str]:
    """The installed console script beside this Python, else the module."""
    script = Path(sys.executable).parent / "navigator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "scripts.cli"]


@contextlib.contextmanager
def navigator_serve(env: dict[str, str], prefix: str = "navigator-dev-") -> Iterator[str]:
    """The base URL (http://127.0.0.1:PORT) of a server started with `env`, until the block ends.
    SystemExit with a one-line message when it stops before it listens."""
    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
        env = dict(env)
        if "DATABASE_URL" not in env:
            env["NAVIGATOR_DATA_DIR"] = data_dir
        server = subprocess.Popen([*navigator_command(), "serve", "--port", "0"], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            assert server.stdout is not None
            base = next((match.group(1) for line in server.stdout if (match := LISTENING.search(line))), None)
            if base is None:
                raise SystemExit("navigator serve stopped before it listened")
            yield base
        finally:
            server.terminate()
            server.wait(timeout=STOP_TIMEOUT_SECONDS)
