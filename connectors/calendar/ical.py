"""iCalendar text to event occurrences, with recurrences expanded over a window.

One call takes every VEVENT of one UID (a recurring master and its overridden
instances may come from several remote objects) and returns its occurrences:
`recurring-ical-events` applies RRULE, RDATE, EXDATE and RECURRENCE-ID overrides;
cancelled instances are dropped. A VEVENT that cannot be read is skipped with its
reason; the others are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events
from icalendar import Calendar
from icalendar.cal import Component

MAX_TEXT = 10_000


@dataclass
class Occurrence:
    uid: str
    recurrence_id: str
    title: str
    start: datetime
    end: datetime
    time_zone: str
    all_day: bool
    start_date: date | None
    end_date: date | None
    location: str = ""
    description: str = ""
    organizer: str = ""
    attendees: list[str] = field(default_factory=list)
    status: str = ""
    url: str = ""
    recurring: bool = False


@dataclass
class Expanded:
    occurrences: list[Occurrence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def calendar_parse(text: str) -> Calendar:
    """Parse iCalendar text; ValueError with the parser's reason when it is not one."""
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except Exception as error:  # icalendar raises ValueError, KeyError, IndexError, ...
        raise ValueError(f"not valid iCalendar ({error})") from error
    if not calendars:
        raise ValueError("no VCALENDAR in the text")
    return calendars[0]


def vevents(calendar: Component) -> list[Component]:
    return list(calendar.walk("VEVENT"))


def is_recurring(event: Component) -> bool:
    return any(key in event for key in ("RRULE", "RDATE", "RECURRENCE-ID"))


def event_label(event: Component) -> str:
    title = str(event.get("SUMMARY", "") or "").strip() or "(no title)"
    return f"{title!r} ({event.get('UID', 'no UID')})"


def _text(value: object, limit: int = MAX_TEXT) -> str:
    return str(value or "").strip()[:limit]


def _address(value: object) -> str:
    text = str(value or "").strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def _zone_of(moment: datetime, fallback: str) -> str:
    key = getattr(moment.tzinfo, "key", None) or getattr(moment.tzinfo, "zone", None)
    if key:
        return str(key)
    return "UTC" if moment.utcoffset() == timedelta(0) else fallback


def _prop(event: Component, name: str) -> Any:
    """A property as icalendar parsed it (its many value types all carry .dt or .params
    where we read them; typed loosely because icalendar's union has no common base)."""
    return event.get(name)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _times(event: Component, floating: ZoneInfo, problems: list[str]):
    """(start, end, time zone name, all-day, start_date, end_date) of one occurrence."""
    if "DTSTART" not in event:
        raise ValueError("it has no start (DTSTART)")
    start = _prop(event, "DTSTART").dt
    if "DTEND" in event:
        end = _prop(event, "DTEND").dt
    elif "DURATION" in event:
        end = start + _prop(event, "DURATION").dt
    else:
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if not isinstance(start, datetime):  # a date: all day, end exclusive
        end_date = end if isinstance(end, date) and not isinstance(end, datetime) else end.date()
        if end_date <= start:
            end_date = start + timedelta(days=1)
        return (
            datetime.combine(start, time(0), UTC),
            datetime.combine(end_date, time(0), UTC),
            "",
            True,
            start,
            end_date,
        )
    tzid = _prop(event, "DTSTART").params.get("TZID")
    if start.tzinfo is None and tzid:
        problems.append(
            f"Event {event_label(event)} uses the time zone {tzid!r}, which this server "
            f"does not know; its times are read in {floating.key}."
        )
    start = _aware(start, floating)
    end = _aware(end, floating) if isinstance(end, datetime) else start
    if end < start:
        end = start
    zone = _zone_of(start, floating.key)
    return start.astimezone(UTC), end.astimezone(UTC), zone, False, None, None


def _recurrence_key(event: Component) -> str:
    value = _prop(event, "RECURRENCE-ID")
    if value is None:
        return ""
    moment = value.dt
    if isinstance(moment, datetime):
        return (
            moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            if moment.tzinfo
            else (moment.strftime("%Y%m%dT%H%M%S"))
        )
    return moment.strftime("%Y%m%d")


def _occurrence(event: Component, floating: ZoneInfo, recurring: bool, problems: list[str]):
    start, end, zone, all_day, start_date, end_date = _times(event, floating, problems)
    attendees = _prop(event, "ATTENDEE") or []
    attendees = attendees if isinstance(attendees, list) else [attendees]
    organizer = _prop(event, "ORGANIZER")
    organizer_name = organizer.params.get("CN", "") if organizer is not None else ""
    return Occurrence(
        uid=_text(event.get("UID"), 1000),
        recurrence_id=_recurrence_key(event) if recurring else "",
        title=_text(event.get("SUMMARY"), 500),
        start=start,
        end=end,
        time_zone=zone,
        all_day=all_day,
        start_date=start_date,
        end_date=end_date,
        location=_text(event.get("LOCATION"), 500),
        description=_text(event.get("DESCRIPTION")),
        organizer=_text(organizer_name or _address(organizer), 300),
        attendees=[
            _text(a.params.get("CN", "") or _address(a), 300) for a in attendees if a is not None
        ][:100],
        status=_text(event.get("STATUS"), 16).upper(),
        url=_text(event.get("URL"), 1000),
        recurring=recurring,
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def expand(
    texts: Iterable[str], *, window: tuple[date, date], floating_zone: str = "UTC"
) -> Expanded:
    """The occurrences of the VEVENTs in `texts` (one UID's objects).

    Single events are kept whatever their date; recurring ones are expanded over
    `window` (start date inclusive, end date exclusive). Floating times (no zone) are
    read in `floating_zone`, the calendar's zone."""
    floating = _zone(floating_zone)
    result = Expanded()
    combined = Calendar()
    has_recurring = False
    for text in texts:
        try:
            calendar = calendar_parse(text)
        except ValueError as error:
            result.problems.append(f"Skipped a calendar object: {error}.")
            continue
        for timezone_component in calendar.walk("VTIMEZONE"):
            combined.add_component(timezone_component)
        for event in vevents(calendar):
            if is_recurring(event):
                has_recurring = True
                combined.add_component(event)
                continue
            try:
                result.occurrences.append(_occurrence(event, floating, False, result.problems))
            except (ValueError, TypeError, AttributeError) as error:
                result.problems.append(f"Skipped event {event_label(event)}: {error}.")
    if has_recurring:
        _expand_recurring(combined, window, floating, result)
    result.occurrences = [o for o in result.occurrences if o.status != "CANCELLED" and o.uid]
    return result


def _expand_recurring(
    combined: Calendar, window: tuple[date, date], floating: ZoneInfo, result: Expanded
) -> None:
    try:
        instances = recurring_ical_events.of(combined, skip_bad_series=True).between(*window)
    except Exception as error:  # a broken RRULE: the whole series is unreadable
        labels = ", ".join(event_label(e) for e in vevents(combined))
        result.problems.append(f"Skipped recurring event {labels}: {error}.")
        return
    for instance in instances:
        try:
            result.occurrences.append(_occurrence(instance, floating, True, result.problems))
        except (ValueError, TypeError, AttributeError) as error:
            result.problems.append(f"Skipped an instance of {event_label(instance)}: {error}.")
