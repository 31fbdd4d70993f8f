"""Shared by the case chaos script and the crash tests: cases whose reminder came due while no
worker ran, a webhook receiver registered for their owner, and the exactly-once audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from db.cases import CaseService
from db.clock import Clock
from db.webhooks import WebhookService

REMINDER_FACTS = {"service": "MRI of the lumbar spine", "plan_type": "employer", "claim_number": "CLM-CHAOS"}
AUDIT = """
SELECT (SELECT count(*) FROM timers t WHERE t.thread_id = ANY($1::uuid[]) AND t.purpose = 'reminder'
           AND t.status = 'fired') AS fired,
       (SELECT count(*) FROM timers t WHERE t.thread_id = ANY($1::uuid[]) AND t.purpose = 'reminder'
           AND t.status = 'pending') AS pending,
       (SELECT count(*) FROM runs r WHERE r.conversation_id = ANY($1::uuid[]) AND r.kind = 'timer') AS timer_runs,
       (SELECT count(*) FROM runs r WHERE r.conversation_id = ANY($1::uuid[]) AND r.status NOT IN ('success'))
           AS unfinished_runs,
       (SELECT count(*) FROM notifications n WHERE n.case_id = ANY($1::uuid[])) AS notifications,
       (SELECT count(*) FROM outbox o JOIN notifications n ON n.id = o.notification_id
         WHERE n.case_id = ANY($1::uuid[]) AND o.status = 'delivered') AS delivered
"""


def opened_long_ago(now: datetime) -> tuple[dict[str, Any], Clock]:
    """Facts, and a clock 10 days back, for a case opened then whose filing deadline is tomorrow:
    its 3-day reminder came due two days ago (while no worker ran) and fires as soon as one does."""
    deadline = (now + timedelta(days=1)).date()
    facts = {**REMINDER_FACTS, "denial_date": (deadline - timedelta(days=180)).isoformat()}
    return facts, Clock(now - timedelta(days=10))


async def open_overdue_cases(pool: asyncpg.Pool, user_id: Any, count: int) -> list[Any]:
    """`count` cases of `user_id`, each opened (its opening run queued) with a reminder that will be due."""
    facts, clock = opened_long_ago(datetime.now(UTC))
    service = CaseService(pool, clock)
    return [(await service.open(user_id, "appeal", facts=facts, title=f"Chaos case {i}")).case.id
            for i in range(count)]


async def register_webhook(pool: asyncpg.Pool, document_key: bytes, user_id: Any, url: str) -> str:
    _webhook, secret = await WebhookService(pool, document_key).create(user_id, url)
    return secret


async def audit(pool: asyncpg.Pool, case_ids: list[Any]) -> dict[str, int]:
    row = await pool.fetchrow(AUDIT, case_ids)
    return {key: int(row[key]) for key in row.keys()}
