"""Two `navigator worker` processes sharing PROMETHEUS_MULTIPROC_DIR: a scrape of either one shows
both (one `pid` series each), its counters sum their work and match the runs table."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from db.pool import create_pool
from db.scratch import drop_database
from tests.conftest import make_settings
from tests.scripts.test_worker_processes import queue_runs
from tests.utils.db import create_migrated_database
from tests.utils.processes import start_workers, wait_settled

OPS_ADDRESS = re.compile(r"metrics and probes on (http://[0-9.]+:[0-9]+)")
RUNS = 12


async def test_two_worker_processes_metrics_both_appear(admin_dsn: str, tmp_path: Path) -> None:
    dsn = await create_migrated_database(admin_dsn)
    shared = tmp_path / "prometheus"
    workers = await start_workers(dsn, tmp_path, 2, concurrency=4, PROMETHEUS_MULTIPROC_DIR=str(shared),
                                  METRICS_PORT="0", OFFLINE_MODEL_LATENCY_MS="150")
    try:
        addresses = [OPS_ADDRESS.search(worker.log()) for worker in workers]
        assert all(addresses), [worker.log() for worker in workers]
        pool = await create_pool(make_settings(dsn), dsn, min_size=1, max_size=2)
        try:
            run_ids, _ = await queue_runs(pool, RUNS)
        finally:
            await pool.close()
        rows = await wait_settled(dsn, run_ids, timeout=120)
        assert {row["status"] for row in rows} == {"success"}
        con = await asyncpg.connect(dsn)
        try:
            claimers = await con.fetchval("SELECT count(DISTINCT data->>'worker_id') FROM run_events "
                                          "WHERE event = 'started' AND run_id = ANY($1::uuid[])", run_ids)
        finally:
            await con.close()
        async with httpx.AsyncClient(timeout=30) as http:
            text = (await http.get(addresses[0].group(1) + "/metrics")).text  # type: ignore[union-attr]
            ready = await http.get(addresses[1].group(1) + "/readyz")  # type: ignore[union-attr]
    finally:
        for worker in workers:
            worker.stop()
        await drop_database(admin_dsn, dsn)
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    concurrency = {s.labels["pid"]: s.value for s in samples if s.name == "navigator_executor_concurrency"}
    assert concurrency == {str(worker.pid): 4 for worker in workers}
    total = {s.name: s.value for s in samples if not s.labels}
    assert claimers == 2, "both workers claimed runs"
    assert total["navigator_runs_claimed_total"] == RUNS  # the two processes' counters, summed
    assert {s.labels["status"]: s.value for s in samples if s.name == "navigator_runs"}["success"] == RUNS
    steps = {s.labels["node"]: s.value for s in samples if s.name == "navigator_step_duration_seconds_count"}
    assert steps["communicator"] == RUNS
    assert ready.status_code == 200 and ready.json()["checks"]["workers"] == "ok"
