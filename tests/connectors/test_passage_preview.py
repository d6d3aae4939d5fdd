"""The page a [d:N] chip opens: the passage marked within its neighbours, where it is in
the file, a link to the file only when it is a web address, and all text escaped."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.document_factories import document_add, folder_create

pytestmark = pytest.mark.django_db


def passage_url(document, ordinal: int) -> str:
    return reverse("connectors:passage", args=[document.chunks.get(ordinal=ordinal).pk])


def test_the_passage_is_marked_between_its_neighbours(owner, owner_client):
    document = document_add(folder_create(owner), "Manuals/Boiler.pdf", [
        "Before: the intro.",
        ("Service it every October.", {"heading": "Care > Service", "page": 4}),
        "After: the warranty.",
    ], web_url="https://cloud.example.org/f/7")  # fmt: skip

    body = owner_client.get(passage_url(document, 1)).content.decode()

    assert "Manuals/Boiler.pdf" in body and "Care &gt; Service" in body
    assert "<dt>Page</dt><dd>4</dd>" in body
    assert "<mark data-passage>Service it every October.</mark>" in body
    assert body.index("Before: the intro.") < body.index("<mark") < body.index("After: the")
    assert 'href="https://cloud.example.org/f/7"' in body


def test_overlapping_neighbours_are_not_repeated(owner, owner_client):
    document = document_add(folder_create(owner), "a.txt", ["one two ", "three four ", "five"])
    middle = document.chunks.get(ordinal=1)
    first = document.chunks.get(ordinal=0)
    first.text, first.end = "one two three ", first.end + 6  # overlaps the middle chunk
    first.save()

    body = owner_client.get(passage_url(document, 1)).content.decode()

    assert middle.text in body and "one two three" not in body and "one two " in body


def test_file_text_and_paths_are_escaped_and_odd_links_dropped(owner, owner_client):
    document = document_add(
        folder_create(owner), "<img src=x onerror=alert(1)>.md",
        ["<script>alert('pwned')</script> plain words"], web_url="javascript:alert(1)",
    )  # fmt: skip

    body = owner_client.get(passage_url(document, 0)).content.decode()

    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert "<img src=x" not in body
    assert "javascript:" not in body and "Open the file" not in body


def test_another_users_passage_is_not_found(owner, outsider_client):
    document = document_add(folder_create(owner), "secret.md", ["Secret plans."])
    response = outsider_client.get(passage_url(document, 0))
    assert response.status_code == 404 and b"Secret plans" not in response.content
