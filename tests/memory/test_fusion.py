"""memory.search.fusion: how the signals add up (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory.search import fusion


def test_rank_fusion_rewards_agreement():
    candidates = fusion.rank_fusion({"vector": [(1, 0.9), (2, 0.8)], "text": [(2, 7.0), (3, 5.0)]})
    assert candidates[2].score > candidates[1].score > candidates[3].score
    assert candidates[2].ranks == {"vector": 2, "text": 1}
    assert candidates[1].signals == {"vector": pytest.approx(1 / (fusion.RRF_K + 1))}


def test_boosts_record_what_they_added():
    (candidate,) = fusion.rank_fusion({"vector": [(1, 0.9)]}).values()
    before = candidate.score
    fusion.boost(candidate, "time", fusion.TIME_BOOST)
    assert candidate.score == pytest.approx(before * 2)
    assert candidate.signals["time"] == pytest.approx(before)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert fusion.recency_factor(now, now) == pytest.approx(fusion.RECENCY_BOOST)
    assert fusion.recency_factor(now - timedelta(days=30), now) == pytest.approx(
        fusion.RECENCY_BOOST / 2
    )
    assert fusion.recency_factor(None, now) == 0.0


def test_context_lifts_neighbours_and_thread_mates_but_not_loners():
    candidates = {
        item_id: fusion.Candidate(item_id, score=score)
        for item_id, score in ((1, 0.5), (2, 0.2), (3, 0.4))
    }
    threads = {1: "chat", 2: "chat", 3: "", 4: "chat"}
    fusion.spread_context(candidates, [(1, 4, 1), (1, 2, 2)], threads)
    assert candidates[1].signals == {"thread": pytest.approx(0.3 * 0.2)}  # from its mate only
    assert candidates[2].signals["thread"] == pytest.approx(0.3 * 0.5)
    assert candidates[2].signals["neighbour"] == pytest.approx(0.35 / 2 * 0.5)
    assert candidates[3].signals == {}  # outside any thread: neither lifted nor held back
    assert candidates[4].via == 1 and candidates[4].signals["neighbour"] == pytest.approx(0.175)
