"""Service totals for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import AdminUser, Analytics, Users
from api.errors import AUTH_RESPONSES
from api.schemas import StatsOut
from db.cases import count_cases
from db.conversations import ConversationService
from db.runs.outbox import counts_by_status as delivery_counts
from db.runs.service import count_runs_by_status
from db.runs.timers import counts_by_status as timer_counts

router = APIRouter(tags=["operations"], responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})


@router.get("/stats", response_model=StatsOut)
async def stats(admin: AdminUser, users: Users, analytics: Analytics, request: Request) -> StatsOut:
    # Totals over every user: on the owner's pool, which row-level security does not restrict
    # (the services of the other routes see only the acting user's rows).
    pool = request.app.state.pool
    counts = await ConversationService(pool).counts()
    return StatsOut(users=await users.counts_by_role(), conversations=counts["conversations"],
                    messages=counts["messages"], runs=await count_runs_by_status(pool),
                    analytics_events=await analytics.counts(), cases=await count_cases(pool),
                    timers=await timer_counts(pool), deliveries=await delivery_counts(pool))
