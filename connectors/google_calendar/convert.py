"""Google Calendar events (the API's JSON) to and from what the rest of the app uses.

Each Google event becomes one calendar object (href = its Google id) holding one VEVENT,
so connectors/calendar/apply.py stores and expands it like a CalDAV object: a recurring
event keeps its RRULE/EXDATE/RDATE lines, a changed instance (recurringEventId) becomes
a VEVENT with the master's UID and a RECURRENCE-ID, a cancelled instance a cancelled
override (apply drops it), and a cancelled event a deletion.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress

from connectors.base import EventDraft, Resource

_RECURRENCE_PREFIXES = ("RRULE", "EXRULE", "RDATE", "EXDATE")
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _moment(value: dict[str, Any], fallback_zone: str) -> date | datetime:
    """A Google `start`/`end`/`originalStartTime`: a date (all day) or a datetime in
    its named zone (so recurrences follow that zone's daylight saving)."""
    if value.get("date"):
        return date.fromisoformat(value["date"])
    moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    zone = _zone(value.get("timeZone", "")) or _zone(fallback_zone)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone or ZoneInfo("UTC"))
    return moment.astimezone(zone or UTC)  # an offset alone has no daylight rules


def uid_of(item: dict[str, Any]) -> str:
    return item.get("iCalUID") or f"{item.get('recurringEventId') or item['id']}@google.com"


def _person(person: dict[str, Any]) -> vCalAddress | None:
    email = person.get("email", "")
    if not email:
        return None
    address = vCalAddress(f"mailto:{email}")
    if person.get("displayName"):
        address.params["CN"] = person["displayName"]
    return address


def _recurrence_lines(item: dict[str, Any]) -> list[str]:
    lines = []
    for line in item.get("recurrence", []) or []:
        line = str(line).replace("\r", "").replace("\n", "").strip()
        if line.upper().startswith(_RECURRENCE_PREFIXES):
            lines.append(line)
    return lines


def event_to_ics(item: dict[str, Any], *, calendar_zone: str = "") -> str:
    """One Google event (or changed/cancelled instance) as a VCALENDAR text.

    ValueError when it lacks what an event needs (a start)."""
    event = Event()
    event.add("uid", uid_of(item))
    event.add("dtstamp", datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
    original = item.get("originalStartTime")
    if item.get("recurringEventId") and original:
        event.add("recurrence-id", _moment(original, calendar_zone))
    start_value = item.get("start") or original
    if not start_value:
        raise ValueError("it has no start")
    start = _moment(start_value, calendar_zone)
    event.add("dtstart", start)
    if item.get("end"):
        event.add("dtend", _moment(item["end"], calendar_zone))
    for name, key in (("summary", "summary"), ("location", "location"),
                      ("description", "description"), ("url", "htmlLink")):  # fmt: skip
        if item.get(key):
            event.add(name, str(item[key]))
    event.add("status", _STATUS.get(item.get("status", ""), "CONFIRMED"))
    organizer = _person(item.get("organizer") or {})
    if organizer is not None:
        event.add("organizer", organizer)
    for attendee in item.get("attendees", []) or []:
        address = _person(attendee)
        if address is not None and not attendee.get("resource"):
            event.add("attendee", address)
    calendar = Calendar()
    calendar.add("prodid", "-//recall-assistant//google calendar//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    text = calendar.to_ical().decode()
    recurrence = _recurrence_lines(item) if not item.get("recurringEventId") else []
    if recurrence:
        text = text.replace("END:VEVENT", "\r\n".join(recurrence) + "\r\nEND:VEVENT", 1)
    return text


def event_resource(item: dict[str, Any], *, calendar_zone: str = "") -> Resource:
    return Resource(href=item["id"], ics=event_to_ics(item, calendar_zone=calendar_zone),
                    etag=item.get("etag", ""))  # fmt: skip


def is_deletion(item: dict[str, Any]) -> bool:
    """A cancelled event (not a cancelled instance of a recurring one) is gone."""
    return item.get("status") == "cancelled" and not item.get("recurringEventId")


def draft_to_body(draft: EventDraft) -> dict[str, Any]:
    """events.insert's request body for an event the user confirmed."""
    if isinstance(draft.start, datetime):
        start: dict[str, Any] = {"dateTime": draft.start.isoformat(), "timeZone": draft.time_zone}
        end_moment = draft.end if isinstance(draft.end, datetime) else draft.start
        end: dict[str, Any] = {"dateTime": end_moment.isoformat(), "timeZone": draft.time_zone}
    else:
        start = {"date": draft.start.isoformat()}
        end = {"date": draft.end.isoformat()}
    body: dict[str, Any] = {"summary": draft.title, "start": start, "end": end}
    if draft.location:
        body["location"] = draft.location
    if draft.description:
        body["description"] = draft.description
    return body
