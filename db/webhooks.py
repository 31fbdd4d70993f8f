"""Webhooks a person registers for their notifications (this module owns `webhooks`).

The signing secret is generated here and returned once, at creation; it is stored encrypted
(AES-256-GCM under a key derived from DOCUMENT_ENCRYPTION_KEY, bound to the webhook's row), so
the outbox can sign each delivery with it and a copy of the table alone does not reveal it.
Deliveries to a deleted webhook go with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from db.connection import as_uuid
from db.errors import Conflict, NotFound, Undecryptable

MAX_WEBHOOKS_PER_USER = 10
SECRET_PREFIX = "whsec_"
NONCE_BYTES = 12

INSERT_WEBHOOK = """
INSERT INTO webhooks (id, user_id, url, secret, key_id)
SELECT $1, $2, $3, $4, $5
 WHERE (SELECT count(*) FROM webhooks WHERE user_id = $2) < $6
RETURNING id, url, created_at
"""
LIST_OWNED_WEBHOOKS = "SELECT id, url, created_at FROM webhooks WHERE user_id = $1 ORDER BY created_at, id"
DELETE_OWNED_WEBHOOK = "DELETE FROM webhooks WHERE id = $1 AND user_id = $2 RETURNING id"
# Serialises concurrent registrations of one person, so the limit holds.
LOCK_USER_WEBHOOKS = "SELECT pg_advisory_xact_lock(hashtextextended('webhooks:' || $1::text, 0))"
# The account export and import (db/lifecycle). The secret is sealed under this server's key; an
# export carries it (opened) only --with-secrets, and a webhook moves in only with it.
EXPORT_WEBHOOKS = "SELECT id, url, created_at, secret, key_id FROM webhooks WHERE user_id = $1 ORDER BY created_at, id"
IMPORT_WEBHOOKS = """
INSERT INTO webhooks (user_id, id, url, secret, key_id, created_at)
SELECT $1, r.id, r.url, decode(r.secret, 'base64'), r.key_id, r.created_at
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord),
       jsonb_to_record(e.value) AS r(id uuid, url text, secret text, key_id text, created_at timestamptz)
 ORDER BY e.ord
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True)
class Webhook:
    id: uuid.UUID
    url: str
    created_at: datetime
    deliveries: dict[str, int]


def _secret_key(document_key: bytes) -> bytes:
    return hmac.new(document_key, b"insurance-navigator/webhook-secrets", hashlib.sha256).digest()


def key_id(document_key: bytes) -> str:
    """A public fingerprint of the key the secrets are sealed with (never the key)."""
    return hmac.new(_secret_key(document_key), b"key-id", hashlib.sha256).hexdigest()[:16]


def seal_secret(document_key: bytes, secret: str, *, webhook_id: uuid.UUID) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(_secret_key(document_key)).encrypt(nonce, secret.encode(), b"webhook:" + webhook_id.bytes)


def open_secret(document_key: bytes, blob: bytes, *, webhook_id: uuid.UUID, stored_key_id: str) -> str:
    """The signing secret; `Undecryptable` (naming key ids only) when the key changed or the row was altered."""
    if stored_key_id != key_id(document_key):
        raise Undecryptable(f"webhook {webhook_id}'s secret was sealed with another DOCUMENT_ENCRYPTION_KEY "
                            f"(key id {stored_key_id}); delete the webhook and register it again")
    try:
        return AESGCM(_secret_key(document_key)).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:],
                                                         b"webhook:" + webhook_id.bytes).decode()
    except InvalidTag:
        raise Undecryptable(f"webhook {webhook_id}'s secret failed its integrity check") from None


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookService:
    """The person's webhooks: every method takes the acting user's id; another's webhook is NotFound."""

    def __init__(self, pool: asyncpg.Pool, document_key: bytes) -> None:
        self.pool = pool
        self.document_key = document_key

    async def create(self, user_id: object, url: str) -> tuple[Webhook, str]:
        """A new webhook and its signing secret (the only time the secret is shown)."""
        uid = as_uuid(user_id, "user")
        webhook_id = uuid.uuid4()
        secret = new_secret()
        sealed = seal_secret(self.document_key, secret, webhook_id=webhook_id)
        async with self.pool.acquire() as con, con.transaction():
            await con.execute(LOCK_USER_WEBHOOKS, str(uid))
            row = await con.fetchrow(INSERT_WEBHOOK, webhook_id, uid, url, sealed, key_id(self.document_key),
                                     MAX_WEBHOOKS_PER_USER)
        if row is None:
            raise Conflict(f"at most {MAX_WEBHOOKS_PER_USER} webhooks per account; delete one first")
        return Webhook(row["id"], row["url"], row["created_at"], {}), secret

    async def list(self, user_id: object) -> list[Webhook]:
        from db.runs.outbox import webhook_delivery_counts  # the outbox reads this module's secrets

        uid = as_uuid(user_id, "user")
        rows = await self.pool.fetch(LIST_OWNED_WEBHOOKS, uid)
        counts = await webhook_delivery_counts(self.pool, uid, [row["id"] for row in rows])
        return [Webhook(row["id"], row["url"], row["created_at"], counts.get(row["id"], {})) for row in rows]

    async def delete(self, webhook_id: object, user_id: object) -> None:
        """Delete it, with its deliveries not yet made."""
        if await self.pool.fetchval(DELETE_OWNED_WEBHOOK, as_uuid(webhook_id, "webhook"),
                                    as_uuid(user_id, "user")) is None:
            raise NotFound("webhook", webhook_id)

