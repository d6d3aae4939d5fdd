"""Hybrid search over any corpus: memory's retriever, for other tables searched alike.

Connectors search their document chunks with it (memory never imports them): the same
two candidate lists as memory_search (the half-precision HNSW walk or an exact scan of
the owner's rows, and BM25 over the owner's tsvectors), fused by the same reciprocal-rank
fusion and information prior. What memory_search adds on top (time windows, pins,
recency, thread context) is about memories and is not applied here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from memory.embedding import QueryVector
from memory.search import fulltext, fusion, sql


@dataclass(frozen=True)
class Ranked:
    """One row of the corpus, with what brought it (as RetrievedMemory explains)."""

    row_id: int
    score: float
    rank: int
    signals: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    similarity: float | None = None
    bm25: float | None = None


def hybrid_search(
    *,
    owner_id: int,
    corpus: sql.Corpus,
    shared_owner_ids: tuple[int, ...] = (),
    query: str,
    limit: int,
    vector: np.ndarray | QueryVector | None = None,
) -> list[Ranked]:
    """The `limit` rows of `owner_id` in `corpus` that best answer `query`, best first.

    `shared_owner_ids`: other owners searched in the same query (a team's account, for a
    member working in that team; the caller checked the membership).

    Pass `vector` when the query is already embedded, or the turn's QueryVector (one
    embedding per turn); either way the text is ranked while the model works."""
    query = (query or "").strip()
    if not query or limit <= 0:
        return []
    scope = sql.Scope((owner_id, *sorted(set(shared_owner_ids) - {owner_id})), corpus=corpus)
    pool = max(limit, settings.MEMORY_SEARCH_CANDIDATES)
    embedding = QueryVector.of(query, vector).start()
    with transaction.atomic(), connection.cursor() as cursor:
        text_list = fulltext.text_candidates(cursor, scope, query, limit=pool)
        owner_rows, _ = fulltext.owner_statistics(cursor, scope)
        vector_list = sql.vector_candidates(
            cursor,
            scope,
            embedding.result(),
            limit=pool,
            ef_search=settings.MEMORY_HNSW_EF_SEARCH,
            exact=sql.exact_is_cheaper(cursor, scope, owner_rows=owner_rows, limit=pool),
        )
    facts = {row_id: fact for row_id, _, fact in (*vector_list, *text_list)}
    candidates = fusion.rank_fusion(
        {
            "vector": [(row_id, value) for row_id, value, _ in vector_list],
            "text": [(row_id, value) for row_id, value, _ in text_list],
        }
    )
    for row_id, candidate in candidates.items():
        fusion.information_prior(candidate, facts[row_id].lexeme_count or 0)
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.item_id))[:limit]
    return [
        Ranked(
            row_id=c.item_id,
            score=round(c.score, 6),
            rank=rank,
            signals={name: round(value, 6) for name, value in c.signals.items()},
            ranks=dict(c.ranks),
            similarity=c.values.get("vector"),
            bm25=c.values.get("text"),
        )
        for rank, c in enumerate(ranked, start=1)
    ]
