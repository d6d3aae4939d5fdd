"""Reads over synced calendar events, always scoped to the owner first (with, in a team
conversation, the team's account: `shared_owner_ids`, checked by the caller), and only
what was chosen to count: included calendars that are still there, no cancelled events.

A window read (overlap: start < window end and end > window start) goes through the
GiST index on (owner, [start, end]) (EventQuerySet.overlapping)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from connectors.models import Event, EventQuerySet, Source

VISIBLE_FIELDS = (
    "id", "title", "start", "end", "all_day", "start_date", "end_date", "time_zone",
    "location", "attendees", "organizer", "status", "source_id", "connection_id", "owner_id",
)  # fmt: skip


def _owned(user, shared_owner_ids: tuple[int, ...]) -> EventQuerySet:
    if not shared_owner_ids:
        return Event.objects.owned_by(user)
    return Event.objects.filter(owner_id__in=(user.pk, *shared_owner_ids))


def event_get_for_user(*, user, pk: int) -> Event:
    """The owner's event, or 404 (an outsider learns nothing, not even that it exists)."""
    return get_object_or_404(Event.objects.owned_by(user).select_related("source"), pk=pk)


def _matching(events: QuerySet[Event], *, text: str, person: str) -> QuerySet[Event]:
    for word in text.split():
        events = events.filter(
            Q(title__icontains=word) | Q(location__icontains=word) | Q(description__icontains=word)
        )
    if person:
        # attendees is a JSON list of names/addresses: its text form is enough to search.
        events = events.filter(
            Q(title__icontains=person)
            | Q(attendees__icontains=person)
            | Q(organizer__icontains=person)
        )
    return events


def events_in_window(
    *,
    user,
    start: datetime,
    end: datetime,
    text: str = "",
    person: str = "",
    limit: int = 200,
    shared_owner_ids: tuple[int, ...] = (),
) -> list[Event]:
    """The owner's visible events overlapping [start, end), earliest first."""
    events = (
        _owned(user, shared_owner_ids)
        .visible()
        .overlapping(start, end)
        .only(*VISIBLE_FIELDS)
        .order_by("start", "id")
    )
    return list(_matching(events, text=text, person=person)[:limit])


def busy_in_window(
    *, user, start: datetime, end: datetime, shared_owner_ids: tuple[int, ...] = ()
) -> list:
    """Just what free time needs (id, start, end, all_day, status) of every visible event
    overlapping the window: light rows, however many there are."""
    return list(
        _owned(user, shared_owner_ids)
        .visible()
        .overlapping(start, end)
        .order_by("start", "id")
        .values_list("id", "start", "end", "all_day", "status", named=True)
    )


def event_next(
    *,
    user,
    after: datetime,
    until: datetime,
    text: str,
    person: str = "",
    shared_owner_ids: tuple[int, ...] = (),
) -> list[Event]:
    """The next visible events (up to 3) starting after `after` that match the words."""
    events = (
        _owned(user, shared_owner_ids)
        .visible()
        .filter(start__gte=after, start__lt=until)
        .only(*VISIBLE_FIELDS)
        .order_by("start", "id")
    )
    return list(_matching(events, text=text, person=person)[:3])


def sources_writable(*, user) -> QuerySet[Source]:
    """Calendars events can be added to: included, present, writable, active connection."""
    return (
        Source.objects.owned_by(user)
        .included()
        .filter(writable=True, connection__status="active")
        .select_related("connection")
        .order_by("connection__created_at", "connection_id", "name", "id")
    )
