"""A real `navigator serve` subprocess on a chosen port, restartable on the same port (so a
client keeps its base URL across a restart)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.utils.db import ROOT, cli_env, navigator_cmd

URL_LINE = re.compile(r"listening on (http://[0-9.]+:[0-9]+) ")
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServeProcess:
    def __init__(self, dsn: str, log_dir: Path, port: int | None = None, **env: str) -> None:
        self.dsn = dsn
        self.port = port or free_port()
        self.env = cli_env(dsn, **env)
        self.log_dir = log_dir
        self.starts = 0
        self.process: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"serve-{self.starts}.log").open("w")
        self.process = subprocess.Popen([*navigator_cmd(), "serve", "--port", str(self.port)], cwd=ROOT, text=True,
                                        stdout=subprocess.PIPE, stderr=log, env=self.env)
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if URL_LINE.search(line):
                return
        self.kill()
        raise AssertionError(f"navigator serve did not start: {self.log()}")

    def log(self) -> str:
        return "".join(path.read_text() for path in sorted(self.log_dir.glob("serve-*.log")))

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait: the workers hand their runs back to the queue at a step boundary."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
