"""Reads for the connections page: always the signed-in user's rows, filtered by owner first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from connectors.models import CalendarResource, Connection, ConnectionQuerySet, Event, Source


def connection_get_for_user(*, user, pk: int) -> Connection:
    """The user's own connection, or 404 (an outsider learns nothing, not even that it exists)."""
    return get_object_or_404(Connection.objects.owned_by(user), pk=pk)


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("connection").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def connections_for_user(*, user) -> ConnectionQuerySet:
    """The user's connections with their counts: included calendars, all calendars, events.
    Subqueries, not joins, so the counts do not multiply each other."""
    sources = Source.objects.filter(connection=OuterRef("pk"))
    return (
        Connection.objects.owned_by(user)
        .annotate(
            source_count=_count(sources.filter(gone_at__isnull=True)),
            included_count=_count(sources.included()),
            event_count=_count(Event.objects.filter(connection=OuterRef("pk"))),
        )
        .order_by("created_at", "id")
    )


def connection_sources(*, connection: Connection) -> QuerySet[Source]:
    """The connection's calendars for the include checkboxes, with their event counts."""
    return connection.sources.annotate(event_count=Count("events")).order_by(
        "gone_at", "name", "id"
    )


def plural(count: int, word: str) -> str:
    """ "1 calendar", "2,000 events"."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ConnectionCounts:
    sources: int
    resources: int
    events: int

    def words(self) -> str:
        return (
            f"{plural(self.sources, 'calendar')}, {plural(self.events, 'event')} "
            f"({plural(self.resources, 'calendar object')})"
        )


def connection_counts(*, connection: Connection) -> ConnectionCounts:
    """What a disconnect removes, for its confirmation page."""
    return ConnectionCounts(
        sources=Source.objects.filter(connection=connection).count(),
        resources=CalendarResource.objects.filter(source__connection=connection).count(),
        events=Event.objects.filter(connection=connection).count(),
    )
