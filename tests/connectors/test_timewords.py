"""Time words read in the user's zone, against a fixed "now" (Wednesday 2 Dec 2026, 10:30
in Berlin): the window, the intent and the filters of each kind of question."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.calendar.timewords import ADD, FREE, LIST, NEXT, SLOT, time_query_parse

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=BERLIN)  # a Wednesday


def at(month, day, hour=0, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("what's on today?", at(12, 2), at(12, 3), "today"),
        ("What's on tomorrow?", at(12, 3), at(12, 4), "tomorrow"),
        ("what did I have yesterday?", at(12, 1), at(12, 2), "yesterday"),
        ("anything the day after tomorrow?", at(12, 4), at(12, 5), "the day after tomorrow"),
        ("anything tonight?", at(12, 2, 18), at(12, 3), "tonight"),
        ("what's on this week?", at(11, 30), at(12, 7), "this week"),
        ("meetings next week?", at(12, 7), at(12, 14), "next week"),
        ("what happened last week?", at(11, 23), at(11, 30), "last week"),
        ("anything on Thursday?", at(12, 3), at(12, 4), "Thursday"),
        ("what's on Wednesday?", at(12, 2), at(12, 3), "Wednesday"),  # today is Wednesday
        ("what's on next Wednesday?", at(12, 9), at(12, 10), "next Wednesday"),
        ("what did I do last Monday?", at(11, 30), at(12, 1), "last Monday"),
        ("plans this weekend?", at(12, 5), at(12, 7), "this weekend"),
        ("plans next weekend?", at(12, 12), at(12, 14), "next weekend"),
        ("what's on next month?", at(1, 1, year=2027), at(2, 1, year=2027), "next month"),
        ("what's on this month?", at(12, 1), at(1, 1, year=2027), "this month"),
        ("what's on December 24?", at(12, 24), at(12, 25), "December 24"),
        ("what's on March 3?", at(3, 3, year=2027), at(3, 4, year=2027), "March 3"),
        ("what do I have on 3/14?", at(3, 14, year=2027), at(3, 15, year=2027), "March 14"),
        ("what's on 5th of January?", at(1, 5, year=2027), at(1, 6, year=2027), "January 5"),
        ("what was on Nov 20?", at(11, 20), at(11, 21), "November 20"),  # recent: this year
        ("what is on 2026-12-24?", at(12, 24), at(12, 25), "2026-12-24"),
        ("what's on Thursday afternoon?", at(12, 3, 12), at(12, 3, 18), "Thursday afternoon"),
        ("anything tomorrow morning?", at(12, 3, 6), at(12, 3, 12), "tomorrow morning"),
        ("friday evening plans?", at(12, 4, 18), at(12, 5), "Friday evening"),
    ],
)
def test_windows(text, start, end, label):
    query = time_query_parse(text, now=NOW)
    assert query is not None
    assert (query.intent, query.start, query.end, query.label) == (LIST, start, end, label)


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "today I learned how sourdough works",
        "Tell me about next steps for the project",
        "Write a poem about the morning sea",
        "",
    ],
)
def test_not_time_questions(text):
    assert time_query_parse(text, now=NOW) is None


def test_calendar_question_without_a_day_looks_at_the_coming_week():
    query = time_query_parse("what's on my calendar?", now=NOW)
    assert (query.intent, query.start, query.end) == (LIST, NOW, NOW + timedelta(days=7))


def test_free_check_for_a_part_of_a_day():
    query = time_query_parse("Am I free Thursday afternoon?", now=NOW)
    assert (query.intent, query.start, query.end) == (FREE, at(12, 3, 12), at(12, 3, 18))


def test_free_check_at_a_time_with_a_duration():
    query = time_query_parse("am I free tomorrow at 1 for half an hour?", now=NOW)
    assert (query.intent, query.start, query.end) == (FREE, at(12, 3, 13), at(12, 3, 13, 30))
    query = time_query_parse("am I free at 13:00 tomorrow?", now=NOW)
    assert (query.start, query.end) == (at(12, 3, 13), at(12, 3, 14))


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("find a free 30-minute slot next week", 30),
        ("find me a 45 min slot next week", 45),
        ("when am I free for 2 hours next week?", 120),
        ("find time for an hour next week", 60),
    ],
)
def test_find_a_slot(text, minutes):
    query = time_query_parse(text, now=NOW)
    assert query.intent == SLOT
    assert (query.start, query.end) == (at(12, 7), at(12, 14))
    assert query.duration == timedelta(minutes=minutes)


def test_next_thing_searches_forward_with_a_text_filter():
    query = time_query_parse("When is my next dentist appointment?", now=NOW)
    assert (query.intent, query.text, query.start) == (NEXT, "dentist", NOW)
    assert query.end > NOW + timedelta(days=300)


def test_with_someone_is_a_person_filter():
    query = time_query_parse("meetings with Ana this week?", now=NOW)
    assert (query.person, query.start) == ("Ana", at(11, 30))


@pytest.mark.parametrize(
    ("text", "title", "start", "minutes"),
    [
        ("put lunch with Ana on Friday at 1 in my calendar", "Lunch with Ana", at(12, 4, 13), 60),
        ("Add dentist tomorrow at 9:30am for 45 minutes", "Dentist", at(12, 3, 9, 30), 45),
        ("schedule a call with Bob next Monday from 2 to 3pm", "Call with Bob", at(12, 7, 14), 60),
        ('add "Team retro" on 12/10 at 4pm to my calendar', "Team retro", at(12, 10, 16), 60),
        ("book a haircut on Saturday at 11", "Haircut", at(12, 5, 11), 60),
    ],
)
def test_add_an_event(text, title, start, minutes):
    query = time_query_parse(text, now=NOW)
    assert (query.intent, query.title, query.at) == (ADD, title, start)
    assert query.duration == timedelta(minutes=minutes)


def test_add_without_a_time_is_for_the_whole_day():
    query = time_query_parse("add Mom's birthday on March 3 to my calendar", now=NOW)
    assert (query.intent, query.at, query.start) == (ADD, None, at(3, 3, year=2027))
    assert query.title == "Mom's birthday"


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [("at 1pm", 13, 0), ("at 1", 13, 0), ("at 9", 9, 0), ("at 12", 12, 0), ("13:00", 13, 0),
     ("at 7:45 am", 7, 45), ("at noon", 12, 0), ("at 11 p.m.", 23, 0)],
)  # fmt: skip
def test_clock_times(text, hour, minute):
    query = time_query_parse(f"put gym tomorrow {text} in my calendar", now=NOW)
    assert query.at == at(12, 3, hour, minute)


def test_windows_follow_the_zone_across_daylight_saving():
    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 7, 9, 0, tzinfo=new_york)  # the day before clocks go forward
    query = time_query_parse("what's on tomorrow?", now=now)
    utc = ZoneInfo("UTC")
    # A 23-hour day, local midnight to local midnight (real instants, as the database sees them).
    assert query.end.astimezone(utc) - query.start.astimezone(utc) == timedelta(hours=23)
    assert query.start.utcoffset() == timedelta(hours=-5)
    assert query.end.utcoffset() == timedelta(hours=-4)
