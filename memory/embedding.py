"""The configured embedder, shared by memory's services, retrieval and commands.

Connectors may use these helpers for their own chunks (memory never imports them).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from inference.embeddings import Embedder, canonical_model_name


def memory_embedder() -> Embedder:
    return Embedder(
        settings.EMBEDDING_MODEL,
        num_threads=settings.EMBEDDING_THREADS or None,
        query_precision=settings.EMBEDDING_QUERY_PRECISION,
    )


def configured_model_name() -> str:
    """The name stored in `embedding_model` for vectors made now."""
    return canonical_model_name(settings.EMBEDDING_MODEL)


def _check_width(vectors: np.ndarray, embedder: Embedder) -> np.ndarray:
    if vectors.ndim == 2 and vectors.shape[1] != settings.EMBEDDING_DIM:
        raise ImproperlyConfigured(
            f"EMBEDDING_MODEL={embedder.model_name!r} makes {vectors.shape[1]}-dimensional "
            f"vectors but the memory table stores {settings.EMBEDDING_DIM}. Choose a "
            f"{settings.EMBEDDING_DIM}-dimensional model, or change EMBEDDING_DIM and migrate."
        )
    return vectors


def embed_texts(texts: list[str], *, batch_size: int | None = None) -> np.ndarray:
    """One normalised float32 row per text."""
    embedder = memory_embedder()
    size = batch_size or settings.MEMORY_EMBED_BATCH_SIZE
    return _check_width(embedder.encode(texts, batch_size=size), embedder)


def embed_query(text: str) -> np.ndarray:
    embedder = memory_embedder()
    return _check_width(embedder.encode_query(text)[None, :], embedder)[0]


_threads: tuple[int, ThreadPoolExecutor] | None = None


def _embedder_threads() -> ThreadPoolExecutor:
    """A small pool per process (a pool inherited through fork has no live threads)."""
    global _threads
    if _threads is None or _threads[0] != os.getpid():
        _threads = (os.getpid(), ThreadPoolExecutor(2, thread_name_prefix="memory-embed"))
    return _threads[1]


class QueryVector:
    """A question's embedding, made at most once, on another thread, when a search first
    asks for it: a turn that searches memories and then documents embeds its question
    once, and each search ranks its full-text candidates while the model works (torch
    and the database driver both release the GIL)."""

    def __init__(self, text: str, vector: np.ndarray | None = None) -> None:
        self.text = text
        self._future: Future[np.ndarray] | None = None
        if vector is not None:
            self._future = Future()
            self._future.set_result(vector)

    @classmethod
    def of(cls, text: str, vector: np.ndarray | QueryVector | None) -> QueryVector:
        """`vector` as a QueryVector: itself, a ready one, or one to embed `text`."""
        return vector if isinstance(vector, QueryVector) else cls(text, vector)

    def start(self) -> QueryVector:
        """Begin embedding now (if not already), to overlap it with other work."""
        if self._future is None:
            self._future = _embedder_threads().submit(embed_query, self.text)
        return self

    def result(self) -> np.ndarray:
        future = self.start()._future
        assert future is not None
        return future.result()
