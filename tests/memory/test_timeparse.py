"""Time windows named by a question, and "when" questions."""

from __future__ import annotations

from datetime import UTC, datetime

from memory.bench.locomo import normalise_evidence, parse_session_date, turn_text
from memory.search.timeparse import asks_when, mentions_time, query_windows

NOW = datetime(2024, 6, 15, 12, tzinfo=UTC)


def test_explicit_dates_become_windows_with_slack():
    (window,) = query_windows("What did Maria do on 7 July, 2023?", now=NOW)
    assert window.contains(datetime(2023, 7, 7, 18, tzinfo=UTC))
    assert window.contains(datetime(2023, 7, 9, tzinfo=UTC))
    assert not window.contains(datetime(2023, 7, 20, tzinfo=UTC))
    (window,) = query_windows("Which painting was shown on October 13, 2023?", now=NOW)
    assert window.contains(datetime(2023, 10, 13, tzinfo=UTC))


def test_months_years_and_relative_phrases():
    (month,) = query_windows("What class did she start in December 2023?", now=NOW)
    assert month.contains(datetime(2023, 12, 31, tzinfo=UTC))
    assert not month.contains(datetime(2023, 11, 20, tzinfo=UTC))
    (bare,) = query_windows("When did Melanie go camping in June?", now=NOW)
    assert bare.contains(datetime(2019, 6, 2, tzinfo=UTC)) and bare.month == 6
    (year,) = query_windows("How often did I go to the beach in 2023?", now=NOW)
    assert year.contains(datetime(2023, 3, 1, tzinfo=UTC))
    (last_week,) = query_windows("What did I cook last week?", now=NOW)
    assert last_week.contains(datetime(2024, 6, 5, tzinfo=UTC))
    assert query_windows("What may I eat?", now=NOW) == []


def test_when_questions_and_time_in_text():
    assert asks_when("When did Caroline go to the support group?")
    assert asks_when("What year did he move?")
    assert not asks_when("What did Caroline research?")
    assert mentions_time("I went there yesterday")
    assert not mentions_time("I like tea")


def test_locomo_helpers():
    known = {"D11:26", "D30:5", "D8:6", "D9:17"}
    assert normalise_evidence(["D:11:26", "D30:05", "D8:6; D9:17", "D", "D99:1"], known) == [
        "D11:26",
        "D30:5",
        "D8:6",
        "D9:17",
    ]
    assert parse_session_date("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    turn = {"speaker": "Mel", "text": "Look!", "blip_caption": "a photo of a dog"}
    assert turn_text(turn) == 'Mel said, "Look!" and shared a photo of a dog'
