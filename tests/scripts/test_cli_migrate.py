"""`navigator migrate` as operators run it: real processes against the session's server."""

from __future__ import annotations

import subprocess
from collections import Counter

import asyncpg

from db.migrate import load_migrations
from tests.utils.db import ROOT, cli_env, navigator_cmd


def navigator(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*navigator_cmd(), *args], env=cli_env(dsn), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


async def test_status_up_down_lines(fresh_dsn: str) -> None:
    migrations = load_migrations()
    status = navigator(fresh_dsn, "migrate", "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert len(lines) == len(migrations)
    assert all(line.endswith("pending") for line in lines)

    up = navigator(fresh_dsn, "migrate", "up", "--to", "1")
    assert up.returncode == 0, up.stderr
    assert "applied 001" in up.stdout and "at version 001" in up.stdout

    status = navigator(fresh_dsn, "migrate", "status")
    assert "applied" in status.stdout.splitlines()[0]

    down = navigator(fresh_dsn, "migrate", "down", "1")
    assert down.returncode == 0, down.stderr
    assert "rolled back 001" in down.stdout and "at version 000" in down.stdout


async def test_ten_processes_apply_each_migration_once(fresh_dsn: str) -> None:
    procs = [subprocess.Popen([*navigator_cmd(), "migrate", "up"], env=cli_env(fresh_dsn), cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(10)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 10, [err for _, _, err in results]
    applied = Counter(line.split()[1] for _, out, _ in results for line in out.splitlines()
                      if line.startswith("applied "))
    expected = {f"{m.version:03d}" for m in load_migrations()}
    assert set(applied) == expected and set(applied.values()) == {1}
    con = await asyncpg.connect(fresh_dsn)
    try:
        rows = await con.fetch("SELECT version, count(*) FROM schema_migrations GROUP BY version")
    finally:
        await con.close()
    assert {r["version"] for r in rows} == {int(v) for v in expected}


def test_malformed_database_url_is_one_line() -> None:
    result = navigator("mysql://user:hunter2@host/db", "migrate", "status")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "DATABASE_URL" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_is_one_line() -> None:
    result = navigator("postgresql://user:hunter2@127.0.0.1:1/db", "migrate", "up")
    assert result.returncode == 1
    assert result.stderr.startswith("navigator: error: cannot connect to the database (DATABASE_URL)")
    assert result.stderr.count("\n") == 1 and "hunter2" not in result.stderr
