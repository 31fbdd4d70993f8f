"""Dates of a case: what the person or a document said, read as calendar dates; deadline arithmetic.

A case's clock is the time of the signal it is processing (an event told at a time, a timer that
fired at a time), never the machine's: a step replayed after a crash computes the same dates.
Reminders and escalations fire at `NOTICE_HOUR_UTC` on their day (14:00 UTC is morning in every
US time zone), so a reminder "14 days before" arrives on that day, not at midnight UTC.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta

from agents.documents import parse_date

NOTICE_HOUR_UTC = 14
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_DAY = re.compile(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})"
                        r"(?:st|nd|rd|th)?\b")
_DAY_MONTH = re.compile(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|"
                        r"oct|nov|dec)[a-z]*\b")
_SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b")
_AGO = re.compile(r"(?i)\b(a|an|one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+(day|week|month)s?\s+ago\b")
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10}


def _month(name: str) -> int:
    return next(i for i, full in enumerate(MONTHS, start=1) if full.startswith(name.lower()[:3]))


def _recent(month: int, day: int, today: date) -> date | None:
    """The latest such day that is not in the future (a letter that "came March 3" came this year
    or last year, never next year)."""
    for year in (today.year, today.year - 1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found <= today:
            return found
    return None


def resolve_date(value: object, today: date) -> date | None:
    """A calendar date from an ISO date, a full written date, a month and day, M/D(/Y), "today",
    "yesterday" or "N days/weeks/months ago"; None when the text names no date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    full = parse_date(text)
    if full is not None:
        return full
    lowered = text.lower()
    if re.search(r"\btoday\b", lowered):
        return today
    if re.search(r"\byesterday\b", lowered):
        return today - timedelta(days=1)
    ago = _AGO.search(lowered)
    if ago:
        count = _NUMBERS.get(ago.group(1), None) or int(ago.group(1))
        unit = ago.group(2)
        return add_months(today, -count) if unit == "month" else today - timedelta(days=count * (7 if unit == "week"
                                                                                                    else 1))
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        match = pattern.search(text)
        if match:
            return _recent(_month(match.group(month_group)), int(match.group(day_group)), today)
    slashed = _SLASHED.search(text)
    if slashed:
        month, day, year = int(slashed.group(1)), int(slashed.group(2)), slashed.group(3)
        if year is None:
            return _recent(month, day, today) if 1 <= month <= 12 else None
        try:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        except ValueError:
            return None
    return None


def add_months(day: date, months: int) -> date:
    """Calendar months: 4 months after October 31 is the last day of February."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def notice_time(day: date) -> datetime:
    """When a reminder or escalation due on `day` fires."""
    return datetime.combine(day, time(NOTICE_HOUR_UTC), tzinfo=UTC)


def display_date(day: date | None) -> str:
    """2026-08-30 -> "August 30, 2026"."""
    if day is None:
        return "an unknown date"
    return f"{MONTHS[day.month - 1].capitalize()} {day.day}, {day.year}"


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
