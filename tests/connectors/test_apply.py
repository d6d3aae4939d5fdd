"""Storing a sync result: idempotent, keeps event ids, a complete listing removes what
vanished, deletions and new windows re-expand what they must."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from connectors.base import Connected, RemoteSource, Resource, SyncResult
from connectors.bench.ics import vcalendar, vevent
from connectors.calendar.apply import calendar_window, source_result_apply
from connectors.models import CalendarResource, Event, Source
from connectors.services.connections import connection_create


@pytest.fixture
def source(owner) -> Source:
    connected = Connected(
        label="Test", display_url="https://dav.example.org/", config={}, secrets={},
        sources=[RemoteSource(remote_id="cal", name="Cal", time_zone="Europe/Berlin")],
    )  # fmt: skip
    return connection_create(owner=owner, kind="caldav", connected=connected).sources.get()


def _apply(source: Source, result: SyncResult):
    with transaction.atomic():
        locked = Source.objects.select_for_update().get(pk=source.pk)
        return source_result_apply(source=locked, result=result)


def _resource(uid: str, title: str, *, days: int = 3, etag: str = "", **extra) -> Resource:
    start = datetime.combine(timezone.localdate() + timedelta(days=days), datetime.min.time(), UTC)
    text = vcalendar(vevent(uid, title, start + timedelta(hours=9), **extra))
    return Resource(href=f"/cal/{uid}.ics", ics=text, etag=etag or f'"{uid}-{title}"')


def test_applying_the_same_result_twice_changes_nothing(source):
    result = SyncResult(
        state={"token": "1"},
        changed=[_resource("a", "A"), _resource("b", "B", rrule="FREQ=DAILY;COUNT=3")],
        complete=True,
    )
    first = _apply(source, result)
    assert (first.added, first.updated, first.removed) == (4, 0, 0)
    ids = sorted(Event.objects.values_list("pk", flat=True))
    again = _apply(source, result)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert sorted(Event.objects.values_list("pk", flat=True)) == ids
    source.refresh_from_db()
    assert source.state == {"token": "1"} and source.expanded_from == calendar_window()[0]


def test_a_complete_listing_removes_what_vanished(source):
    _apply(source, SyncResult(state={}, changed=[_resource("a", "A"), _resource("b", "B")],
                              complete=True))  # fmt: skip
    report = _apply(source, SyncResult(state={}, changed=[_resource("b", "B")], complete=True))
    assert report.removed == 1
    assert list(Event.objects.values_list("uid", flat=True)) == ["b"]
    assert list(CalendarResource.objects.values_list("href", flat=True)) == ["/cal/b.ics"]


def test_an_incremental_result_deletes_only_what_it_names(source):
    _apply(source, SyncResult(state={}, changed=[_resource("a", "A"), _resource("b", "B")],
                              complete=True))  # fmt: skip
    report = _apply(source, SyncResult(state={}, changed=[_resource("c", "C")],
                                       deleted=["/cal/a.ics", "/cal/unknown.ics"]))  # fmt: skip
    assert (report.added, report.removed) == (1, 1)
    assert sorted(Event.objects.values_list("uid", flat=True)) == ["b", "c"]


def test_a_change_updates_the_event_in_place(source):
    _apply(source, SyncResult(state={}, changed=[_resource("a", "A")], complete=True))
    event_id = Event.objects.get().pk
    report = _apply(source, SyncResult(state={}, changed=[_resource("a", "A2", days=4)]))
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    event = Event.objects.get()
    assert (event.pk, event.title) == (event_id, "A2")


def test_an_unchanged_result_only_moves_the_window(source):
    _apply(source, SyncResult(state={"t": 1}, changed=[_resource("r", "R", rrule="FREQ=DAILY")],
                              complete=True))  # fmt: skip
    before = Event.objects.count()
    Source.objects.filter(pk=source.pk).update(
        expanded_from=date(2000, 1, 1), expanded_until=date(2000, 2, 1)
    )
    report = _apply(source, SyncResult(state={"t": 1}, unchanged=True))
    assert (report.added, report.removed) == (0, 0)  # same window content: rows kept
    assert Event.objects.count() == before
    source.refresh_from_db()
    assert (source.expanded_from, source.expanded_until) == calendar_window()


def test_an_object_without_a_uid_is_reported_and_the_rest_kept(source):
    no_uid = Resource(href="/cal/x.ics", ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    report = _apply(source, SyncResult(state={}, changed=[no_uid, _resource("a", "A")],
                                       complete=True))  # fmt: skip
    assert report.problems == ["Skipped /cal/x.ics: it holds no event with a UID."]
    assert list(Event.objects.values_list("uid", flat=True)) == ["a"]
    source.refresh_from_db()
    assert source.problems == report.problems


def test_an_objects_uid_is_read_from_its_event_not_its_alarm_even_when_folded(source):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\n"
        "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nBEGIN:VALARM\r\nUID:alarm-uid\r\nACTION:DISPLAY\r\n"
        "TRIGGER:-PT5M\r\nEND:VALARM\r\n"
        "UID:a-very-long-uid-that-a-server-\r\n folded@example.org\r\n"
        "DTSTAMP:20260101T000000Z\r\nDTSTART:20261203T100000Z\r\nDTEND:20261203T110000Z\r\n"
        "SUMMARY:Folded\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    _apply(source, SyncResult(state={}, changed=[Resource(href="/f.ics", ics=ics)], complete=True))

    stored = CalendarResource.objects.get(source=source)
    assert stored.uid == "a-very-long-uid-that-a-server-folded@example.org"
    assert stored.recurring
    assert Event.objects.filter(source=source, uid=stored.uid).count() == 2
