"""The drive benchmark's retrieval stage: memories plus 100,000 passages for one user.

Embedding 100,000 passages for real would take hours here, so, as memory's scale bench
does, the synced passages' own vectors are reused: each filler passage joins the text
and sums the vectors of two real ones (plus a little noise, so no two rows share a
vector), written by COPY into documents of the synced folder, with the indexes in place
(what a big first sync leaves). Then each question is searched as a turn does: passages
(document_search), then memories (memory_search), the question embedded once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from pgvector.psycopg import register_vector

from connectors.documents.models import Document, DocumentChunk
from connectors.documents.search import document_search
from memory.bench import synthetic
from memory.bench.stats import percentile
from memory.embedding import QueryVector, configured_model_name
from memory.models import Actor, Source
from memory.search import memory_search
from memory.services import memory_bulk_create

PER_DOCUMENT = 100
_COLUMNS = 'owner_id, document_id, ordinal, text, start, "end", heading, embedding, embedding_model, created_at'  # noqa: E501
_TYPES = [
    "int4",
    "int8",
    "int4",
    "text",
    "int4",
    "int4",
    "text",
    "vector",
    "varchar",
    "timestamptz",
]


def _fill(owner, chunks: int, seed: int, progress: Callable[[str], None]) -> float:
    """Add `chunks` composed passages to the owner's synced folder; seconds taken."""
    real = list(DocumentChunk.objects.owned_by(owner).values_list("text", "embedding"))
    texts = [text for text, _ in real]
    vectors = np.array([vector for _, vector in real], dtype=np.float32)
    template = Document.objects.owned_by(owner).first()
    rng = np.random.default_rng(seed)
    model, now = configured_model_name(), template.indexed_at
    started = time.perf_counter()
    for first in range(0, chunks, PER_DOCUMENT):
        count = min(PER_DOCUMENT, chunks - first)
        document = Document.objects.create(
            owner=owner, connection=template.connection, source=template.source,
            path=f"/filler/{first // PER_DOCUMENT:05d}.md", remote_id=f"filler-{first}",
            revision="bench", status=Document.Status.INDEXED, chunk_count=count, indexed_at=now,
        )  # fmt: skip
        a, b = rng.integers(0, len(real), count), rng.integers(0, len(real), count)
        noise = rng.normal(0.0, 0.01, (count, vectors.shape[1])).astype(np.float32)
        composed = vectors[a] + vectors[b] + noise
        composed /= np.linalg.norm(composed, axis=1, keepdims=True)
        raw = connection.connection
        register_vector(raw)
        with (
            transaction.atomic(),
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {DocumentChunk._meta.db_table} ({_COLUMNS}) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(_TYPES)
            for n in range(count):
                text = f"{texts[a[n]]}\n\n{texts[b[n]]}"
                copy.write_row(
                    (owner.pk, document.pk, n, text, 0, len(text), "", composed[n], model, now)
                )
        if (first // PER_DOCUMENT) % 100 == 99:
            progress(f"filler passages: {first + count:,}/{chunks:,}")
    # What autovacuum does soon after a big sync (hint bits, visibility map, statistics),
    # done now so that it does not run during, and weigh on, the questions timed next.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {DocumentChunk._meta.db_table}")
    return time.perf_counter() - started


def retrieval(
    owner, *, chunks: int, memories: int, queries: int, seed: int, progress
) -> dict[str, Any]:
    """p50/p95 of a turn's searches over `memories` memories and ~`chunks` passages."""
    items = [{"text": text, "kind": kind, "source": Source.BENCHMARK}
             for kind, text in synthetic.sentences(memories, seed=seed)]  # fmt: skip
    memory_bulk_create(owner=owner, items=items, actor=Actor.SYSTEM)
    fill_s = _fill(owner, chunks, seed, progress)
    total = DocumentChunk.objects.owned_by(owner).count()
    progress(f"{total:,} passages and {memories:,} memories; asking {queries} questions")
    asked = synthetic.questions(queries, seed=seed)
    k_memory, k_documents = settings.MEMORY_RETRIEVE_K, settings.DOCUMENT_RETRIEVE_K
    for question in asked[:10]:  # warm caches
        memory_search(owner=owner, query=question, limit=k_memory)
        document_search(owner=owner, query=question, limit=k_documents)
    latencies, found = [], []
    for question in asked:
        started = time.perf_counter()
        vector = QueryVector(question)  # as a turn does: embedded once, documents first
        passages = document_search(owner=owner, query=question, limit=k_documents, vector=vector)
        memory_search(owner=owner, query=question, limit=k_memory, vector=vector)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(len(passages))
    return {
        "retrieval_chunks": total,
        "retrieval_memories": memories,
        "filler_fill_s": round(fill_s, 1),
        "retrieval_ms": {
            "p50": round(percentile(latencies, 0.5), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "max": round(max(latencies), 2),
            "queries": len(latencies),
        },
        "passages_per_question": round(sum(found) / len(found), 1),
    }
