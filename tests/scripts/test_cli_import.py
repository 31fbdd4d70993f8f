"""`navigator import` reads a file-based chat app's history (one JSON file per conversation, given
as a folder or files) into an account, once however often it runs; bad input (a broken chat file,
a damaged or newer export) is one line and stores nothing of the account it concerns."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest

from db.lifecycle.export import FORMAT
from scripts.cli import main
from tests.utils.db import ROOT, cli_env, navigator_cmd
from tests.utils.factories import insert_user

MESSAGES = """
SELECT c.title, m.role, m.content FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
 WHERE m.user_id = $1 ORDER BY c.created_at, m.created_at, m.id
"""


def run_import(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*navigator_cmd(), "import", *args], cwd=ROOT, env=cli_env(dsn), text=True,
                          capture_output=True, timeout=120)


def chat_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / "2024-05-01-denied-mri.json").write_text(json.dumps({
        "id": "chat-1714550400", "created_at": "2024-05-01T09:00:00Z", "title": "Denied MRI",
        "messages": [{"role": "user", "content": "My MRI was denied."},
                     {"role": "assistant", "content": "You can appeal: first an internal appeal."},
                     {"role": "user", "content": "My MRI was denied."}]}))
    (folder / "2024-06-02-copay.json").write_text(json.dumps({
        "id": str(uuid.UUID(int=42)), "created_at": 1717318800, "title": "Copays",
        "messages": [{"role": "human", "content": [{"type": "text", "text": "What is a copay?"}]},
                     {"role": "ai", "content": "A fixed amount you pay for a covered service."}]}))
    (folder / "notes.txt").write_text("not a conversation")  # only *.json files are read
    return folder


async def test_a_chat_apps_folder_moves_in_once(migrated_dsn: str, tmp_path: Path) -> None:
    folder = chat_folder(tmp_path / "history")
    con = await asyncpg.connect(migrated_dsn)
    try:
        user = await insert_user(con)
        email = await con.fetchval("SELECT email FROM users WHERE id = $1", user)
        first = run_import(migrated_dsn, str(folder), "--user", email)
        assert first.returncode == 0, first.stderr
        assert "stored: 2 conversations, 5 conversation_messages" in first.stdout, first.stdout
        stored = [tuple(r) for r in await con.fetch(MESSAGES, user)]
        assert stored == [("Denied MRI", "user", "My MRI was denied."),
                          ("Denied MRI", "assistant", "You can appeal: first an internal appeal."),
                          ("Denied MRI", "user", "My MRI was denied."),
                          ("Copays", "user", "What is a copay?"),
                          ("Copays", "assistant", "A fixed amount you pay for a covered service.")]
        created = await con.fetchval("SELECT created_at FROM conversations WHERE id = $1", uuid.UUID(int=42))
        assert created.isoformat() == "2024-06-02T09:00:00+00:00"
        # Listed among the person's live conversations (a full TTL from the import, not from 2024).
        live = await con.fetchval("SELECT count(*) FROM conversations WHERE user_id = $1 AND expires_at > now()", user)
        assert live == 2

        again = run_import(migrated_dsn, *(str(p) for p in sorted(folder.glob("*.json"))), "--user", email)
        assert again.returncode == 0 and "stored: nothing new" in again.stdout, again.stdout
        assert [tuple(r) for r in await con.fetch(MESSAGES, user)] == stored

        # Bad input: one line naming what is wrong, nothing stored.
        assert run_import(migrated_dsn, str(folder)).stderr.strip().endswith("chat files need --user EMAIL: "
                                                                              "the account whose history they are")
        broken = tmp_path / "broken.json"
        broken.write_text(json.dumps({"id": "x", "created_at": "yesterday", "messages": []}))
        refused = run_import(migrated_dsn, str(broken), "--user", email)
        assert refused.returncode == 1
        assert "broken.json: created_at 'yesterday' is not an ISO 8601 time" in refused.stderr
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert [tuple(r) for r in await con.fetch(MESSAGES, user)] == stored
    finally:
        await con.close()


async def run_in_process(args: list[str], dsn: str, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The console script's entry point in a thread (it calls asyncio.run), with the env cli_env sets."""
    for key, value in cli_env(dsn).items():
        if key.startswith(("DATABASE_URL", "JWT_", "DOCUMENT_")):
            monkeypatch.setenv(key, value)
    capsys.readouterr()
    code = await asyncio.to_thread(main, args)
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_damaged_export_is_one_line_and_stores_nothing_of_that_account(
        migrated_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    user, conversation, run = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at = "2026-01-02T03:04:05.123456+00:00"
    account = {
        "user": {"id": str(user), "email": f"moved-{user.hex[:8]}@example.com", "full_name": None, "role": "user",
                 "is_active": True, "created_at": at, "updated_at": at},
        "conversations": [{"id": str(conversation), "graph_id": "navigator", "title": "t", "pinned": False,
                           "metadata": {}, "created_at": at, "updated_at": at, "expires_at": "infinity"}],
        # Answers a run that is in no export: the foreign key refuses it, and the whole account with it.
        "runs": [{"id": str(run), "conversation_id": str(conversation), "kind": "resume",
                  "resumes_run_id": str(uuid.uuid4()), "status": "success", "input": {"resume": "yes"},
                  "output": None, "error": None, "idempotency_key": None, "attempt": 1, "lost_attempts": 0,
                  "steps": 1, "created_at": at, "updated_at": at, "started_at": at, "finished_at": at}],
    }
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps({"format": FORMAT, "version": 1, "users": [account]}))
    code, _out, err = await run_in_process(["import", str(damaged)], migrated_dsn, monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1 and "nothing of it was stored" in err, err
    con = await asyncpg.connect(migrated_dsn)
    try:
        assert await con.fetchval("SELECT count(*) FROM users WHERE id = $1", user) == 0
        assert await con.fetchval("SELECT count(*) FROM conversations WHERE id = $1", conversation) == 0
    finally:
        await con.close()
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": FORMAT, "version": 2, "users": []}))
    code, _out, err = await run_in_process(["import", str(newer)], migrated_dsn, monkeypatch, capsys)
    assert code == 1 and "export version 2 is not 1" in err and err.count("\n") == 1
