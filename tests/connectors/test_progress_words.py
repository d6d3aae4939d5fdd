"""A drive sync's progress in words (connectors/services/progress.py): the time left at
the pace so far, "estimating" until there is a pace, and the counts a page shows.
Pure functions: no database."""

from __future__ import annotations

import pytest

from connectors.services.progress import (
    SyncProgress,
    progress_line,
    seconds_left,
    skip_words,
    time_left_words,
)


@pytest.mark.parametrize(
    ("elapsed", "done", "total", "left"),
    [
        (60, 10, 40, 180),  # 6 s a file, 30 to go
        (10, 5, 10, 10),
        (60, 40, 40, 0),  # finished
        (0, 0, 0, 0),  # nothing to read
        (60, 0, 40, None),  # no file done yet: no pace
        (2, 10, 40, None),  # too soon: a first download is no pace
        (60, 2, 40, None),  # too few files
        (60, 3, 400, None),  # under 2% of the work
        (60, 2, 2, 0),
        (30, 3, 4, 10),  # three files are enough, even of a small sync
    ],
)
def test_seconds_left_by_files(elapsed, done, total, left):
    assert seconds_left(elapsed_s=elapsed, files_done=done, files_total=total) == left


def test_seconds_left_goes_by_bytes_when_sizes_are_known():
    # Half the files, but only a tenth of the bytes: the big ones are still to come.
    left = seconds_left(
        elapsed_s=10, files_done=50, files_total=100, bytes_done=1_000, bytes_total=10_000
    )
    assert left == pytest.approx(90)
    by_files = seconds_left(elapsed_s=10, files_done=50, files_total=100)
    assert by_files == pytest.approx(10)
    # A few small files done out of huge ones: under 2% of the bytes is no pace yet.
    assert (
        seconds_left(
            elapsed_s=30, files_done=10, files_total=20, bytes_done=100, bytes_total=1_000_000
        )
        is None
    )


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "estimating time left…"),
        (0, "under a minute left"),
        (59, "under a minute left"),
        (100, "about 2 min left"),
        (59 * 60, "about 59 min left"),
        (3600, "about 1 h left"),
        (80 * 60, "about 1 h 20 min left"),
        (125 * 60 + 10, "about 2 h 05 min left"),
    ],
)
def test_time_left_words(seconds, words):
    assert time_left_words(seconds) == words


def test_the_line_counts_what_the_page_shows():
    counts = SyncProgress(
        stage="reading", seen=1_200, total=1_000, done=412, indexed=380, unchanged=200,
        skipped=12, skip_reasons={"unsupported_type": 4, "too_large": 8}, failed=1,
        chunks_embedded=4_210, eta_s=130,
    )  # fmt: skip
    assert progress_line(counts) == (
        "412 of 1,000 files read · 200 unchanged · 380 indexed · 12 skipped (8 too large, "
        "4 unsupported type) · 1 failed · 4,210 passages embedded · about 2 min left"
    )


def test_the_line_says_estimating_before_a_pace_and_nothing_of_time_when_done():
    early = SyncProgress(stage="reading", seen=3, total=3, done=1, indexed=1, chunks_embedded=1)
    assert progress_line(early) == (
        "1 of 3 files read · 1 indexed · 1 passage embedded · estimating time left…"
    )
    done = SyncProgress(stage="finished", seen=1, total=1, done=1, indexed=1, chunks_embedded=2)
    assert progress_line(done) == "1 of 1 file read · 1 indexed · 2 passages embedded"
    assert progress_line(SyncProgress()) == "looking for changes…"


def test_skip_words_most_frequent_first_and_unknown_codes_as_they_are():
    assert skip_words({"no_text": 1, "too_large": 3, "mystery": 1}) == (
        "3 too large, 1 mystery, 1 no text"
    )


def test_progress_round_trips_through_a_dict_and_ignores_unknown_keys():
    counts = SyncProgress(stage="reading", total=5, done=2, skip_reasons={"too_large": 1})
    data = counts.as_dict() | {"added_later": 7}
    assert SyncProgress.from_dict(data) == counts
    assert SyncProgress.from_dict({}) is None and SyncProgress.from_dict(None) is None
