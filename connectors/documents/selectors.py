"""Reads for a drive connection's files page: its files by status, their counts, and a
search over their passages (the chat's hybrid retriever, plus exact word matches).
Always the signed-in user's rows, filtered by owner first."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Count, F, QuerySet, Sum
from django.shortcuts import get_object_or_404

from connectors.documents.models import SEARCH_CONFIG, Document, DocumentChunk
from connectors.documents.search import document_search
from connectors.models import Connection

# Around the matched words of a passage's headline; the page escapes the text, then
# turns these into <mark> (a passage is untrusted text: never rendered as HTML).
MARK_START, MARK_STOP = "\x02", "\x03"
SEARCH_LIMIT = 20
SEARCH_POOL = 60  # asked of the retriever (over all the user's files), this connection's kept


def document_get_for_user(*, user, connection: Connection, pk: int) -> Document:
    """One of the user's files of this connection, or 404."""
    return get_object_or_404(Document.objects.owned_by(user), connection=connection, pk=pk)


@dataclass(frozen=True)
class FileCounts:
    indexed: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    chunks: int = 0

    @property
    def total(self) -> int:
        return self.indexed + self.skipped + self.failed + self.pending


def file_counts(*, user, connection: Connection) -> FileCounts:
    """How many of the connection's files are in each state, and their passages."""
    rows = (
        Document.objects.owned_by(user)
        .filter(connection=connection)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), chunks=Sum("chunk_count"))
    )
    by_status = {row["status"]: row for row in rows}
    indexed = by_status.get(Document.Status.INDEXED, {})
    return FileCounts(
        indexed=indexed.get("n", 0),
        skipped=by_status.get(Document.Status.SKIPPED, {}).get("n", 0),
        failed=by_status.get(Document.Status.FAILED, {}).get("n", 0),
        pending=by_status.get(Document.Status.PENDING, {}).get("n", 0),
        chunks=indexed.get("chunks") or 0,
    )


def files_for_connection(*, user, connection: Connection, status: str = "") -> QuerySet[Document]:
    """The connection's files (of one status, when given), by path."""
    files = Document.objects.owned_by(user).filter(connection=connection)
    if status in Document.Status.values:
        files = files.filter(status=status)
    return files.only(
        "id", "path", "size", "status", "skip_reason", "skip_message", "chunk_count",
        "indexed_at", "modified_at", "web_url", "connection_id",
    ).order_by("path", "id")  # fmt: skip


def passages_search(*, user, connection: Connection, query: str) -> list[DocumentChunk]:
    """The connection's passages for `query`, best first: those the chat's retriever
    (hybrid: vectors and full text, connectors/documents/search.py) ranks highest among
    the user's files, then any other exact word match in this connection. Each has
    `headline` (matched words between MARK_START and MARK_STOP) and `semantic` (found by
    the retriever)."""
    found = document_search(owner=user, query=query, limit=SEARCH_POOL)
    ranked = [hit.chunk.pk for hit in found if hit.chunk.document.connection_id == connection.pk]
    words = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    exact = (
        DocumentChunk.objects.owned_by(user)
        .filter(search=words, document__connection=connection)
        .annotate(rank=SearchRank(F("search"), words))
        .order_by("-rank", "id")
        .values_list("pk", flat=True)[:SEARCH_LIMIT]
    )
    order = list(dict.fromkeys([*ranked[:SEARCH_LIMIT], *exact]))[:SEARCH_LIMIT]
    # The headline is computed for the few rows kept, not every match.
    loaded = (
        DocumentChunk.objects.owned_by(user)
        .filter(pk__in=order)
        .select_related("document")
        .annotate(
            headline=SearchHeadline(
                "text", words, config=SEARCH_CONFIG, start_sel=MARK_START,
                stop_sel=MARK_STOP, max_words=40, min_words=15, max_fragments=2,
            )
        )
    )  # fmt: skip
    rows = {row.pk: row for row in loaded}
    semantic = set(ranked)
    passages: list[DocumentChunk] = []
    for pk in order:
        if pk in rows:
            passage = rows[pk]
            setattr(passage, "semantic", pk in semantic)  # noqa: B010 (not a model field)
            passages.append(passage)
    return passages
