"""Domain errors raised by `db`; `api` maps them to HTTP statuses in one place."""

from __future__ import annotations


class DatabaseError(Exception):
    """Base of every error this package raises on purpose."""


class NotFound(DatabaseError):
    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class Conflict(DatabaseError):
    def __init__(self, message: str, ident: object = None) -> None:
        super().__init__(message)
        self.ident = ident


class Unavailable(DatabaseError):
    """The database cannot be reached (down, refused, timed out)."""


class MigrationError(DatabaseError):
    """The migrations on disk and in the database disagree, or one failed."""


class Undecryptable(DatabaseError):
    """A stored file cannot be decrypted with the configured key (it was encrypted with another one)."""
