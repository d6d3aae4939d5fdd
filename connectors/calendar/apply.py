"""Storing one source's sync result: remote objects, then their occurrences as events.

Runs inside the caller's transaction, together with the source's new sync state, so a
sync killed half-way leaves the previous state and the previous events: the next run
redoes it. Occurrences keep their row (and id) while they exist, so the tags and chips
of earlier answers still point at them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from connectors.base import SyncResult
from connectors.calendar.ical import Occurrence, expand
from connectors.models import CalendarResource, Event, Source

EVENT_FIELDS = (
    "title",
    "start",
    "end",
    "time_zone",
    "all_day",
    "start_date",
    "end_date",
    "location",
    "description",
    "organizer",
    "attendees",
    "status",
    "url",
    "recurring",
)


@dataclass
class ApplyReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    problems: list[str] = field(default_factory=list)

    def merge(self, other: ApplyReport) -> None:
        self.added += other.added
        self.updated += other.updated
        self.removed += other.removed
        self.problems.extend(other.problems)


def calendar_window(today: date | None = None) -> tuple[date, date]:
    """The rolling window recurring events are expanded over (end exclusive)."""
    today = today or timezone.localdate()
    return (
        today - timedelta(days=settings.CALENDAR_WINDOW_PAST_DAYS),
        today + timedelta(days=settings.CALENDAR_WINDOW_FUTURE_DAYS + 1),
    )


_UNFOLD = re.compile(r"\r?\n[ \t]")
_RECURRING = ("RRULE", "RDATE", "RECURRENCE-ID")


def _resource_uid(text: str) -> tuple[str, bool]:
    """The UID of an object's first VEVENT and whether the object recurs, read from the
    unfolded lines (a full parse here doubled the cost of a first sync; expand() parses
    and reports what is malformed)."""
    uid, recurring, depth = "", False, 0
    for line in _UNFOLD.sub("", text).splitlines():
        name = line.split(":", 1)[0].split(";", 1)[0].strip().upper()
        value = line.split(":", 1)[1].strip() if ":" in line else ""
        if name == "BEGIN":
            depth += 1 if value.upper() == "VEVENT" or depth else 0
        elif name == "END" and depth:
            depth -= 1
        elif depth == 1:  # the VEVENT's own properties, not a VALARM's
            if name == "UID" and value and not uid:
                uid = value
            recurring = recurring or name in _RECURRING
    return uid[:1000], recurring


def _store_resources(source: Source, result: SyncResult) -> tuple[set[str], list[str]]:
    """Write the objects that changed and drop the ones that went; returns the UIDs whose
    occurrences must be recomputed, and problems."""
    problems: list[str] = []
    existing = {r.href: r for r in CalendarResource.objects.filter(source=source)}
    touched: set[str] = set()
    gone = set(result.deleted)
    if result.complete:
        gone |= set(existing) - {resource.href for resource in result.changed}
    for href in gone & set(existing):
        touched.add(existing[href].uid)
    CalendarResource.objects.filter(source=source, href__in=gone).delete()
    now = timezone.now()
    creates: list[CalendarResource] = []
    for remote in result.changed:
        uid, recurring = _resource_uid(remote.ics)
        if not uid:
            problems.append(f"Skipped {remote.href}: it holds no event with a UID.")
            continue
        row = existing.get(remote.href)
        if row is None:
            creates.append(
                CalendarResource(owner_id=source.owner_id, source=source, href=remote.href,
                                 etag=remote.etag, uid=uid, ics=remote.ics, recurring=recurring,
                                 updated_at=now)
            )  # fmt: skip
        elif row.ics != remote.ics or row.uid != uid:
            touched.add(row.uid)
            CalendarResource.objects.filter(pk=row.pk).update(
                etag=remote.etag, uid=uid, ics=remote.ics, recurring=recurring, updated_at=now
            )
        elif row.etag != remote.etag:
            CalendarResource.objects.filter(pk=row.pk).update(etag=remote.etag)
            continue
        else:
            continue
        touched.add(uid)
    CalendarResource.objects.bulk_create(creates, batch_size=1000)
    return touched, problems


def _occurrence_values(occurrence: Occurrence) -> dict:
    return {name: getattr(occurrence, name) for name in EVENT_FIELDS}


def _events_sync(source: Source, uids: set[str], window: tuple[date, date]) -> ApplyReport:
    """Recompute the occurrences of `uids` from their stored objects, keeping rows."""
    report = ApplyReport()
    if not uids:
        return report
    texts: dict[str, list[str]] = defaultdict(list)
    for uid, ics in CalendarResource.objects.filter(source=source, uid__in=uids).values_list(
        "uid", "ics"
    ):
        texts[uid].append(ics)
    existing: dict[tuple[str, str], Event] = {
        (event.uid, event.recurrence_id): event
        for event in Event.objects.filter(source=source, uid__in=uids)
    }
    wanted: dict[tuple[str, str], Occurrence] = {}
    zone = source.time_zone or "UTC"
    for uid in uids:
        expanded = expand(texts.get(uid, []), window=window, floating_zone=zone)
        report.problems.extend(expanded.problems)
        for occurrence in expanded.occurrences:
            wanted[(occurrence.uid, occurrence.recurrence_id)] = occurrence
    stale = [event.pk for key, event in existing.items() if key not in wanted]
    if stale:
        report.removed = Event.objects.filter(pk__in=stale).delete()[0]
    creates: list[Event] = []
    updates: list[Event] = []
    for key, occurrence in wanted.items():
        values = _occurrence_values(occurrence)
        event = existing.get(key)
        if event is None:
            creates.append(Event(owner_id=source.owner_id, connection_id=source.connection_id,
                                 source=source, uid=occurrence.uid,
                                 recurrence_id=occurrence.recurrence_id, **values))  # fmt: skip
        elif any(getattr(event, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(event, name, value)
            updates.append(event)
    Event.objects.bulk_create(creates, batch_size=1000)
    Event.objects.bulk_update(updates, EVENT_FIELDS, batch_size=1000)
    report.added, report.updated = len(creates), len(updates)
    return report


def source_result_apply(*, source: Source, result: SyncResult) -> ApplyReport:
    """Store `result` for `source` (call inside a transaction, with the source locked),
    re-expanding recurring events when the rolling window has moved."""
    window = calendar_window()
    report = ApplyReport()
    touched: set[str] = set()
    if not result.unchanged:
        touched, problems = _store_resources(source, result)
        report.problems.extend(problems)
    if (source.expanded_from, source.expanded_until) != window:
        touched |= set(
            CalendarResource.objects.filter(source=source, recurring=True).values_list(
                "uid", flat=True
            )
        )
    report.merge(_events_sync(source, touched, window))
    source.state = result.state
    source.expanded_from, source.expanded_until = window
    source.last_synced_at = timezone.now()
    if not result.unchanged:
        source.problems = (result.problems + report.problems)[:200]
    source.save(
        update_fields=["state", "expanded_from", "expanded_until", "last_synced_at", "problems"]
    )
    return report
