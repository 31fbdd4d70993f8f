"""Schemathesis over the whole API (in-process ASGI): no server errors, no response that
disagrees with the OpenAPI document. A modest example count keeps the suite fast;
scripts/dev/fuzz_api.py runs the same checks with thousands of examples per operation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.python.asgi import shutdown_lifespans

from api.app import create_app
from api.security import create_access_token, hash_password
from db.settings import Settings
from scripts.dev.fuzz_api import EXCLUDED_CHECKS
from tests.conftest import make_settings

EXAMPLES_PER_OPERATION = 8


@pytest.fixture(scope="module")
async def fuzz_user(migrated_dsn: str) -> uuid.UUID:
    con = await asyncpg.connect(migrated_dsn)
    try:
        user_id: uuid.UUID = await con.fetchval(
            "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'admin') RETURNING id",
            f"fuzz-{uuid.uuid4().hex[:8]}@example.com", hash_password("fuzz password 1"))
    finally:
        await con.close()
    return user_id


@pytest.fixture(scope="module")
def fuzz_settings(migrated_dsn: str) -> Settings:
    return make_settings(migrated_dsn)


@pytest.fixture(scope="module")
def api_schema(fuzz_settings: Settings, migrated_dsn: str, fuzz_user: uuid.UUID) -> Iterator[schemathesis.BaseSchema]:
    # Schemathesis runs the app (and its lifespan) on its own event-loop thread.
    app = create_app(fuzz_settings, dsn=migrated_dsn, workers=None, chat_wait_seconds=0.05)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    shutdown_lifespans()


def operation_ids() -> list[tuple[str, str, str]]:
    """(mode, method, path) of every operation, read from the document of an app that is never started.
    Negative examples only where there is an input to get wrong."""
    document = create_app(make_settings("postgresql://nobody@localhost/none"), workers=None).openapi()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            found.append(("positive", method.upper(), path))
            if operation.get("parameters") or operation.get("requestBody"):
                found.append(("negative", method.upper(), path))
    return found


# schemathesis' pytest integration (from_fixture) does not work with pytest 9, so each
# operation is a parametrized test that runs the operation's hypothesis strategy itself.
@pytest.mark.parametrize(("mode", "method", "path"), operation_ids(), ids=lambda value: str(value))
def test_api_conforms_to_its_openapi_document(mode: str, method: str, path: str,
                                              api_schema: schemathesis.BaseSchema,
                                              fuzz_settings: Settings, fuzz_user: uuid.UUID) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        # A fresh token per case: a fuzzed /auth/logout must not log the next case out.
        token = create_access_token(fuzz_settings, fuzz_user, session_id=uuid.uuid4()).token
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               excluded_checks=EXCLUDED_CHECKS.get((method, path)))

    check()
