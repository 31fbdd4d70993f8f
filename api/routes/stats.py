"""Service totals for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import AdminUser, Analytics, Cases, Conversations, Users
from api.errors import AUTH_RESPONSES
from api.schemas import StatsOut
from db.runs.outbox import counts_by_status as delivery_counts
from db.runs.timers import counts_by_status as timer_counts

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, conversations: Conversations, analytics: Analytics, cases: Cases,
                request: Request) -> StatsOut:
    counts = await conversations.counts()
    run_counts = await request.app.state.runs.counts_by_status()
    return StatsOut(users=await users.counts_by_role(), conversations=counts["conversations"],
                    messages=counts["messages"], runs=run_counts, analytics_events=await analytics.counts(),
                    cases=await cases.count(), timers=await timer_counts(cases.pool),
                    deliveries=await delivery_counts(cases.pool))
