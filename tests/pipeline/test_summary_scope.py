"""Summaries follow the rules of extracted memories outside their conversation (review
first when review is on), and a deleted conversation takes its summaries with it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.background.pipeline import conversation_pipeline_run
from assistant.models import ContextItem, Conversation, Message
from assistant.services.context import memory_context_build
from assistant.services.conversations import conversation_delete, message_send
from assistant.services.prompt import chat_prompt_build
from assistant.services.turn_context import turn_prompt_prepare
from memory.models import MemoryItem, MemoryRevision, SessionSummary
from memory.services.forget import REDACTED
from memory.services.preferences import memory_settings_update
from memory.services.review import memory_accept, memory_reject
from tests.pipeline.conftest import KITCHEN, SUMMARY, chat, memories_json, memory

pytestmark = pytest.mark.django_db

QUESTION = "What did we decide about the kitchen tiles, zellige or subway?"


def summarise(owner, turns=KITCHEN):
    conversation = chat(owner, turns)
    conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")
    return conversation, SessionSummary.objects.get(conversation=conversation).memory


def injected_elsewhere(owner) -> set[int]:
    """The memories injected into a turn of a fresh conversation asking about the tiles."""
    _, answer = message_send(conversation=Conversation.objects.create(owner=owner), text=QUESTION)
    return {
        row.memory_id for row in memory_context_build(answer=answer, question=QUESTION).injected
    }


def test_with_review_on_a_summary_waits_in_the_inbox_and_stays_out_of_other_chats(
    owner, owner_client, model, settings
):
    conversation, summary = summarise(owner)

    assert summary.status == "proposed"
    inbox = owner_client.get(reverse("memory:inbox")).content.decode()
    assert SUMMARY in inbox
    assert summary.pk not in injected_elsewhere(owner)

    # Within its own conversation it already stands in for the turns left out.
    settings.CHAT_HISTORY_MAX_MESSAGES = 2
    _, answer = message_send(conversation=conversation, text="And the worktop?")
    assert SUMMARY in chat_prompt_build(answer=answer).messages[0]["content"]

    memory_accept(item=summary, changed_by=owner)
    assert summary.pk in injected_elsewhere(owner)


def test_a_rejected_summary_is_used_nowhere(owner, model, settings):
    conversation, summary = summarise(owner)
    memory_reject(item=summary, changed_by=owner)
    settings.CHAT_HISTORY_MAX_MESSAGES = 2
    _, answer = message_send(conversation=conversation, text="And the worktop?")
    assert SUMMARY not in chat_prompt_build(answer=answer).messages[0]["content"]
    assert summary.pk not in injected_elsewhere(owner)


def test_with_review_off_a_summary_is_live_at_once(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    _, summary = summarise(owner)
    assert summary.status == "active"
    assert summary.pk in injected_elsewhere(owner)


def test_deleting_a_conversation_forgets_its_summaries_for_good(owner, owner_client, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    conversation, summary = summarise(owner)
    kept, _ = summarise(owner, ["Where should the tomatoes go?", "Along the south fence."])
    # Another conversation's answer used the summary: its record holds a copy.
    other = Conversation.objects.create(owner=owner)
    _, answer = message_send(conversation=other, text=QUESTION)
    turn_prompt_prepare(answer=answer)
    answer.refresh_from_db()
    assert SUMMARY in str(answer.prompt_messages)
    assert ContextItem.objects.get(answer=answer, memory=summary).text == SUMMARY

    response = owner_client.post(reverse("chat:delete", args=[conversation.pk]))

    assert response.status_code == 302
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    summary.refresh_from_db()
    assert summary.is_redacted and summary.text == "" and summary.embedding is None
    revisions = MemoryRevision.objects.filter(item=summary)
    assert {r.new_text for r in revisions} == {REDACTED}
    assert revisions.order_by("-id").first().changed_by == owner
    answer.refresh_from_db()
    assert SUMMARY not in str(answer.prompt_messages)
    assert ContextItem.objects.get(answer=answer, memory=summary).text == "[forgotten]"
    # The other conversation's summary is untouched.
    assert SessionSummary.objects.get(conversation=kept).memory.text
    assert Message.objects.filter(conversation=other).count() == 2


def test_deleting_a_conversation_keeps_memories_extracted_from_it(owner, model):
    model.defaults["extract"] = memories_json(memory("The user is vegetarian."))
    conversation, summary = summarise(owner)
    extracted = MemoryItem.objects.get(owner=owner, kind="fact")

    conversation_delete(conversation=conversation)

    extracted.refresh_from_db()
    summary.refresh_from_db()
    assert summary.is_redacted
    assert extracted.text == "The user is vegetarian." and not extracted.is_forgotten
