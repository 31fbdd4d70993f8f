#!/usr/bin/env python3
"""Long schemathesis run over the whole API: `python scripts/dev/fuzz_api.py --examples 1000`.

The app runs in-process (schemathesis' ASGI transport) with in-process workers
on a database of its own, created on DATABASE_URL's server (or the embedded
one) and dropped afterwards. Every operation gets up to --examples generated
requests, checked for server errors and for responses that disagree with the
OpenAPI document. Prints one line per operation and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.security import create_access_token, hash_password
from db.migrate import migrate_up
from db.pool import resolve_dsn
from db.scratch import create_database, drop_database
from db.settings import Settings, load_settings

# Checks that cannot hold for an operation, and why. An upload's schema says "a file"; whether the
# bytes are a readable PDF or text is decided by reading them (415/422), which no schema can express.
# Nor can a pattern say "letters of one writing system": a registration email that mixes them is 422.
EXCLUDED_CHECKS = {("POST", "/documents"): [positive_data_acceptance],
                   ("POST", "/auth/register"): [positive_data_acceptance]}


async def prepare(admin_dsn: str) -> tuple[str, uuid.UUID]:
    dsn = await create_database(admin_dsn, prefix="fuzz")
    con = await asyncpg.connect(dsn)
    try:
        await migrate_up(con)
        user_id: uuid.UUID = await con.fetchval(
            "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'admin') RETURNING id",
            "fuzz-admin@example.com", hash_password("fuzz password 1"))
    finally:
        await con.close()
    return dsn, user_id


def fuzz(app_settings: Settings, dsn: str, user_id: uuid.UUID, examples: int, only: str | None,
         modes: list[schemathesis.GenerationMode]) -> int:
    app = create_app(app_settings, dsn=dsn, chat_wait_seconds=5)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = 0
    total = 0
    started = time.perf_counter()
    try:
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation, mode in ((op, mode) for mode in modes for op in operations):
            label = f"{mode.value[:3]} {operation.method.upper()} {operation.path}"
            if only and only not in label:
                continue
            count = 0

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def check(case: schemathesis.Case) -> None:
                nonlocal count
                count += 1
                token = create_access_token(app_settings, user_id, session_id=uuid.uuid4()).token
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                       excluded_checks=EXCLUDED_CHECKS.get((case.method.upper(), case.path)))

            op_started = time.perf_counter()
            try:
                check()
                outcome = "ok"
            except Unsatisfiable:
                outcome = "n/a (no input to vary)"
            except (Exception, BaseExceptionGroup) as exc:  # a FailureGroup: every distinct failure
                failures += 1
                outcome = "FAILED: " + " | ".join(str(exc).splitlines()[:12])
            total += count
            print(f"{label:<52} {count:>6} examples {time.perf_counter() - op_started:7.1f} s  {outcome}",
                  flush=True)
    finally:
        shutdown_lifespans()
    print(f"total: {total} requests in {time.perf_counter() - started:.0f} s; "
          f"{failures} operation(s) with failures", flush=True)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="examples per operation (default 1000)")
    parser.add_argument("--only", default=None, help="only operations whose 'METHOD /path' contains this")
    parser.add_argument("--mode", choices=["positive", "negative", "both"], default="both",
                        help="schema-valid requests, invalid ones, or both (default)")
    args = parser.parse_args(argv)
    base = load_settings()
    admin_dsn = resolve_dsn(base)
    dsn, user_id = asyncio.run(prepare(admin_dsn))
    app_settings = load_settings(database_url=dsn,
                                 jwt_secret_key=base.jwt_secret_key or "fuzz-secret-" + uuid.uuid4().hex)
    try:
        modes = [m for m in schemathesis.GenerationMode if args.mode in (m.value, "both")]
        return fuzz(app_settings, dsn, user_id, args.examples, args.only, modes)
    finally:
        asyncio.run(drop_database(admin_dsn, dsn))


if __name__ == "__main__":
    sys.exit(main())
