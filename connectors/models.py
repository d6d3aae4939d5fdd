"""Connections to outside data, the sources they offer (calendars, later folders), and
what was synced from them. Every row has an owner; every query filters by it first.

A calendar's remote objects (`CalendarResource`, one iCalendar text per remote href)
are the synced truth; `Event` rows are their occurrences inside the rolling window,
derived by connectors/calendar/apply.py and kept with stable ids (an unchanged
occurrence keeps its row, so a chip in an old answer still opens it).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone


class ConnectionQuerySet(models.QuerySet):
    def owned_by(self, user) -> ConnectionQuerySet:
        return self.filter(owner=user)


class Connection(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"  # a permanent error: needs the user (reason shown)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connections"
    )
    kind = models.CharField(max_length=32, help_text="The connector kind's slug, e.g. caldav.")
    label = models.CharField(max_length=200)
    # What the page shows of where it connects: never a secret (an ICS secret address
    # is shown with its secret part masked).
    display_url = models.CharField(max_length=500, blank=True)
    # Everything secret (passwords, tokens, secret URLs), as one MultiFernet token of a
    # JSON object (connectors/crypto.py). Never rendered, logged or exported.
    secrets_encrypted = models.TextField(blank=True)
    # Non-secret settings of the kind (server URL, username, principal href, ...).
    config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    paused_reason = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    last_error_hint = models.TextField(blank=True, help_text="How to fix the last error.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True, help_text="Last finished sync.")
    last_sync_summary = models.CharField(max_length=500, blank=True)
    # One sync at a time: a worker holds the claim until then (conditional UPDATE).
    sync_claimed_until = models.DateTimeField(null=True, blank=True)
    sync_claimed_by = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["owner", "kind"], name="connection_owner_kind")]

    def __str__(self) -> str:
        return f"{self.label} ({self.kind})"

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.PAUSED


class SourceQuerySet(models.QuerySet):
    def owned_by(self, user) -> SourceQuerySet:
        return self.filter(owner=user)

    def included(self) -> SourceQuerySet:
        return self.filter(included=True, gone_at__isnull=True)


class Source(models.Model):
    """One calendar (or, later, folder) a connection offers; the user picks which count."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sources")
    remote_id = models.CharField(max_length=1000, help_text="Href, calendar id or feed URL key.")
    name = models.CharField(max_length=300)
    color = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    writable = models.BooleanField(default=False, help_text="Events can be added here.")
    included = models.BooleanField(default=True)
    # The kind's incremental state: sync token, ctag, ETag / Last-Modified, page token.
    state = models.JSONField(default=dict, blank=True)
    # The rolling window the events were last expanded over (dates, ISO).
    expanded_from = models.DateField(null=True, blank=True)
    expanded_until = models.DateField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True, help_text="Vanished on the server.")
    problems = models.JSONField(default=list, blank=True, help_text="Items skipped, and why.")

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["connection", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "remote_id"], name="source_unique_remote")
        ]

    def __str__(self) -> str:
        return self.name


class CalendarResource(models.Model):
    """One remote calendar object (an .ics href, a feed's UID, a Google event): its text."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="resources")
    href = models.CharField(max_length=1000)
    etag = models.CharField(max_length=300, blank=True)
    uid = models.CharField(max_length=1000)
    ics = models.TextField(help_text="The VEVENT components of this object, as iCalendar text.")
    recurring = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "href"], name="resource_unique_href")
        ]
        indexes = [models.Index(fields=["source", "uid"], name="resource_source_uid")]

    def __str__(self) -> str:
        return self.href


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def event_span() -> TsTzRange:
    """An event's time as a closed range: [start, end], so a zero-length event (a
    reminder) is a point, not an empty range that overlaps nothing. The GiST index
    event_owner_span is built on this very expression."""
    return TsTzRange("start", "end", RangeBoundary(inclusive_lower=True, inclusive_upper=True))


class EventQuerySet(models.QuerySet):
    def owned_by(self, user) -> EventQuerySet:
        return self.filter(owner=user)

    def overlapping(self, start: datetime, end: datetime) -> EventQuerySet:
        """Events overlapping [start, end). The range test finds them through the GiST
        index (a B-tree on start or end alone reads every event on one side of the
        window); the plain comparisons then decide the boundaries exactly."""
        window = DateTimeTZRange(start, end, bounds="[]")
        return (
            self.alias(span=event_span())
            .filter(span__overlap=window)
            .filter(start__lt=end, end__gt=start)
        )

    def visible(self) -> EventQuerySet:
        """Events of included, present calendars of connections that are not paused."""
        return self.filter(
            source__included=True,
            source__gone_at__isnull=True,
        ).exclude(status="CANCELLED")


class Event(models.Model):
    """One occurrence of a calendar event inside the rolling window."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_events"
    )
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="events")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="events")
    uid = models.CharField(max_length=1000)
    # "" for a single event; the original start (UTC, ISO) of a recurring instance.
    recurrence_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=500, blank=True)
    # Timed events: instants (UTC in the database) and the zone they were written in.
    # All-day events: start_date..end_date (end exclusive), start/end at UTC midnight.
    start = models.DateTimeField()
    end = models.DateTimeField()
    time_zone = models.CharField(max_length=64, blank=True)
    all_day = models.BooleanField(default=False)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    organizer = models.CharField(max_length=300, blank=True)
    attendees = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, blank=True, help_text="CONFIRMED, TENTATIVE, ...")
    url = models.URLField(max_length=1000, blank=True)
    recurring = models.BooleanField(default=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "uid", "recurrence_id"], name="event_unique_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["owner", "start"], name="event_owner_start"),
            models.Index(fields=["owner", "end"], name="event_owner_end"),
            # Window reads (EventQuerySet.overlapping); owner through btree_gist.
            GistIndex(models.F("owner"), event_span(), name="event_owner_span"),
        ]

    def __str__(self) -> str:
        return f"{self.title or '(no title)'} at {self.start:%Y-%m-%d %H:%M}"


# Registered in this app, defined beside the document pipeline.
from connectors.documents.models import Document, DocumentChunk  # noqa: E402, F401
