"""One tag format: memory/tags.py writes `m:42` and its citation `[m:42]`, and reads both."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assistant.models import ContextItem, Conversation
from assistant.services.context import MEMORY_HEADER, memory_line
from assistant.services.conversations import message_send
from inference.fencing import fence_cite
from memory.tags import memory_citation, memory_tag, memory_tag_id
from tests.assistant.sse import stream_frames
from tests.factories import remember


def test_format_and_parse_round_trip():
    assert memory_tag(42) == "m:42"
    assert memory_citation(42) == "[m:42]" == fence_cite(memory_tag(42))
    assert memory_tag_id("m:42") == 42 == memory_tag_id("[m:42]") == memory_tag_id(" m:42 ")
    for bad in ["", "m:", "m:0", "m:-1", "[m:42", "m:42]", "x:42", "m:4a", "[[m:4]]", None, 42]:
        assert memory_tag_id(bad) is None, bad


@pytest.mark.django_db
def test_every_place_that_names_a_memory_uses_the_helper(owner, owner_client, backend):
    old = remember(owner, "Olivia keeps bees on her allotment.")
    new = remember(owner, "Olivia keeps bees and hens on her allotment.", supersedes=old)
    # The model's citation, the revision reason and the page all read back to the id.
    assert memory_tag_id(new.tag) == new.pk and new.tag == memory_citation(new.pk)
    assert str(new).startswith(memory_citation(new.pk))
    reason = old.revisions.order_by("-id").first().reason
    assert memory_tag_id(reason.removeprefix("superseded by ")) == new.pk
    page = owner_client.get(reverse("memory:detail", args=[new.pk])).content.decode()
    assert f'">{memory_citation(old.pk)}</a>' in page  # "Replaces [m:…]"
    assert memory_line(new).startswith(f"{memory_citation(new.pk)} {{")
    assert memory_citation(12) in MEMORY_HEADER

    # A chat turn stores the bare tag and cites it in brackets in the prompt.
    conversation = Conversation.objects.create(owner=owner)
    _, answer = message_send(conversation=conversation, text="What does Olivia keep?")
    stream_frames(owner, reverse("chat:stream", args=[conversation.pk, answer.pk]))
    row = ContextItem.objects.get(answer=answer, memory=new, injected=True)
    assert row.tag == memory_tag(new.pk) and memory_tag_id(row.tag) == new.pk
    assert str(row).startswith(memory_citation(new.pk))
    system = backend.requests[-1]["messages"][0]["content"]
    cited = [memory_tag_id(tag) for tag in re.findall(r"^\[m:\d+\]", system, flags=re.M)]
    assert cited == [new.pk]
