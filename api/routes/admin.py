"""For administrators: the audit trail of security events (db/audit.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminUser, Audit, AuditTrail
from api.errors import AUTH_RESPONSES
from api.schemas import AuditEventOut, AuditPageOut
from db.audit import MAX_PAGE

router = APIRouter(prefix="/admin", tags=["operations"],
                   responses={**AUTH_RESPONSES, 403: {"description": "Admin role required"}})

EVENT_FILTER = r"^[a-z_]+(\.[a-z_]+)*$"


@router.get("/audit", response_model=AuditPageOut)
async def audit_trail(admin: AdminUser, trail: AuditTrail, audit: Audit,
                      limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
                      cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
                      event: Annotated[str | None, Query(max_length=64, pattern=EVENT_FILTER,
                                                         description="only this event (`auth.login_failed`)")] = None,
                      user_id: Annotated[uuid.UUID | None, Query(description="only events about or by this "
                                                                             "account")] = None) -> AuditPageOut:
    """Security events, newest first; pass `next_cursor` back as `cursor` for the next page.
    Reading the trail is itself recorded (`admin.audit_viewed`)."""
    page = await trail.page(limit=limit, cursor=cursor, event=event, user_id=user_id)
    await audit.record("admin.audit_viewed", admin.id, actor_id=admin.id, filter_event=event,
                       about=str(user_id) if user_id else None)
    return AuditPageOut(items=[AuditEventOut(**vars(item)) for item in page.items], next_cursor=page.next_cursor)
