"""The settings, the person and the conversations the benchmark and chaos scripts give their
throwaway databases."""

from __future__ import annotations

from typing import Any

from db.settings import Settings

# Keys of throwaway databases only: never a deployment's.
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
DOCUMENT_KEY = "YmVuY2gtZG9jdW1lbnQta2V5LTMyLWJ5dGVzLWxvbmc="
INSERT_USER = "INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id"
INSERT_CONVERSATIONS = ("INSERT INTO conversations (user_id, expires_at) SELECT $1, now() + interval '1 day' "
                        "FROM generate_series(1, $2) RETURNING id")


def settings_for(dsn: str, **overrides: Any) -> Settings:
    """Settings for a script's own database (no .env file read); `overrides` by field name."""
    values: dict[str, Any] = {"database_url": dsn, "jwt_secret_key": SECRET, "document_encryption_key": DOCUMENT_KEY,
                              **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
