"""Searching the user's document chunks with memory's hybrid retriever.

The chunk table is declared as a `Corpus` (owner first in every index, like memories), so
the same vector + BM25 lists and fusion rank passages. The SQL scopes by owner only (the
user's, and in a team conversation the team account's: `shared_owner_ids`, checked by the
caller);
which chunks still count (their document indexed, its folder still included and
present) is decided when the rows are loaded, again owner-scoped, so a stale or foreign
id returned by the SQL can never surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from connectors.documents.models import Document, DocumentChunk, DocumentChunkQuerySet
from memory.embedding import QueryVector
from memory.search import Corpus, hybrid_search

# The Facts columns over alias m: chunks have no pins or threads; their lexeme count
# feeds the same information prior as memories'.
CHUNKS = Corpus(
    DocumentChunk._meta.db_table,
    "m.created_at AS moment, false AS pinned, '' AS thread_key, "
    "length(m.search) AS lexeme_count, m.text",
)
# Rows asked of the SQL beyond `limit`, for those dropped on load (excluded folders).
OVERFETCH = 2


@dataclass(frozen=True)
class RetrievedChunk:
    """One passage found for a query, with what brought it (as memory's RetrievedMemory)."""

    chunk: DocumentChunk  # with its document loaded
    score: float
    rank: int
    signals: dict[str, float] = field(default_factory=dict)
    similarity: float | None = None
    bm25: float | None = None


def chunks_searchable(owner, shared_owner_ids: tuple[int, ...] = ()) -> DocumentChunkQuerySet:
    """The owner's chunks (and the shared owners', a team's for its member) that may
    answer: of indexed documents in included folders."""
    owners = DocumentChunk.objects.filter(owner_id__in=(owner.pk, *shared_owner_ids))
    return owners.filter(
        document__status=Document.Status.INDEXED,
        document__source__included=True,
        document__source__gone_at__isnull=True,
    )


def document_search(
    *,
    owner,
    query: str,
    limit: int,
    vector: np.ndarray | QueryVector | None = None,
    shared_owner_ids: tuple[int, ...] = (),
) -> list[RetrievedChunk]:
    """The `limit` passages of `owner`'s files that best answer `query`, best first
    (`vector`: the query already embedded, or the turn's shared QueryVector).
    `shared_owner_ids`: other owners searched in the same query (a team's account, for a
    member working in that team; the caller checked the membership)."""
    if limit <= 0 or not (query or "").strip():
        return []
    ranked = hybrid_search(
        owner_id=owner.pk, corpus=CHUNKS, query=query, limit=limit * OVERFETCH, vector=vector,
        shared_owner_ids=shared_owner_ids,
    )  # fmt: skip
    chunks = (
        chunks_searchable(owner, shared_owner_ids)
        .select_related("document")
        .defer("embedding", "search")  # stored out of line or large; not shown
        .in_bulk([hit.row_id for hit in ranked])
    )
    kept = [hit for hit in ranked if hit.row_id in chunks][:limit]
    return [
        RetrievedChunk(
            chunk=chunks[hit.row_id],
            score=hit.score,
            rank=rank,
            signals=dict(hit.signals),
            similarity=hit.similarity,
            bm25=hit.bm25,
        )
        for rank, hit in enumerate(kept, start=1)
    ]
