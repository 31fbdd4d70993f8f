"""Recording a security event from a request: `await audit.record("api_key.created", user.id, key_id=...)`.

Routes take the `Audit` dependency (api/deps.py); the client address and the
request id come from the request's context (api/middleware.py), so callers
pass only what happened and to whom. Details are ids and short labels, never a
secret or a message. Code outside a request (the command line) uses
`db.audit.AuditLog.record` directly.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.client_address import CLIENT_ADDRESS
from api.logging import REQUEST_ID
from db.audit import AuditEventName, AuditLog
from db.connection import Connection


class RequestAudit:
    def __init__(self, log: AuditLog) -> None:
        self.log = log

    async def record(self, event: AuditEventName, user_id: uuid.UUID | None = None, *,
                     actor_id: uuid.UUID | None = None, con: Connection | None = None,
                     **details: Any) -> None:
        """Append `event` about `user_id` (and by `actor_id` when someone else acted); `con` to write it
        in the caller's transaction."""
        request_id = REQUEST_ID.get()
        await self.log.record(event, user_id=user_id, actor_id=actor_id, address=CLIENT_ADDRESS.get(),
                              request_id=None if request_id == "-" else request_id, details=details, con=con)
