"""Dates of a case: what the person or a document said, read as calendar dates (agents.dates),
and when a reminder or an escalation fires.

A case's clock is the time of the signal it is processing (an event told at a time, a timer that
fired at a time), never the machine's: a step replayed after a crash computes the same dates.
Reminders and escalations fire at `NOTICE_HOUR_UTC` on their day (14:00 UTC is morning in every
US time zone), so a reminder "14 days before" arrives on that day, not at midnight UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from agents.dates import as_date, find_dates, fmt, is_month_only

NOTICE_HOUR_UTC = 14


def resolve_date(value: object, today: date) -> date | None:
    """A calendar day from an ISO date or what a person wrote ("March 3", "3/3", "yesterday", "two weeks
    ago"), read as a day that has passed (a notice that came, an appeal filed); None when no day is named
    (a month alone is not a day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    if not is_month_only(value) and (exact := as_date(value)) is not None:
        return exact
    for mention in find_dates(value, today, lambda *_: "past"):
        if mention.value and not is_month_only(mention.value):
            return as_date(mention.value)
    return None


def notice_time(day: date) -> datetime:
    """When a reminder or escalation due on `day` fires."""
    return datetime.combine(day, time(NOTICE_HOUR_UTC), tzinfo=UTC)


def display_date(day: date | None) -> str:
    """2026-08-30 -> "August 30, 2026"."""
    return fmt(day) if day is not None else "an unknown date"


def parse_instant(value: object) -> datetime | None:
    """An aware datetime from an ISO text (as signals carry them), or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)
