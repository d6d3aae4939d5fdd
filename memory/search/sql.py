"""The SQL behind memory_search: the owner scope, vector candidates, thread context.

Full-text (BM25) candidates live in memory/search/fulltext.py. Both work on any
`Corpus` (memories by default; connectors' document chunks too).

Every statement filters by owner (and, for memories, status and not-forgotten) first.
Kept as raw SQL because pgvector's iterative HNSW scans and a BM25 computed over
tsvector lexemes have no ORM spelling; the ORM loads the final rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings

from memory.models import MemoryItem

TABLE = MemoryItem._meta.db_table
# The expression the vector index is built on; a query must order by exactly this.
HALF = f"m.embedding::halfvec({settings.EMBEDDING_DIM})"


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{value:.6g}" for value in vector.tolist()) + "]"


@dataclass(frozen=True)
class Facts:
    """What fusion needs to know about a candidate, read along with it."""

    moment: datetime | None  # occurred_at, else created_at
    pinned: bool
    thread_key: str
    lexeme_count: int
    text: str


# The columns behind Facts, in order (alias m).
FACT_COLUMNS = (
    "coalesce(m.occurred_at, m.created_at) AS moment, m.pinned, m.thread_key, "
    "length(m.search) AS lexeme_count, m.text"
)


@dataclass(frozen=True)
class Corpus:
    """A table searched the way memories are: an `owner_id` column first in every index,
    an `embedding` under a half-precision HNSW index cast like HALF, and a generated
    `search` tsvector under a GIN index on (owner, search). Memories are one; connectors
    declare their document chunks as another (memory never imports them)."""

    table: str
    facts: str  # the Facts columns, in order, over alias m
    lifecycle: bool = False  # rows carry status, kind and deleted_at (memories do)


MEMORIES = Corpus(TABLE, FACT_COLUMNS, lifecycle=True)


@dataclass(frozen=True)
class Scope:
    """Whose rows: one owner, or a user and the account of the team they work in
    (one condition in the same statement; the owner-first indexes serve each owner)."""

    owner_ids: tuple[int, ...]
    statuses: Sequence[str] = ()
    kinds: Sequence[str] | None = None
    corpus: Corpus = MEMORIES

    def owner_where(self, alias: str = "m") -> tuple[str, list]:
        # Spelled as ORs, not `= ANY(...)`: btree_gin cannot take an array into the
        # (owner, search) GIN index, so ANY would scan every owner's postings and filter
        # after; one equality per owner gives one index scan each under a BitmapOr
        # (BENCHMARKS.md, "Teams"). A scope has a handful of owners at most.
        terms = " OR ".join(f"{alias}.owner_id = %s" for _ in self.owner_ids)
        return (terms if len(self.owner_ids) == 1 else f"({terms})"), list(self.owner_ids)

    @property
    def owner_key(self) -> str:
        """The owners, for cache keys."""
        return "+".join(str(owner_id) for owner_id in sorted(self.owner_ids))

    def where(self, alias: str = "m") -> tuple[str, list]:
        sql, params = self.owner_where(alias)
        if self.corpus.lifecycle:
            sql += f" AND {alias}.status = ANY(%s) AND {alias}.deleted_at IS NULL"
            params.append(list(self.statuses))
            if self.kinds:
                sql += f" AND {alias}.kind = ANY(%s)"
                params.append(list(self.kinds))
        return sql, params


Hit = tuple[int, float, Facts]  # (id, raw score, facts)


# Exact search beats the graph for an owner with few rows in a big table: the graph
# walk must pass over everyone else's rows (about limit x table / owner visits, each
# costing about as much as EXACT_VISIT_COST exact distances here), while an exact scan
# reads only the owner's rows. Below EXACT_FLOOR rows exact is always cheap.
EXACT_VISIT_COST = 10
EXACT_FLOOR = 2000


def exact_pays(*, owner_rows: int, limit: int, table_rows: int) -> bool:
    """Exact costs ~owner_rows; the walk ~EXACT_VISIT_COST x limit x table / owner."""
    table_rows = max(table_rows, owner_rows)  # statistics lag behind (-1: never analysed)
    return owner_rows <= EXACT_FLOOR or owner_rows**2 <= EXACT_VISIT_COST * limit * table_rows


def exact_is_cheaper(cursor, scope: Scope, *, owner_rows: int, limit: int) -> bool:
    """Whether scanning the owner's rows beats walking the shared graph."""
    if owner_rows <= EXACT_FLOOR:
        return True
    cursor.execute(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [scope.corpus.table]
    )
    row = cursor.fetchone()
    return exact_pays(owner_rows=owner_rows, limit=limit, table_rows=int(row[0]) if row else 0)


def vector_candidates(
    cursor, scope: Scope, vector: np.ndarray, *, limit: int, ef_search: int, exact: bool = False
) -> list[Hit]:
    """(id, cosine similarity, facts), best first: from the HNSW index, or `exact`ly.

    Iterative scans (pgvector 0.8) keep walking the graph until `limit` rows pass the
    owner filter, so one user among many still gets a full candidate list.
    Must run inside a transaction: the settings are SET LOCAL.
    """
    cursor.execute(
        "SELECT set_config('hnsw.ef_search', %s, true), "
        "set_config('hnsw.iterative_scan', 'relaxed_order', true)",
        [str(max(ef_search, limit))],
    )
    cursor.execute(*vector_sql(scope, vector, limit=limit, exact=exact))
    rows = sorted(cursor.fetchall(), key=lambda row: row[1])  # relaxed order: re-sort
    return [(row[0], 1.0 - float(row[1]), Facts(*row[2:])) for row in rows]


def vector_sql(
    scope: Scope, vector: np.ndarray, *, limit: int, exact: bool = False
) -> tuple[str, list]:
    """The walk orders by the half-precision expression the HNSW index is built on
    (memory/models.py); the distance returned, which ranks the candidates, is the
    float32 one. Ordered by that float32 distance, no index applies: PostgreSQL reads
    the owner's rows through the owner index and keeps the best (`exact`)."""
    where, params = scope.where()
    literal = vector_literal(vector)
    order = (
        "m.embedding <=> %s::vector"
        if exact
        else f"{HALF} <=> %s::halfvec({settings.EMBEDDING_DIM})"
    )
    return (
        f"SELECT m.id, m.embedding <=> %s::vector AS distance, {scope.corpus.facts} "
        f"FROM {scope.corpus.table} m "
        f"WHERE {where} AND m.embedding IS NOT NULL ORDER BY {order} LIMIT %s",
        [literal, *params, literal, limit],
    )


def thread_neighbours(
    cursor, scope: Scope, hit_ids: list[int], *, width: int
) -> list[tuple[int, int, int]]:
    """(hit id, neighbour id, distance): up to `width` items either side in the same thread.

    A thread's order is the order its items were stored (ids), which is chronological
    for conversations and bulk imports alike.
    """
    if not hit_ids:
        return []
    where, params = scope.where()
    hit_owner, hit_owner_params = scope.owner_where("h")
    cursor.execute(
        f"SELECT h.id, n.id, n.distance FROM {TABLE} h CROSS JOIN LATERAL ("
        f"  (SELECT m.id, row_number() OVER (ORDER BY m.id DESC) AS distance FROM {TABLE} m"
        f"   WHERE {where} AND m.owner_id = h.owner_id AND m.thread_key = h.thread_key"
        f"   AND m.id < h.id"
        f"   ORDER BY m.id DESC LIMIT %s)"
        f"  UNION ALL"
        f"  (SELECT m.id, row_number() OVER (ORDER BY m.id) AS distance FROM {TABLE} m"
        f"   WHERE {where} AND m.owner_id = h.owner_id AND m.thread_key = h.thread_key"
        f"   AND m.id > h.id"
        f"   ORDER BY m.id LIMIT %s)"
        f") n WHERE h.id = ANY(%s) AND {hit_owner} AND h.thread_key <> ''",
        [*params, width, *params, width, hit_ids, *hit_owner_params],
    )
    return [(hit, neighbour, int(distance)) for hit, neighbour, distance in cursor.fetchall()]
