"""Time words in a chat message, read in the user's zone: which window a question is
about, what it filters on, and what it wants (a list, a free check, a free slot, a new
event, the next matching event). Pure functions of (text, now): no database, no clock.

`time_query_parse("what's on tomorrow?", now=...)` -> a TimeQuery for tomorrow 00:00 to
the day after, or None when the message is not about time at all. `now` is an aware
datetime in the user's zone; windows come back in that zone (end exclusive).

Conventions (documented because people disagree): "Friday" is today when today is a
Friday, else the coming one; "next Friday" is the first Friday after today; weeks start
on Monday; "3/14" is month/day; a date without a year that is more than 60 days past is
next year's; "at 1" without am/pm means 13:00 (1-7 are afternoon hours, 8-11 morning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

LIST, FREE, SLOT, ADD, NEXT = "list", "free", "slot", "add", "next"

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]  # fmt: skip
# Parts of a day: (from hour, to hour).
PARTS = {"morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24), "night": (18, 24)}
# How far "my next dentist appointment" looks ahead, and the default list window.
NEXT_HORIZON = timedelta(days=366)
DEFAULT_SPAN = timedelta(days=7)
PAST_YEAR_GRACE = timedelta(days=60)
DEFAULT_EVENT_LENGTH = timedelta(hours=1)

_WD = "|".join(WEEKDAYS) + "|" + "|".join(w[:3] for w in WEEKDAYS)
_MON = "|".join(MONTHS) + "|" + "|".join(m[:3] for m in MONTHS) + "|sept"
_AMPM = r"(?:\s*(a\.?m\.?|p\.?m\.?))"

CALENDAR_WORDS = re.compile(
    r"\b(calendar|agenda|schedule|schedules|meetings?|appointments?|events?|plans?|busy|free|"
    r"available|booked|what'?s on|what is on|anything on)\b"
)
QUESTION_WORDS = re.compile(
    r"\?|\b(what|when|which|do i|am i|have i|is there|are there|any|show|list)\b"
)
ADD_VERB = re.compile(r"\b(put|add|schedule|book|create|pencil(?: in)?|block(?: out)?)\b")
SLOT_WORDS = re.compile(
    r"\b(free slot|slot|find (?:a |some )?time|when am i free|when can i|open slot|gap)\b"
)
FREE_WORDS = re.compile(
    r"\b(am i free|am i busy|am i available|do i have time|is .{1,30} free|free)\b"
)
NEXT_THING = re.compile(r"\b(?:my|the) next ([a-z][a-z' -]{1,60}?)(?:\?|\.|!|$| on | in | with )")
GENERIC = {"appointment", "appointments", "meeting", "meetings", "event", "events", "one", "a",
           "an", "the", "my", "is", "session", "booking"}  # fmt: skip
TIME_UNITS = {"week", "weekend", "month", "year", "day", *WEEKDAYS}


@dataclass(frozen=True)
class TimeQuery:
    intent: str  # LIST, FREE, SLOT, ADD or NEXT
    start: datetime  # in the user's zone
    end: datetime  # exclusive
    label: str  # what the window was called ("tomorrow", "next week")
    text: str = ""  # words the event must contain (title, location, description)
    person: str = ""  # "with Ana": an attendee or a word of the title
    duration: timedelta | None = None  # a wanted length ("a 30-minute slot", "for an hour")
    at: datetime | None = None  # an explicit start ("at 1pm")
    title: str = ""  # the new event's title (ADD)


def _day(d: date, now: datetime) -> datetime:
    return datetime.combine(d, time(0), tzinfo=now.tzinfo)


def _span(d: date, days: int, now: datetime) -> tuple[datetime, datetime]:
    start = _day(d, now)
    return start, _day(d + timedelta(days=days), now)


def _weekday_index(word: str) -> int:
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(word[:3]))


def _month_index(word: str) -> int:
    return next(i for i, name in enumerate(MONTHS) if name.startswith(word[:3])) + 1


def _dated(month: int, day: int, year: int | None, today: date) -> date | None:
    try:
        found = date(year or today.year, month, day)
    except ValueError:
        return None
    if year is None and found < today - PAST_YEAR_GRACE:
        found = found.replace(year=found.year + 1)
    return found


def _window(t: str, now: datetime) -> tuple[datetime, datetime, str] | None:
    """The day or range the text names, if any."""
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    if m := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", t):
        d = _dated(int(m[2]), int(m[3]), int(m[1]), today)
        if d:
            return (*_span(d, 1, now), d.isoformat())
    if m := re.search(rf"\b({_MON})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?\b", t):
        d = _dated(_month_index(m[1]), int(m[2]), int(m[3]) if m[3] else None, today)
        if d:
            return (*_span(d, 1, now), f"{d:%B} {d.day}")
    if m := re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MON})\b", t):
        d = _dated(_month_index(m[2]), int(m[1]), None, today)
        if d:
            return (*_span(d, 1, now), f"{d:%B} {d.day}")
    if m := re.search(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/])", t):
        year = int(m[3]) if m[3] else None
        year = year + 2000 if year is not None and year < 100 else year
        d = _dated(int(m[1]), int(m[2]), year, today)
        if d:
            return (*_span(d, 1, now), f"{d:%B} {d.day}")
    if "day after tomorrow" in t:
        return (*_span(today + timedelta(days=2), 1, now), "the day after tomorrow")
    for word, offset in (("today", 0), ("tonight", 0), ("tomorrow", 1), ("yesterday", -1)):
        if re.search(rf"\b{word}\b", t):
            return (*_span(today + timedelta(days=offset), 1, now), word)
    if m := re.search(r"\b(this|next|last) weekend\b|\b(weekend)\b", t):
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:  # Sunday: "this weekend" is the one under way
            saturday = today - timedelta(days=1)
        if m[1] == "next":
            saturday += timedelta(days=7)
        elif m[1] == "last":
            saturday -= timedelta(days=7)
        return (*_span(saturday, 2, now), f"{m[1] or 'this'} weekend")
    if m := re.search(r"\b(this|next|last) (week|month|year)\b", t):
        which, unit = m[1], m[2]
        shift = {"this": 0, "next": 1, "last": -1}[which]
        if unit == "week":
            return (*_span(monday + timedelta(weeks=shift), 7, now), f"{which} week")
        if unit == "month":
            index = today.year * 12 + today.month - 1 + shift
            first = date(index // 12, index % 12 + 1, 1)
            after = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
            return _day(first, now), _day(after, now), f"{which} month"
        first = date(today.year + shift, 1, 1)
        return _day(first, now), _day(first.replace(year=first.year + 1), now), f"{which} year"
    if m := re.search(rf"\b(next|last|this|on)? ?({_WD})\b", t):
        target = _weekday_index(m[2])
        ahead = (target - today.weekday()) % 7
        if m[1] == "next" and ahead == 0:
            ahead = 7
        elif m[1] == "last":
            ahead = ahead - 7 if ahead else -7
        d = today + timedelta(days=ahead)
        return (
            *_span(d, 1, now),
            f"{m[1] + ' ' if m[1] in ('next', 'last') else ''}{WEEKDAYS[target].title()}",
        )
    return None


def _clock(t: str) -> tuple[time, time | None] | None:
    """An explicit time ("at 1", "1pm", "13:00", "noon", "from 2 to 3pm")."""

    def hour(h: str, minute: str | None, ampm: str | None) -> time | None:
        hh, mm = int(h), int(minute or 0)
        if ampm:
            hh = hh % 12 + (12 if ampm.startswith("p") else 0)
        elif 1 <= hh <= 7:
            hh += 12
        return time(hh, mm) if 0 <= hh < 24 and 0 <= mm < 60 else None

    if re.search(r"\bnoon\b|\bmidday\b", t):
        return time(12), None
    span = re.search(
        rf"\b(?:from )?(\d{{1,2}})(?::(\d{{2}}))?{_AMPM}? ?(?:-|\u2013|to|until) ?"
        rf"(\d{{1,2}})(?::(\d{{2}}))?{_AMPM}?\b",
        t,
    )
    if span and (span[3] or span[6] or span[2] or span[5] or "from" in span[0]):
        end = hour(span[4], span[5], span[6])
        start = hour(span[1], span[2], span[3] or span[6])
        if start and end and end > start:
            return start, end
    if m := re.search(rf"\b(?:at |@ ?)(\d{{1,2}})(?::(\d{{2}}))?{_AMPM}?\b", t):
        found = hour(m[1], m[2], m[3])
        return (found, None) if found else None
    if m := re.search(rf"\b(\d{{1,2}})(?::(\d{{2}}))?{_AMPM}\b|\b(\d{{1,2}}):(\d{{2}})\b", t):
        found = (
            hour(m[1], m[2], m[3]) if m[1] else hour(m[4], m[5], "am" if int(m[4]) < 12 else "pm")
        )
        if m[4] and int(m[4]) == 0:
            found = time(0, int(m[5]))
        return (found, None) if found else None
    return None


def _duration(t: str) -> timedelta | None:
    if re.search(r"\b(half an hour|half-hour|half hour)\b", t):
        return timedelta(minutes=30)
    if re.search(r"\b(an|one) hour\b", t):
        return timedelta(hours=1)
    if m := re.search(r"\b(\d+(?:\.\d+)?)[ -]?(minutes?|mins?|m|hours?|hrs?|h)\b", t):
        amount = float(m[1])
        minutes = amount * 60 if m[2].startswith("h") else amount
        return timedelta(minutes=minutes) if 0 < minutes <= 24 * 60 else None
    return None


def _person(text: str) -> str:
    m = re.search(r"\bwith ([A-Z][\w'.-]+(?: [A-Z][\w'.-]+)?)", text)
    return m[1] if m else ""


def _next_thing(t: str) -> str:
    m = NEXT_THING.search(t)
    if not m:
        return ""
    words = [w for w in re.findall(r"[a-z']+", m[1]) if w not in GENERIC]
    if not words or words[0] in TIME_UNITS:
        return ""
    return " ".join(words)


def _title(text: str) -> str:
    """The new event's title: what follows the verb, up to the first time word."""
    if m := re.search(r"[\"“']([^\"”']{2,120})[\"”']", text):
        return m[1].strip()
    m = re.search(
        ADD_VERB.pattern + r"\s+(?:an? |the )?(?:event |meeting )?(?:called |named )?(.+)",
        text,
        re.I,
    )
    if not m:
        return ""
    rest = m[m.lastindex or 0]
    stop = re.search(
        rf"\s+(?:(?:on|at|for|from|in|into|to) (?:my |the )?(?:calendar|agenda|diary)\b"
        rf"|on |at |for |from |this |next |tomorrow|today|tonight|(?:{_WD})\b|(?:{_MON})\b|\d)",
        rest,
        re.I,
    )
    title = (rest[: stop.start()] if stop else rest).strip(" .,!?")
    return title[:1].upper() + title[1:] if title else ""


def time_query_parse(text: str, *, now: datetime) -> TimeQuery | None:
    """What a message asks about time, or None when it is not a time question."""
    t = re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")).strip()
    window = _window(t, now)
    clock = _clock(t)
    thing = _next_thing(t)
    calendar_word = bool(CALENDAR_WORDS.search(t) or SLOT_WORDS.search(t))
    wants_add = bool(ADD_VERB.search(t)) and (
        re.search(r"\b(calendar|agenda|diary)\b", t) is not None or (window and clock) is not None
    )
    if wants_add and window is None and clock is None:
        window = (*_span(now.date(), 1, now), "today")
    if window is None and not thing and not (calendar_word and QUESTION_WORDS.search(t)):
        return None
    if window is not None and not (calendar_word or QUESTION_WORDS.search(t) or wants_add):
        return None  # "today I learned…": a date, but not a question about the calendar
    duration = _duration(t)
    person = _person(text)
    if wants_add:
        start, end, label = window or (*_span(now.date(), 1, now), "today")
        at = datetime.combine(start.date(), clock[0], tzinfo=now.tzinfo) if clock else None
        if clock and clock[1]:
            duration = datetime.combine(start.date(), clock[1]) - datetime.combine(
                start.date(), clock[0]
            )
        return TimeQuery(ADD, start, end, label, person=person, at=at, title=_title(text),
                         duration=duration or (DEFAULT_EVENT_LENGTH if at else None))  # fmt: skip
    if thing and window is None:
        return TimeQuery(
            NEXT, now, now + NEXT_HORIZON, f"your next {thing}", text=thing, person=person
        )
    intent = SLOT if SLOT_WORDS.search(t) else FREE if FREE_WORDS.search(t) else LIST
    if window is None:
        span = timedelta(days=1) if intent == FREE else DEFAULT_SPAN
        start, end, label = now, now + span, "the coming days" if intent != FREE else "today"
    else:
        start, end, label = window
    part = re.search(r"\b(morning|afternoon|evening|night|tonight)\b", t)
    if part:
        lo, hi = PARTS["evening" if part[1] == "tonight" else part[1]]
        day = start.date()
        start = datetime.combine(day, time(lo), tzinfo=now.tzinfo)
        end = _day(day, now) + timedelta(hours=hi)
        label = f"{label} {part[1]}" if part[1] != "tonight" else "tonight"
    at = None
    if clock and window is not None:
        at = datetime.combine(start.date(), clock[0], tzinfo=now.tzinfo)
        if intent == FREE:
            length = duration or DEFAULT_EVENT_LENGTH
            if clock[1]:
                length = datetime.combine(start.date(), clock[1]) - datetime.combine(
                    start.date(), clock[0]
                )
            start, end = at, at + length
    return TimeQuery(intent, start, end, label, person=person, duration=duration, at=at)
