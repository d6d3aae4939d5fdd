"""CalDAV sync end to end: a real Radicale, connectors.services.sync, the database.

What a user does in their calendar app (add, change, delete, move one instance of a
series, remove a calendar, change the password) must show in the stored events after
the next sync, with the instants right across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from connectors.base import EventDraft, PermanentError
from connectors.bench.radicale import radicale_user_add, vcalendar, vevent
from connectors.caldav.kind import CalDavKind
from connectors.models import CalendarResource, Connection, Event, Source
from connectors.services.connections import connection_create
from connectors.services.sync import (
    connection_session,
    connection_sync,
    connection_sync_failed,
    remote_of,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
KIND = CalDavKind()


def _connect(owner, account) -> Connection:
    connected = KIND.connect(
        {"url": account.server.base_url, "username": account.user, "password": account.password}
    )
    return connection_create(owner=owner, kind="caldav", connected=connected)


def _sync(connection: Connection):
    connection.refresh_from_db()
    return connection_sync(connection=connection)


def _put(account, calendar: str, uid: str, *events: str) -> None:
    account.object_put(calendar, f"{uid}.ics", vcalendar(*events))


def _titles(**filters) -> list[str]:
    return sorted(Event.objects.filter(**filters).values_list("title", flat=True))


def _soon(weekday: int = 0) -> date:
    """A date a week or two ahead (inside the rolling window whatever today is)."""
    today = timezone.localdate()
    return today + timedelta(days=7 + (weekday - today.weekday()) % 7)


def _next_dst_change(zone: ZoneInfo) -> date:
    day = timezone.localdate() + timedelta(days=8)
    for _ in range(400):
        noon = datetime.combine(day, time(12), zone).utcoffset()
        if noon != datetime.combine(day - timedelta(days=1), time(12), zone).utcoffset():
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{zone.key} has no daylight-saving change within a year")


@pytest.fixture
def work(radicale_account):
    radicale_account.calendar_create("work", displayname="Work")
    return radicale_account


def test_create_change_and_delete_propagate_keeping_event_ids(owner, work):
    day = _soon()
    _put(work, "work", "lunch", vevent("lunch", "Lunch", datetime.combine(day, time(12), BERLIN)))
    _put(work, "work", "gym", vevent("gym", "Gym", datetime.combine(day, time(18), BERLIN)))
    connection = _connect(owner, work)
    report = _sync(connection)
    assert (report.sources, report.added, report.removed) == (1, 2, 0)
    assert _titles(owner=owner) == ["Gym", "Lunch"]
    lunch_id = Event.objects.get(uid="lunch").pk

    later = datetime.combine(day, time(13), BERLIN)
    _put(work, "work", "lunch", vevent("lunch", "Lunch with Sam", later, location="Cafe"))
    work.object_delete("work", "gym.ics")
    _put(work, "work", "talk", vevent("talk", "Talk", datetime.combine(day, time(15), BERLIN)))
    report = _sync(connection)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    lunch = Event.objects.get(uid="lunch")
    assert lunch.pk == lunch_id  # a chip in an old answer still opens it
    assert (lunch.title, lunch.location, lunch.start) == ("Lunch with Sam", "Cafe", later)
    assert _titles(owner=owner) == ["Lunch with Sam", "Talk"]
    assert not CalendarResource.objects.filter(href__endswith="/gym.ics").exists()


def test_an_unchanged_calendar_costs_one_request_and_changes_nothing(owner, work):
    _put(work, "work", "a", vevent("a", "A", datetime.combine(_soon(), time(9), BERLIN)))
    connection = _connect(owner, work)
    _sync(connection)
    report = _sync(connection)
    assert report.requests == 1
    assert (report.added, report.updated, report.removed) == (0, 0, 0)


def test_weekly_series_with_a_moved_and_a_cancelled_instance(owner, work):
    monday = _soon(weekday=0)
    start = datetime.combine(monday, time(9), BERLIN)
    week = timedelta(days=7)
    series = vcalendar(
        vevent("standup", "Standup", start, rrule="FREQ=WEEKLY;COUNT=5",
               exdates=[start + 2 * week]),
        vevent("standup", "Standup (moved)", start + week + timedelta(hours=5),
               recurrence_id=start + week),
        vevent("standup", "Standup", start + 3 * week, recurrence_id=start + 3 * week,
               status="CANCELLED"),
    )  # fmt: skip
    work.object_put("work", "standup.ics", series)
    _sync(_connect(owner, work))
    events = list(Event.objects.filter(uid="standup").order_by("start"))
    assert [e.start for e in events] == [start, start + week + timedelta(hours=5), start + 4 * week]
    moved = events[1]
    assert moved.title == "Standup (moved)" and moved.recurring
    assert moved.recurrence_id == (start + week).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert {e.time_zone for e in events} == {"Europe/Berlin"}


def test_all_day_events_keep_their_dates(owner, work):
    first = _soon(weekday=4)
    _put(work, "work", "trip", vevent("trip", "Trip", first, first + timedelta(days=3)))
    _put(work, "work", "bday", vevent("bday", "Birthday", first))
    _sync(_connect(owner, work))
    trip = Event.objects.get(uid="trip")
    assert trip.all_day and (trip.start_date, trip.end_date) == (first, first + timedelta(days=3))
    assert Event.objects.get(uid="bday").end_date == first + timedelta(days=1)


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK], ids=lambda zone: zone.key)
def test_instants_are_right_across_a_daylight_saving_change(owner, work, zone):
    change = _next_dst_change(zone)
    before = change - timedelta(days=3)
    weekly_start = datetime.combine(change - timedelta(days=7), time(9), zone)
    _put(
        work, "work", "single", vevent("single", "Before", datetime.combine(before, time(9), zone))
    )
    _put(
        work,
        "work",
        "weekly",
        vevent("weekly", "Weekly", weekly_start, rrule="FREQ=WEEKLY;COUNT=3"),
    )
    _sync(_connect(owner, work))
    single = Event.objects.get(uid="single")
    assert single.start == datetime.combine(before, time(9), zone).astimezone(UTC)
    assert single.time_zone == zone.key
    weekly = list(Event.objects.filter(uid="weekly").order_by("start"))
    expected = [weekly_start + timedelta(days=7 * n) for n in range(3)]
    assert [e.start for e in weekly] == [moment.astimezone(UTC) for moment in expected]
    # 09:00 local on both sides of the change: the UTC hour moved.
    assert weekly[0].start.astimezone(UTC).hour != weekly[1].start.astimezone(UTC).hour
    assert {e.start.astimezone(zone).hour for e in weekly} == {9}


def test_two_calendars_and_one_removed_on_the_server(owner, work):
    work.calendar_create("home", displayname="Home")
    day = _soon()
    _put(work, "work", "w", vevent("w", "Work thing", datetime.combine(day, time(9), BERLIN)))
    _put(work, "home", "h", vevent("h", "Home thing", datetime.combine(day, time(19), BERLIN)))
    connection = _connect(owner, work)
    report = _sync(connection)
    assert report.sources == 2
    home = Source.objects.get(connection=connection, name="Home")
    assert _titles(source=home) == ["Home thing"]
    assert _titles(source__name="Work") == ["Work thing"]

    work.calendar_delete("home")
    report = _sync(connection)
    assert any("'Home' is gone from the server" in problem for problem in report.problems)
    home.refresh_from_db()
    assert home.gone_at is not None
    assert not Event.objects.filter(source=home).exists()
    assert _titles(owner=owner) == ["Work thing"]


def test_a_rejected_sync_token_falls_back_to_a_full_listing(owner, work):
    day = _soon()
    for uid in ("a", "b"):
        _put(work, "work", uid, vevent(uid, uid.upper(), datetime.combine(day, time(9), BERLIN)))
    connection = _connect(owner, work)
    _sync(connection)
    source = Source.objects.get(connection=connection)
    source.state = {**source.state, "sync_token": "http://radicale.org/ns/sync/expired"}
    source.save(update_fields=["state"])
    work.object_delete("work", "a.ics")
    _put(work, "work", "c", vevent("c", "C", datetime.combine(day, time(10), BERLIN)))
    report = _sync(connection)
    assert (report.added, report.removed) == (1, 1)
    assert _titles(owner=owner) == ["B", "C"]
    source.refresh_from_db()
    assert source.state["sync_token"] != "http://radicale.org/ns/sync/expired"


def test_a_changed_password_pauses_the_connection_with_the_reason(owner, work, radicale):
    connection = _connect(owner, work)
    _sync(connection)
    radicale_user_add(radicale, work.user, "a-new-password")
    with pytest.raises(PermanentError) as caught:
        _sync(connection)
    connection_sync_failed(connection=connection, error=caught.value)
    connection.refresh_from_db()
    assert connection.is_paused
    assert "wrong user name or password" in connection.paused_reason
    assert "app-specific password" in connection.last_error_hint


def test_an_unknown_zone_and_a_task_are_reported_or_left_out_and_the_rest_kept(owner, work):
    """Radicale itself drops objects it cannot read (tests/connectors/test_ical.py covers
    those); an unknown TZID it serves: the event is kept, read in the calendar's zone."""
    day = _soon()
    _put(work, "work", "ok", vevent("ok", "Fine", datetime.combine(day, time(9), BERLIN)))
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
    mars = "BEGIN:VEVENT\r\nUID:mars\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:On Mars\r\n"
    mars += f"DTSTART;TZID=Mars/Olympus:{day:%Y%m%d}T090000\r\nEND:VEVENT\r\n"
    task = "BEGIN:VTODO\r\nUID:task\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Task\r\nEND:VTODO\r\n"
    work.bulk_write("work", {"mars.ics": head + mars + "END:VCALENDAR\r\n"})
    work.bulk_write("work", {"task.ics": head + task + "END:VCALENDAR\r\n"})
    report = _sync(_connect(owner, work))
    assert _titles(owner=owner) == ["Fine", "On Mars"]
    assert Event.objects.get(uid="mars").start == datetime.combine(day, time(9), UTC)
    assert [p for p in report.problems if "Mars/Olympus" in p and "does not know" in p]
    assert not [p for p in report.problems if "task" in p.lower()]
    assert Source.objects.get(connection__owner=owner).problems == report.problems


def test_an_event_written_through_the_kind_arrives_with_the_next_sync(owner, work):
    connection = _connect(owner, work)
    _sync(connection)
    source = Source.objects.get(connection=connection)
    start = datetime.combine(_soon(), time(16), NEW_YORK)
    draft = EventDraft(title="Call", start=start, end=start + timedelta(minutes=30),
                       time_zone="America/New_York")  # fmt: skip
    href = KIND.create_event(connection_session(connection), remote_of(source), draft)
    assert "BEGIN:VEVENT" in work.object_get_href(href)
    _sync(connection)
    event = Event.objects.get(source=source)
    assert (event.title, event.start, event.time_zone) == ("Call", start, "America/New_York")


def test_bulk_written_objects_sync_like_uploaded_ones(owner, work):
    day = _soon()
    objects = {
        f"e{n}.ics": vcalendar(vevent(f"e{n}", f"Event {n}", datetime.combine(day, time(8), UTC)
                                      + timedelta(minutes=n)))
        for n in range(250)  # more than one multiget batch
    }  # fmt: skip
    work.bulk_write("work", objects)
    report = _sync(_connect(owner, work))
    assert report.added == 250 and Event.objects.filter(owner=owner).count() == 250
