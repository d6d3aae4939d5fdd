"""One synced calendar event's page: where a chip under an answer leads."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from connectors.calendar.query import event_get_for_user
from connectors.models import Event
from connectors.views.spaces import space_of


def _zone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return bool(name)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return event_page(request, event_get_for_user(user=space_of(request).owner, pk=pk))


def event_page(request: HttpRequest, event: Event) -> HttpResponse:
    """The page of an event the caller checked the user may see (their own, their active
    team's, or one a team conversation of theirs cited while they are a member)."""
    # Shown in the zone the calendar wrote it in (connectors does not read account settings).
    zone = event.time_zone if _zone_known(event.time_zone) else "UTC"
    last_day = None  # an all-day event's end date is exclusive: show its last day
    if event.all_day and event.start_date and event.end_date:
        last_day = event.end_date - timedelta(days=1)
        last_day = last_day if last_day > event.start_date else None
    context = {"event": event, "zone": zone, "last_day": last_day}
    return render(request, "connectors/event_detail.html", context)
