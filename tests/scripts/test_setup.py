"""`navigator setup` / `scripts/setup.py`: one line per check, exit code 0 only when all pass."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.utils.db import ROOT, cli_env, navigator_cmd


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_setup_passes_on_a_good_configuration(fresh_dsn: str) -> None:
    result = run([*navigator_cmd(), "setup"], cli_env(fresh_dsn))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "setup: all checks passed"
    assert all(line.startswith("✓") for line in lines[:-1])
    assert any("migrations" in line for line in lines)


def test_script_and_command_are_one_implementation(fresh_dsn: str) -> None:
    result = run([sys.executable, "scripts/setup.py", "--json"], cli_env(fresh_dsn))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [c["name"] for c in report["checks"]][:3] == ["environment", "connectivity", "migrations"]


def test_short_jwt_secret_fails_with_reason(fresh_dsn: str) -> None:
    result = run([*navigator_cmd(), "setup"], cli_env(fresh_dsn, JWT_SECRET_KEY="too-short"))
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("✗ environment") and "JWT_SECRET_KEY" in first and "at least 32" in first
    assert "too-short" not in result.stdout


def test_missing_jwt_secret_with_database_url_fails(fresh_dsn: str) -> None:
    env = cli_env(fresh_dsn)
    del env["JWT_SECRET_KEY"]
    result = run([*navigator_cmd(), "setup", "--json"], env)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["checks"][0]["ok"] is False and "JWT_SECRET_KEY" in report["checks"][0]["detail"]


def test_unreachable_database_fails_with_reason() -> None:
    result = run([*navigator_cmd(), "setup"], cli_env("postgresql://u:hunter2@127.0.0.1:1/x"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ environment")
    assert lines[1].startswith("✗ connectivity") and "cannot connect" in lines[1]
    assert lines[2].startswith("✗ migrations") and "skipped" in lines[2]
    assert "hunter2" not in result.stdout + result.stderr


def test_embedded_mode_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    """No DATABASE_URL, no JWT secret: two processes started together share one server and one secret."""
    env = cli_env(None, NAVIGATOR_DATA_DIR=str(tmp_path / "data"))
    env.pop("JWT_SECRET_KEY")
    env.pop("DOCUMENT_ENCRYPTION_KEY")
    procs = [subprocess.Popen([*navigator_cmd(), "setup"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    secret_file = tmp_path / "data" / "jwt_secret"
    # Created 0700; as root the embedded server runs as its own user, which must traverse it (0711).
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == (0o711 if os.geteuid() == 0 else 0o700)
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    again = run([*navigator_cmd(), "setup"], env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert secret_file.read_text().strip() == secret
    assert secret not in again.stdout + again.stderr
    key_file = tmp_path / "data" / "document_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert "document key" in again.stdout and key not in again.stdout + again.stderr
    # Kept secrets are reused, and setup says so rather than claiming it generated them.
    assert f"JWT secret reused from {secret_file}" in again.stdout
    assert f"reused from {key_file}" in again.stdout and "generated now" not in again.stdout
    assert any("generated now" in out for out, _ in outputs)


def test_bad_or_missing_document_key_fails_with_reason(fresh_dsn: str) -> None:
    bad = run([*navigator_cmd(), "setup"], cli_env(fresh_dsn, DOCUMENT_ENCRYPTION_KEY="c2hvcnQ"))
    assert bad.returncode == 1
    first = bad.stdout.splitlines()[0]
    assert first.startswith("✗ environment") and "DOCUMENT_ENCRYPTION_KEY" in first and "32 bytes" in first
    assert "c2hvcnQ" not in bad.stdout
    env = cli_env(fresh_dsn)
    del env["DOCUMENT_ENCRYPTION_KEY"]
    missing = run([*navigator_cmd(), "setup"], env)
    assert missing.returncode == 1
    line = next(line for line in missing.stdout.splitlines() if "document key" in line)
    assert line.startswith("✗") and "required when DATABASE_URL is set" in line


def test_documents_stored_with_another_key_fail_the_check(fresh_dsn: str) -> None:
    assert run([*navigator_cmd(), "setup"], cli_env(fresh_dsn)).returncode == 0
    asyncio.run(insert_document_with_key_id(fresh_dsn, "0123456789abcdef"))
    result = run([*navigator_cmd(), "setup"], cli_env(fresh_dsn))
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if "document key" in line)
    assert line.startswith("✗") and "1 stored document(s) were encrypted with another DOCUMENT_ENCRYPTION_KEY" in line
    assert "0123456789abcdef" in line


async def insert_document_with_key_id(dsn: str, key_id: str) -> None:
    con = await asyncpg.connect(dsn)
    try:
        user = await con.fetchval("INSERT INTO users (email, password_hash) VALUES ('k@example.com', 'x') RETURNING id")
        await con.execute("INSERT INTO documents (user_id, kind, filename, media_type, size_bytes, digest, content, "
                          "key_id, pages, text) VALUES ($1, 'other', 'a.txt', 'text/plain', 1, '\\x00', "
                          "'\\x00', $2, 1, 'a')", user, key_id)
    finally:
        await con.close()


async def test_row_level_security_check_says_whether_it_is_enforced(migrated_dsn: str) -> None:
    from scripts.setup import CheckFailed, SetupContext, check_row_level_security
    from tests.conftest import make_settings

    enforced = await check_row_level_security(SetupContext(settings=make_settings(migrated_dsn), dsn=migrated_dsn))
    assert enforced.startswith("enforced on ") and "requests connect as navigator_app" in enforced
    owner_only = make_settings(migrated_dsn, app_database_url=None)
    assert "NOT enforced" in await check_row_level_security(SetupContext(settings=owner_only, dsn=migrated_dsn))
    # A login that bypasses the policies (here the owner itself) is refused, naming the setting.
    bypassing = make_settings(migrated_dsn, app_database_url=migrated_dsn)
    with pytest.raises(CheckFailed, match="APP_DATABASE_URL logs in as"):
        await check_row_level_security(SetupContext(settings=bypassing, dsn=migrated_dsn))
