"""iCalendar expansion: recurrences (RRULE, EXDATE, RDATE, overrides), zones, and
events that cannot be read (skipped with their reason, the rest kept)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.bench.ics import vcalendar, vevent
from connectors.calendar.ical import expand

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (date(2026, 1, 1), date(2027, 1, 1))


def _starts(expanded) -> list[datetime]:
    return sorted(o.start for o in expanded.occurrences)


def test_rrule_with_exdate_rdate_and_an_override():
    start = datetime(2026, 3, 2, 9, tzinfo=BERLIN)  # Mondays, across the March DST change
    week = timedelta(days=7)
    extra = datetime(2026, 3, 20, 15, tzinfo=BERLIN)
    text = vcalendar(
        vevent("s", "Standup", start, rrule="FREQ=WEEKLY;COUNT=5", exdates=[start + week],
               rdates=[extra]),
        vevent("s", "Standup, later", start + 2 * week + timedelta(hours=2),
               recurrence_id=start + 2 * week),
    )  # fmt: skip
    expanded = expand([text], window=WINDOW)
    assert not expanded.problems
    wanted = [
        start,
        start + 2 * week + timedelta(hours=2),
        extra,
        start + 3 * week,
        start + 4 * week,
    ]
    assert _starts(expanded) == sorted(m.astimezone(UTC) for m in wanted)
    moved = next(o for o in expanded.occurrences if o.title == "Standup, later")
    assert moved.recurring and moved.recurrence_id == "20260316T080000Z"
    assert {o.time_zone for o in expanded.occurrences} == {"Europe/Berlin"}
    # 09:00 in Berlin is 08:00 UTC before the change and 07:00 after it.
    assert min(o.start for o in expanded.occurrences).hour == 8
    assert max(o.start for o in expanded.occurrences).hour == 7


def test_an_override_in_its_own_object_and_a_cancelled_instance():
    start = datetime(2026, 6, 1, 10, tzinfo=UTC)
    master = vcalendar(vevent("d", "Daily", start, rrule="FREQ=DAILY;COUNT=3"))
    moved = vcalendar(
        vevent("d", "Daily (moved)", start + timedelta(days=1, hours=3),
               recurrence_id=start + timedelta(days=1)),
        vevent("d", "Daily", start + timedelta(days=2), recurrence_id=start + timedelta(days=2),
               status="CANCELLED"),
    )  # fmt: skip
    expanded = expand([master, moved], window=WINDOW)
    assert [o.title for o in sorted(expanded.occurrences, key=lambda o: o.start)] == [
        "Daily",
        "Daily (moved)",
    ]


def test_only_the_window_is_expanded_but_single_events_are_kept_whatever_their_date():
    texts = [
        vcalendar(vevent("r", "Forever", datetime(2020, 1, 6, 9, tzinfo=UTC), rrule="FREQ=WEEKLY")),
        vcalendar(vevent("old", "Old", datetime(2001, 5, 5, 9, tzinfo=UTC))),
    ]
    weekly = expand(texts[:1], window=WINDOW)
    assert len(weekly.occurrences) == 52
    assert all(WINDOW[0] <= o.start.date() < WINDOW[1] for o in weekly.occurrences)
    assert len(expand(texts[1:], window=WINDOW).occurrences) == 1


def test_all_day_and_floating_times():
    all_day = vcalendar(vevent("a", "Holiday", date(2026, 8, 3), date(2026, 8, 5)))
    floating = vcalendar(vevent("f", "Wake", datetime(2026, 7, 1, 7)))
    [holiday] = expand([all_day], window=WINDOW).occurrences
    assert holiday.all_day and (holiday.start_date, holiday.end_date) == (
        date(2026, 8, 3),
        date(2026, 8, 5),
    )
    [wake] = expand([floating], window=WINDOW, floating_zone="America/New_York").occurrences
    assert wake.start == datetime(2026, 7, 1, 11, tzinfo=UTC)  # 07:00 EDT


def test_an_unknown_tzid_is_read_in_the_calendar_zone_and_reported():
    text = vcalendar(vevent("m", "On Mars", datetime(2026, 7, 1, 9), tzid="Mars/Olympus"))
    expanded = expand([text], window=WINDOW, floating_zone="Europe/Berlin")
    [event] = expanded.occurrences
    assert event.start == datetime.combine(date(2026, 7, 1), time(9), BERLIN)
    assert len(expanded.problems) == 1
    assert "'Mars/Olympus'" in expanded.problems[0] and "Europe/Berlin" in expanded.problems[0]


def test_a_malformed_event_is_skipped_with_its_reason_and_the_rest_kept():
    good = vevent("g", "Good", datetime(2026, 7, 1, 9, tzinfo=UTC))
    no_start = "BEGIN:VEVENT\nUID:bad\nDTSTAMP:20260101T000000Z\nSUMMARY:No start\nEND:VEVENT"
    expanded = expand([vcalendar(good, no_start)], window=WINDOW)
    assert [o.title for o in expanded.occurrences] == ["Good"]
    assert expanded.problems == ["Skipped event 'No start' (bad): it has no start (DTSTART)."]


def test_text_that_is_not_icalendar_is_skipped_with_the_parser_reason():
    good = vcalendar(vevent("g", "Good", datetime(2026, 7, 1, 9, tzinfo=UTC)))
    expanded = expand(["this is not a calendar", good], window=WINDOW)
    assert [o.title for o in expanded.occurrences] == ["Good"]
    assert expanded.problems and expanded.problems[0].startswith("Skipped a calendar object")


def test_a_cancelled_single_event_is_left_out():
    text = vcalendar(vevent("c", "Off", datetime(2026, 7, 1, 9, tzinfo=UTC), status="CANCELLED"))
    assert expand([text], window=WINDOW).occurrences == []
