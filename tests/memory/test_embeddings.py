"""inference.embeddings: the bundled model, loaded once, normalised float32 vectors."""

from __future__ import annotations

import numpy as np

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
