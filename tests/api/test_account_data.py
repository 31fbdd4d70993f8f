"""Your data, portable and deletable: export everything, delete every account, import the export:
the same export, byte for byte; an import run twice stores nothing twice; DELETE /me leaves no row
of the person in any table the catalog knows."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from db.lifecycle.export import EXPORTED_SECTIONS, NOT_EXPORTED
from db.scope import acting_as
from tests.api.conftest import PASSWORD, Account, register_and_login
from tests.utils import pdfs
from tests.utils.catalog import CASCADE, SET_NULL, conversation_columns, rows_of, tables_deleted_with, user_tables
from tests.utils.db import ROOT, cli_env, navigator_cmd
from tests.utils.graphs import ANSWER, ASKS_A_QUESTION

PLAIN_LETTER = b"Dear member, your claim CLM-77 for physical therapy was denied on April 2, 2026.\n"
ALL_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"


def navigator(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*navigator_cmd(), *args], cwd=ROOT, env=cli_env(dsn), text=True, capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done


async def table_counts(con: asyncpg.Connection | asyncpg.Pool) -> dict[str, int]:
    tables = [row["tablename"] for row in await con.fetch(ALL_TABLES)]
    return {t: await con.fetchval(f'SELECT count(*) FROM "{t}"') for t in sorted(tables)}


async def ask(http: httpx.AsyncClient, account: Account, message: str, conversation_id: str | None = None) -> Any:
    body = {"message": message, **({"conversation_id": conversation_id} if conversation_id else {})}
    answer = await http.post("/chat", json=body, headers=account.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def someones_data(http: httpx.AsyncClient, account: Account) -> list[str]:
    """A bit of everything: profile, key, a question answered, documents, a crisis, an Agent Protocol run."""
    key = (await http.post("/auth/api-keys", json={"name": "script"}, headers=account.headers)).json()["key"]
    asked = await ask(http, account, ASKS_A_QUESTION)
    assert asked["status"] == "interrupted"
    # Saved after the question: a profile naming the plan would have answered it.
    assert (await http.put("/me/profile", json={"plan_type": "employer", "insurer": "Acme Health", "state": "OH"},
                           headers=account.headers)).status_code == 200
    resumed = await http.post(f"/runs/{asked['run_id']}/resume", json={"input": ANSWER}, headers=account.headers)
    assert (await http.get(f"/runs/{resumed.json()['id']}", headers=account.headers)).status_code == 200
    conversation = asked["conversation_id"]
    for files, form in (({"file": ("letter.pdf", pdfs.denial_letter_pdf(), "application/pdf")},
                         {"conversation_id": conversation}),
                        ({"file": ("note.txt", PLAIN_LETTER, "text/plain")}, {})):
        assert (await http.post("/documents", files=files, data=form, headers=account.headers)).status_code == 201
    crisis = await ask(http, account, "I don't want to live anymore, the bills are too much")
    thread = (await http.post("/lg/threads", json={}, headers={"x-api-key": key})).json()["thread_id"]
    waited = await http.post(f"/lg/threads/{thread}/runs/wait", headers={"x-api-key": key},
                             json={"assistant_id": "navigator", "input": {"messages": [
                                 {"role": "user", "content": "What is a deductible?"}]}})
    assert waited.status_code == 200, waited.text
    for _ in range(100):  # the resumed run settles
        resumed_run = (await http.get(f"/runs/{resumed.json()['id']}", headers=account.headers)).json()
        if resumed_run["status"] not in ("pending", "running"):
            break
    return [conversation, crisis["conversation_id"], thread]


CASE_ROWS = [
    """INSERT INTO conversations (id, user_id, title, graph_id, expires_at)
       VALUES ($1, $2, 'Appeal: MRI', 'case', 'infinity')""",
    """INSERT INTO cases (id, user_id, kind, title, source_conversation_id)
       VALUES ($1, $2, 'appeal', 'Appeal: MRI', $3)""",
    """INSERT INTO case_events (case_id, user_id, type, data, occurred_at)
       VALUES ($1, $2, 'opened', '{"kind": "appeal"}', now())""",
    """INSERT INTO timers (thread_id, user_id, key, purpose, due_at)
       VALUES ($1, $2, 'deadline:internal', 'reminder', now() + interval '30 days')""",
    """INSERT INTO notifications (user_id, case_id, idempotency_key, kind, title, body, created_at)
       VALUES ($2, $1, 'case:' || $1::uuid::text || ':opened', 'case', 'Your appeal is open', 'We track it.',
               now())""",
]


async def someones_case(app: FastAPI, account: Account, source: str) -> str:
    """A case, as the case graph leaves one (its thread, an event, a timer, a notification), and a webhook.
    Written straight to the tables: no case run goes on while the exports are compared."""
    case_id, user = uuid.uuid4(), uuid.UUID(account.id)
    async with app.state.pool.acquire() as con, con.transaction():
        for statement in CASE_ROWS:
            args = (case_id, user, uuid.UUID(source)) if "source_conversation_id" in statement else (case_id, user)
            await con.execute(statement, *args)
    with acting_as(user):  # the service acts for a user, as a request would (row-level security)
        await app.state.webhooks.create(user, "https://hooks.example.com/navigator")
    return str(case_id)


async def test_the_export_and_the_erasure_know_every_table(pool: asyncpg.Pool) -> None:
    """Every table that holds a person's rows is exported or says why not, and goes with the account."""
    personal = set(await user_tables(pool)) | {c.table for c in await conversation_columns(pool)}
    cascade_users = await tables_deleted_with(pool, "users")
    cascade_conversations = await tables_deleted_with(pool, "conversations")
    personal |= set(cascade_users) | set(cascade_conversations) | {"users"}
    accounted = set(EXPORTED_SECTIONS.values()) | set(NOT_EXPORTED)
    assert personal - accounted == set(), "export these tables (db/lifecycle/export.py) or say why not"
    for table, actions in {**cascade_users, **cascade_conversations}.items():
        assert actions <= {CASCADE, SET_NULL}, (table, actions)


async def test_export_delete_everything_import_gives_the_same_export(
        wclient: httpx.AsyncClient, worker_app: FastAPI, migrated_dsn: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    alice, bob = await register_and_login(wclient), await register_and_login(wclient)
    alice_conversations = await someones_data(wclient, alice)
    alice_conversations.append(await someones_case(worker_app, alice, alice_conversations[0]))
    bob_conversations = [(await ask(wclient, bob, "What is coinsurance?"))["conversation_id"]]
    full, mine = tmp_path / "everyone.json", tmp_path / "alice.json"
    navigator(migrated_dsn, "export", "--with-secrets", "--out", str(full))
    assert full.stat().st_mode & 0o077 == 0
    navigator(migrated_dsn, "export", "--user", alice.email, "--out", str(mine))

    # GET /me/export: the person's whole data, the very document the CLI writes for them, no secrets.
    own = await wclient.get("/me/export", headers=alice.headers)
    assert own.status_code == 200 and "attachment" in own.headers["content-disposition"]
    assert own.content == mine.read_bytes()
    document = own.json()
    assert "password_hash" not in own.text and "key_hash" not in own.text and "whsec_" not in own.text
    assert "whsec_" in full.read_text()  # the webhook's signing secret moves only with --with-secrets
    [person] = document["users"]
    assert person["user"]["email"] == alice.email and person["profile"]["insurer"] == "Acme Health"
    assert {d["filename"] for d in person["documents"]} == {"letter.pdf", "note.txt"}
    note = next(d for d in person["documents"] if d["filename"] == "note.txt")
    assert base64.b64decode(note["file"]) == PLAIN_LETTER
    for section in ("conversation_messages", "runs", "run_protocol_options", "checkpoints", "checkpoint_blobs",
                    "workflow_states", "agent_states", "risk_detections", "document_chunks", "api_keys", "cases",
                    "case_events", "timers", "webhooks", "notifications"):
        assert person[section], section

    # DELETE /me: the password again, then every row of the person goes, and nobody else's.
    wrong = await wclient.request("DELETE", "/me", json={"password": "not it at all"}, headers=alice.headers)
    assert wrong.status_code == 403 and await rows_of(pool, alice.id, alice_conversations)
    for account, conversations in ((alice, alice_conversations), (bob, bob_conversations)):
        gone = await wclient.request("DELETE", "/me", json={"password": PASSWORD}, headers=account.headers)
        assert gone.status_code == 204, gone.text
        assert await rows_of(pool, account.id, conversations) == {}
        assert (await wclient.get("/auth/me", headers=account.headers)).status_code == 401
    # The audit trail keeps the exports and the deletion (ids and labels, no foreign key to users).
    recorded = {(row["event"], row["via"]) for row in await pool.fetch(
        "SELECT event, details ->> 'via' AS via FROM audit_events WHERE user_id = $1", uuid.UUID(alice.id))}
    assert {("account.exported", "cli"), ("account.exported", "api"), ("account.deleted", "api")} <= recorded
    before = await table_counts(pool)
    assert before["users"] == 0 and before["conversations"] == 0 and before["checkpoints"] == 0

    # Import: the same export, byte for byte; twice: nothing stored twice.
    first = navigator(migrated_dsn, "import", str(full))
    assert "accounts: 2 created, 0 already there" in first.stdout, first.stdout
    again = tmp_path / "again.json"
    navigator(migrated_dsn, "export", "--with-secrets", "--out", str(again))
    assert again.read_bytes() == full.read_bytes()
    navigator(migrated_dsn, "export", "--user", alice.email, "--out", str(again))
    assert again.read_bytes() == mine.read_bytes()
    counts = await table_counts(pool)
    second = navigator(migrated_dsn, "import", str(full), str(mine))
    assert "accounts: 0 created, 3 already there" in second.stdout and "stored: nothing new" in second.stdout
    assert await table_counts(pool) == counts

    # The person carries on where they were: signed in with their password, the workflow remembers.
    back = await register_and_login_existing(wclient, alice.email)
    follow = await ask(wclient, back, "And how long do I have to appeal?", alice_conversations[0])
    assert follow["status"] == "success"
    state = (await wclient.get(f"/conversations/{alice_conversations[0]}/workflow", headers=back.headers)).json()
    assert state["workflow"] is not None


async def register_and_login_existing(http: httpx.AsyncClient, email: str) -> Account:
    tokens = (await http.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
    me = (await http.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    return Account(email, PASSWORD, me["id"], tokens["access_token"], tokens["refresh_token"])


async def test_an_export_without_secrets_moves_in_once_and_cannot_sign_in(
        wclient: httpx.AsyncClient, migrated_dsn: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    carol = await register_and_login(wclient)
    await ask(wclient, carol, "What is a copay?")
    plain = tmp_path / "carol.json"
    navigator(migrated_dsn, "export", "--user", carol.email, "--out", str(plain))
    gone = await wclient.request("DELETE", "/me", json={"password": PASSWORD}, headers=carol.headers)
    assert gone.status_code == 204
    first = navigator(migrated_dsn, "import", str(plain))
    assert "accounts: 1 created" in first.stdout and "conversation_messages" in first.stdout
    counts = await table_counts(pool)
    navigator(migrated_dsn, "import", str(plain))
    assert await table_counts(pool) == counts
    refused = await wclient.post("/auth/login", json={"email": carol.email, "password": PASSWORD})
    assert refused.status_code == 401  # no password moved with it
    messages = await pool.fetchval("SELECT count(*) FROM conversation_messages WHERE user_id = $1", uuid.UUID(carol.id))
    assert messages == 2



async def test_an_import_into_a_database_whose_ids_ran_elsewhere_numbers_around_the_kept_ones(
        wclient: httpx.AsyncClient, migrated_dsn: str, pool: asyncpg.Pool, tmp_path: Path) -> None:
    dave, erin = await register_and_login(wclient), await register_and_login(wclient)
    await ask(wclient, dave, "What is a copay?")
    first, second = [row["id"] for row in await pool.fetch(
        "SELECT id FROM conversation_messages WHERE user_id = $1 ORDER BY id", uuid.UUID(dave.id))]
    plain = tmp_path / "dave.json"
    navigator(migrated_dsn, "export", "--user", dave.email, "--out", str(plain))
    gone = await wclient.request("DELETE", "/me", json={"password": PASSWORD}, headers=dave.headers)
    assert gone.status_code == 204
    # Elsewhere, the first id was taken and the counter stands just below the second: the second
    # keeps its id, and the first must be numbered after it, not onto it.
    theirs = (await ask(wclient, erin, "What is coinsurance?"))["conversation_id"]
    await pool.execute("INSERT INTO conversation_messages (user_id, id, conversation_id, role, content) "
                       "OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, 'user', 'taken')",
                       uuid.UUID(erin.id), first, uuid.UUID(theirs))
    await pool.execute("SELECT setval(pg_get_serial_sequence('conversation_messages', 'id'), $1)", second - 1)
    navigator(migrated_dsn, "import", str(plain))
    ids = [row["id"] for row in await pool.fetch(
        "SELECT id FROM conversation_messages WHERE user_id = $1 ORDER BY id", uuid.UUID(dave.id))]
    assert len(ids) == 2 and ids[0] == second and ids[1] > second
