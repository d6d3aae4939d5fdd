"""Free time computed in code: busy events merged, working hours in the user's zone,
cancelled, transparent and all-day events never blocking."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from connectors.calendar.freebusy import (
    WorkingHours,
    busy_intervals,
    free_slots,
    is_free,
    working_windows,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = WorkingHours(start=time(9), end=time(17), days=(0, 1, 2, 3, 4))


def at(day, hour, minute=0, zone=BERLIN):
    return datetime(2026, 12, day, hour, minute, tzinfo=zone)


def event(start, end, **fields):
    return SimpleNamespace(
        **{"start": start, "end": end, "all_day": False, "status": "CONFIRMED", **fields}
    )


def test_overlapping_and_touching_events_merge():
    events = [
        event(at(7, 9), at(7, 10)),
        event(at(7, 9, 30), at(7, 11)),
        event(at(7, 11), at(7, 12)),
    ]
    assert busy_intervals(events) == [(at(7, 9), at(7, 12))]


def test_working_windows_skip_the_weekend_and_clip_to_the_range():
    windows = working_windows(at(4, 12), at(8, 10), hours=HOURS, zone=BERLIN)  # Fri noon..Tue 10
    assert windows == [(at(4, 12), at(4, 17)), (at(7, 9), at(7, 17)), (at(8, 9), at(8, 10))]


def test_first_slot_of_each_free_stretch_in_working_hours():
    events = [event(at(7, 9), at(7, 10, 10)), event(at(7, 11), at(7, 16, 45))]
    slots = free_slots(events, start=at(7, 0), end=at(8, 0), duration=timedelta(minutes=30),
                       hours=HOURS, zone=BERLIN)  # fmt: skip
    # 10:10 rounds up to 10:15; 16:45-17:00 is too short for 30 minutes.
    assert slots == [(at(7, 10, 15), at(7, 10, 45))]


def test_cancelled_transparent_and_all_day_events_do_not_block():
    events = [
        event(at(7, 9), at(7, 17), status="CANCELLED"),
        event(at(7, 9), at(7, 17), transparency="TRANSPARENT"),
        SimpleNamespace(start=at(7, 0), end=at(8, 0), all_day=True, status="CONFIRMED"),
    ]
    assert busy_intervals(events) == []
    free, clashes = is_free(events, start=at(7, 13), end=at(7, 14))
    assert free and clashes == []


def test_is_free_names_the_clashes():
    lunch = event(at(3, 12, 30), at(3, 13, 30))
    free, clashes = is_free([lunch, event(at(3, 15), at(3, 16))], start=at(3, 13), end=at(3, 14))
    assert not free and clashes == [lunch]


def test_working_hours_are_the_users_even_for_events_stored_in_utc():
    utc = ZoneInfo("UTC")
    # 08:00-09:30 UTC is 09:00-10:30 in Berlin: the morning's first slot is 10:30 Berlin.
    events = [event(datetime(2026, 12, 7, 8, tzinfo=utc), datetime(2026, 12, 7, 9, 30, tzinfo=utc))]
    slots = free_slots(events, start=at(7, 0), end=at(8, 0), duration=timedelta(hours=1),
                       hours=HOURS, zone=BERLIN)  # fmt: skip
    assert slots[0] == (at(7, 10, 30), at(7, 11, 30))
    assert slots[0][0].tzinfo == BERLIN


def test_a_full_week_has_no_slot_and_the_limit_holds():
    busy = [event(at(d, 9), at(d, 17)) for d in range(7, 12)]
    assert free_slots(busy, start=at(7, 0), end=at(14, 0), duration=timedelta(minutes=15),
                      hours=HOURS, zone=BERLIN) == []  # fmt: skip
    empty = free_slots([], start=at(7, 0), end=at(21, 0), duration=timedelta(minutes=15),
                       hours=HOURS, zone=BERLIN, limit=3)  # fmt: skip
    assert empty == [(at(d, 9), at(d, 9, 15)) for d in (7, 8, 9)]
