"""Free time, computed in code (never by the model) from busy events and working hours.

Busy means a timed event that is not cancelled and not transparent ("show me as free");
all-day events (holidays, birthdays, "working from home") do not block. Working hours
and days are read in the user's zone, so a slot never lands at 3 a.m. their time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Slots start on these boundaries (minutes): "10:00" or "10:30", not "10:07".
SLOT_STEP_MINUTES = 15
MAX_SLOTS = 5


@dataclass(frozen=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0


def blocks_time(event: Any) -> bool:
    if getattr(event, "all_day", False):
        return False
    if (getattr(event, "status", "") or "").upper() == "CANCELLED":
        return False
    return (getattr(event, "transparency", "") or "").upper() != "TRANSPARENT"


def busy_intervals(events: Iterable[Any]) -> list[tuple[datetime, datetime]]:
    """Merged, sorted busy intervals of the events that block time."""
    spans = sorted((e.start, e.end) for e in events if blocks_time(e) and e.end > e.start)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def working_windows(
    start: datetime, end: datetime, *, hours: WorkingHours, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The working-hour stretches inside [start, end), one per working day."""
    windows = []
    day: date = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in hours.days:
            open_ = datetime.combine(day, hours.start, tzinfo=zone)
            close = datetime.combine(day, hours.end, tzinfo=zone)
            lo, hi = max(open_, start), min(close, end)
            if lo < hi:
                windows.append((lo, hi))
        day += timedelta(days=1)
    return windows


def _round_up(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    extra = (local.minute % SLOT_STEP_MINUTES) * 60 + local.second
    if not extra and not local.microsecond:
        return local
    return (local + timedelta(seconds=SLOT_STEP_MINUTES * 60 - extra)).replace(microsecond=0)


def free_intervals(
    windows: list[tuple[datetime, datetime]], busy: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of `windows` no busy interval covers."""
    free = []
    for lo, hi in windows:
        cursor = lo
        for b_start, b_end in busy:
            if b_end <= cursor or b_start >= hi:
                continue
            if b_start > cursor:
                free.append((cursor, b_start))
            cursor = max(cursor, b_end)
        if cursor < hi:
            free.append((cursor, hi))
    return free


def free_slots(
    events: Iterable[Any],
    *,
    start: datetime,
    end: datetime,
    duration: timedelta,
    hours: WorkingHours,
    zone: ZoneInfo,
    limit: int = MAX_SLOTS,
) -> list[tuple[datetime, datetime]]:
    """Up to `limit` slots of `duration` in working hours between start and end, at most
    one per free stretch (so the answer offers a choice, not 16 quarter hours of one
    morning), in the user's zone."""
    windows = working_windows(start, end, hours=hours, zone=zone)
    slots = []
    for lo, hi in free_intervals(windows, busy_intervals(events)):
        begin = _round_up(lo, zone)
        if begin + duration <= hi:
            slots.append((begin, begin + duration))
            if len(slots) >= limit:
                break
    return slots


def is_free(events: Iterable[Any], *, start: datetime, end: datetime) -> tuple[bool, list[Any]]:
    """Whether [start, end) is free, and the events that make it busy."""
    clashes = [e for e in events if blocks_time(e) and e.start < end and e.end > start]
    return not clashes, clashes
