"""iCalendar text builders for tests and benchmarks: events the way calendar apps write
them (TZID with a VTIMEZONE, RRULE, EXDATE, RDATE, RECURRENCE-ID, all-day, STATUS).

Times: a `date` is all-day; a naive `datetime` with `tzid` is local wall-clock time in
that zone; an aware `datetime` in UTC is written with Z; one in a `ZoneInfo` zone is
written as local time with that zone's TZID.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

# Hand-written the way Apple and Thunderbird export them (current rules only).
VTIMEZONES = {
    "Europe/Berlin": """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE""",
    "America/New_York": """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE""",
}

Moment = date | datetime


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _zone_key(moment: datetime) -> str:
    return str(getattr(moment.tzinfo, "key", "") or "")


def ical_time(name: str, moment: Moment, tzid: str = "") -> str:
    """One property line such as `DTSTART;TZID=Europe/Berlin:20260329T090000`."""
    if not isinstance(moment, datetime):
        return f"{name};VALUE=DATE:{moment:%Y%m%d}"
    if moment.tzinfo is not None:
        key = _zone_key(moment)
        if key and key != "UTC":
            return f"{name};TZID={key}:{moment.replace(tzinfo=None):%Y%m%dT%H%M%S}"
        return f"{name}:{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    if tzid:
        return f"{name};TZID={tzid}:{moment:%Y%m%dT%H%M%S}"
    return f"{name}:{moment:%Y%m%dT%H%M%S}"  # floating


def _times_line(name: str, moments: Iterable[Moment], tzid: str) -> str:
    moments = list(moments)
    first = ical_time(name, moments[0], tzid)
    head, _, value = first.rpartition(":")
    values = [value] + [ical_time(name, m, tzid).rpartition(":")[2] for m in moments[1:]]
    return f"{head}:{','.join(values)}"


def vevent(
    uid: str,
    summary: str,
    start: Moment,
    end: Moment | None = None,
    *,
    tzid: str = "",
    rrule: str = "",
    exdates: Iterable[Moment] = (),
    rdates: Iterable[Moment] = (),
    recurrence_id: Moment | None = None,
    status: str = "",
    location: str = "",
    description: str = "",
    sequence: int = 0,
    dtstamp: datetime | None = None,
) -> str:
    """One VEVENT. Without `end` a timed event lasts an hour and an all-day one a day."""
    if end is None:
        end = start + (timedelta(hours=1) if isinstance(start, datetime) else timedelta(days=1))
    stamp = (dtstamp or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        ical_time("DTSTART", start, tzid),
        ical_time("DTEND", end, tzid),
        f"SUMMARY:{_escape(summary)}",
    ]
    if recurrence_id is not None:
        lines.append(ical_time("RECURRENCE-ID", recurrence_id, tzid))
    if rrule:
        lines.append(f"RRULE:{rrule}")
    exdates, rdates = list(exdates), list(rdates)
    if exdates:
        lines.append(_times_line("EXDATE", exdates, tzid))
    if rdates:
        lines.append(_times_line("RDATE", rdates, tzid))
    if status:
        lines.append(f"STATUS:{status.upper()}")
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if sequence:
        lines.append(f"SEQUENCE:{sequence}")
    lines.append("END:VEVENT")
    return "\n".join(lines)


def vcalendar(*events: str, time_zones: Iterable[str] | None = None) -> str:
    """A VCALENDAR around `events` (CRLF line ends), with the VTIMEZONEs they use (or
    those named in `time_zones`)."""
    body = "\n".join(events)
    zones = list(time_zones) if time_zones is not None else [
        key for key in VTIMEZONES if f"TZID={key}" in body
    ]  # fmt: skip
    parts = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//recall-assistant//bench//EN",
        *(VTIMEZONES[zone] for zone in zones),
        body,
        "END:VCALENDAR",
    ]
    return "\r\n".join("\n".join(parts).splitlines()) + "\r\n"
