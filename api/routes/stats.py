"""Service totals for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import AdminUser, Analytics, Conversations, Users
from api.errors import AUTH_RESPONSES
from api.schemas import StatsOut

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, conversations: Conversations, analytics: Analytics,
                request: Request) -> StatsOut:
    counts = await conversations.counts()
    run_counts = await request.app.state.runs.counts_by_status()
    return StatsOut(users=await users.counts_by_role(), conversations=counts["conversations"],
                    messages=counts["messages"], runs=run_counts, analytics_events=await analytics.counts())
