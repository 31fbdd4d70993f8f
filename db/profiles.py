"""The person's plan profile: `user_profiles`, one row per user (none until they save one).

What the navigator treats as known (plan type, insurer, state, who the plan is through...)
so it is not asked in every conversation; what the person says in a conversation wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from db.connection import as_uuid

PROFILE_FIELDS = ("plan_type", "insurer", "plan_name", "state", "plan_through", "renewal_month",
                  "preferred_language")
PLAN_TYPES = ("employer", "marketplace", "medicaid", "medicare", "medicare_advantage", "chip", "tricare", "va",
              "none")

SELECT_PROFILE = """
SELECT plan_type, insurer, plan_name, state, plan_through, renewal_month, preferred_language, updated_at
  FROM user_profiles WHERE user_id = $1
"""
# PUT semantics: every field is replaced (an omitted one becomes null).
UPSERT_PROFILE = """
INSERT INTO user_profiles AS p (user_id, plan_type, insurer, plan_name, state, plan_through, renewal_month,
                                preferred_language)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (user_id) DO UPDATE SET
    plan_type = EXCLUDED.plan_type, insurer = EXCLUDED.insurer, plan_name = EXCLUDED.plan_name,
    state = EXCLUDED.state, plan_through = EXCLUDED.plan_through, renewal_month = EXCLUDED.renewal_month,
    preferred_language = EXCLUDED.preferred_language, updated_at = now()
RETURNING plan_type, insurer, plan_name, state, plan_through, renewal_month, preferred_language, updated_at
"""
# The account export and import (db/lifecycle): the whole row, and a restore that keeps a saved profile.
EXPORT_PROFILE = """
SELECT plan_type, insurer, plan_name, state, plan_through, renewal_month, preferred_language, created_at, updated_at
  FROM user_profiles WHERE user_id = $1
"""
IMPORT_PROFILE = """
INSERT INTO user_profiles (user_id, plan_type, insurer, plan_name, state, plan_through, renewal_month,
                           preferred_language, created_at, updated_at)
SELECT $1, r.plan_type, r.insurer, r.plan_name, r.state, r.plan_through, r.renewal_month, r.preferred_language,
       r.created_at, r.updated_at
  FROM jsonb_to_record($2::jsonb) AS r(plan_type text, insurer text, plan_name text, state text, plan_through text,
                                       renewal_month smallint, preferred_language text, created_at timestamptz,
                                       updated_at timestamptz)
ON CONFLICT (user_id) DO NOTHING
"""


@dataclass(frozen=True)
class Profile:
    plan_type: str | None = None
    insurer: str | None = None
    plan_name: str | None = None
    state: str | None = None
    plan_through: str | None = None
    renewal_month: int | None = None
    preferred_language: str | None = None
    updated_at: datetime | None = None

    def known(self) -> dict[str, Any]:
        """The fields that are set (what the agents may treat as known)."""
        # getattr, not dataclasses.asdict: asdict deep-copies every field, and this runs before every answer.
        return {key: value for key in PROFILE_FIELDS if (value := getattr(self, key)) is not None}


def to_profile(row: asyncpg.Record | None) -> Profile:
    """The profile in a row that has SELECT_PROFILE's columns (and maybe others); empty for None."""
    return Profile(**{name: row[name] for name in Profile.__dataclass_fields__}) if row is not None else Profile()


async def read_profile(con: asyncpg.Connection | asyncpg.Pool, user_id: uuid.UUID) -> Profile:
    return to_profile(await con.fetchrow(SELECT_PROFILE, user_id))


class ProfileService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, user_id: object) -> Profile:
        """The saved profile, or an empty one (every field null) when none was saved."""
        return await read_profile(self.pool, as_uuid(user_id, "user"))

    async def put(self, user_id: object, values: dict[str, Any]) -> Profile:
        """Replace the whole profile; unknown keys are refused, missing ones become null."""
        unknown = set(values) - set(PROFILE_FIELDS)
        if unknown:
            raise ValueError(f"unknown profile field(s): {', '.join(sorted(unknown))}")
        plan_type = values.get("plan_type")
        if plan_type is not None and plan_type not in PLAN_TYPES:
            raise ValueError(f"plan_type must be one of {', '.join(PLAN_TYPES)}")
        row = await self.pool.fetchrow(UPSERT_PROFILE, as_uuid(user_id, "user"),
                                       *(values.get(name) for name in PROFILE_FIELDS))
        return to_profile(row)
