"""The configured embedder, shared by memory's services, retrieval and commands.

Connectors may use these helpers for their own chunks (memory never imports them).
"""

from __future__ import annotations

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
