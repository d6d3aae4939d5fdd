"""Export and import: a faithful round trip, and a bad file that changes nothing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from memory.models import MemoryItem, MemoryRevision
from memory.services import (
    MemoryImportError,
    memory_create,
    memory_export,
    memory_forget,
    memory_import,
    memory_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(owner):
    old = memory_create(
        owner=owner,
        text="I work at the Lisbon office.",
        kind="fact",
        source="message",
        actor="user",
        quote="I'm based in Lisbon",
        occurred_at=datetime(2024, 1, 5, tzinfo=UTC),
    )
    memory_create(
        owner=owner,
        text="I work at the Oslo office.",
        kind="fact",
        source="extracted",
        actor="assistant",
        supersedes=old,
        confidence=0.8,
        thread_key="chat-7",
        valid_from=datetime(2024, 6, 1, tzinfo=UTC),
    )
    plan = memory_create(
        owner=owner,
        text="Plan a trip to Bergen.",
        kind="plan",
        source="stated",
        actor="user",
        pinned=True,
    )
    memory_update(item=plan, text="Plan a trip to Bergen in May.", actor="user")
    gone = memory_create(owner=owner, text="Forget me.", kind="fact", source="stated", actor="user")
    memory_forget(item=gone, actor="user")
    return memory_export(owner=owner)


def test_export_is_json_with_items_revisions_and_provenance(exported):
    data = json.loads(json.dumps(exported))
    assert data["format"] == "recall-assistant/memory" and data["version"] == 1
    assert data["embedding_model"] == "all-MiniLM-L6-v2"
    texts = [item["text"] for item in data["items"]]
    assert texts == [
        "I work at the Lisbon office.",
        "I work at the Oslo office.",
        "Plan a trip to Bergen in May.",
    ]
    lisbon, oslo, plan = data["items"]
    assert lisbon["quote"] == "I'm based in Lisbon" and lisbon["occurred_at"].startswith(
        "2024-01-05"
    )
    assert lisbon["status"] == "archived" and oslo["supersedes"] == lisbon["id"]
    assert oslo["confidence"] == 0.8 and oslo["valid_from"].startswith("2024-06-01")
    assert [rev["new_text"] for rev in plan["revisions"]] == [
        "Plan a trip to Bergen.",
        "Plan a trip to Bergen in May.",
    ]


def test_round_trip_into_another_account(exported, outsider):
    assert memory_import(owner=outsider, data=json.loads(json.dumps(exported))) == 3
    again = memory_export(owner=outsider)
    fields = ("text", "kind", "status", "source", "quote", "thread_key", "pinned", "confidence")
    for before, after in zip(exported["items"], again["items"], strict=True):
        for field in (*fields, "occurred_at", "valid_from", "valid_to", "created_at"):
            assert before[field] == after[field], field
        history = [rev["new_text"] for rev in after["revisions"]]
        assert history[:-1] == [rev["new_text"] for rev in before["revisions"]]
        assert after["revisions"][-1]["actor"] == "import"
    imported = MemoryItem.objects.owned_by(outsider)
    oslo = imported.get(text="I work at the Oslo office.")
    assert oslo.supersedes == imported.get(text="I work at the Lisbon office.")
    assert all(item.embedding is not None for item in imported)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: d["items"][2].update(kind="gossip"),
            r"items\[2\]\.kind: 'gossip' is not one of",
        ),
        (lambda d: d["items"][1].update(text="  "), r"items\[1\]\.text: must not be empty"),
        (lambda d: d["items"][0].update(occurred_at="yesterday"), r"items\[0\]\.occurred_at"),
        (
            lambda d: d["items"][2]["revisions"][1].update(actor="robot"),
            r"items\[2\]\.revisions\[1\]\.actor",
        ),
        (lambda d: d["items"][1].update(supersedes=999999), r"items\[1\]\.supersedes"),
        (lambda d: d.update(version=7), r"version"),
        (lambda d: d.update(items="nope"), r"items: must be a list"),
    ],
)
def test_a_bad_file_names_the_first_bad_record_and_changes_nothing(
    exported, outsider, damage, message
):
    data = copy.deepcopy(exported)
    damage(data)
    items, revisions = MemoryItem.objects.count(), MemoryRevision.objects.count()
    with pytest.raises(MemoryImportError, match=message):
        memory_import(owner=outsider, data=data)
    assert (MemoryItem.objects.count(), MemoryRevision.objects.count()) == (items, revisions)
