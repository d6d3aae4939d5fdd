"""memory_search: owner scoping, both halves of the hybrid, and the context signals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memory.search import RetrievedMemory, memory_search
from memory.services import memory_bulk_create, memory_create, memory_pin, memory_set_status
from tests.factories import remember_many

pytestmark = pytest.mark.django_db

FILLER = [
    "I prefer window seats on long flights.",
    "My sister Dana lives in Porto.",
    "The quarterly report is due on Friday.",
    "I started learning the cello last spring.",
    "Our team standup moved to 9:30.",
    "I take the 8:15 train to work.",
    "The car needs new winter tyres.",
    "I am reading a novel about lighthouse keepers.",
]


def ids(results: list[RetrievedMemory]) -> list[int]:
    return [result.item.pk for result in results]


def test_another_users_memories_are_never_returned(owner, outsider):
    mine = remember_many(owner, ["I keep bees on my allotment.", *FILLER])
    theirs = remember_many(outsider, ["I keep bees on my allotment.", "Bees and honey."])
    results = memory_search(owner=owner, query="Who keeps bees?", limit=50)
    assert results and set(ids(results)) <= {item.pk for item in mine}
    assert not set(ids(results)) & {item.pk for item in theirs}
    assert (
        memory_search(owner=outsider, query="quarterly report cello", limit=50)[0].item.owner
        == outsider
    )


def test_a_lexical_only_match_is_found_by_full_text(owner):
    (code,) = remember_many(owner, ["The locker code at the gym is zorbulax."])
    remember_many(owner, FILLER)
    (top, *_) = memory_search(owner=owner, query="zorbulax")
    assert top.item == code
    assert top.ranks["text"] == 1 and top.bm25 and "text" in top.signals


def test_a_semantic_only_match_is_found_by_the_vector(owner):
    (puppies,) = remember_many(owner, ["I adore puppies."])
    remember_many(owner, FILLER)
    results = memory_search(owner=owner, query="Which animals do I love?", limit=3)
    hit = next(result for result in results if result.item == puppies)
    assert "vector" in hit.signals and "text" not in hit.signals
    assert hit.ranks == {"vector": 1} and hit.similarity > 0.3


def test_results_are_ranked_and_scored(owner):
    remember_many(owner, FILLER)
    results = memory_search(owner=owner, query="train to work", limit=5)
    assert [result.rank for result in results] == [1, 2, 3, 4, 5]
    assert [result.score for result in results] == sorted((r.score for r in results), reverse=True)
    assert results[0].item.text == "I take the 8:15 train to work."
    assert results[0].tag == f"[m:{results[0].item.pk}]"
    assert memory_search(owner=owner, query="   ") == []


def test_statuses_and_kinds_filter(owner):
    item = memory_create(
        owner=owner,
        text="Book the ferry to the island.",
        kind="plan",
        source="stated",
        actor="user",
    )
    remember_many(owner, FILLER)
    memory_set_status(item=item, status="proposed", actor="assistant")
    assert item.pk not in ids(memory_search(owner=owner, query="ferry to the island"))
    proposed = memory_search(owner=owner, query="ferry to the island", statuses=("proposed",))
    assert ids(proposed) == [item.pk]
    assert memory_search(owner=owner, query="ferry", statuses=("proposed",), kinds=["fact"]) == []


def test_a_date_in_the_question_prefers_memories_from_then(owner):
    march, may = memory_bulk_create(
        owner=owner,
        items=[
            {
                "text": "We had dinner at the harbour.",
                "occurred_at": datetime(2024, 3, 9, tzinfo=UTC),
            },
            {
                "text": "We had dinner at the harbour.",
                "occurred_at": datetime(2024, 5, 2, tzinfo=UTC),
            },
        ],
        actor="user",
    )
    now = datetime(2024, 12, 1, tzinfo=UTC)
    (top, second) = memory_search(
        owner=owner, query="Where did we eat in May 2024?", limit=2, now=now
    )
    assert top.item == may and "time" in top.signals and "time" not in second.signals
    (top, _) = memory_search(owner=owner, query="dinner on 9 March, 2024", limit=2, now=now)
    assert top.item == march


def concert_thread(owner):
    turns = memory_bulk_create(
        owner=owner,
        items=[
            {"text": 'Dana said, "What did you think of the concert in the park?"'},
            {"text": 'Sam said, "Honestly the best night of my year."'},
            {"text": 'Dana said, "Glad to hear it."'},
        ],
        actor="system",
    )
    for item in turns:
        item.thread_key = "chat-1"
    type(turns[0]).objects.bulk_update(turns, ["thread_key"])
    remember_many(owner, FILLER)
    return turns


def test_a_strong_hit_lifts_its_thread_neighbour(owner):
    turns = concert_thread(owner)
    results = {
        r.item.pk: r for r in memory_search(owner=owner, query="concert in the park", limit=12)
    }
    answer = results[turns[1].pk]
    # It was a (weak) vector candidate itself, so no `via`; the neighbour and thread
    # shares come on top of its own rank.
    assert answer.via is None and set(answer.ranks) == {"vector"}
    assert {"neighbour", "thread"} <= set(answer.signals)
    assert answer.signals["neighbour"] > answer.signals["vector"]


def test_a_strong_hit_brings_a_neighbour_that_no_list_found(owner, settings):
    settings.MEMORY_SEARCH_CANDIDATES = 3  # the answer is in neither candidate list
    turns = concert_thread(owner)
    results = {
        r.item.pk: r for r in memory_search(owner=owner, query="concert in the park", limit=12)
    }
    hit, answer = results[turns[0].pk], results[turns[1].pk]
    assert hit.rank == 1 and hit.ranks["text"] == 1
    assert answer.via == turns[0].pk and answer.ranks == {}
    assert set(answer.signals) == {"neighbour", "thread"}
    assert answer.score == pytest.approx(
        answer.signals["neighbour"] + answer.signals["thread"], abs=1e-5
    )


def test_pinned_memories_get_a_boost(owner):
    _first, second = remember_many(owner, ["I like green tea.", "I like green tea!"])
    memory_pin(item=second, actor="user")
    (top, other) = memory_search(owner=owner, query="green tea", limit=2)
    assert top.item == second and "pinned" in top.signals and "pinned" not in other.signals


def test_the_vector_candidates_can_walk_the_half_precision_index(owner):
    """The ORDER BY matches the index expression exactly, or PostgreSQL would sort
    every one of the owner's rows instead (memory/search/sql.py)."""
    import numpy as np
    from django.db import connection, transaction

    from memory.search import sql

    remember_many(owner, FILLER)
    scope = sql.Scope((owner.pk,), ("active",))
    statement, params = sql.vector_sql(scope, np.full(384, 1 / np.sqrt(384)), limit=5)
    with transaction.atomic(), connection.cursor() as cursor:
        # A table this small is cheaper to sort; make sorting look dear.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + statement, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using memory_embedding_halfvec_hnsw" in plan


def test_exact_search_is_chosen_where_the_walk_would_cost_more():
    from memory.search.sql import exact_pays

    assert exact_pays(owner_rows=600, limit=100, table_rows=1_000_000)  # a small owner
    assert exact_pays(owner_rows=10_000, limit=100, table_rows=1_000_000)  # 1% of the table
    assert not exact_pays(owner_rows=100_000, limit=100, table_rows=1_000_000)  # 10%
    assert not exact_pays(owner_rows=50_000, limit=100, table_rows=50_000)  # alone
    assert exact_pays(owner_rows=50_000, limit=1_000, table_rows=-1) is False


def test_exact_vector_candidates_read_the_owners_rows_and_agree_with_the_walk(owner, outsider):
    import numpy as np
    from django.db import connection, transaction

    from memory.embedding import embed_query
    from memory.search import sql

    remember_many(owner, FILLER)
    remember_many(outsider, FILLER)
    scope = sql.Scope((owner.pk,), ("active",))
    vector = embed_query("When does my train leave?")
    with transaction.atomic(), connection.cursor() as cursor:
        exact = sql.vector_candidates(cursor, scope, vector, limit=5, ef_search=40, exact=True)
        walked = sql.vector_candidates(cursor, scope, vector, limit=5, ef_search=40)
        statement, params = sql.vector_sql(scope, vector, limit=5, exact=True)
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hnsw" not in plan and "Sort" in plan
    assert [hit[0] for hit in exact] == [hit[0] for hit in walked]
    mine = {item.pk for item in owner.memory_items.all()}
    assert {hit[0] for hit in exact} <= mine
    assert np.isclose(
        exact[0][1],
        float(
            vector @ np.array(owner.memory_items.get(pk=exact[0][0]).embedding, dtype=np.float32)
        ),
        atol=1e-5,
    )
