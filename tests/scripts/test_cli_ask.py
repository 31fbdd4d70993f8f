"""`navigator ask` and `navigator kb` as a person runs them: real processes, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
import pytest

from scripts.cli import main
from scripts.cmd_ask import EXIT_QUESTION
from scripts.setup import orchestrator_check
from tests.conftest import make_settings
from tests.utils.db import ROOT, cli_env, navigator_cmd


def navigator(*args: str, dsn: str | None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*navigator_cmd(), *args], env=cli_env(dsn, **env), cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


async def run_in_process(args: list[str], dsn: str, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """The same entry point as the console script, in a thread (it calls asyncio.run), env set like cli_env."""
    for key, value in cli_env(dsn).items():
        if key.startswith(("DATABASE_URL", "JWT_")):
            monkeypatch.setenv(key, value)
    for key in ("LLM_PROVIDER", "OFFLINE_MODEL_LATENCY_MS", "NAVIGATOR_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    capsys.readouterr()
    code = await asyncio.to_thread(main, args)
    out, err = capsys.readouterr()
    return code, out, err


def ask_json(*args: str, dsn: str | None, **env: str) -> tuple[int, dict]:
    result = navigator("ask", "--json", *args, dsn=dsn, **env)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


async def test_ask_on_an_empty_database_asks_then_resumes(fresh_dsn: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    code, asked = ask_json("My MRI claim was denied. What now?", dsn=fresh_dsn)
    assert code == EXIT_QUESTION
    assert asked["status"] == "needs_input" and asked["intent"] == "claim_denial_appeal"
    assert "denial letter" in asked["question"] and asked["answer"] is None
    code, done = ask_json("--thread", asked["thread_id"], "--resume", "March 3, employer plan", dsn=fresh_dsn)
    assert code == 0 and done["status"] == "answered" and done["thread_id"] == asked["thread_id"]
    assert "180 days" in done["answer"] and done["steps"]
    # A second resume of the same question is refused with a one-line reason; nothing changes.
    code, _, err = await run_in_process(["ask", "--thread", asked["thread_id"], "--resume", "again"], fresh_dsn,
                                        monkeypatch, capsys)
    assert code == 1 and "not waiting for an answer" in err and len(err.strip().splitlines()) == 1


async def test_text_output_and_a_follow_up_on_the_same_thread(migrated_dsn: str, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    thread = str(uuid.uuid4())
    first = navigator("ask", "--thread", thread, "I was laid off, can I keep my insurance?", dsn=migrated_dsn)
    assert first.returncode == 0, first.stderr
    assert "COBRA" in first.stdout and "guidance, not legal or medical advice" in first.stdout
    assert f"thread: {thread}" in first.stderr
    code, out, _ = await run_in_process(["ask", "--json", "--thread", thread, "how much will that cost me?"],
                                        migrated_dsn, monkeypatch, capsys)
    second = json.loads(out)
    assert code == 0 and second["status"] == "answered" and second["intent"] == "cost_estimate"


@pytest.mark.parametrize(("args", "message"), [
    (["   "], "empty"),
    (["x" * 5000], "limit is 4000"),
    ([], "a question is required"),
    (["--resume", "yes"], "--resume needs --thread"),
    (["--thread", "t1", "--continue", "question too"], "not both"),
])
def test_bad_input_is_one_line_and_non_zero(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    # In-process through the same entry point (argument checks run before any database work).
    assert main(["ask", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


async def test_sigkill_during_strategy_then_continue_finishes_without_rerunning_steps(migrated_dsn: str) -> None:
    thread = str(uuid.uuid4())
    proc = subprocess.Popen(
        [*navigator_cmd(), "ask", "--thread", thread, "My MRI claim was denied on May 5, employer plan. Appeal?"],
        env=cli_env(migrated_dsn, OFFLINE_MODEL_LATENCY_MS="1000"), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    con = await asyncpg.connect(migrated_dsn)
    try:
        deadline = time.monotonic() + 60
        step = None
        while time.monotonic() < deadline and proc.poll() is None:
            step = await con.fetchval("SELECT current_step FROM workflow_states WHERE conversation_id = $1", thread)
            if step == "navigator":  # navigator committed; strategy's model call is in flight
                break
            await asyncio.sleep(0.05)
        assert step == "navigator", proc.communicate()
        await asyncio.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        before = {r["agent_name"]: r["updated_at"] for r in await con.fetch(
            "SELECT agent_name, updated_at FROM agent_states WHERE conversation_id = $1", thread)}
        assert set(before) == {"guard", "navigator"}  # strategy never completed

        code, done = ask_json("--thread", thread, "--continue", dsn=migrated_dsn)
        assert code == 0 and done["status"] == "answered" and "180 days" in done["answer"]
        after = {r["agent_name"]: r["updated_at"] for r in await con.fetch(
            "SELECT agent_name, updated_at FROM agent_states WHERE conversation_id = $1", thread)}
        assert set(after) == {"guard", "navigator", "strategy", "communicator"}
        assert after["guard"] == before["guard"] and after["navigator"] == before["navigator"]
        # Each node wrote its result once: one checkpoint per step, none repeated.
        sources = await con.fetch(
            "SELECT metadata->>'step' AS step FROM checkpoints WHERE thread_id = $1 AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id", thread)
        steps = [int(r["step"]) for r in sources]
        assert steps == [-1, 0, 1, 2, 3, 4]
        again = navigator("ask", "--thread", thread, "--continue", dsn=migrated_dsn)
        assert again.returncode == 1 and "nothing to continue" in again.stderr
    finally:
        if proc.poll() is None:
            proc.kill()
        await con.close()


async def test_kb_load_operator_documents_and_search(migrated_dsn: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "acme-appeals.md").write_text(
        "---\ntitle: Acme Health appeals mailbox\nsource: Acme Health member handbook\n"
        "intents: claim_denial_appeal\n---\nSend Acme appeals to the quokka mailbox, PO Box 42.\n")
    loaded = navigator("kb", "load", str(tmp_path), dsn=migrated_dsn)
    assert loaded.returncode == 0, loaded.stderr
    assert "1 new" in loaded.stdout and "1 operator" in loaded.stdout
    code, out, _ = await run_in_process(["kb", "search", "quokka mailbox"], migrated_dsn, monkeypatch, capsys)
    assert code == 0 and out.splitlines()[0].split()[1] == "acme-appeals"
    (tmp_path / "broken.md").write_text("no header here")
    code, _, err = await run_in_process(["kb", "load", str(tmp_path)], migrated_dsn, monkeypatch, capsys)
    assert code == 1 and "broken" in err and "header" in err


async def test_fresh_embedded_data_directory_just_works(tmp_path: Path) -> None:
    code, done = ask_json("Does my plan cover physical therapy?", dsn=None,
                          NAVIGATOR_DATA_DIR=str(tmp_path / "data"))
    assert code == 0 and done["status"] == "answered" and done["intent"] == "coverage_check"


async def test_setup_orchestrator_check_runs_one_question_and_cleans_up(migrated_dsn: str) -> None:
    detail = await orchestrator_check(make_settings(migrated_dsn), migrated_dsn)
    assert "answered end to end" in detail and "claim_denial_appeal" in detail
    con = await asyncpg.connect(migrated_dsn)
    try:
        left = await con.fetchval("SELECT count(*) FROM checkpoints WHERE thread_id LIKE 'setup-check-%'")
    finally:
        await con.close()
    assert left == 0
