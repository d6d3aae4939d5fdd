"""Calendar times as people read them, in a named zone (not the request's):
`{{ proposal|proposal_when }}` -> "Fri 4 Dec, 13:00-14:00 (Europe/Berlin)".

Returns text, so Django's own conversion to the current zone never applies to it."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template

register = template.Library()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@register.filter
def proposal_when(proposal) -> str:
    """When a proposed event happens, in the zone it was proposed in."""
    zone = _zone(proposal.time_zone)
    start, end = proposal.start.astimezone(zone), proposal.end.astimezone(zone)
    if proposal.all_day:
        last = (end - timedelta(seconds=1)).date()
        days = f"{start:%a %-d %b}" + (f" \u2013 {last:%a %-d %b}" if last > start.date() else "")
        return f"{days}, all day"
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %-d %b %H:%M}"
    return f"{start:%a %-d %b}, {start:%H:%M}\u2013{until} ({zone.key})"
