"""inference.embeddings: the bundled model, loaded once, normalised float32 vectors."""

from __future__ import annotations

import numpy as np
import pytest

from inference.embeddings import DEFAULT_MODEL_NAME, Embedder, canonical_model_name


def test_default_model_is_the_bundled_minilm():
    embedder = Embedder()
    assert embedder.model_name == DEFAULT_MODEL_NAME == "all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert canonical_model_name("sentence-transformers/all-MiniLM-L6-v2") == DEFAULT_MODEL_NAME
    assert canonical_model_name(None) == DEFAULT_MODEL_NAME
    assert canonical_model_name("/models/other") == "/models/other"


def test_encode_returns_normalised_float32_rows():
    vectors = Embedder().encode(["I keep bees.", "The quarterly report is due Friday."])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert Embedder().encode([]).shape == (0, 384)


def test_model_is_loaded_once_per_process():
    assert Embedder().model is Embedder("all-MiniLM-L6-v2").model


def test_similar_sentences_are_closer():
    embedder = Embedder()
    dogs = embedder.encode_one("I love dogs.")
    puppies = embedder.encode_one("I adore puppies.")
    taxes = embedder.encode_one("The tax return is due in April.")
    assert float(dogs @ puppies) > float(dogs @ taxes) + 0.2


QUERIES = ["when is my dentist appointment?", "What did Caroline say about adoption agencies?"]


def test_a_query_in_bfloat16_points_where_the_float32_one_does():
    """The bfloat16 copy that embeds queries (where the CPU has native bfloat16) gives
    normalised float32 vectors within rounding of the float32 model's."""
    exact, fast = Embedder(query_precision="float32"), Embedder(query_precision="bfloat16")
    for query in QUERIES:
        reference = exact.encode_one(query)
        np.testing.assert_array_equal(exact.encode_query(query), reference)
        vector = fast.encode_query(query)
        assert vector.dtype == np.float32 and vector.shape == (384,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
        assert float(vector @ reference) > 0.999
    assert fast.model is exact.model  # the stored vectors' model stays float32


def test_query_precision_is_checked():
    with pytest.raises(ValueError, match="query_precision"):
        Embedder(query_precision="int8")
