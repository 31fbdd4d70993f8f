"""The caller's notifications (what their cases told them, read or unread, with each delivery's
state) and the webhooks they are delivered to."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.case_schemas import (
    DeliveryOut,
    MarkedRead,
    NotificationOut,
    NotificationPageOut,
    NotificationUpdate,
    WebhookCreate,
    WebhookCreatedOut,
    WebhookOut,
)
from api.deps import CurrentUser, Notifications, Webhooks
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from db.notifications import Notification
from db.paging import CURSOR_PATTERN, MAX_PAGE_SIZE
from db.webhooks import MAX_WEBHOOKS_PER_USER, Webhook

router = APIRouter(prefix="/me", tags=["notifications"], responses=AUTH_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def notification_out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.id, case_id=notification.case_id, kind=notification.kind, title=notification.title,
        body=notification.body, data=notification.data, idempotency_key=notification.idempotency_key,
        created_at=notification.created_at, read=notification.read, read_at=notification.read_at,
        deliveries=[DeliveryOut.model_validate(d, from_attributes=True) for d in notification.deliveries])


def webhook_out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(id=webhook.id, url=webhook.url, created_at=webhook.created_at, deliveries=webhook.deliveries)


@router.get("/notifications", response_model=NotificationPageOut)
async def list_notifications(user: CurrentUser, notifications: Notifications, limit: Limit = 20,
                             cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
                             unread: bool = False) -> NotificationPageOut:
    """Newest first (only unread ones with `unread=true`); each lists its deliveries to your webhooks
    and email, with attempts and, for a failed or dead one, the reason."""
    page = await notifications.list_page(user.id, limit=limit, cursor=cursor, unread_only=unread)
    return NotificationPageOut(items=[notification_out(n) for n in page.items], next_cursor=page.next_cursor,
                               unread=page.unread)


@router.patch("/notifications/{notification_id}", response_model=NotificationOut, responses=OWNED_RESPONSES)
async def update_notification(notification_id: uuid.UUID, body: NotificationUpdate, user: CurrentUser,
                              notifications: Notifications) -> NotificationOut:
    """Mark it read (or unread again)."""
    return notification_out(await notifications.mark(notification_id, user.id, body.read))


@router.post("/notifications/read", response_model=MarkedRead)
async def mark_all_read(user: CurrentUser, notifications: Notifications) -> MarkedRead:
    """Mark every notification read."""
    return MarkedRead(updated=await notifications.mark_all_read(user.id))


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreatedOut,
             responses={409: {"description": f"Already {MAX_WEBHOOKS_PER_USER} webhooks"}})
async def create_webhook(body: WebhookCreate, user: CurrentUser, webhooks: Webhooks) -> WebhookCreatedOut:
    """Register a URL that receives every notification as a signed JSON POST. The answer holds the
    signing secret, shown this once. Each POST carries `Navigator-Signature: t=...,v1=...` (HMAC-SHA256
    of "t.body" under the secret) and an `Idempotency-Key` that is the same on every retry."""
    webhook, secret = await webhooks.create(user.id, body.url)
    return WebhookCreatedOut(**webhook_out(webhook).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[WebhookOut])
async def list_webhooks(user: CurrentUser, webhooks: Webhooks) -> list[WebhookOut]:
    """Your webhooks (never their secrets), with deliveries by status."""
    return [webhook_out(w) for w in await webhooks.list(user.id)]


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNED_RESPONSES)
async def delete_webhook(webhook_id: uuid.UUID, user: CurrentUser, webhooks: Webhooks) -> Response:
    """Stop delivering to it (its pending deliveries go with it)."""
    await webhooks.delete(webhook_id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
