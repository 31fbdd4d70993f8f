"""The official langgraph-checkpoint-conformance suite, every capability included."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from db.checkpoint import AsyncpgSaver


async def test_conformance_suite_passes_in_full(pool: asyncpg.Pool) -> None:
    @checkpointer_test(name="AsyncpgSaver")
    async def asyncpg_saver() -> AsyncGenerator[AsyncpgSaver, None]:
        yield AsyncpgSaver(pool)

    report = await validate(asyncpg_saver)
    report.print_report()
    results = report.results
    passed = sum(r.tests_passed for r in results.values())
    failed = sum(r.tests_failed for r in results.values())
    print(f"conformance: {passed} passed, {failed} failed")
    failures = [f for r in results.values() for f in r.failures]
    assert failed == 0, "\n".join(failures)
    # Every capability, the optional ones too, was detected and ran.
    assert {name for name, r in results.items() if r.detected and r.passed} == {c.value for c in ALL_CAPABILITIES}
    assert passed >= 81
