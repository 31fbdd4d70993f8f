#!/usr/bin/env python3
"""Write constraints.txt: the exact version of every package `.[dev]` (runtime, the `openai` extra
and the developer tools) resolves to today, for reproducible installs.

    python3 scripts/dev/lock.py            # after changing a dependency in pyproject.toml

It installs into a throwaway virtual environment without the old constraints (so the
newest versions pyproject.toml allows are chosen) and freezes it. scripts/dev.py, the
README's install commands and the Dockerfile all install with `-c constraints.txt`.
Standard library only. The `bench` extra is not locked: it cannot share an environment
with `dev`, and scripts/dev/bench_runs.py installs it on its own.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "constraints.txt"
HEADER = """\
# Every package the service and its developer tools install, pinned (pip constraints: a package
# is installed only when pyproject.toml asks for it). Written by scripts/dev/lock.py with
# Python {python}; regenerate after changing a dependency in pyproject.toml.
"""


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="navigator-lock-") as tmp:
        env = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(env)
        python = str(env / "bin" / "python")
        pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run([*pip, "install", "--upgrade", "pip>=24"], check=True)
        subprocess.run([*pip, "install", f"{ROOT}[dev]"], check=True)
        # Not the project, and not the packaging tools (pip builds with its own, isolated ones).
        frozen = subprocess.run([*pip, "freeze", "--exclude", "insurance-navigator"],
                                check=True, capture_output=True, text=True).stdout
    lines = sorted((line for line in frozen.splitlines() if line and not line.startswith("#")), key=str.lower)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    OUT.write_text(HEADER.format(python=version) + "\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(lines)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
