"""Reads for the connections page: always the signed-in user's rows, filtered by owner first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from connectors.documents.models import Document
from connectors.models import CalendarResource, Connection, ConnectionQuerySet, Event, Source
from connectors.registry import kinds


def connection_get_for_user(*, user, pk: int) -> Connection:
    """The user's own connection, or 404 (an outsider learns nothing, not even that it exists)."""
    return get_object_or_404(Connection.objects.owned_by(user), pk=pk)


def is_drive(connection: Connection) -> bool:
    """Files in folders (WebDAV, Google Drive), not events in calendars."""
    kind = kinds().get(connection.kind)
    return kind is not None and kind.category == "drive"


def _count(queryset: QuerySet, by: str = "connection", total: str = "") -> Coalesce:
    """One number per outer row, as a subquery: COUNT(*), or SUM(`total`)."""
    aggregate = Sum(total) if total else Count("pk")
    counted = queryset.order_by().values(by).annotate(n=aggregate).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def connections_for_user(*, user) -> ConnectionQuerySet:
    """The user's connections with their counts: included sources, all sources, events,
    indexed files and their passages. Subqueries, not joins, so the counts do not
    multiply each other."""
    sources = Source.objects.filter(connection=OuterRef("pk"))
    indexed = Document.objects.filter(connection=OuterRef("pk"), status=Document.Status.INDEXED)
    return (
        Connection.objects.owned_by(user)
        .annotate(
            source_count=_count(sources.filter(gone_at__isnull=True)),
            included_count=_count(sources.included()),
            event_count=_count(Event.objects.filter(connection=OuterRef("pk"))),
            document_count=_count(indexed),
            chunk_count=_count(indexed, total="chunk_count"),
        )
        .order_by("created_at", "id")
    )


def connection_sources(*, connection: Connection) -> QuerySet[Source]:
    """The connection's calendars (or folders) for the include checkboxes, with their
    event (or indexed file) counts."""
    return connection.sources.annotate(
        event_count=_count(Event.objects.filter(source=OuterRef("pk")), by="source"),
        document_count=_count(
            Document.objects.filter(source=OuterRef("pk"), status=Document.Status.INDEXED),
            by="source",
        ),
    ).order_by("gone_at", "name", "id")


def sources_listed(*, connection: Connection) -> list[Source]:
    """connection_sources as a list; a drive's folder inside another included folder gets
    `read_through` (that folder's name): its files are read, and counted, through it."""
    sources = list(connection_sources(connection=connection))
    if is_drive(connection):
        included = [s for s in sources if s.included and s.gone_at is None]
        for source in sources:
            outer = [
                other for other in included
                if other.pk != source.pk and source.remote_id.startswith(other.remote_id)
            ]  # fmt: skip
            through = outer[0].name if outer and source.included else ""
            setattr(source, "read_through", through)  # noqa: B010 (not a model field)
    return sources


def plural(count: int, word: str) -> str:
    """ "1 calendar", "2,000 events"."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ConnectionCounts:
    sources: int
    resources: int
    events: int
    drive: bool = False
    documents: int = 0  # indexed files
    chunks: int = 0  # their passages

    def words(self) -> str:
        if self.drive:
            return (
                f"{plural(self.sources, 'folder')}, {plural(self.documents, 'indexed file')} "
                f"({plural(self.chunks, 'passage')})"
            )
        return (
            f"{plural(self.sources, 'calendar')}, {plural(self.events, 'event')} "
            f"({plural(self.resources, 'calendar object')})"
        )


def connection_counts(*, connection: Connection) -> ConnectionCounts:
    """What the connection holds (its page) and what a disconnect removes."""
    indexed = Document.objects.filter(connection=connection, status=Document.Status.INDEXED)
    return ConnectionCounts(
        sources=Source.objects.filter(connection=connection).count(),
        resources=CalendarResource.objects.filter(source__connection=connection).count(),
        events=Event.objects.filter(connection=connection).count(),
        drive=is_drive(connection),
        documents=indexed.count(),
        chunks=indexed.aggregate(n=Sum("chunk_count"))["n"] or 0,
    )
