"""Personal API keys for programs (the LangGraph SDKs send them as `x-api-key`):
create (the key is in that response only), list (never the key), revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from api.deps import ApiKeys, Audit, CurrentUser
from api.errors import AUTH_RESPONSES, OWNED_RESPONSES
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut

router = APIRouter(prefix="/auth/api-keys", tags=["auth"], responses=AUTH_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, user: CurrentUser, api_keys: ApiKeys, audit: Audit) -> ApiKeyCreated:
    """A new key. Copy `key` now: it is stored hashed and never shown again."""
    issued = await api_keys.create(user.id, body.name)
    await audit.record("api_key.created", user.id, key_id=str(issued.key.id), prefix=issued.key.prefix)
    return ApiKeyCreated(**ApiKeyOut.model_validate(issued.key).model_dump(), key=issued.secret)


@router.get("", response_model=list[ApiKeyOut])
async def list_api_keys(user: CurrentUser, api_keys: ApiKeys) -> list[ApiKeyOut]:
    """Your active keys, oldest first (without the keys themselves)."""
    return [ApiKeyOut.model_validate(key) for key in await api_keys.list(user.id)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNED_RESPONSES)
async def revoke_api_key(key_id: uuid.UUID, user: CurrentUser, api_keys: ApiKeys, audit: Audit) -> Response:
    """Revoke a key: from now on it is answered 401 everywhere."""
    await api_keys.revoke(key_id, user.id)
    await audit.record("api_key.revoked", user.id, key_id=str(key_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
