#!/usr/bin/env python3
"""The README's two commands: `python3 scripts/dev.py start` and `python3 scripts/dev.py test`.

Standard library only, so it runs on a fresh machine: it creates `.venv`
(or $NAVIGATOR_VENV), installs the project with every package pinned by
constraints.txt (again only when pyproject.toml or constraints.txt changed),
then starts the service or runs the whole test suite (ruff, mypy, pytest).
For the browser tests (tests/web) `test` also installs what is missing outside
PyPI: Debian's chromium through apt-get (when run as root; otherwise it says
what to install) and the pinned npm axe-core beside the virtual environment.

`start` runs each command in a process group of its own and passes SIGINT
(Ctrl-C) and SIGTERM on to it, then waits for it however long it takes: the
service drains its runs and stops the embedded PostgreSQL on its way out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
VENV = Path(os.environ.get("NAVIGATOR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
# The accessibility test loads axe-core (npm, MPL-2.0) into the page; tests/web/browser.py finds it here.
AXE_CORE_VERSION = "4.14.1"
WEB_TEST_DEPS = VENV / "web-test-deps"
APT_PACKAGES = ["chromium", "fonts-dejavu-core"]


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
    """`.` (start) or `.[dev]` (test: the runtime, the `openai` extra and the tools), pinned."""
    spec = f".[{extra}]" if extra else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + CONSTRAINTS.read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{extra or 'runtime'}-{digest}"
    if stamp.exists() or (extra is None and (VENV / f".installed-dev-{digest}").exists()):  # dev has it all
        return
    say(f"installing {spec} into {VENV} with {CONSTRAINTS.name} (first run, or pyproject.toml or "
        f"{CONSTRAINTS.name} changed)")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", "--upgrade", "pip>=24"], check=True, cwd=ROOT)
    subprocess.run([*pip, "install", "-c", str(CONSTRAINTS), "-e", spec], check=True, cwd=ROOT)
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
def ensure_chromium() -> None:
    """Debian's chromium for the browser tests (Playwright's own download is not reachable)."""
    if os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser"):
        return
    apt_install(APT_PACKAGES, "chromium", "(or set CHROMIUM_PATH); the browser tests (tests/web) drive it")


def ensure_curl() -> None:
    """curl: tests/scripts/test_readme.py runs the README's HTTP example, which uses it."""
    if not shutil.which("curl"):
        apt_install(["curl"], "curl", "; the README's HTTP example (tests/scripts/test_readme.py) uses it")


def apt_install(packages: list[str], what: str, why: str) -> None:
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        say(f"{what} is missing and this is not a root Debian/Ubuntu shell: install it "
            f"(sudo apt-get install {' '.join(packages)}) {why}")
        return
    say(f"installing {' '.join(packages)} with apt-get {why}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def ensure_axe_core() -> None:
    manifest = WEB_TEST_DEPS / "node_modules" / "axe-core" / "package.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("version") == AXE_CORE_VERSION:
        return
    npm = shutil.which("npm")
    if npm is None:
        say("npm is missing: install Node.js and npm; the accessibility test (tests/web) loads axe-core")
        return
    say(f"installing axe-core {AXE_CORE_VERSION} with npm into {WEB_TEST_DEPS}")
    WEB_TEST_DEPS.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(WEB_TEST_DEPS), "--no-audit", "--no-fund", "--save-exact",
                    "--loglevel=error", f"axe-core@{AXE_CORE_VERSION}"], check=True, cwd=WEB_TEST_DEPS)


def run(*cmd: str) -> int:
    say(" ".join(cmd))
    return subprocess.run(cmd, cwd=ROOT).returncode


def run_forwarding(*cmd: str) -> int:
    """Run `cmd` in its own process group, pass SIGINT and SIGTERM on to it, and wait for it to
    exit, however long its shutdown takes (never SIGKILL: it stops the embedded PostgreSQL on
    its way out). Its own group, so a Ctrl-C at the terminal reaches it once, through here."""
    say(" ".join(cmd))
    child = subprocess.Popen(cmd, cwd=ROOT, start_new_session=os.name == "posix")

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            say(f"passing {signal.Signals(signum).name} on to {Path(cmd[0]).name} (pid {child.pid}); waiting for it")
            child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # a handler replaced ours meanwhile: forward and keep waiting
                forward(signal.SIGINT, None)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def start(args: list[str]) -> int:
    ensure_venv()
    ensure_installed(None)
    navigator = str(BIN / "navigator")
    code = run_forwarding(navigator, "setup")
    if code != 0:
        return code
    return run_forwarding(navigator, "serve", *args)


def test(args: list[str]) -> int:
    ensure_venv()
    ensure_installed("dev")
    ensure_js_client()
    ensure_chromium()
    ensure_curl()
    ensure_axe_core()
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
