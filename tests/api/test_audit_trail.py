"""The audit trail: security events recorded with who, from where and which request; read by
administrators page by page; append-only in the database; kept for AUDIT_RETENTION_DAYS."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from db.audit import AuditLog, purge_audit_events
from tests.api.conftest import PASSWORD, Account, client_at, register_and_login
from tests.utils.db import tables_containing


async def events_of(pool: asyncpg.Pool, user_id: str) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT event, host(client_address) AS address, request_id, details, actor_id "
                            "FROM audit_events WHERE user_id = $1 ORDER BY id", uuid.UUID(user_id))


async def make_admin(app: FastAPI, client: httpx.AsyncClient) -> Account:
    admin = await register_and_login(client)
    await app.state.pool.execute("UPDATE users SET role = 'admin' WHERE email = $1", admin.email)
    return admin


async def test_security_events_are_recorded_with_address_and_request_id(app: FastAPI) -> None:
    async with client_at(app, "198.51.100.44") as client:
        account = await register_and_login(client)
        trace = {"X-Request-ID": "trace-me-1"}
        assert (await client.post("/auth/login", json={"email": account.email, "password": "wrong password"},
                                  headers=trace)).status_code == 401
        key = (await client.post("/auth/api-keys", json={"name": "script"}, headers=account.headers)).json()
        assert (await client.delete(f"/auth/api-keys/{key['id']}", headers=account.headers)).status_code == 204
        rotated = (await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})).json()
        await app.state.pool.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - interval '1 minute' "
                                     "WHERE rotated_at IS NOT NULL")
        assert (await client.post("/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
        second = (await client.post("/auth/login", json={"email": account.email, "password": PASSWORD})).json()
        assert (await client.post("/auth/logout",
                                  headers={"Authorization": f"Bearer {second['access_token']}"})).status_code == 204
        unknown = await client.post("/auth/login", json={"email": "nobody-here@example.com", "password": "guess"})
        assert unknown.status_code == 401

    rows = await events_of(app.state.pool, account.id)
    assert [row["event"] for row in rows] == [
        "auth.registered", "auth.login", "auth.login_failed", "api_key.created", "api_key.revoked",
        "auth.refresh_reuse", "auth.login", "auth.logout"]
    assert {row["address"] for row in rows} == {"198.51.100.44"}
    assert rows[2]["request_id"] == "trace-me-1" and all(row["request_id"] for row in rows)
    assert rows[3]["details"]["key_id"] == key["id"] and rows[4]["details"] == {"key_id": key["id"]}
    assert rows[1]["details"] == {"via": "json"}
    anonymous = await app.state.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE event = 'auth.login_failed' AND user_id IS NULL")
    assert anonymous >= 1
    # Nothing secret is kept: no password, token or key, and not the address someone tried.
    leaks = await tables_containing(app.state.pool, [PASSWORD, account.refresh_token, account.access_token,
                                                      rotated["refresh_token"], key["key"], "nobody-here"])
    assert not [table for table, _ in leaks if table == "audit_events"], leaks


async def test_admins_read_the_trail_page_by_page(app: FastAPI, client: httpx.AsyncClient, alice: Account) -> None:
    assert (await client.get("/admin/audit")).status_code == 401
    assert (await client.get("/admin/audit", headers=alice.headers)).status_code == 403
    admin = await make_admin(app, client)
    for _ in range(3):
        await client.post("/auth/login", json={"email": alice.email, "password": "not it"})
    first = await client.get("/admin/audit", params={"limit": 2, "event": "auth.login_failed",
                                                     "user_id": alice.id}, headers=admin.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["event"] for item in page["items"]] == ["auth.login_failed"] * 2 and page["next_cursor"]
    rest = (await client.get("/admin/audit", params={"limit": 2, "event": "auth.login_failed", "user_id": alice.id,
                                                     "cursor": page["next_cursor"]}, headers=admin.headers)).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [item["id"] for item in page["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    everything = (await client.get("/admin/audit", headers=admin.headers)).json()["items"]
    assert everything[0]["event"] == "admin.audit_viewed" and everything[0]["actor_id"] == admin.id
    for bad in ({"limit": 0}, {"limit": 201}, {"cursor": "abc"}, {"event": "DROP TABLE"}, {"user_id": "x"}):
        assert (await client.get("/admin/audit", params=bad, headers=admin.headers)).status_code == 422, bad


async def test_the_trail_is_append_only_and_purged_after_retention(app: FastAPI) -> None:
    pool: asyncpg.Pool = app.state.pool
    log = AuditLog(pool)
    old_user, new_user = uuid.uuid4(), uuid.uuid4()
    await log.record("admin.promoted", user_id=old_user, details={"via": "test"})
    await log.record("admin.promoted", user_id=new_user, details={"via": "test"})
    for statement in ("UPDATE audit_events SET event = 'auth.login' WHERE user_id = $1",
                      "DELETE FROM audit_events WHERE user_id = $1"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(statement, old_user)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute("TRUNCATE audit_events")
    # Made old by the table's owner with the trigger set aside, as a year passing would.
    async with pool.acquire() as con, con.transaction():
        await con.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        await con.execute("UPDATE audit_events SET created_at = now() - interval '400 days' WHERE user_id = $1",
                          old_user)
        await con.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    async with pool.acquire() as con, con.transaction():
        assert await purge_audit_events(con, app.state.settings) >= 1  # AUDIT_RETENTION_DAYS=365
    remaining = {row["user_id"] for row in await pool.fetch("SELECT user_id FROM audit_events")}
    assert new_user in remaining and old_user not in remaining
    with pytest.raises(ValueError, match="invalid audit event name"):
        await log.record("Not An Event", user_id=new_user)  # type: ignore[arg-type]


async def test_row_level_security_lets_people_read_their_own_and_admins_all(app: FastAPI) -> None:
    """What the policies do once the service connects as a role RLS binds (issue 14's part C)."""
    pool: asyncpg.Pool = app.state.pool
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    for user in (mine, theirs):
        await AuditLog(pool).record("auth.login", user_id=user)
    role = f"audit_rls_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as con:
        tx = con.transaction()
        await tx.start()
        try:
            await con.execute(f"CREATE ROLE {role} NOLOGIN")
            await con.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON audit_events TO {role}")
            await con.execute(f"SET LOCAL ROLE {role}")
            await con.execute("SELECT set_config('app.user_id', $1, true)", str(mine))
            seen = {row["user_id"] for row in await con.fetch("SELECT user_id FROM audit_events")}
            assert seen == {mine}
            await con.execute("INSERT INTO audit_events (event) VALUES ('auth.login_failed')")  # anyone may append
            assert await con.execute("DELETE FROM audit_events") == "DELETE 0"  # no policy lets it delete
            await con.execute("SELECT set_config('app.user_role', 'admin', true)")
            seen = {row["user_id"] for row in await con.fetch("SELECT user_id FROM audit_events")}
            assert {mine, theirs} <= seen
        finally:
            await tx.rollback()
    enabled = await pool.fetchval("SELECT relrowsecurity FROM pg_class WHERE relname = 'audit_events'")
    assert enabled is True
