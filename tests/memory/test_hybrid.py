"""hybrid_search: memory's candidate lists and fusion over another corpus, owner first.

Exercised here on a corpus declared over the memory table without its lifecycle columns
(connectors' document chunks use it the same way; tests/connectors cover those)."""

from __future__ import annotations

from memory.embedding import embed_query
from memory.search import Corpus, hybrid_search
from memory.search.sql import FACT_COLUMNS, TABLE
from tests.factories import remember_many

PLAIN = Corpus(TABLE, FACT_COLUMNS)  # owner only: no status, kind or deleted_at filter

FILLER = [
    "The quarterly report is due on Friday.",
    "I play the cello on Sunday mornings.",
    "Our team standup moved to 9:30.",
    "The car needs new winter tyres.",
]


def test_both_lists_are_fused_and_explained(owner):
    (code,) = remember_many(owner, ["The locker code at the gym is zorbulax."])
    (puppies,) = remember_many(owner, ["I adore puppies."])
    remember_many(owner, FILLER)
    (top,) = hybrid_search(owner_id=owner.pk, corpus=PLAIN, query="zorbulax", limit=1)
    assert top.row_id == code.pk and top.ranks["text"] == 1 and top.bm25 > 0 and top.rank == 1
    results = hybrid_search(
        owner_id=owner.pk, corpus=PLAIN, query="Which animals do I love?", limit=3
    )
    hit = next(result for result in results if result.row_id == puppies.pk)
    assert hit.ranks == {"vector": 1} and hit.similarity > 0.3 and "text" not in hit.signals
    assert [r.rank for r in results] == [1, 2, 3]
    assert results == sorted(results, key=lambda r: -r.score)


def test_only_the_owners_rows_and_one_embedding_reused(owner, outsider):
    mine = remember_many(owner, ["I keep bees on my allotment.", *FILLER])
    remember_many(outsider, ["I keep bees on my allotment.", "Bees and honey."])
    query = "Who keeps bees?"
    results = hybrid_search(
        owner_id=owner.pk, corpus=PLAIN, query=query, limit=50, vector=embed_query(query)
    )
    assert {r.row_id for r in results} <= {item.pk for item in mine}
    assert results[0].row_id == mine[0].pk
    assert hybrid_search(owner_id=owner.pk, corpus=PLAIN, query="  ", limit=5) == []


def test_memory_search_takes_an_embedded_query(owner):
    from memory.search import memory_search

    remember_many(owner, ["I keep bees on my allotment.", *FILLER])
    query = "Who keeps bees?"
    embedded = memory_search(owner=owner, query=query, vector=embed_query(query))
    plain = memory_search(owner=owner, query=query)
    assert [r.item.pk for r in embedded] == [r.item.pk for r in plain]
    assert [r.score for r in embedded] == [r.score for r in plain]
