"""`navigator users create-admin`: creates, refuses duplicates with one line, promotes on request."""

from __future__ import annotations

import subprocess

import asyncpg

from tests.utils.db import ROOT, cli_env, navigator_cmd


def create_admin(dsn: str, email: str, password: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*navigator_cmd(), "users", "create-admin", "--email", email, "--password-stdin", *extra],
                          input=password + "\n", cwd=ROOT, env=cli_env(dsn), text=True, capture_output=True,
                          timeout=60)


async def test_create_admin_then_duplicate_then_promote(migrated_dsn: str) -> None:
    password = "admin passphrase 1"
    created = create_admin(migrated_dsn, "root@example.com", password)
    assert created.returncode == 0, created.stderr
    assert "created administrator root@example.com" in created.stdout
    again = create_admin(migrated_dsn, "ROOT@example.com", password)
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0 and "--promote" in again.stderr
    con = await asyncpg.connect(migrated_dsn)
    try:
        await con.execute("INSERT INTO users (email, password_hash) VALUES ('plain@example.com', 'x')")
        promoted = create_admin(migrated_dsn, "plain@example.com", password, "--promote")
        assert promoted.returncode == 0, promoted.stderr
        roles = dict(await con.fetch("SELECT email, role FROM users ORDER BY email"))
    finally:
        await con.close()
    assert roles == {"plain@example.com": "admin", "root@example.com": "admin"}
    weak = create_admin(migrated_dsn, "weak@example.com", "pw7x")
    assert weak.returncode == 1 and "pw7x" not in weak.stderr
    assert "password" in weak.stderr and "Traceback" not in weak.stderr


def test_without_a_terminal_it_says_to_pipe_the_password(migrated_dsn: str) -> None:
    for extra in ([], ["--promote"]):
        result = subprocess.run([*navigator_cmd(), "users", "create-admin", "--email", "tty@example.com", *extra],
                                stdin=subprocess.DEVNULL, cwd=ROOT, env=cli_env(migrated_dsn), text=True,
                                capture_output=True, timeout=60)
        assert result.returncode == 1, result
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "--password-stdin" in result.stderr


async def test_promote_with_password_stdin_sets_the_password_it_read(migrated_dsn: str) -> None:
    from api.security import verify_password

    con = await asyncpg.connect(migrated_dsn)
    try:
        await con.execute("INSERT INTO users (email, password_hash) VALUES ('kept@example.com', 'x')")
        promoted = create_admin(migrated_dsn, "kept@example.com", "the new passphrase", "--promote")
        assert promoted.returncode == 0, promoted.stderr
        assert "password is the one read from stdin" in promoted.stdout
        stored = await con.fetchval("SELECT password_hash FROM users WHERE email = 'kept@example.com'")
        # Promoting without --password-stdin needs no terminal and keeps the password.
        again = subprocess.run([*navigator_cmd(), "users", "create-admin", "--email", "kept@example.com",
                                "--promote"], stdin=subprocess.DEVNULL, cwd=ROOT, env=cli_env(migrated_dsn),
                               text=True, capture_output=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert await con.fetchval("SELECT password_hash FROM users WHERE email = 'kept@example.com'") == stored
    finally:
        await con.close()
    assert verify_password("the new passphrase", stored)[0]
    empty = create_admin(migrated_dsn, "empty@example.com", "")
    assert empty.returncode == 1 and "empty line" in empty.stderr
