"""Adding an event to a CalDAV calendar: one new object, PUT with If-None-Match: * so
an existing object is never overwritten."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar
from icalendar import Event as VEvent

from connectors.base import EventDraft, PermanentError
from connectors.caldav.protocol import Dav, href_key


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(moment: datetime | date, zone: ZoneInfo) -> datetime | date:
    """All-day dates stay dates; times are written in the event's zone (with TZID)."""
    if not isinstance(moment, datetime):
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def event_ics(draft: EventDraft, uid: str) -> str:
    """The VCALENDAR for `draft`, with the VTIMEZONE its TZID needs."""
    zone = _zone(draft.time_zone)
    event = VEvent()
    event.add("uid", uid)
    event.add("dtstamp", datetime.now(UTC))
    event.add("summary", draft.title)
    event.add("dtstart", _local(draft.start, zone))
    event.add("dtend", _local(draft.end, zone))
    if draft.location:
        event.add("location", draft.location)
    if draft.description:
        event.add("description", draft.description)
    calendar = Calendar()
    calendar.add("prodid", "-//recall-assistant//calendar//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode()


def event_create(dav: Dav, calendar_url: str, draft: EventDraft) -> str:
    """PUT the event as a new object; returns its href."""
    if not calendar_url.endswith("/"):
        calendar_url += "/"
    uid = f"{uuid.uuid4()}@recall-assistant"
    url = urljoin(calendar_url, f"{uid}.ics")
    response = dav.send(
        "PUT", url, event_ics(draft, uid),
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        ok=(200, 201, 204, 412),
    )  # fmt: skip
    if response.status == 412:
        raise PermanentError(f"An event already exists at {url}.", url=url, status=412)
    return href_key(url)
