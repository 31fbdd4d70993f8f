#!/usr/bin/env python3
"""The README's two commands: `python3 scripts/dev.py start` and `python3 scripts/dev.py test`.

Standard library only, so it runs on a fresh machine: it creates `.venv`,
installs the project (again only when pyproject.toml changed), then starts the
service or runs the whole test suite (ruff, mypy, pytest).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("NAVIGATOR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_venv() -> None:
    if PYTHON.exists():
        return
    say(f"creating virtual environment in {VENV}")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except Exception as exc:  # e.g. Debian without python3-venv
        sys.exit(f"[dev] cannot create a virtual environment ({exc}); install Python's venv module "
                 "(Debian/Ubuntu: apt-get install python3-venv) and retry")


def ensure_installed(extra: str | None) -> None:
    spec = f".[{extra}]" if extra else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extra or 'runtime'}-{digest}"
    if stamp.exists():
        return
    say(f"installing {spec} into {VENV} (first run or pyproject.toml changed)")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", "--upgrade", "pip>=24"], check=True, cwd=ROOT)
    subprocess.run([*pip, "install", "-e", spec], check=True, cwd=ROOT)
    for old in VENV.glob(f".installed-{extra or 'runtime'}-*"):
        old.unlink()
    stamp.touch()


JS_TESTS = ROOT / "tests" / "js"


def ensure_js_client() -> None:
    """The pinned JavaScript LangGraph client for the Agent Protocol test, when npm is here
    (again only when its lock file changed). Without Node.js that one test is skipped."""
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: the JavaScript client test will be skipped")
        return
    digest = hashlib.sha256((JS_TESTS / "package-lock.json").read_bytes()).hexdigest()[:16]
    stamp = JS_TESTS / "node_modules" / f".installed-{digest}"
    if stamp.exists():
        return
    say("installing the JavaScript client for tests/js (npm ci)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], check=True, cwd=JS_TESTS)
    stamp.touch()


def run(*cmd: str) -> int:
    say(" ".join(cmd))
    return subprocess.run(cmd, cwd=ROOT).returncode


def start(args: list[str]) -> int:
    ensure_venv()
    ensure_installed(None)
    navigator = str(BIN / "navigator")
    code = run(navigator, "setup")
    if code != 0:
        return code
    return run(navigator, "serve", *args)


def test(args: list[str]) -> int:
    ensure_venv()
    ensure_installed("dev")
    ensure_js_client()
    for gate in ([str(BIN / "ruff"), "check", "."],
                 [str(BIN / "mypy")]):
        code = run(*gate)
        if code != 0:
            return code
    return run(str(PYTHON), "-m", "pytest", *args)


def main() -> int:
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print("usage: python3 scripts/dev.py start|test [extra arguments]", file=sys.stderr)
        return 2
    try:
        return commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        print(f"[dev] failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
