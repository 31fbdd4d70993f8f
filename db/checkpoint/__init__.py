"""The asyncpg checkpointer: `AsyncpgSaver` (saver.py), its pure row conversions
(rows.py), its statements (sql.py), group commit (batch.py) and sync bridge (sync.py)."""

from db.checkpoint.saver import AsyncpgSaver, Projection
from db.checkpoint.sync import SyncCallInEventLoop

__all__ = ["AsyncpgSaver", "Projection", "SyncCallInEventLoop"]
