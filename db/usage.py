"""Model usage per UTC day, provider and model (this module owns `model_usage_daily`).

Each assistant message a run stores carries `metadata.usage` (provider, model,
calls, errors, input and output tokens when reported, latency in ms; the run
id is `metadata.run_id`). `COUNT_USAGE_OF_MESSAGES` is composed into the
statement that stores a run's messages (db/runs/sql.py: FINISH_RUN) and adds
them to the day's row in that same statement, so the totals never disagree
with the messages that were stored. The table holds no user or conversation:
it outlives the conversations the expiry cleanup deletes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

# A connection, a pooled one, or the pool itself.
Queryable: TypeAlias = "asyncpg.Connection[Any] | asyncpg.Pool[Any] | PoolConnectionProxy[Any]"

# A CTE fragment after db/conversations/sql.py's APPEND_MESSAGES_TO_TARGET (it needs its `touched`
# CTE: the conversation, when it was still there to take the messages) and the messages'
# metadata JSON texts as $11. Every field is defaulted, so odd metadata can never fail the run.
COUNT_USAGE_OF_MESSAGES = """,
usage_counted AS (
    INSERT INTO model_usage_daily AS d (day, provider, model, messages, calls, errors, input_tokens,
                                        output_tokens, latency_ms)
    SELECT (now() AT TIME ZONE 'UTC')::date, coalesce(u.provider, 'unknown'), coalesce(u.model, 'unknown'),
           count(*), sum(coalesce(u.calls, 0)), sum(coalesce(u.errors, 0)), sum(coalesce(u.input_tokens, 0)),
           sum(coalesce(u.output_tokens, 0)), sum(coalesce(u.latency_ms, 0))
      FROM touched, unnest($11::text[]) AS m(metadata),
           jsonb_to_record(m.metadata::jsonb -> 'usage')
               AS u(provider text, model text, calls bigint, errors bigint, input_tokens bigint,
                    output_tokens bigint, latency_ms bigint)
     WHERE jsonb_typeof(m.metadata::jsonb -> 'usage') = 'object'
     GROUP BY 1, 2, 3
    ON CONFLICT (day, provider, model) DO UPDATE SET
        messages = d.messages + excluded.messages,
        calls = d.calls + excluded.calls,
        errors = d.errors + excluded.errors,
        input_tokens = d.input_tokens + excluded.input_tokens,
        output_tokens = d.output_tokens + excluded.output_tokens,
        latency_ms = d.latency_ms + excluded.latency_ms
)"""

# The last $1 days (today included), newest first.
SELECT_USAGE_BY_DAY = """
SELECT day, provider, model, messages, calls, errors, input_tokens, output_tokens, latency_ms
  FROM model_usage_daily
 WHERE day > (now() AT TIME ZONE 'UTC')::date - $1::int
 ORDER BY day DESC, provider, model
"""


async def usage_by_day(con: Queryable, days: int) -> list[dict[str, Any]]:
    """Per day, provider and model: messages, calls, errors, tokens, latency (newest day first)."""
    return [dict(row) for row in await con.fetch(SELECT_USAGE_BY_DAY, days)]
