"""Extraction never writes a team's memory: what the background pipeline extracts from a
team conversation goes to the conversation owner's personal memory (its review inbox),
and a team's memory grows only through proposals an admin accepts."""

from __future__ import annotations

import pytest

from assistant.background.pipeline import conversation_pipeline_run
from memory.models import MemoryItem, Source
from memory.services.preferences import memory_settings_update
from tests.pipeline.conftest import KITCHEN, chat, memories_json, memory, model  # noqa: F401

pytestmark = pytest.mark.django_db

VEGETARIAN = memory("The user is vegetarian.", message=3, quote="I'm vegetarian")


@pytest.mark.parametrize("auto_accept", [False, True])
def test_a_team_conversation_is_extracted_into_its_owners_personal_memory(
    people,
    model,  # noqa: F811
    auto_accept,
):
    member = people.member
    memory_settings_update(owner=member, auto_accept_extracted=auto_accept)
    model.queue("extract", memories_json(VEGETARIAN))
    conversation = chat(member, KITCHEN, team=people.team)

    outcome = conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")

    assert outcome.memories_added == 1
    assert not MemoryItem.objects.owned_by(people.team.account).exists()
    extracted = MemoryItem.objects.owned_by(member).filter(source=Source.EXTRACTED)
    assert extracted.exclude(kind="summary").get().text == "The user is vegetarian."
    assert extracted.filter(kind="summary").count() == 1
    # Nothing of it is anyone else's either.
    assert not MemoryItem.objects.exclude(owner=member).exists()
