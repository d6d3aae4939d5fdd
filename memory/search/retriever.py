"""memory_search: the one retrieval function (chat, memory UI and benchmarks all use it).

Owner first, then hybrid search inside PostgreSQL: vector similarity from the HNSW
index and BM25 over the full-text column, fused by reciprocal rank, then the signals
described in memory/search/fusion.py (information prior, time windows the question
names, "when" questions, pins, recency, and thread context). Each result says which
signals brought it and where it ranked in each list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from memory.embedding import QueryVector
from memory.models import MemoryItem, Status
from memory.search import fulltext, fusion, sql
from memory.search.timeparse import asks_when, mentions_time, query_windows

# How many of the strongest hits bring their thread neighbours along.
CONTEXT_HITS = 20


@dataclass(frozen=True)
class RetrievedMemory:
    """One retrieved memory.

    `signals` maps each signal that contributed to what it added to `score`:
    "vector" and "text" (reciprocal-rank shares), "prior" (information prior), "time"
    (inside a time window the query names), "when" (carries a time reference for a
    "when" question), "pinned", "recency", "neighbour" (from a strong hit next to it in
    its thread; `via` is that hit's id) and "thread" (its thread holds a strong hit).
    `ranks` holds the 1-based rank in each candidate list ("vector", "text"), and
    `similarity` / `bm25` the raw scores where the item was a candidate there.
    """

    item: MemoryItem
    score: float
    rank: int
    signals: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    similarity: float | None = None
    bm25: float | None = None
    via: int | None = None

    @property
    def tag(self) -> str:
        return self.item.tag


def _load_items(owner_ids: tuple[int, ...], ids: list[int]) -> dict[int, MemoryItem]:
    rows = MemoryItem.objects.filter(owner_id__in=owner_ids, pk__in=ids).defer(
        "embedding", "search"
    )
    return {item.pk: item for item in rows}


def memory_search(
    *,
    owner,
    query: str,
    limit: int = 10,
    kinds: Iterable[str] | None = None,
    statuses: Iterable[str] = (Status.ACTIVE,),
    now: datetime | None = None,
    vector: np.ndarray | QueryVector | None = None,
    shared_owner_ids: Iterable[int] = (),
) -> list[RetrievedMemory]:
    """The `limit` memories of `owner` that best answer `query`, best first.

    `shared_owner_ids`: other owners whose memories are searched in the same query,
    ranked together (a team's account, for a member working in that team); the caller
    has checked the membership.
    Pass `vector` when the query is already embedded, or a QueryVector a turn shares
    with its document search (embedded once, by whichever search needs it first)."""
    query = (query or "").strip()
    if not query or limit <= 0 or owner is None or owner.pk is None:
        return []
    now = now or timezone.now()
    owner_ids = (owner.pk, *sorted(set(shared_owner_ids) - {owner.pk}))
    scope = sql.Scope(owner_ids, tuple(statuses), tuple(kinds) if kinds else None)
    pool = settings.MEMORY_SEARCH_CANDIDATES
    # The model embeds the query on another thread while PostgreSQL ranks the text:
    # ~10 ms saved per search.
    embedding = QueryVector.of(query, vector).start()
    with transaction.atomic(), connection.cursor() as cursor:
        text_list = fulltext.text_candidates(cursor, scope, query, limit=pool)
        owner_rows, _ = fulltext.owner_statistics(cursor, scope)  # cached for large owners
        vector_list = sql.vector_candidates(
            cursor,
            scope,
            embedding.result(),
            limit=pool,
            ef_search=settings.MEMORY_HNSW_EF_SEARCH,
            exact=sql.exact_is_cheaper(cursor, scope, owner_rows=owner_rows, limit=pool),
        )
        facts = {item_id: fact for item_id, _, fact in (*vector_list, *text_list)}
        candidates = fusion.rank_fusion(
            {
                "vector": [(item_id, value) for item_id, value, _ in vector_list],
                "text": [(item_id, value) for item_id, value, _ in text_list],
            }
        )
        _apply_item_signals(candidates, facts, query, now)
        strongest = sorted(candidates.values(), key=lambda c: -c.score)[:CONTEXT_HITS]
        neighbours = sql.thread_neighbours(
            cursor, scope, [c.item_id for c in strongest], width=fusion.NEIGHBOUR_WIDTH
        )
    threads = {item_id: fact.thread_key for item_id, fact in facts.items()}
    for hit, neighbour, _distance in neighbours:
        threads.setdefault(neighbour, threads.get(hit, ""))
    fusion.spread_context(candidates, neighbours, threads)

    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.item_id))[:limit]
    items = _load_items(owner_ids, [c.item_id for c in ranked])
    ranked = [c for c in ranked if c.item_id in items]
    return [
        RetrievedMemory(
            item=items[c.item_id],
            score=round(c.score, 6),
            rank=rank,
            signals={name: round(value, 6) for name, value in c.signals.items()},
            ranks=dict(c.ranks),
            similarity=c.values.get("vector"),
            bm25=c.values.get("text"),
            via=c.via,
        )
        for rank, c in enumerate(ranked, start=1)
    ]


def _apply_item_signals(
    candidates: dict[int, fusion.Candidate],
    facts: dict[int, sql.Facts],
    query: str,
    now: datetime,
) -> None:
    windows = query_windows(query, now=now)
    when = asks_when(query)
    for item_id, candidate in candidates.items():
        fact = facts.get(item_id)
        if fact is None:
            continue
        fusion.information_prior(candidate, fact.lexeme_count or 0)
        if windows and any(window.contains(fact.moment) for window in windows):
            fusion.boost(candidate, "time", fusion.TIME_BOOST)
        if when and mentions_time(fact.text):
            fusion.boost(candidate, "when", fusion.WHEN_BOOST)
        if fact.pinned:
            fusion.boost(candidate, "pinned", fusion.PIN_BOOST)
        fusion.boost(candidate, "recency", fusion.recency_factor(fact.moment, now))
