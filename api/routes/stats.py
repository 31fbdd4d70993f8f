"""Service totals for admins."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from api.deps import AdminUser, Analytics, Cases, Conversations, SettingsDep, Users
from api.errors import AUTH_RESPONSES
from api.schemas import CleanupOut, ExpiredOut, StatsOut
from db.lifecycle.cleanup import count_expired
from db.runs.outbox import counts_by_status as delivery_counts
from db.runs.timers import counts_by_status as timer_counts

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, conversations: Conversations, analytics: Analytics, cases: Cases,
                settings: SettingsDep, request: Request) -> StatsOut:
    """`conversations` counts the live ones; `retention.expired` what expired and is not deleted yet."""
    counts = await conversations.counts()
    run_counts = await request.app.state.runs.counts_by_status()
    expired = await count_expired(request.app.state.pool)
    retention = CleanupOut(conversation_ttl_hours=settings.conversation_ttl_hours,
                           cleanup_interval_seconds=settings.cleanup_interval_seconds,
                           expired=ExpiredOut(**asdict(expired)))
    return StatsOut(users=await users.counts_by_role(), conversations=counts["conversations"],
                    messages=counts["messages"], runs=run_counts, analytics_events=await analytics.counts(),
                    cases=await cases.count(), timers=await timer_counts(cases.pool),
                    deliveries=await delivery_counts(cases.pool), retention=retention)
