"""scripts/dev/chaos.py in its short mode: random SIGKILLs of worker processes lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.utils.db import ROOT, cli_env

pytestmark = pytest.mark.slow


def test_chaos_short_mode_loses_nothing(admin_dsn: str) -> None:
    done = subprocess.run([sys.executable, "-m", "scripts.dev.chaos", "--short", "--json", "--dsn", admin_dsn],
                          cwd=ROOT, env=cli_env(None), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["lost"], result["wrong"], result["kills"]) == (0, 0, 3)
    assert result["settled_runs"] == result["runs"] == 40
