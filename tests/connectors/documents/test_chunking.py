"""Chunks by structure: spans that index the text exactly, heading paths, overlap within
a section, the model's token cap (checked with the real tokenizer, special tokens in),
whole words, unicode, and the same chunks every time."""

from __future__ import annotations

import itertools
import re

import pytest

from connectors.documents.chunking import (
    HEADING_TOKENS,
    TARGET_TOKENS,
    chunk_text,
    content_hash,
)
from connectors.documents.plain import markdown_headings
from connectors.documents.results import Extracted, TextBuilder
from connectors.documents.tokens import MODEL_MAX_TOKENS, tokenizer

SENTENCES = [
    "The committee met on Tuesday to review the budget for the coming year.",
    "Several members raised concerns about rising maintenance costs.",
    "A proposal to postpone the roof repairs was rejected after a long debate.",
    "The treasurer presented three scenarios with different reserve levels.",
    "Everyone agreed that the heating system needs attention before winter.",
    "The next meeting will focus on volunteer recruitment and training.",
]


def prose(paragraphs: int, sentences: int = 6, offset: int = 0) -> list[str]:
    return [
        " ".join(SENTENCES[(p + s + offset) % len(SENTENCES)] for s in range(sentences))
        for p in range(paragraphs)
    ]


def markdown(text: str) -> Extracted:
    return Extracted(text=text, kind="markdown", headings=markdown_headings(text))


def real_tokens(text: str) -> int:
    """What the embedding model sees, [CLS] and [SEP] included."""
    return len(tokenizer().encode(text).ids)


def check_invariants(extracted: Extracted, chunks) -> None:
    text = extracted.text
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text
        # never mid-word: each edge is the text's edge or whitespace
        assert (
            chunk.start == 0
            or not text[chunk.start - 1].isalnum()
            or not text[chunk.start].isalnum()
        )
        assert (
            chunk.end == len(text)
            or not text[chunk.end].isalnum()
            or not text[chunk.end - 1].isalnum()
        )
        assert chunk.tokens + 2 == real_tokens(chunk.embedding_text)
        assert real_tokens(chunk.embedding_text) <= TARGET_TOKENS + 2 < MODEL_MAX_TOKENS
        if chunk.heading:
            assert chunk.embedding_text.endswith("\n" + chunk.text)
        else:
            assert chunk.embedding_text == chunk.text


def test_headings_become_paths_and_heading_lines_are_in_no_span():
    text = (
        "Preface before any heading.\n\n# Intro\n\nWelcome text.\n\n## Setup\n\nInstall it.\n\n"
        "### Linux\n\nUse apt.\n\n## Usage\n\nRun it.\n\n# Appendix\n\nMore."
    )
    extracted = markdown(text)
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    assert [(c.heading, c.text) for c in chunks] == [
        ("", "Preface before any heading."),
        ("Intro", "Welcome text."),
        ("Intro > Setup", "Install it."),
        ("Intro > Setup > Linux", "Use apt."),
        ("Intro > Usage", "Run it."),
        ("Appendix", "More."),
    ]
    assert chunks[3].embedding_text == "Intro > Setup > Linux\nUse apt."


def test_small_paragraphs_merge_into_one_chunk():
    extracted = markdown("# Notes\n\nFirst point.\n\nSecond point.\n\nThird point.")
    chunks = chunk_text(extracted)
    assert len(chunks) == 1
    assert chunks[0].text == "First point.\n\nSecond point.\n\nThird point."


def test_long_sections_split_with_overlap_and_stay_under_the_cap():
    body = "\n\n".join(prose(12))
    extracted = markdown("# Minutes\n\n" + body)
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    assert len(chunks) >= 4
    assert all(c.heading == "Minutes" for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end  # overlapping spans
        repeated = extracted.text[after.start : before.end]
        assert repeated.strip() and len(repeated) < len(before.text) / 2
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    words = [m.start() for m in re.finditer(r"\S", body)]
    offset = len("# Minutes\n\n")
    assert all(offset + w in covered for w in words)  # nothing left out
    assert sum(c.tokens for c in chunks) / len(chunks) > TARGET_TOKENS * 0.6  # not tiny


def test_chunks_prefer_paragraph_ends_and_split_sentences_whole():
    extracted = markdown("\n\n".join(prose(8, sentences=4)))
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    for chunk in chunks:
        assert chunk.text[-1] == "."  # ends at a sentence end


def test_no_overlap_across_sections():
    extracted = markdown("# A\n\n" + "\n\n".join(prose(6)) + "\n\n# B\n\n" + "\n\n".join(prose(6)))
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    b_start = extracted.text.index("# B")
    first_b = next(c for c in chunks if c.heading == "B")
    assert first_b.start > b_start
    assert all(c.end < b_start for c in chunks if c.heading == "A")


def test_a_sentence_longer_than_a_chunk_splits_between_words():
    sentence = " ".join(f"word{n} and more" for n in range(400)) + "."
    extracted = Extracted(text=sentence, kind="text")
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    assert len(chunks) >= 5
    assert chunks[0].start == 0 and chunks[-1].end == len(sentence)


def test_a_word_over_100_characters_is_one_token_and_merges():
    """BERT reads a "word" longer than 100 characters as one [UNK]: so does the count."""
    blob = "QUJD" * 2000
    extracted = Extracted(text=f"Before.\n\n{blob}\n\nAfter.", kind="text")
    (chunk,) = chunk_text(extracted)
    assert chunk.tokens == 5 and real_tokens(chunk.embedding_text) == 7  # before . [UNK] after .


def test_a_word_longer_than_a_chunk_is_cut_as_its_own_chunks():
    blob = "ab/cd-" * 600  # no space, but every "/" and "-" is a token of its own
    text = f"Before the blob.\n\n{blob}\n\nAfter the blob."
    extracted = Extracted(text=text, kind="text")
    chunks = chunk_text(extracted)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert real_tokens(chunk.embedding_text) <= TARGET_TOKENS + 2
    inside = [c for c in chunks if "ab/cd" in c.text]
    assert len(inside) >= 3
    assert "".join(c.text for c in inside) == blob
    assert chunks[0].text == "Before the blob." and chunks[-1].text == "After the blob."


def test_unicode_text_cjk_and_emoji():
    cjk = "東京は日本の首都です。人口は約千四百万人です。" * 40
    mixed = "Crème brûlée 🍮 is a dessert. Ça coûte 5 € à Zürich. " * 30
    extracted = markdown(f"# 東京\n\n{cjk}\n\n# Café\n\n{mixed}")
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    assert {c.heading for c in chunks} == {"東京", "Café"}
    for chunk in chunks:
        if chunk.heading == "東京" and chunk.end < len(extracted.text):
            assert chunk.text.endswith("。")  # cut at a CJK full stop


def test_very_long_heading_path_is_cut_for_embedding():
    title = " ".join(f"chapter{n}" for n in range(100))
    extracted = markdown(f"# {title}\n\nShort body.")
    (chunk,) = chunk_text(extracted)
    assert chunk.heading == title
    context = chunk.embedding_text.split("\n")[0]
    assert title.endswith(context) and real_tokens(context) - 2 <= HEADING_TOKENS


def test_pdf_chunks_know_their_page():
    builder = TextBuilder("pdf", 100_000)
    for page in range(3):
        builder.page_break()
        for paragraph in prose(3, offset=page):
            builder.paragraph(f"Page {page + 1}. {paragraph}")
    extracted = builder.build()
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    assert chunks[0].page == 1 and chunks[-1].page == 3
    for chunk in chunks:
        assert chunk.page == 1 + sum(1 for p in extracted.pages[1:] if p <= chunk.start)


def test_rows_of_a_table_or_csv_are_units():
    rows = "\n".join(f"name: Person {n}; city: Town {n}; role: Engineer" for n in range(200))
    extracted = Extracted(text=rows, kind="csv")
    chunks = chunk_text(extracted)
    check_invariants(extracted, chunks)
    for chunk in chunks:
        assert chunk.text.startswith("name: ") and chunk.text.endswith("Engineer")


def test_same_input_same_chunks():
    extracted = markdown("# T\n\n" + "\n\n".join(prose(10)))
    assert chunk_text(extracted) == chunk_text(extracted)


def test_empty_sections_make_no_chunks():
    extracted = markdown("# Only\n\n## Headings\n\n   \n\n### Here")
    assert chunk_text(extracted) == []


@pytest.mark.parametrize("text", ["Hello world.", "Héllo wörld. 🙂", ""])
def test_content_hash_is_sha256_of_utf8(text):
    import hashlib

    assert content_hash(text) == hashlib.sha256(text.encode()).hexdigest()
    assert content_hash(text) != content_hash(text + " ")
