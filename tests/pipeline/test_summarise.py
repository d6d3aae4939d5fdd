"""Session summaries: what a run covers, where it is stored, how it is found, and the
guarantees around it (input cap, claims, compare-and-set marker, incognito, pause)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.background import pipeline
from assistant.background.pipeline import conversation_claim, conversation_pipeline_run
from assistant.models import Conversation, Message
from memory.models import MemoryItem, SessionSummary
from memory.search import memory_search
from memory.services import memory_create
from memory.services.preferences import memory_settings_update
from tests.pipeline.conftest import KITCHEN, SUMMARY, chat, say

pytestmark = pytest.mark.django_db


def run(conversation, token="test-token"):
    return conversation_pipeline_run(conversation_id=conversation.pk, claim_token=token)


def test_summary_is_stored_as_a_memory_and_found_by_the_retriever(owner, model):
    # Review off: the summary goes live at once (test_summary_scope covers review on).
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    conversation = chat(owner, KITCHEN, days_ago=6)
    messages = list(conversation.messages.order_by("id"))

    outcome = run(conversation)

    assert outcome.state == "succeeded" and outcome.messages_summarised == 4
    summary = SessionSummary.objects.get(conversation=conversation)
    assert (summary.first_message_id, summary.last_message_id) == (messages[0].pk, messages[-1].pk)
    assert summary.message_count == 4 and summary.owner == owner
    assert summary.prompt_tokens > 0 and summary.completion_tokens > 0
    item = summary.memory
    assert (item.kind, item.status, item.text) == ("summary", "active", SUMMARY)
    assert item.embedding is not None and item.occurred_at == messages[-1].created_at
    conversation.refresh_from_db()
    assert conversation.summarised_through == messages[-1].pk
    assert conversation.summary_claimed_until is None and conversation.summary_claimed_by == ""

    # Among other memories and another conversation's summary, the retriever finds it.
    for text in ["The user keeps bees.", "The user's sister is called Ada.",
                 "The user runs on Tuesdays.", "The user prefers window seats."]:  # fmt: skip
        memory_create(owner=owner, text=text, kind="fact", source="stated", actor="user")
    model.defaults["summary"] = "The user planned the garden: tomatoes along the south fence."
    run(chat(owner, ["Where should the tomatoes go?", "Along the south fence."], days_ago=2))
    hits = memory_search(owner=owner, query="what did we decide last week about the kitchen tiles")
    assert hits[0].item.pk == item.pk


def test_the_next_summary_rolls_on_from_the_previous_one(owner, model):
    conversation = chat(owner, KITCHEN, days_ago=1)
    run(conversation)
    later = say(conversation, "user", "Which grout colour goes with green zellige?")
    answer = say(conversation, "assistant", "A warm off-white grout.")
    model.defaults["summary"] = "The user asked about grout; off-white was suggested."

    outcome = run(conversation)

    assert outcome.messages_summarised == 2
    second = SessionSummary.objects.filter(conversation=conversation).order_by("id").last()
    assert (second.first_message_id, second.last_message_id) == (later.pk, answer.pk)
    prompt = model.requests["summary"][-1]["messages"][1]["content"]
    assert SUMMARY in prompt  # the previous summary, as context
    assert "grout" in prompt and "subway tiles" not in prompt  # only the new messages


def test_nothing_new_means_no_model_call_and_no_write(owner, model):
    conversation = chat(owner, KITCHEN)
    run(conversation)
    calls = len(model.calls)

    outcome = run(conversation)

    assert outcome.state == "skipped" and "Nothing new" in outcome.detail
    assert len(model.calls) == calls
    assert SessionSummary.objects.count() == 1


def test_input_cap_takes_the_oldest_messages_and_leaves_the_rest(owner, model, settings):
    settings.SUMMARY_MAX_INPUT_TOKENS = 200
    turns = [f"Message {i}: " + "tiles and grout and zellige " * 20 for i in range(6)]
    conversation = chat(owner, turns)
    ids = list(conversation.messages.order_by("id").values_list("id", flat=True))

    first = run(conversation)

    conversation.refresh_from_db()
    assert 1 <= first.messages_summarised < 6 and first.remaining == 6 - first.messages_summarised
    assert conversation.summarised_through == ids[first.messages_summarised - 1]
    prompt = model.requests["summary"][-1]["messages"][1]["content"]
    assert "Message 0" in prompt and "Message 5" not in prompt

    outcomes = [first]
    while outcomes[-1].remaining:
        outcomes.append(run(conversation))
    conversation.refresh_from_db()
    assert conversation.summarised_through == ids[-1]
    assert sum(outcome.messages_summarised for outcome in outcomes) == 6
    # The summaries tile the conversation: no gap, no overlap.
    ranges = SessionSummary.objects.order_by("first_message_id")
    covered = [i for r in ranges for i in ids if r.first_message_id <= i <= r.last_message_id]
    assert covered == ids


def test_one_huge_message_is_cut_to_the_cap(owner, model, settings):
    settings.SUMMARY_MAX_INPUT_TOKENS = 200
    conversation = chat(owner, ["zellige " * 2000])

    outcome = run(conversation)

    assert outcome.messages_summarised == 1
    prompt = model.requests["summary"][-1]["messages"][1]["content"]
    assert len(prompt) < 200 * 4 + 1500 and "[cut:" in prompt


@pytest.mark.parametrize("switch", ["incognito", "paused"])
def test_incognito_and_paused_conversations_are_never_processed(owner, model, switch):
    conversation = chat(owner, KITCHEN, incognito=switch == "incognito")
    if switch == "paused":
        memory_settings_update(owner=owner, paused=True)

    outcome = run(conversation)

    assert outcome.state == "skipped"
    assert model.calls == []
    assert not SessionSummary.objects.exists() and not MemoryItem.objects.exists()
    if switch == "paused":
        # What was said while paused is passed over for good, not mined after resuming.
        memory_settings_update(owner=owner, paused=False)
        assert run(conversation).state == "skipped" and model.calls == []


def test_an_answer_still_being_written_holds_the_range_back(owner, model):
    conversation = chat(owner, KITCHEN[:1])
    say(conversation, "assistant", "Zellige is…", status=Message.Status.STREAMING)

    run(conversation)

    summary = SessionSummary.objects.get()
    assert summary.message_count == 1
    abandoned = timezone.now() - timedelta(hours=1)
    Message.objects.filter(status="streaming").update(created_at=abandoned)
    assert run(conversation).messages_summarised == 1  # abandoned answers no longer block


def test_a_run_killed_before_its_commit_leaves_nothing_and_a_rerun_writes_once(
    owner, model, monkeypatch
):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    model.defaults["extract"] = (
        '{"memories": [{"text": "The user is vegetarian.", "kind": "fact", "message": 3, '
        '"quote": "I\'m vegetarian", "confidence": 0.9}]}'
    )
    conversation = chat(owner, KITCHEN)

    def crash(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(pipeline, "_advance_marker", crash)
    with pytest.raises(SystemExit):
        run(conversation, token="first")
    assert not SessionSummary.objects.exists() and not MemoryItem.objects.exists()

    monkeypatch.undo()
    Conversation.objects.filter(pk=conversation.pk).update(summary_claimed_until=None)
    run(conversation, token="second")
    run(conversation, token="third")
    assert SessionSummary.objects.count() == 1
    assert MemoryItem.objects.filter(kind="fact").count() == 1


def test_a_range_summarised_meanwhile_by_another_run_is_not_written_twice(
    owner, model, monkeypatch
):
    conversation = chat(owner, KITCHEN)
    last = conversation.messages.order_by("id").last()
    original = pipeline.memories_extract

    def another_run_finishes_first(**kwargs):
        Conversation.objects.filter(pk=conversation.pk).update(summarised_through=last.pk)
        return original(**kwargs)

    monkeypatch.setattr(pipeline, "memories_extract", another_run_finishes_first)
    outcome = run(conversation)

    assert outcome.state == "skipped" and "first" in outcome.detail
    assert not SessionSummary.objects.exists() and not MemoryItem.objects.exists()


def test_a_claim_is_exclusive_until_it_expires_and_its_holder_can_retake_it(owner):
    conversation = chat(owner, KITCHEN)
    now = timezone.now()
    assert conversation_claim(conversation_id=conversation.pk, token="a", now=now)
    assert not conversation_claim(conversation_id=conversation.pk, token="b", now=now)
    assert conversation_claim(conversation_id=conversation.pk, token="a", now=now)  # redelivery
    later = now + timedelta(hours=1)
    assert conversation_claim(conversation_id=conversation.pk, token="b", now=later)


def test_a_claimed_conversation_is_left_alone(owner, model):
    conversation = chat(owner, KITCHEN)
    conversation_claim(conversation_id=conversation.pk, token="someone-else")

    outcome = run(conversation)

    assert outcome.state == "skipped" and "Another worker" in outcome.detail
    assert model.calls == []


def test_a_deleted_conversation_exits_quietly(owner, model):
    conversation = chat(owner, KITCHEN)
    conversation_id = conversation.pk
    conversation.delete()
    outcome = conversation_pipeline_run(conversation_id=conversation_id, claim_token="t")
    assert outcome.state == "skipped" and "deleted" in outcome.detail
