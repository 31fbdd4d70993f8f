"""How the app connects: requests as the restricted service role, or as the owner with a warning."""

from __future__ import annotations

import logging

import httpx
import pytest

from api.app import create_app
from db.service_role import SERVICE_ROLE, with_login
from tests.api.conftest import register_and_login
from tests.conftest import make_settings


async def test_requests_connect_as_the_service_role(migrated_dsn: str) -> None:
    app = create_app(make_settings(migrated_dsn), dsn=migrated_dsn, workers=None)
    async with app.router.lifespan_context(app):
        assert await app.state.service_pool.fetchval("SELECT current_user") == SERVICE_ROLE
        assert await app.state.pool.fetchval("SELECT current_user") != SERVICE_ROLE  # workers: the owner
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            account = await register_and_login(client)
            created = await client.post("/conversations", json={"title": "mine"}, headers=account.headers)
            assert created.status_code == 201
            assert (await client.get("/health")).status_code == 200


async def test_without_app_database_url_it_warns_and_still_serves(migrated_dsn: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(make_settings(migrated_dsn, app_database_url=None), dsn=migrated_dsn, workers=None)
    with caplog.at_level(logging.WARNING, logger="api.app"):
        async with app.router.lifespan_context(app):
            assert app.state.service_pool is None
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                account = await register_and_login(client)
                listed = await client.get("/conversations", headers=account.headers)
                assert listed.status_code == 200
    assert any("row-level security is not enforced" in r.getMessage() for r in caplog.records)


async def test_a_login_that_fails_makes_health_and_readiness_say_unavailable(migrated_dsn: str,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    wrong = with_login(migrated_dsn, "no_such_role", "whatever")
    app = create_app(make_settings(migrated_dsn, app_database_url=wrong), dsn=migrated_dsn, workers=None)
    with caplog.at_level(logging.WARNING, logger="api.app"):
        async with app.router.lifespan_context(app):
            pass
    warned = [r.getMessage() for r in caplog.records if "APP_DATABASE_URL" in r.getMessage()]
    assert warned and "whatever" not in warned[0]  # names the setting, never the password
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            health = await client.get("/health")
            assert health.status_code == 503 and health.json()["database"] == "unavailable"
            ready = await client.get("/readyz")  # the owner's pool answers; the requests' does not
            assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable", ready.text


async def test_the_hourly_housekeeping_runs_the_cleanup_schedules_retention_purges(migrated_dsn: str) -> None:
    from api.app import purge_expired_credentials
    from tests.utils.factories import insert_user

    app = create_app(make_settings(migrated_dsn), dsn=migrated_dsn, workers=None)
    async with app.router.lifespan_context(app):
        pool = app.state.pool
        user = await insert_user(pool)
        jti = f"expired-{user.hex[:8]}"
        await pool.execute("INSERT INTO revoked_access_tokens (jti, user_id, expires_at) "
                           "VALUES ($1, $2, now() - interval '1 minute')", jti, user)
        await purge_expired_credentials(app)
        assert await pool.fetchval("SELECT count(*) FROM revoked_access_tokens WHERE jti = $1", jti) == 0
