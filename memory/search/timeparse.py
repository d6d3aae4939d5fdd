"""Time in questions and memories: date windows a query names, and "when" questions.

English only, like the full-text configuration. Windows are generous (a few days of
slack) because people mention things a little after they happen.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

SLACK = timedelta(days=3)

_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_M = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d\d)"

_DAY_FIRST = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_M},?\s+{_YEAR}\b", re.I)
_MONTH_FIRST = re.compile(rf"\b{_M}\s+{_DAY},?\s+{_YEAR}\b", re.I)
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_MONTH_YEAR = re.compile(rf"\b{_M},?\s+{_YEAR}\b", re.I)
# A bare month only counts after a preposition ("in June"), so "may" the verb is safe.
_BARE_MONTH = re.compile(rf"\b(?:in|during|since|of|last|this|early|late|mid)\s+{_M}\b", re.I)
_BARE_YEAR = re.compile(rf"\b{_YEAR}\b")
_RELATIVE = re.compile(
    r"\b(yesterday|today|tonight|last\s+(?:night|week|weekend|month|year)|"
    r"this\s+(?:week|weekend|month|year)|(\d+|a|one|two|three)\s+(days?|weeks?|months?|years?)\s+ago)\b",
    re.I,
)
_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3}

_WHEN = re.compile(
    r"\b(when|what\s+(?:date|day|time|year|month)|how\s+long\s+ago|which\s+(?:year|month|day))\b",
    re.I,
)
# Words and shapes that tie a memory to a time ("last week", "in 2019", "3 days ago").
_TIME_IN_TEXT = re.compile(
    r"\b(yesterday|today|tonight|tomorrow|last|next|ago|week|weekend|month|year|years|"
    r"morning|evening|night|recently|soon|later|earlier|since|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"(?:19|20)\d\d|\d{1,2}(?:st|nd|rd|th))\b",
    re.I,
)


@dataclass(frozen=True)
class TimeWindow:
    """[start, end) in UTC, or any year's `month` when the query named a bare month."""

    start: datetime | None = None
    end: datetime | None = None
    month: int | None = None

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        if self.month is not None:
            return moment.month == self.month
        return self.start is not None and self.end is not None and self.start <= moment < self.end


def _span(first: date, last: date) -> TimeWindow:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - SLACK
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) + SLACK
    return TimeWindow(start=start, end=end)


def _month_span(year: int, month: int) -> TimeWindow:
    last = calendar.monthrange(year, month)[1]
    return _span(date(year, month, 1), date(year, month, last))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _relative(match: re.Match, today: date) -> TimeWindow | None:
    phrase = match.group(0).lower()
    if phrase in ("today", "tonight"):
        return _span(today, today)
    if phrase in ("yesterday", "last night"):
        return _span(today - timedelta(days=1), today - timedelta(days=1))
    if phrase.startswith(("last week", "this week", "last weekend", "this weekend")):
        back = 7 if phrase.startswith("last") else 0
        monday = today - timedelta(days=today.weekday() + back)
        return _span(monday, monday + timedelta(days=6))
    if phrase.startswith(("last month", "this month")):
        year, month = today.year, today.month
        if phrase.startswith("last"):
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return _month_span(year, month)
    if phrase.startswith(("last year", "this year")):
        year = today.year - (1 if phrase.startswith("last") else 0)
        return _span(date(year, 1, 1), date(year, 12, 31))
    count_word, unit = match.group(2), match.group(3)
    if count_word and unit:
        count = _WORDS.get(count_word.lower()) or int(count_word)
        days = {"d": 1, "w": 7, "m": 30, "y": 365}[unit[0].lower()] * count
        around = today - timedelta(days=days)
        spread = timedelta(days=max(1, days // 7))
        return _span(around - spread, around + spread)
    return None


def query_windows(query: str, *, now: datetime) -> list[TimeWindow]:
    """The time windows a query names, most specific first; [] when it names none."""
    windows: list[TimeWindow] = []
    taken: list[tuple[int, int]] = []

    def free(match: re.Match) -> bool:
        start, end = match.span()
        if any(start < e and s < end for s, e in taken):
            return False
        taken.append((start, end))
        return True

    for match in _ISO.finditer(query):
        day = _safe_date(int(match[1]), int(match[2]), int(match[3]))
        if day and free(match):
            windows.append(_span(day, day))
    for pattern, order in ((_DAY_FIRST, (3, 2, 1)), (_MONTH_FIRST, (3, 1, 2))):
        for match in pattern.finditer(query):
            year, month_name, day_text = (match[i] for i in order)
            found = _safe_date(int(year), _MONTHS[month_name.lower()], int(day_text))
            if found and free(match):
                windows.append(_span(found, found))
    for match in _MONTH_YEAR.finditer(query):
        if free(match):
            windows.append(_month_span(int(match[2]), _MONTHS[match[1].lower()]))
    for match in _RELATIVE.finditer(query):
        window = _relative(match, now.date())
        if window and free(match):
            windows.append(window)
    for match in _BARE_MONTH.finditer(query):
        if free(match):
            windows.append(TimeWindow(month=_MONTHS[match[1].lower()]))
    for match in _BARE_YEAR.finditer(query):
        if free(match):
            year = int(match[1])
            windows.append(_span(date(year, 1, 1), date(year, 12, 31)))
    return windows


def asks_when(query: str) -> bool:
    """Does the question ask for a time ("When did…", "What year…", "How long ago…")?"""
    return bool(_WHEN.search(query))


def mentions_time(text: str) -> bool:
    """Does a memory's text tie it to a time?"""
    return bool(_TIME_IN_TEXT.search(text))
