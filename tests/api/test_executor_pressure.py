"""Short versions of scripts/dev/pressure.py: hundreds of runs on a 10-connection pool, and a
load that goes on while the server refuses every new connection for 5 seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.dev.pressure import refused_connections, small_pool

pytestmark = pytest.mark.slow


async def test_hundreds_of_runs_never_open_more_connections_than_the_pool(admin_dsn: str) -> None:
    result = await small_pool(admin_dsn, runs=200, latency_ms=300, pool_size=10)
    assert result["succeeded"] == result["runs"] == 200, result
    assert result["samples"] > 20, result  # pg_stat_activity was read all along
    assert 2 <= result["peak_connections"] <= 10, result


async def test_every_run_succeeds_while_the_server_refuses_connections(tmp_path: Path) -> None:
    result = await refused_connections(tmp_path / "server", runs=40, latency_ms=300, outage_seconds=5)
    assert result["connections_held"] > 0 and result["connections_cut"] > 0, result
    assert result["outage_seconds"] >= 5, result
    assert result["succeeded"] == result["settled"] == 40, result
    assert result["retry_events"] >= 1, result  # the runs did meet the refusal, and said so
