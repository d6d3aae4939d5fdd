"""BM25 in SQL (memory/search/fulltext.py): exact term frequencies, and document
frequencies remembered for large owners without ever hiding a new rare word."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from memory.search import fulltext
from memory.search.sql import Scope
from tests.factories import remember_many


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _scores(owner, query: str) -> dict[int, float]:
    scope = Scope((owner.pk,), ("active",))
    with transaction.atomic(), connection.cursor() as cursor:
        hits = fulltext.text_candidates(cursor, scope, query, limit=10)
    return {row_id: score for row_id, score, _ in hits}


def _expected(tf: int, df: int, total: int, dl: int, avgdl: float) -> float:
    k1, b = fulltext.BM25_K1, fulltext.BM25_B
    return fulltext.idf(df, total) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))


def test_term_frequency_counts_and_the_score_is_okapi_bm25(owner):
    # Both hold four distinct lexemes; one says "kestrel" three times.
    thrice, once = remember_many(
        owner,
        ["Kestrel, kestrel, kestrel: heron and swan by the meadow.",
         "A kestrel, a heron and a swan by the meadow."],
    )  # fmt: skip
    remember_many(owner, ["The quarterly report is due on Friday."])
    scores = _scores(owner, "kestrel")
    avgdl = (4 + 4 + 4) / 3  # quarterly, report, due, friday
    assert scores[thrice.pk] == pytest.approx(_expected(3, 2, 3, 4, avgdl), rel=1e-6)
    assert scores[once.pk] == pytest.approx(_expected(1, 2, 3, 4, avgdl), rel=1e-6)
    assert scores[thrice.pk] > scores[once.pk]


def test_large_owners_remember_counts_but_never_a_zero(owner, monkeypatch):
    monkeypatch.setattr(fulltext, "STATS_CACHE_MIN", 2)
    remember_many(owner, ["My bike is a green Brompton.", "I ride the Brompton to work."])
    scope = Scope((owner.pk,), ("active",))
    assert _scores(owner, "brompton zorbulax")  # zorbulax: held by none yet
    assert cache.get(fulltext._df_key(scope, "brompton")) == 2
    assert cache.get(fulltext._df_key(scope, "zorbulax")) is None
    (new,) = remember_many(owner, ["The locker code is zorbulax."])
    assert new.pk in _scores(owner, "zorbulax")


def test_small_owners_count_afresh(owner):
    remember_many(owner, ["My bike is a green Brompton."])
    _scores(owner, "brompton")
    assert cache.get(fulltext._df_key(Scope((owner.pk,), ("active",)), "brompton")) is None


@pytest.mark.django_db
def test_passages_keep_their_tsvector_in_the_row():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = "
            "'connectors_documentchunk'::regclass AND attname = 'search'"
        )
        assert cursor.fetchone()[0] == "m"
