"""Service totals for admins, with what the model cost per day (`model_usage`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import AdminUser, Analytics, SettingsDep, Users
from api.errors import AUTH_RESPONSES
from api.schemas import CleanupOut, ExpiredOut, ModelUsageOut, StatsOut
from db.cases import count_cases
from db.conversations import ConversationService
from db.lifecycle.cleanup import count_expired
from db.runs.outbox import counts_by_status as delivery_counts
from db.runs.service import count_runs_by_status
from db.runs.timers import counts_by_status as timer_counts
from db.usage import usage_by_day

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, analytics: Analytics, settings: SettingsDep, request: Request,
                days: Annotated[int, Query(ge=1, le=366, description="days of model usage, today included")] = 30,
                ) -> StatsOut:
    """`conversations` counts the live ones; `retention.expired` what expired and is not deleted yet;
    `model_usage` what the model cost per day."""
    # Totals over every user: on the owner's pool, which row-level security does not restrict
    # (the services of the other routes see only the acting user's rows).
    pool = request.app.state.pool
    counts = await ConversationService(pool).counts()
    expired = await count_expired(pool)
    retention = CleanupOut(conversation_ttl_hours=settings.conversation_ttl_hours,
                           cleanup_interval_seconds=settings.cleanup_interval_seconds,
                           expired=ExpiredOut(**asdict(expired)))
    usage = [ModelUsageOut(**row) for row in await usage_by_day(pool, days)]
    return StatsOut(users=await users.counts_by_role(), conversations=counts["conversations"],
                    messages=counts["messages"], runs=await count_runs_by_status(pool),
                    analytics_events=await analytics.counts(), cases=await count_cases(pool),
                    timers=await timer_counts(pool), deliveries=await delivery_counts(pool), retention=retention,
                    model_usage=usage)
