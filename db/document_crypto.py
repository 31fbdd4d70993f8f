"""The files people upload, encrypted at rest: AES-256-GCM under DOCUMENT_ENCRYPTION_KEY.

A stored blob is `nonce (12 bytes) || ciphertext || tag`. The associated data binds it
to its owner and its row, so a blob copied to another row or user does not decrypt.
Each row keeps a key id (a fingerprint of the key, not the key), so a server started
with another key says so instead of returning garbage. The same-file check uses an
HMAC under a key derived from the encryption key, not a plain hash that would let
anyone with the table confirm a guessed file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from db.errors import Undecryptable

NONCE_BYTES = 12
KEY_BYTES = 32


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, b"insurance-navigator/" + purpose, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A short public fingerprint of the key: equal keys, equal ids; it reveals nothing of the key."""
    return _derive(key, b"key-id").hex()[:16]


def file_digest(key: bytes, data: bytes) -> bytes:
    """The keyed digest that identifies one file among a user's documents."""
    return hmac.new(_derive(key, b"file-digest"), data, hashlib.sha256).digest()


def _associated_data(user_id: uuid.UUID, document_id: uuid.UUID) -> bytes:
    return b"document:" + user_id.bytes + document_id.bytes


def encrypt(key: bytes, data: bytes, *, user_id: uuid.UUID, document_id: uuid.UUID) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError(f"the document key must be {KEY_BYTES} bytes")
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, _associated_data(user_id, document_id))


def decrypt(key: bytes, blob: bytes, *, user_id: uuid.UUID, document_id: uuid.UUID, stored_key_id: str) -> bytes:
    """The file's bytes, or `Undecryptable` naming the problem (never a wrong plaintext: GCM checks the tag)."""
    if stored_key_id != key_id(key):
        raise Undecryptable(f"document {document_id} was encrypted with another DOCUMENT_ENCRYPTION_KEY "
                            f"(key id {stored_key_id}, the server has {key_id(key)}): restore the key it was "
                            "stored with; its extracted text and facts are still available")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated_data(user_id, document_id))
    except InvalidTag:
        raise Undecryptable(f"document {document_id} failed its integrity check: the stored bytes were altered "
                            "or belong to another row") from None
