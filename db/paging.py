"""Keyset paging shared by every list the API pages (conversations, documents, cases,
notifications): an opaque cursor naming the last row's (created_at, id)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    """One page of a list and the opaque cursor of the next one (None at the end)."""

    items: list[Any]
    next_cursor: str | None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "<microseconds since the epoch>-<uuid hex>": every string matching this is a valid cursor.
CURSOR_PATTERN = r"^[0-9]{1,16}-[0-9a-f]{32}$"
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(created_at: datetime, ident: uuid.UUID) -> str:
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{ident.hex}"


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValueError on anything that is not shaped like a cursor this module makes."""
    if not _CURSOR.match(cursor):
        raise ValueError("invalid cursor")
    micros, ident = cursor.split("-")
    return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=ident)
