"""Service totals for admins, with what the model cost per day (`model_usage`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import AdminUser, Analytics, Cases, Conversations, SettingsDep, Users
from api.errors import AUTH_RESPONSES
from api.schemas import CleanupOut, ExpiredOut, ModelUsageOut, StatsOut
from db.lifecycle.cleanup import count_expired
from db.runs.outbox import counts_by_status as delivery_counts
from db.runs.timers import counts_by_status as timer_counts
from db.usage import usage_by_day

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, conversations: Conversations, analytics: Analytics, cases: Cases,
                settings: SettingsDep, request: Request,
                days: Annotated[int, Query(ge=1, le=366, description="days of model usage, today included")] = 30,
                ) -> StatsOut:
    """`conversations` counts the live ones; `retention.expired` what expired and is not deleted yet;
    `model_usage` what the model cost per day."""
    counts = await conversations.counts()
    run_counts = await request.app.state.runs.counts_by_status()
    expired = await count_expired(request.app.state.pool)
    retention = CleanupOut(conversation_ttl_hours=settings.conversation_ttl_hours,
                           cleanup_interval_seconds=settings.cleanup_interval_seconds,
                           expired=ExpiredOut(**asdict(expired)))
    usage = [ModelUsageOut(**row) for row in await usage_by_day(request.app.state.pool, days)]
    return StatsOut(users=await users.counts_by_role(), conversations=counts["conversations"],
                    messages=counts["messages"], runs=run_counts, analytics_events=await analytics.counts(),
                    cases=await cases.count(), timers=await timer_counts(cases.pool),
                    deliveries=await delivery_counts(cases.pool), retention=retention, model_usage=usage)
