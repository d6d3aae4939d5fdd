"""The page a [d:N] chip opens: the passage marked within its neighbours, where it is in
the file, a link to the file only when it is a web address, and all text escaped."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from assistant.models import ContextItem, Conversation
from tests.assistant.test_memory_in_chat import ask
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


# Chips under an answer, and what they open once the file is gone (a chat turn with the
# scripted backend: the rows and the recorded prompt are made by the real turn).


@pytest.fixture
def manual(owner):
    return document_add(folder_create(owner), "Home/House manual.md", [
        ("The dishwasher filter is cleaned monthly.", {"heading": "House > Kitchen"}),
        ("The dishwasher salt is refilled when the light shows.", {"heading": "House > Kitchen"}),
        ("The hedge is trimmed in June and September.", {"heading": "House > Garden", "page": 3}),
        "The hedge trimmer and the dishwasher tablets are kept in the shed.",
    ])  # fmt: skip


def chips(body: str) -> list[str]:
    return re.findall(r'<a class="chip chip-document[^"]*".*?</a>', body, flags=re.S)


def test_chips_of_one_file_tell_their_passages_apart(owner, owner_client, backend, manual):
    conversation = Conversation.objects.create(owner=owner)

    ask(owner, conversation, "When is the dishwasher filter cleaned and the hedge trimmed?")

    body = owner_client.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()
    found = chips(body)
    assert len(found) == 4
    assert all("Home/House manual.md" in chip for chip in found)  # the file, visible
    assert all('title="Home/House manual.md' in chip for chip in found)  # and in the title
    wheres = [re.search(r'class="chip-where">(.*?)</span>', chip).group(1) for chip in found]
    assert sorted(wheres) == [
        "Garden, p. 3",  # its section, alone in this answer
        "The dishwasher filter is cleaned monthly.",  # two of one section: their first words
        "The dishwasher salt is refilled when…",
        "The hedge trimmer and the dishwasher…",  # no heading: its first words
    ]


def test_a_chip_outlives_its_file_and_opens_the_recorded_passage(
    owner, owner_client, outsider, backend, manual
):
    conversation = Conversation.objects.create(owner=owner)
    answer, _ = ask(owner, conversation, "When is the hedge trimmed?")
    row = ContextItem.objects.get(answer=answer, chunk__ordinal=2)
    snapshot = reverse("chat:passage", args=[conversation.pk, answer.pk, row.pk])
    # While the file is there, the cited passage is the live preview.
    assert owner_client.get(snapshot).url == reverse("connectors:passage", args=[row.chunk_id])

    manual.delete()  # the file is removed from the drive: its chunks go, the rows stay

    row.refresh_from_db()
    assert row.chunk_id is None and row.injected
    body = owner_client.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()
    chip = next(chip for chip in chips(body) if f'<span class="chip-tag">{row.tag}</span>' in chip)
    assert "chip-removed" in chip and f'href="{snapshot}"' in chip and "Garden, p. 3" in chip
    page = owner_client.get(snapshot)
    text = page.content.decode()
    assert page.status_code == 200 and "since been removed" in text
    assert "<mark data-passage>The hedge is trimmed in June and September.</mark>" in text
    assert "Home/House manual.md" in text and "House &gt; Garden" in text  # from the prompt
    assert "<dt>Page</dt><dd>3</dd>" in text
    stranger = Client()
    stranger.force_login(outsider)
    assert stranger.get(snapshot).status_code == 404
    inspector = owner_client.get(reverse("chat:context", args=[conversation.pk, answer.pk]))
    assert snapshot.encode() in inspector.content
