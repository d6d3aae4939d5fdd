"""Full-text candidates: BM25 over one owner's tsvectors in one corpus, in SQL.

A question rarely shares all its words with the memory that answers it, so the AND
semantics of websearch_to_tsquery would miss most answers. Instead each query lexeme
adds its IDF-weighted, length-normalised term frequency (Okapi BM25), with document
frequencies counted over the owner's own memories.

Cost stays bounded for owners with very many memories: document frequencies are
counted only up to DF_CAP; lexemes that common do not select documents (they still add
to the score of documents that rarer lexemes selected), and when every lexeme is that
common only documents holding all of them are considered, a few per result asked.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core.cache import cache

from memory.models import SEARCH_CONFIG
from memory.search.sql import Facts, Hit, Scope

BM25_K1 = 1.2
BM25_B = 0.75
DF_CAP = 1000
# Most query lexemes considered (a pasted page should not become a 500-term OR query).
MAX_QUERY_LEXEMES = 32
# Average length is taken over at most this many of the owner's memories.
AVGDL_SAMPLE = 1000
# For owners this large the memory count and average length are cached for a while:
# BM25 needs them only roughly, and counting 100k rows on every query would not be cheap.
STATS_CACHE_MIN = 5000
STATS_CACHE_SECONDS = 300
COMMON_CACHE_SECONDS = 3600
# When every query lexeme is common, at most this many rows per result asked are scored
# (of those holding them all). Each holds every lexeme, so BM25 tells them apart only by
# term frequency and length; more would cost a row visit each and add little.
COMMON_ROWS_PER_RESULT = 4


@dataclass(frozen=True)
class TextPlan:
    match: list[str]  # lexemes that select documents
    match_all: bool  # select documents holding all of `match` (else any)
    terms: list[str]  # lexemes that score
    weights: list[float]  # IDF of each scoring lexeme
    avgdl: float


def tsquery_literal(lexeme: str) -> str:
    """One lexeme as tsquery text, quoted so that it is taken verbatim."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def idf(df: int, total: int) -> float:
    """BM25's (always positive) inverse document frequency."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def query_lexemes(cursor, query: str) -> list[str]:
    """The query's stemmed, stop-word-free lexemes, in order of first appearance."""
    cursor.execute(
        "SELECT lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) "
        "ORDER BY (positions)[1] LIMIT %s",
        [SEARCH_CONFIG, query, MAX_QUERY_LEXEMES],
    )
    return [row[0] for row in cursor.fetchall()]


def _cache_key(kind: str, scope: Scope, lexeme: str = "") -> str:
    """A memcached-safe key (lexemes may hold any character)."""
    raw = f"{scope.corpus.table}|{sorted(scope.statuses)}|{sorted(scope.kinds or ())}|{lexeme}"
    digest = hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()
    return f"memory:{kind}:{scope.owner_key}:{digest}"


def _df_key(scope: Scope, lexeme: str) -> str:
    return _cache_key("df", scope, lexeme)


def document_frequencies(
    cursor, scope: Scope, lexemes: list[str], *, large: bool = False
) -> list[int]:
    """How many of the owner's rows hold each lexeme, counting up to DF_CAP.

    Counting visits one row per holder (up to DF_CAP), so a lexeme found to reach the
    cap is remembered as common for this owner for a while (it stays common as the
    corpus grows). For a `large` owner every count is remembered for a few minutes, as
    its size and average length are: IDF needs them only roughly, and a 100,000-passage
    drive would otherwise pay milliseconds per query lexeme on every turn.
    """
    keys = {lexeme: _df_key(scope, lexeme) for lexeme in lexemes}
    remembered = cache.get_many(list(keys.values()))
    unknown = [lexeme for lexeme in lexemes if keys[lexeme] not in remembered]
    counted: dict[str, int] = {keys[lexeme]: remembered[keys[lexeme]] for lexeme in lexemes
                               if keys[lexeme] in remembered}  # fmt: skip
    if unknown:
        where, params = scope.where()
        cursor.execute(
            f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {scope.corpus.table} m "
            f"  WHERE {where} AND m.search @@ q.query::tsquery LIMIT %s) hits) "
            f"FROM unnest(%s::text[]) WITH ORDINALITY AS q(query, n) ORDER BY q.n",
            [*params, DF_CAP, [tsquery_literal(lexeme) for lexeme in unknown]],
        )
        fresh = {keys[lex]: row[0] for lex, row in zip(unknown, cursor.fetchall(), strict=True)}
        counted.update(fresh)
        common = {key: df for key, df in fresh.items() if df >= DF_CAP}
        if common:
            cache.set_many(common, COMMON_CACHE_SECONDS)
        # Never a zero: a file synced a minute later must be found by its rare words.
        rare = {key: df for key, df in fresh.items() if 0 < df < DF_CAP}
        if large and rare:
            cache.set_many(rare, STATS_CACHE_SECONDS)
    return [counted[keys[lexeme]] for lexeme in lexemes]


def owner_statistics(cursor, scope: Scope) -> tuple[int, float]:
    """(number of memories in scope, their average length in lexemes)."""
    key = _cache_key("text-stats", scope)
    cached = cache.get(key)
    if cached is not None:
        return cached
    # Forgotten memories are archived, so status alone scopes the count (index-only scan).
    count_sql, count_params = scope.owner_where()
    if scope.corpus.lifecycle:
        count_sql += " AND m.status = ANY(%s)"
        count_params.append(list(scope.statuses))
        if scope.kinds:
            count_sql += " AND m.kind = ANY(%s)"
            count_params.append(list(scope.kinds))
    where, params = scope.where()
    table = scope.corpus.table
    cursor.execute(
        f"SELECT (SELECT count(*) FROM {table} m WHERE {count_sql}), "
        f"(SELECT avg(length(s.search)) FROM "
        f"  (SELECT m.search FROM {table} m WHERE {where} LIMIT %s) s)",
        [*count_params, *params, AVGDL_SAMPLE],
    )
    total, avgdl = cursor.fetchone()
    stats = (int(total), float(avgdl or 1.0))
    if stats[0] >= STATS_CACHE_MIN:
        cache.set(key, stats, STATS_CACHE_SECONDS)
    return stats


def text_plan(cursor, scope: Scope, query: str) -> TextPlan | None:
    """Which lexemes select and score documents; None when no memory can match."""
    lexemes = query_lexemes(cursor, query)
    if not lexemes:
        return None
    total, avgdl = owner_statistics(cursor, scope)  # cached for large owners
    dfs = document_frequencies(cursor, scope, lexemes, large=total >= STATS_CACHE_MIN)
    present = [(lexeme, df) for lexeme, df in zip(lexemes, dfs, strict=True) if df > 0]
    if not present:
        return None
    total = max(total, *(df for _, df in present))
    rare = [lexeme for lexeme, df in present if df < DF_CAP]
    return TextPlan(
        match=rare or [lexeme for lexeme, _ in present],
        match_all=not rare,
        terms=[lexeme for lexeme, _ in present],
        weights=[idf(df, total) for _, df in present],
        avgdl=avgdl,
    )


def text_sql(scope: Scope, plan: TextPlan, *, limit: int) -> tuple[str, list]:
    """BM25 over the owner's rows that `plan.match` selects, best first.

    Each row's score sums, over the query lexemes it holds, IDF x saturated term
    frequency x length normalisation (Okapi BM25). A term's frequency is the number of
    its positions. The row's tsvector is first cut down to the query's lexemes (marked
    with weight A, then filtered on it, both in C), so a passage of ~90 lexemes costs
    little more than a memory of ten; any other lexeme that was already weighted A is
    dropped by the join on the query's lexemes.
    """
    where, params = scope.where()
    joiner = " & " if plan.match_all else " | "
    tsquery = joiner.join(tsquery_literal(lexeme) for lexeme in plan.match)
    row_cap = COMMON_ROWS_PER_RESULT * limit if plan.match_all else DF_CAP * len(plan.match)
    return (
        f"WITH q AS (SELECT * FROM unnest(%s::text[], %s::float8[]) AS q(lexeme, idf)), "
        f"docs AS (SELECT m.id, length(m.search) AS dl, "
        f"  ts_filter(setweight(m.search, 'A', %s::text[]), '{{a}}') AS held "
        f"  FROM {scope.corpus.table} m WHERE {where} AND m.search @@ %s::tsquery LIMIT %s), "
        f"scored AS (SELECT d.id, sum(q.idf * (t.tf * (%s::float8 + 1)) / "
        f"  (t.tf + %s::float8 * (1 - %s::float8 + %s::float8 * d.dl / %s::float8))) AS score "
        f"  FROM docs d CROSS JOIN LATERAL (SELECT u.lexeme, "
        f"    coalesce(array_length(u.positions, 1), 1)::float8 AS tf FROM unnest(d.held) u) t "
        f"  JOIN q ON q.lexeme = t.lexeme "
        f"  GROUP BY d.id ORDER BY score DESC, d.id LIMIT %s) "
        # The facts of the winners only (a passage's text may be stored out of line).
        f"SELECT s.id, s.score, {scope.corpus.facts} "
        f"FROM scored s JOIN {scope.corpus.table} m ON m.id = s.id ORDER BY s.score DESC, s.id",
        [
            plan.terms,
            plan.weights,
            plan.terms,
            *params,
            tsquery,
            row_cap,
            BM25_K1,
            BM25_K1,
            BM25_B,
            BM25_B,
            plan.avgdl,
            limit,
        ],
    )


def text_candidates(cursor, scope: Scope, query: str, *, limit: int) -> list[Hit]:
    """(id, BM25 score, facts), best first."""
    plan = text_plan(cursor, scope, query)
    if plan is None:
        return []
    cursor.execute(*text_sql(scope, plan, limit=limit))
    return [(row[0], float(row[1]), Facts(*row[2:])) for row in cursor.fetchall()]
