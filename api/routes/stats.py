"""Service totals for admins."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from api.deps import AdminUser, Analytics, Conversations, SettingsDep, Users
from api.errors import AUTH_RESPONSES
from api.schemas import CleanupOut, ExpiredOut, StatsOut
from db.lifecycle.cleanup import count_expired

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, conversations: Conversations, analytics: Analytics,
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
                    retention=retention)
