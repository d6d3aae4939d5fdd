"""Event reads: the owner's included calendars only, overlap with the window, text and
person filters, and what a time question reads at 10,000 events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from assistant.models import Conversation, Message
from assistant.services.calendar_context import calendar_context_build
from connectors.calendar.query import event_next, events_in_window, sources_writable
from connectors.models import Connection, Event
from tests.calendar_factories import calendar_create, event_add

pytestmark = pytest.mark.django_db


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def titles(events):
    return [e.title for e in events]


def test_window_overlap_owner_and_visibility(owner, outsider):
    personal = calendar_create(owner)
    hidden = calendar_create(owner, "Hidden", included=False)
    gone = calendar_create(owner, "Gone")
    gone.gone_at = timezone.now()
    gone.save()
    event_add(personal, "Starts before", at(2, 23), at(3, 1))
    event_add(personal, "Inside", at(3, 9))
    event_add(personal, "Cancelled", at(3, 10), status="CANCELLED")
    event_add(personal, "Holiday", date(2026, 12, 3))
    event_add(personal, "Ends at the start", at(2, 22), at(3, 0))  # end exclusive
    event_add(personal, "Next day", at(4, 0))
    event_add(personal, "Reminder", at(3, 12), at(3, 12))  # no duration: still a moment
    event_add(personal, "Whole week", at(1, 8), at(8, 8))  # spans the window
    event_add(hidden, "In a hidden calendar", at(3, 9))
    event_add(gone, "In a vanished calendar", at(3, 9))
    event_add(calendar_create(outsider), "Mallory's", at(3, 9))

    found = events_in_window(user=owner, start=at(3, 0), end=at(4, 0))

    assert titles(found) == ["Whole week", "Starts before", "Holiday", "Inside", "Reminder"]
    assert events_in_window(user=outsider, start=at(3, 0), end=at(4, 0))[0].title == "Mallory's"


def test_text_and_person_filters(owner):
    cal = calendar_create(owner)
    event_add(cal, "Dentist check-up", at(10, 9))
    event_add(cal, "Lunch", at(11, 12), attendees=["Ana Lima <ana@example.org>"])
    event_add(cal, "Call with Ana", at(12, 12))
    event_add(cal, "Review", at(13, 12), location="Dentist street 4")

    assert titles(event_next(user=owner, after=at(1, 0), until=at(31, 0), text="dentist")) == [
        "Dentist check-up", "Review",
    ]  # fmt: skip
    assert titles(events_in_window(user=owner, start=at(1, 0), end=at(31, 0), person="Ana")) == [
        "Lunch", "Call with Ana",
    ]  # fmt: skip


def test_writable_sources_exclude_read_only_paused_and_excluded(owner, outsider):
    first = calendar_create(owner, "Work")
    calendar_create(owner, "Feed", kind="ics", writable=False)
    calendar_create(owner, "Off", included=False)
    paused = calendar_create(owner, "Paused")
    Connection.objects.filter(pk=paused.connection_id).update(status="paused")
    calendar_create(outsider, "Mallory")
    assert [s.name for s in sources_writable(user=owner)] == [first.name]


def test_a_time_question_at_10000_events_reads_its_window_in_a_few_queries(
    owner, settings, django_assert_max_num_queries
):
    """At 10,000 events a question costs a fixed handful of queries and injects only its
    window's events, under the cap (its latency is bench_connectors' figure)."""
    settings.CALENDAR_PROMPT_MAX_EVENTS = 30
    cal = calendar_create(owner)
    start = timezone.now() - timedelta(days=180)
    Event.objects.bulk_create(
        Event(owner=owner, connection=cal.connection, source=cal, uid=f"e{i}", title=f"Event {i}",
              start=start + timedelta(hours=i), end=start + timedelta(hours=i, minutes=45),
              status="CONFIRMED")
        for i in range(10_000)
    )  # fmt: skip
    conversation = Conversation.objects.create(owner=owner)
    answer = Message.objects.create(conversation=conversation, role="assistant")
    now = timezone.now()
    for question in ["what's on tomorrow?", "find a free 30-minute slot next week"]:
        with django_assert_max_num_queries(8):
            context = calendar_context_build(answer=answer, question=question)
        injected = [item.event for item in context.items if item.injected]
        assert 0 < len(injected) <= 30
        for event in injected:
            assert now - timedelta(days=1) < event.end and event.start < now + timedelta(days=15)
