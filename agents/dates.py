"""Dates as people say them ("March 3", "4/20", "two weeks ago", "next month") made into dates.

Pure functions of the text and "today" (the graph's `configurable.today`, or
the clock). A date stored in the facts is ISO: `2026-03-03`, or `2026-08`
when only the month was said ("I turn 65 in August"). Which year a date
without one falls in depends on what it is: a letter that came is in the
past, a birthday one turns on or a renewal that is due is ahead.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name: number for number, names in enumerate(
    [(), ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")]) for name in names}
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|" \
         r"jun|jul|aug|sept|sep|oct|nov|dec)"
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a few": 3,
                 "couple of": 2, "few": 3, "several": 4}
_COUNT = r"(\d{1,3}|a couple of|a few|couple of|few|several|a|an|one|two|three|four|five|six|seven|eight|nine|ten|" \
         r"eleven|twelve)"
_UNIT_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("month_day", re.compile(r"(?i)\b" + _MONTH + r"\.? (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?\b")),
    ("day_month", re.compile(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?" + _MONTH + r"\b(?:,? (\d{4}))?")),
    ("numeric", re.compile(r"(?<![\d/$.,])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/%])")),
    ("ago", re.compile(r"(?i)\b" + _COUNT + r" (days?|weeks?|months?|years?) ago\b")),
    ("relative", re.compile(r"(?i)\b(today|yesterday|tomorrow|last week|next week|next month|this month|"
                            r"last month|earlier this week)\b")),
    ("month_only", re.compile(r"(?i)\b(?:in|on|since|last|next|this|by|of|until) " + _MONTH + r"\b(?: (\d{4}))?")),
]


@dataclass(frozen=True)
class DateMention:
    """A date in the text: where it is, what was written, and its value (None when not resolvable)."""

    start: int
    end: int
    text: str
    value: str | None  # ISO day "2026-03-03" or month "2026-08"


def fmt(day: date) -> str:
    """The way a person reads a date: 'August 30, 2026'."""
    return f"{calendar.month_name[day.month]} {day.day}, {day.year}"


def fmt_month(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {year}"


def as_date(value: object) -> date | None:
    """An ISO day (or the first of an ISO month) from a stored fact; None for anything else."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value.strip())
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
    except ValueError:
        return None


def is_month_only(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value.strip()) is not None


def date_words(value: object) -> str | None:
    """A stored date as a person reads it ('2026-03-03' -> 'March 3, 2026', '2026-08' -> 'August 2026');
    None when it is not an ISO date."""
    day = as_date(value)
    if day is None:
        return None
    return fmt_month(day.year, day.month) if is_month_only(value) else fmt(day)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (Aug 31 + 6 = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _pick_year(month: int, day: int, today: date, direction: str) -> date | None:
    """The date with that month and day nearest `today` in the given direction (past, future or nearest)."""
    candidates = []
    for year in range(today.year - 4, today.year + 5):  # four years either way always holds a February 29
        try:
            candidates.append(date(year, month, day))
        except ValueError:  # February 29 in a year that has none
            continue
    if not candidates:
        return None
    if direction == "past":
        past = [c for c in candidates if c <= today]
        return max(past) if past else min(candidates)
    if direction == "future":
        ahead = [c for c in candidates if c >= today]
        return min(ahead) if ahead else max(candidates)
    return min(candidates, key=lambda c: abs((c - today).days))


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word.lower(), 1)


def _resolve(kind: str, match: re.Match[str], today: date, direction: str) -> str | None:
    groups = match.groups()
    try:
        if kind == "iso":
            return date(int(groups[0]), int(groups[1]), int(groups[2])).isoformat()
        if kind in ("month_day", "day_month"):
            month_name, day_text, year_text = (groups[0], groups[1], groups[2]) if kind == "month_day" \
                else (groups[1], groups[0], groups[2])
            month, day = MONTHS[month_name.lower()], int(day_text)
            if year_text:
                return date(int(year_text), month, day).isoformat()
            picked = _pick_year(month, day, today, direction)
            return picked.isoformat() if picked else None
        if kind == "numeric":
            month, day = int(groups[0]), int(groups[1])
            if groups[2]:
                year = int(groups[2]) + (2000 if len(groups[2]) == 2 else 0)
                return date(year, month, day).isoformat()
            picked = _pick_year(month, day, today, direction)
            return picked.isoformat() if picked else None
        if kind == "ago":
            return (today - timedelta(days=_count(groups[0]) * _UNIT_DAYS[groups[1].lower()])).isoformat()
        if kind == "relative":
            word = groups[0].lower()
            offsets = {"today": 0, "yesterday": -1, "tomorrow": 1, "last week": -7, "next week": 7,
                       "earlier this week": -3}
            if word in offsets:
                return (today + timedelta(days=offsets[word])).isoformat()
            shift = {"next month": 1, "this month": 0, "last month": -1}[word]
            first = add_months(today.replace(day=1), shift)
            return f"{first.year:04d}-{first.month:02d}"
        if kind == "month_only":
            month = MONTHS[groups[0].lower()]
            if groups[1]:
                return f"{int(groups[1]):04d}-{month:02d}"
            picked = _pick_year(month, 1, today.replace(day=1), direction)
            return f"{picked.year:04d}-{picked.month:02d}" if picked else None
    except ValueError:
        return None
    return None


def find_dates(text: str, today: date, direction_of: object = None) -> list[DateMention]:
    """Every date in the text, in order, without overlaps.

    `direction_of(start, end) -> "past" | "future" | "nearest"` says which way an undated year goes.
    """
    spans: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "numeric" and not _plausible_numeric(match):
                continue
            if any(start < seen_end and seen_start < end for seen_start, seen_end, _, _ in spans):
                continue
            spans.append((start, end, kind, match))
    found = []
    for start, end, kind, match in sorted(spans, key=lambda s: s[0]):
        direction = direction_of(start, end) if callable(direction_of) else "nearest"
        found.append(DateMention(start, end, match.group(0), _resolve(kind, match, today, str(direction))))
    return found


def _plausible_numeric(match: re.Match[str]) -> bool:
    month, day = int(match.group(1)), int(match.group(2))
    return 1 <= month <= 12 and 1 <= day <= 31


def duration_days(count: str, unit: str) -> int:
    """'3', 'weeks' -> 21; 'two', 'days' -> 2."""
    return _count(count) * _UNIT_DAYS[unit.lower() if unit.lower().endswith("s") else unit.lower() + "s"]



def today_of(config: object) -> date:
    """The run's "today": `configurable.today` (ISO; tests and the evaluation fix it), else the clock."""
    configurable = (config or {}).get("configurable", {}) if isinstance(config, dict) else {}
    value = as_date(configurable.get("today")) if isinstance(configurable, dict) else None
    return value or date.today()
