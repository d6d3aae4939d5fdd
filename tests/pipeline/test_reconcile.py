"""Reconciling extracted memories with what is already remembered: add, supersede (with
valid_to and a revision), skip duplicates. Nothing is ever deleted by the machine."""

from __future__ import annotations

import pytest

from assistant.background.pipeline import conversation_pipeline_run
from memory.models import MemoryItem
from memory.services.preferences import memory_settings_update
from memory.services.review import memory_accept
from tests import factories
from tests.pipeline.conftest import chat, memories_json, memory

pytestmark = pytest.mark.django_db

TEA_TURNS = [
    "These days I drink coffee every morning instead of tea.",
    "Noted: coffee in the morning.",
]
COFFEE = memory("The user prefers coffee.", kind="preference", message=1,
                quote="I drink coffee every morning", confidence=0.8)  # fmt: skip


def remember(owner, text, **fields):
    return factories.remember(owner, text, **{"kind": "preference", **fields})


def run(owner, model, *candidates, turns=TEA_TURNS):
    model.queue("extract", memories_json(*candidates))
    conversation = chat(owner, turns)
    return conversation_pipeline_run(conversation_id=conversation.pk, claim_token="t")


def extracted(owner):
    return MemoryItem.objects.owned_by(owner).filter(source="extracted").exclude(kind="summary")


def test_something_new_is_added_without_asking_the_model(owner, model):
    remember(owner, "The user keeps bees on an allotment.")
    outcome = run(owner, model, COFFEE)
    assert outcome.memories_added == 1 and outcome.memories_skipped == 0
    assert "judge" not in model.calls
    assert "nothing similar" in extracted(owner).get().revisions.get().reason


@pytest.mark.parametrize("existing", ["The user prefers coffee.", "the user prefers COFFEE"])
def test_a_duplicate_is_skipped_without_asking_the_model(owner, model, existing):
    remember(owner, existing)
    outcome = run(owner, model, COFFEE)
    assert outcome.memories_skipped == 1 and outcome.memories_added == 0
    assert not extracted(owner).exists() and "judge" not in model.calls


def test_a_memory_the_user_rejected_is_not_proposed_again(owner, model):
    remember(owner, "The user prefers coffee.", status="archived")
    outcome = run(owner, model, COFFEE)
    assert outcome.memories_skipped == 1 and not extracted(owner).exists()


def test_an_update_supersedes_the_old_memory_with_valid_to_and_a_revision(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    tea = remember(owner, "The user prefers tea.")
    model.defaults["judge"] = '{"relation": "updates"}'

    outcome = run(owner, model, COFFEE)

    assert outcome.memories_superseded == 1 and outcome.memories_added == 1
    judge = model.requests["judge"][0]["messages"][1]["content"]
    assert "The user prefers tea." in judge and "The user prefers coffee." in judge
    tea.refresh_from_db()
    coffee = extracted(owner).get()
    assert coffee.supersedes == tea and coffee.status == "active"
    assert tea.status == "archived" and tea.valid_to is not None and tea.deleted_at is None
    last = tea.revisions.order_by("id").last()
    assert (last.old_status, last.new_status) == ("active", "archived")
    assert f"superseded by {coffee.tag}" in last.reason and last.actor == "assistant"
    assert f"update of {tea.tag}" in coffee.revisions.get().reason


def test_a_proposed_update_replaces_the_old_memory_only_once_accepted(owner, model):
    tea = remember(owner, "The user prefers tea.")
    model.defaults["judge"] = '{"relation": "updates"}'

    run(owner, model, COFFEE)

    coffee = extracted(owner).get()
    tea.refresh_from_db()
    assert coffee.status == "proposed" and coffee.supersedes == tea
    assert tea.status == "active"  # still in use while the user has not decided

    memory_accept(item=coffee, changed_by=owner)

    tea.refresh_from_db()
    assert tea.status == "archived" and tea.valid_to is not None
    assert "accepted in review" in tea.revisions.order_by("id").last().reason


def test_the_model_saying_same_skips_it(owner, model):
    remember(owner, "The user likes coffee in the morning.")
    model.defaults["judge"] = "<think>Both say coffee.</think>" + '{"relation": "same"}'
    outcome = run(owner, model, COFFEE)
    assert model.calls.count("judge") == 1
    assert outcome.memories_skipped == 1 and not extracted(owner).exists()


def test_the_model_saying_different_adds_it(owner, model):
    tea = remember(owner, "The user prefers tea.")
    outcome = run(owner, model, COFFEE)  # default relation: different
    assert outcome.memories_added == 1 and outcome.memories_superseded == 0
    tea.refresh_from_db()
    assert tea.status == "active"


def test_an_unreadable_judgement_adds_it_and_says_so(owner, model):
    tea = remember(owner, "The user prefers tea.")
    model.queue("judge", "hmm", "still thinking")
    outcome = run(owner, model, COFFEE)
    assert outcome.memories_added == 1 and outcome.parse_failures == 2
    assert any(tea.tag in problem for problem in outcome.problems)


def test_repeated_candidates_in_one_reply_are_added_once(owner, model):
    twice = memory("User prefers coffee.", kind="preference", message=1)
    outcome = run(owner, model, COFFEE, twice)
    assert outcome.memories_added == 1 and outcome.memories_skipped == 1


def test_other_users_memories_are_never_compared(owner, outsider, model):
    remember(outsider, "The user prefers coffee.")
    outcome = run(owner, model, COFFEE)
    assert outcome.memories_added == 1


def test_nothing_is_deleted_by_the_machine(owner, model):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    remember(owner, "The user prefers tea.")
    before = MemoryItem.objects.count()
    model.defaults["judge"] = '{"relation": "updates"}'
    run(owner, model, COFFEE)
    assert MemoryItem.objects.count() == before + 2  # the new memory and the summary
