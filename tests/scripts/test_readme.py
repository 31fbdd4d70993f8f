"""The README's Quick start and Commands sections, run as written, on a scratch data directory.

Every line of their ```sh blocks is run with bash from the checkout, as a newcomer would,
with three adaptations only: `.venv/` is the virtual environment running these tests (the
same one when NAVIGATOR_VENV is unset), NAVIGATOR_DATA_DIR is a scratch folder, and the
servers take `--port 0` (8000 may be taken on a shared machine). Commands that serve until
stopped (`dev.py start`, `navigator serve`, `navigator worker`) must become ready, then stop
cleanly on Ctrl-C (SIGINT). `dev.py test` is run with `--collect-only` on this file, since
running the whole suite from inside it would never end. While `dev.py start` serves, the
HTTP API section's shell example runs against it too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from db.embedded import embedded_status
from tests.utils.db import ROOT

README = (ROOT / "README.md").read_text()
VENV = Path(sys.prefix)
LISTENING = re.compile(r"listening on (http://[0-9.]+:[0-9]+)")
COMMAND_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 90


def section(title: str) -> str:
    """The text under `## title`, up to the next `## ` heading."""
    match = re.search(rf"(?ms)^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README)
    assert match, f"the README has no '## {title}' section"
    return match.group(1)


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"(?ms)^```sh\n(.*?)^```", text)


def shell_commands(text: str) -> list[str]:
    """The commands of a section's ```sh blocks: continuation lines joined, comment lines left out."""
    commands: list[str] = []
    for block in sh_blocks(text):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                commands.append(line.strip())
    return commands


def without_comment(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command)


def here(command: str) -> str:
    """`.venv/` as the virtual environment of this test run."""
    return re.sub(r"(?<![\w/.])\.venv/", f"{VENV}/", command)


def readme_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A newcomer's environment: none of the service's settings, a scratch data directory."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "JWT_", "NAVIGATOR_", "LLM_", "OPENAI_", "DOCUMENT_",
                                "EMBEDDING_", "METRICS_", "PROMETHEUS_"))}
    return {**env, "NAVIGATOR_DATA_DIR": str(data_dir), "NAVIGATOR_VENV": str(VENV), **extra}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("readme") / "data"
    yield path
    assert not embedded_status(path).running, "a README command left the embedded PostgreSQL running"


def run_to_end(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, text=True, capture_output=True,
                            timeout=COMMAND_TIMEOUT_SECONDS)
    assert result.returncode == 0, f"{command!r} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


class Serving:
    """A command that serves until stopped, its output collected by threads as it comes."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        self.command = command
        self.proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out: list[str] = []
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._collect, args=(stream,), daemon=True).start()

    def _collect(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.out.append(line)

    def text(self) -> str:
        return "".join(self.out)

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float = COMMAND_TIMEOUT_SECONDS) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text())
            if match:
                return match
            assert self.proc.poll() is None, f"{self.command!r} exited {self.proc.returncode}:\n{self.text()}"
            time.sleep(0.1)
        self.proc.kill()
        raise AssertionError(f"{self.command!r} did not get ready:\n{self.text()}")

    def interrupt(self) -> int:
        """Ctrl-C, then wait for it to end on its own (never a SIGKILL)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"{self.command!r} did not stop on SIGINT:\n{self.text()}") from None


def test_every_command_of_the_cli_is_in_the_commands_section() -> None:
    from scripts.cli import build_parser

    text = section("Commands")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[union-attr]
    missing = []
    for name, sub in commands.items():
        actions = [a for a in sub._actions if a.choices and a.dest.endswith("action")]
        forms = [f"navigator {name} {action}" for a in actions for action in a.choices] or [f"navigator {name}"]
        missing += [form for form in forms if form not in text]
    assert not missing, f"the README's Commands section does not show: {missing}"
    assert "navigator --version" in text


def test_quick_start_as_written(data_dir: Path) -> None:
    """`dev.py start`: ready, answers the HTTP API section's example, and on Ctrl-C during a slow
    request finishes it, exits 0 and leaves no PostgreSQL running. `dev.py test` runs its gates."""
    commands = [without_comment(c) for c in shell_commands(section("Quick start"))]
    assert commands == ["python3 scripts/dev.py start", "python3 scripts/dev.py test"], commands
    env = readme_env(data_dir, OFFLINE_MODEL_LATENCY_MS="400")
    server = Serving(commands[0] + " --port 0", env)
    base = server.wait_for(LISTENING).group(1)
    try:
        example = "\n".join(sh_blocks(section("HTTP API"))).replace("localhost:8000", base.removeprefix("http://"))
        shown = run_to_end("set -euo pipefail\n" + example, env).stdout
        assert '"status":"interrupted"' in shown and "event: done" in shown, shown
        slow = slow_chat(base)
        time.sleep(0.5)  # the run is in flight (three model calls of 400 ms)
    finally:
        code = server.interrupt()
    assert code == 0, server.text()
    status, body = slow.result()
    assert status == 200 and body["status"] == "success" and body["reply"], body
    assert "passing SIGINT on" in server.text()
    assert not embedded_status(data_dir).running

    collected = run_to_end(here(commands[1]) + " --collect-only -q tests/scripts/test_readme.py", env)
    assert "ruff check" in collected.stdout + collected.stderr and "test_quick_start_as_written" in collected.stdout


class SlowChat(threading.Thread):
    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.answer: tuple[int, dict[str, object]] | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as http:
            account = {"email": "slow@example.com", "password": "a long passphrase"}
            assert http.post("/auth/register", json=account).status_code == 202
            token = http.post("/auth/login", json=account).json()["access_token"]
            self.ready.set()
            response = http.post("/chat", headers={"Authorization": f"Bearer {token}"},
                                 json={"message": "My MRI claim was denied on March 3 and I have an employer "
                                                  "plan. How do I appeal?"})
            self.answer = (response.status_code, response.json())

    def result(self) -> tuple[int, dict[str, object]]:
        self.join(60)
        assert self.answer is not None, "the request in flight got no answer"
        return self.answer


def slow_chat(base: str) -> SlowChat:
    chat = SlowChat(base)
    chat.start()
    assert chat.ready.wait(30)
    return chat


def test_commands_as_written(data_dir: Path) -> None:
    commands = shell_commands(section("Commands"))
    assert len(commands) >= 10
    env = readme_env(data_dir)
    for command in commands:
        line = here(without_comment(command))
        if "navigator serve" in line:
            server = Serving(line + " --port 0", env)
            server.wait_for(LISTENING)
            assert server.interrupt() == 0, server.text()
        elif "navigator worker" in line:
            worker = Serving(line, env)
            worker.wait_for("ready with")
            assert worker.interrupt() == 0, worker.text()
        else:
            result = run_to_end(line, env)
            if "navigator db status" in line:
                assert str(data_dir) in result.stdout
            if "navigator ask" in line:
                assert "appeal" in result.stdout.lower()
            if "create-admin" in line:
                assert "created administrator admin@example.com" in result.stdout
    assert f"embedded PostgreSQL under {data_dir}" in run_to_end(here(".venv/bin/navigator migrate status"),
                                                                   env).stderr
