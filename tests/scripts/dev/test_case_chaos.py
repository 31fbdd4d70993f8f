"""scripts/dev/case_chaos.py in its short mode: reminders due at the same moment on 3 worker
processes, random SIGKILLs, each one accepted once at a real webhook receiver."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.utils.db import ROOT, cli_env

pytestmark = pytest.mark.slow


def test_case_chaos_short_mode_delivers_each_reminder_once(admin_dsn: str) -> None:
    done = subprocess.run([sys.executable, "-m", "scripts.dev.case_chaos", "--short", "--json", "--dsn", admin_dsn],
                          cwd=ROOT, env=cli_env(None), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    cases = result["cases"]
    assert (result["workers"], result["kills"], result["lost"], result["doubled"]) == (3, 3, 0, 0)
    assert result["timers_fired"] == result["runs_queued_by_timers"] == result["notifications"] == cases
    assert result["distinct_keys_accepted_at_receiver"] == cases and result["bad_signatures"] == 0
