"""What every table's module takes: a connection (plain or borrowed from the pool), and ids
that arrive as text."""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from db.errors import NotFound

# A plain connection or one borrowed from the pool: both work for every helper that takes one.
Connection: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


def as_uuid(value: object, kind: str = "conversation") -> uuid.UUID:
    """A UUID from a UUID or its text; anything else names nothing, so NotFound."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(kind, value) from None


def command_rows(status: str) -> int:
    """The row count of a command status (`INSERT 0 n`, `UPDATE n`, `DELETE n`); 0 for one without."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
