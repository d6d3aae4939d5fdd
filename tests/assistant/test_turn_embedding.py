"""A turn embeds its question once, shared by its memory and document searches, and not
at all for a user with no memory and no files."""

from __future__ import annotations

import pytest

import memory.embedding
from assistant.models import ContextItem, Conversation
from tests.assistant.test_memory_in_chat import ask
from tests.document_factories import document_add, folder_create
from tests.factories import remember_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(monkeypatch) -> list[str]:
    """The texts the real model embedded as queries, in order."""
    seen: list[str] = []
    real = memory.embedding.embed_query

    def counting(text: str):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(memory.embedding, "embed_query", counting)
    return seen


def test_memory_and_documents_share_one_embedding(owner, backend, embedded):
    remember_many(owner, ["The boiler was last serviced in October."])
    document_add(folder_create(owner), "House manual.md",
                 ["The boiler in the basement is serviced every October by Nordheat."])  # fmt: skip
    answer, _ = ask(owner, Conversation.objects.create(owner=owner), "Who services the boiler?")

    assert embedded == ["Who services the boiler?"]
    sources = set(ContextItem.objects.filter(answer=answer).values_list("source", flat=True))
    assert sources == {"memory", "document"}  # both searches ran, on that one vector


def test_nothing_to_search_embeds_nothing(owner, backend, embedded):
    ask(owner, Conversation.objects.create(owner=owner), "Hello there!")
    assert embedded == []
