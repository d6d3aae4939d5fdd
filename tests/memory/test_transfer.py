"""Export and import: a faithful round trip, and a bad file that changes nothing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from assistant.background.imports import (
    MemoryImportFailed,
    memory_import_enqueue,
    memory_import_pending_run,
)
from assistant.background.models import PendingImport, TaskRun
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
    result = memory_import(owner=outsider, data=json.loads(json.dumps(exported)))
    assert (result.added, result.skipped) == (3, 0)
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
        (
            lambda d: d["items"][0].update(occurred_at="2024-02-30"),
            r"items\[0\]\.occurred_at: '2024-02-30' is not a real date-time",
        ),
        (
            lambda d: d["items"][1].update(created_at="2024-02-30T10:00:00"),
            r"items\[1\]\.created_at: .* is not a real date-time",
        ),
        (
            lambda d: d["items"][2]["revisions"][0].update(created_at="2023-02-29T00:00:00"),
            r"items\[2\]\.revisions\[0\]\.created_at",
        ),
        (lambda d: d["items"][0].update(id=[1, 2]), r"items\[0\]\.id: must be a number or"),
        (lambda d: d["items"][1].update(supersedes={"id": 1}), r"items\[1\]\.supersedes: must"),
        (lambda d: d["items"][0].update(id=True), r"items\[0\]\.id: must be a number or"),
        (lambda d: d["items"][1].update(text="nul \x00 byte"), r"items\[1\]\.text: .*NUL"),
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


def test_importing_the_same_export_twice_adds_nothing_the_second_time(exported, outsider):
    data = json.loads(json.dumps(exported))
    assert memory_import(owner=outsider, data=data).added == 3
    revisions = MemoryRevision.objects.filter(item__owner=outsider).count()

    again = memory_import(owner=outsider, data=data)

    assert (again.added, again.skipped) == (0, 3)
    assert again.summary == "Imported 0 memories. 3 memories were already there and skipped."
    assert MemoryItem.objects.owned_by(outsider).count() == 3
    assert MemoryRevision.objects.filter(item__owner=outsider).count() == revisions


def test_a_partly_known_file_adds_only_the_new_ones_and_links_to_the_old(exported, outsider):
    memory_create(owner=outsider, text="I work at the Lisbon office.", kind="fact",
                  source="stated", actor="user")  # fmt: skip
    result = memory_import(owner=outsider, data=json.loads(json.dumps(exported)))
    assert (result.added, result.skipped) == (2, 1)
    mine = MemoryItem.objects.owned_by(outsider)
    assert mine.filter(text="I work at the Lisbon office.").count() == 1
    # Oslo superseded Lisbon in the file: the link goes to the Lisbon memory already here.
    assert mine.get(text="I work at the Oslo office.").supersedes == mine.get(
        text="I work at the Lisbon office."
    )


def test_imported_history_is_provenance_not_edits_made_here(exported, owner, outsider):
    memory_import(owner=outsider, data=json.loads(json.dumps(exported)), changed_by=outsider)
    plan = MemoryItem.objects.owned_by(outsider).get(text="Plan a trip to Bergen in May.")
    history = list(plan.revisions.order_by("created_at", "id"))
    assert [(rev.actor, rev.source_actor, rev.changed_by) for rev in history] == [
        ("import", "user", None),  # created over there, by that user
        ("import", "user", None),  # edited over there
        ("import", "", outsider),  # imported here, by this user
    ]
    assert not MemoryRevision.objects.filter(item__owner=outsider, actor="user").exists()
    # Exported again, the history still says who made each change where it was made.
    again = memory_export(owner=outsider)["items"][2]["revisions"]
    assert [(rev["actor"], rev["source_actor"]) for rev in again][:2] == [("import", "user")] * 2


def test_a_background_import_reports_progress_and_deletes_the_file(exported, outsider):
    data = json.loads(json.dumps(exported))
    run = memory_import_enqueue(owner=outsider, data=data, item_count=3, label="export.json")
    assert (run.kind, run.state, run.progress_total) == ("import", "queued", 3)
    pending = PendingImport.objects.get(run=run)
    assert not MemoryItem.objects.owned_by(outsider).exists()

    outcome = memory_import_pending_run(pending_id=pending.pk)

    assert (outcome.state, outcome.memories_added, outcome.memories_skipped) == ("succeeded", 3, 0)
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total) == (3, 3)
    assert not PendingImport.objects.exists()
    assert MemoryItem.objects.owned_by(outsider).count() == 3
    # Delivered again (a worker died after the commit): nothing is imported twice.
    assert memory_import_pending_run(pending_id=pending.pk).state == "skipped"
    assert MemoryItem.objects.owned_by(outsider).count() == 3


def test_a_failing_background_import_writes_nothing_and_says_why(exported, outsider):
    data = json.loads(json.dumps(exported))
    run = memory_import_enqueue(owner=outsider, data=data, item_count=3, label="export.json")
    broken = copy.deepcopy(data)
    broken["items"][2]["kind"] = "gossip"  # e.g. the rules changed between upload and run
    PendingImport.objects.filter(run=run).update(payload=json.dumps(broken))

    with pytest.raises(MemoryImportFailed, match=r"Nothing was imported.*items\[2\]\.kind"):
        memory_import_pending_run(pending_id=run.pending_import.pk)

    assert not MemoryItem.objects.owned_by(outsider).exists()
    assert not PendingImport.objects.exists() and TaskRun.objects.filter(pk=run.pk).exists()
