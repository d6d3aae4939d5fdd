"""Google event JSON to iCalendar: times in their own zone or UTC, all-day dates, and
recurrence lines kept without letting one inject another component."""

from __future__ import annotations

import pytest

from connectors.google_calendar.convert import event_to_ics


@pytest.mark.parametrize(
    ("item", "lines"),
    [
        ({"dateTime": "2030-03-01T10:00:00+05:30"}, ["DTSTART:20300301T043000Z"]),
        ({"date": "2030-03-01"}, ["DTSTART;VALUE=DATE:20300301"]),
        ({"dateTime": "2030-03-01T10:00:00-05:00", "timeZone": "America/New_York"},
         ["DTSTART;TZID=America/New_York:20300301T100000"]),
    ],
)  # fmt: skip
def test_google_times_become_icalendar_times(item, lines):
    text = event_to_ics({"id": "e1", "summary": "S", "start": item, "end": item})
    assert all(line in text.splitlines() for line in lines), text
    assert "UID:e1@google.com" in text.splitlines()


def test_recurrence_lines_are_kept_and_nothing_else_is_injected():
    text = event_to_ics({
        "id": "r1", "iCalUID": "r1@example.com", "start": {"date": "2030-03-01"},
        "recurrence": ["RRULE:FREQ=YEARLY", "EXDATE;VALUE=DATE:20310301",
                       "X-EVIL:1\r\nBEGIN:VEVENT"],
    })  # fmt: skip
    lines = text.splitlines()
    assert "RRULE:FREQ=YEARLY" in lines and "EXDATE;VALUE=DATE:20310301" in lines
    assert lines.count("BEGIN:VEVENT") == 1 and "UID:r1@example.com" in lines
