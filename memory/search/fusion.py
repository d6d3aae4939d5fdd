"""How the signals of memory_search combine into one score (pure Python, no I/O).

1. Reciprocal rank fusion of the vector and full-text candidate lists. k=10 rather than
   the textbook 60: both lists are short (a few hundred rows) and strong at the head,
   so a first place should count for clearly more than a tenth.
2. An information prior: a memory with more distinct content words is more likely to
   hold an answer than a two-word acknowledgement ("ok, thanks!"); worth about a tenth
   of a first place per e-fold of lexemes.
3. Multiplicative boosts: inside a time window the query names (x2), carrying a time
   reference when the query asks "when" (x1.2), pinned by the user (x1.25), and
   recency (up to x1.1 for things from the last weeks, halving every 30 days).
4. Context: memories from the same thread (conversation, session, document) as a strong
   hit inherit part of its score: 0.35/d from a hit d positions away (d <= 2), and 0.3 of
   the best score in their thread. A question's answer is often the turn after the one
   that shares its words, and a relevant conversation tends to hold more of the answer.
   (Only other items lift an item, so memories outside any thread are not at a disadvantage.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

RRF_K = 10
WEIGHTS = {"vector": 1.0, "text": 1.0}
INFO_PRIOR = 0.1 / (RRF_K + 1)
TIME_BOOST = 1.0
WHEN_BOOST = 0.2
PIN_BOOST = 0.25
RECENCY_BOOST = 0.1
RECENCY_HALF_LIFE_DAYS = 30.0
NEIGHBOUR_SHARE = 0.35
NEIGHBOUR_WIDTH = 2
THREAD_SHARE = 0.3

# Signals that nudge every candidate (the information prior and recency): they say
# nothing about why one memory was found, so the memory page and the chat's context
# inspector leave them out when they explain a result.
BACKGROUND_SIGNALS = frozenset({"prior", "recency"})


@dataclass
class Candidate:
    """One memory on its way through fusion."""

    item_id: int
    ranks: dict[str, int] = field(default_factory=dict)  # signal -> 1-based rank
    values: dict[str, float] = field(default_factory=dict)  # raw: cosine, BM25
    signals: dict[str, float] = field(default_factory=dict)  # what each signal added
    score: float = 0.0
    via: int | None = None  # the hit that brought a neighbour in


def rank_fusion(lists: dict[str, list[tuple[int, float]]]) -> dict[int, Candidate]:
    candidates: dict[int, Candidate] = {}
    for signal, rows in lists.items():
        weight = WEIGHTS.get(signal, 1.0)
        for rank, (item_id, value) in enumerate(rows, start=1):
            candidate = candidates.setdefault(item_id, Candidate(item_id))
            candidate.ranks[signal] = rank
            candidate.values[signal] = value
            contribution = weight / (RRF_K + rank)
            candidate.signals[signal] = contribution
            candidate.score += contribution
    return candidates


def information_prior(candidate: Candidate, lexeme_count: int) -> None:
    if candidate.score <= 0:
        return
    bonus = INFO_PRIOR * math.log1p(max(0, lexeme_count))
    candidate.signals["prior"] = bonus
    candidate.score += bonus


def boost(candidate: Candidate, signal: str, factor: float) -> None:
    """Multiply the score by (1 + factor), recording what that added."""
    if factor < 1e-6 or candidate.score <= 0:
        return
    added = candidate.score * factor
    candidate.signals[signal] = candidate.signals.get(signal, 0.0) + added
    candidate.score += added


def recency_factor(moment: datetime | None, now: datetime) -> float:
    if moment is None:
        return 0.0
    age_days = max(0.0, (now - moment).total_seconds() / 86400.0)
    return RECENCY_BOOST * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)


def spread_context(
    candidates: dict[int, Candidate],
    neighbours: list[tuple[int, int, int]],
    threads: dict[int, str],
) -> None:
    """Add neighbour and thread context; neighbours not yet candidates join the pool."""
    base = {item_id: c.score for item_id, c in candidates.items()}
    best_from: dict[int, tuple[float, int]] = {}
    for hit, neighbour, distance in neighbours:
        share = NEIGHBOUR_SHARE / distance * base.get(hit, 0.0)
        if share > best_from.get(neighbour, (0.0, 0))[0]:
            best_from[neighbour] = (share, hit)
    # The two best scores per thread: an item is lifted by the best *other* one.
    best_two: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for item_id, score in base.items():
        thread = threads.get(item_id, "")
        if thread and score > 0:
            best_two[thread] = sorted([*best_two[thread], (score, item_id)], reverse=True)[:2]
    for neighbour, (share, hit) in best_from.items():
        candidate = candidates.setdefault(neighbour, Candidate(neighbour))
        candidate.signals["neighbour"] = share
        candidate.score += share
        if not candidate.ranks:
            candidate.via = hit
    for item_id, candidate in candidates.items():
        others = [
            score for score, other in best_two.get(threads.get(item_id, ""), ()) if other != item_id
        ]
        if others:
            added = THREAD_SHARE * others[0]
            candidate.signals["thread"] = added
            candidate.score += added
