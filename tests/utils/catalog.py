"""What the database's catalog says refers to a conversation or to a user: the tests of expiry,
export and account deletion read it, so a table added later is covered (or fails them) without
anyone remembering to list it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from db.lifecycle.erase import OUTLIVES_THE_ACCOUNT

# Every column of a public table that names a conversation: a foreign key to conversations(id), or
# a column called like one (the graph's thread id is a conversation id kept as text).
CONVERSATION_COLUMNS = r"""
SELECT c.relname AS table_name, a.attname AS column_name,
       k.confdeltype::text AS on_delete
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_constraint k ON k.contype = 'f' AND k.conrelid = c.oid AND k.conkey = ARRAY[a.attnum]
                           AND k.confrelid = 'conversations'::regclass
 WHERE c.relkind IN ('r', 'p')
   AND (k.oid IS NOT NULL OR a.attname IN ('conversation_id', 'thread_id') OR a.attname LIKE '%\_conversation\_id')
 ORDER BY 1, 2
"""
# Every foreign key of a public table: from which table to which, and what a delete does.
FOREIGN_KEYS = """
SELECT k.conrelid::regclass::text AS from_table, k.confrelid::regclass::text AS to_table,
       k.confdeltype::text AS on_delete, k.conname AS name
  FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace AND n.nspname = 'public'
 WHERE k.contype = 'f'
"""
# Tables with a column named user_id.
USER_TABLES = """
SELECT c.relname AS table_name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p')
 ORDER BY 1
"""
CASCADE, SET_NULL = "c", "n"


@dataclass(frozen=True)
class ConversationColumn:
    table: str
    column: str
    on_delete: str | None  # None: no foreign key (named like a conversation id)


async def conversation_columns(con: asyncpg.Connection | asyncpg.Pool) -> list[ConversationColumn]:
    return [ConversationColumn(r["table_name"], r["column_name"], r["on_delete"])
            for r in await con.fetch(CONVERSATION_COLUMNS)]


async def tables_deleted_with(con: asyncpg.Connection | asyncpg.Pool, root: str) -> dict[str, set[str]]:
    """The tables whose rows a delete on `root` removes by cascading (transitively), each with the
    actions (c cascade, n set null, a/r refuse, d set default) of the foreign keys that lead into them."""
    keys = await con.fetch(FOREIGN_KEYS)
    reached = {root}
    actions: dict[str, set[str]] = {}
    changed = True
    while changed:
        changed = False
        for key in keys:
            if key["to_table"] in reached:
                actions.setdefault(key["from_table"], set()).add(key["on_delete"])
                if key["on_delete"] == CASCADE and key["from_table"] not in reached:
                    reached.add(key["from_table"])
                    changed = True
    return actions


async def user_tables(con: asyncpg.Connection | asyncpg.Pool) -> list[str]:
    return [r["table_name"] for r in await con.fetch(USER_TABLES)]


async def rows_naming(con: asyncpg.Connection | asyncpg.Pool, column: ConversationColumn, ids: list[str]) -> int:
    """Rows of the column's table whose value is one of `ids` (compared as text). The identifiers
    come from the catalog, quoted."""
    table, name = '"' + column.table.replace('"', '""') + '"', '"' + column.column.replace('"', '""') + '"'
    count: int = await con.fetchval(f"SELECT count(*) FROM {table} WHERE {name}::text = ANY($1::text[])", ids)
    return count


async def rows_of(pool: asyncpg.Pool | asyncpg.Connection, user_id: str,
                  conversation_ids: list[str]) -> dict[str, int]:
    """Rows anywhere that name the person or one of their conversations (tables read from the
    catalog), but in the tables that keep them on purpose (db.lifecycle.erase.OUTLIVES_THE_ACCOUNT)."""
    found = {"users": await pool.fetchval("SELECT count(*) FROM users WHERE id = $1", uuid.UUID(user_id))}
    for table in set(await user_tables(pool)) - set(OUTLIVES_THE_ACCOUNT):
        found[table] = await pool.fetchval(f'SELECT count(*) FROM "{table}" WHERE user_id = $1', uuid.UUID(user_id))
    for column in await conversation_columns(pool):
        found[f"{column.table}.{column.column}"] = await rows_naming(pool, column, conversation_ids)
    return {name: count for name, count in found.items() if count}
