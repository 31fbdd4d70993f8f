"""Your data, portable and deletable: `GET /me/export` (everything the service keeps about you,
as one JSON file) and `DELETE /me` (with your password: your account and all of its data, in one
transaction). The export is the same document `navigator export` writes and `navigator import`
reads (db/lifecycle/export.py)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response, status

from api.client_address import CLIENT_ADDRESS
from api.deps import Audit, CurrentUser, SettingsDep, Throttle, Users
from api.errors import AUTH_RESPONSES
from api.schemas import DeleteAccountRequest
from api.security import verify_password
from db.connection import Connection
from db.lifecycle.erase import erase_account
from db.lifecycle.export import dumps, export_users

router = APIRouter(prefix="/me", tags=["your data"], responses=AUTH_RESPONSES)

EXPORT_FILENAME = "insurance-navigator-export.json"
WRONG_PASSWORD = "the password does not match this account's"


@router.get("/export", response_class=Response, responses={200: {
    "description": "Your account, profile, conversations with their messages, runs and workflow state, documents "
                   "(the files themselves, base64) and what the service recorded about you, as one JSON file "
                   "(no password or key hashes)",
    "content": {"application/json": {"schema": {"type": "object"}}}}})
async def export_my_data(user: CurrentUser, settings: SettingsDep, audit: Audit, request: Request) -> Response:
    document = await export_users(request.app.state.pool, settings.document_key(), [user.id])
    await audit.record("account.exported", user.id, via="api")
    return Response(dumps(document), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{EXPORT_FILENAME}"'})


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={403: {"description": WRONG_PASSWORD},
                          429: {"description": "Too many wrong passwords for this account; see Retry-After"}})
async def delete_my_account(body: DeleteAccountRequest, user: CurrentUser, users: Users, throttle: Throttle,
                            audit: Audit, request: Request) -> Response:
    """Delete your account and everything of it at once: conversations, messages, runs, workflow state,
    documents, profile, API keys, sessions. There is no undo; export first if you want a copy."""
    # Counted like sign-in attempts: a stolen token cannot be used to guess the password here.
    attempt = await throttle.login_attempt(user.email, CLIENT_ADDRESS.get())
    credentials = await users.credentials(user.email)
    stored = credentials.password_hash if credentials is not None else None
    ok, _upgrade = await asyncio.to_thread(verify_password, body.password, stored)
    if not ok:
        raise HTTPException(403, WRONG_PASSWORD)
    await throttle.succeeded(attempt)

    async def recorded(con: Connection) -> None:
        # In the erasure's transaction: the record and the deletion commit together or not at all.
        await audit.record("account.deleted", user.id, con=con, via="api")

    await erase_account(request.app.state.pool, user.id, on_erased=recorded)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
