"""memory.services: every change writes a revision; forgetting, undo, forgetting for good."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from memory.models import MemoryItem, MemoryRevision, Status
from memory.search import memory_search
from memory.services import (
    REDACTED,
    MemoryFieldError,
    memory_bulk_create,
    memory_forget,
    memory_forget_all,
    memory_forget_permanently,
    memory_mark_used,
    memory_pin,
    memory_revision_restore,
    memory_set_status,
    memory_unforget,
    memory_update,
)
from tests import factories

pytestmark = pytest.mark.django_db


def remember(owner, text, **fields) -> MemoryItem:
    return factories.remember(owner, text, **{"kind": "preference", **fields})


def reasons(item) -> list[str]:
    return list(item.revisions.order_by("created_at", "id").values_list("reason", flat=True))


def test_create_embeds_and_writes_a_revision(owner):
    item = remember(owner, "  I drink oolong tea in the afternoon.  ", quote="oolong please")
    item.refresh_from_db()
    assert item.text == "I drink oolong tea in the afternoon."
    assert item.embedding_model == "all-MiniLM-L6-v2"
    assert np.isclose(np.linalg.norm(item.embedding), 1.0, atol=1e-4)
    (revision,) = item.revisions.all()
    assert (revision.old_text, revision.new_text) == ("", item.text)
    assert (revision.actor, revision.new_status, revision.reason) == ("user", "active", "created")


def test_update_re_embeds_and_keeps_the_old_text(owner):
    item = remember(owner, "I live in Lisbon.")
    before = np.array(item.embedding)
    updated = memory_update(item=item, text="I live in Oslo.", actor="user", changed_by=owner)
    assert updated.text == "I live in Oslo."
    assert not np.allclose(before, np.array(updated.embedding))
    last = updated.revisions.last()
    assert (last.old_text, last.new_text, last.changed_by) == (
        "I live in Lisbon.",
        "I live in Oslo.",
        owner,
    )
    memory_update(item=updated, text="I live in Oslo.", actor="user")  # unchanged: no revision
    assert updated.revisions.count() == 2


def test_status_pin_and_use_bookkeeping(owner):
    item = remember(owner, "Remind me to water the plants.", kind="plan")
    memory_set_status(item=item, status=Status.ARCHIVED, actor="user")
    memory_pin(item=item, actor="user")
    memory_mark_used(items=[item])
    memory_mark_used(items=[item])
    item.refresh_from_db()
    assert (item.status, item.pinned, item.use_count) == ("archived", True, 2)
    assert item.last_used_at is not None
    assert reasons(item) == ["created", "active → archived", "pinned"]
    with pytest.raises(MemoryFieldError, match="status"):
        memory_set_status(item=item, status="deleted", actor="user")


def test_bulk_create_validates_everything_before_writing(owner):
    with pytest.raises(MemoryFieldError, match=r"items\[1\]\.kind"):
        memory_bulk_create(
            owner=owner,
            items=[{"text": "fine"}, {"text": "bad", "kind": "gossip"}],
            actor="import",
        )
    assert not MemoryItem.objects.owned_by(owner).exists()
    created = memory_bulk_create(
        owner=owner,
        items=[{"text": f"fact {n}", "kind": "fact", "thread_key": "t"} for n in range(3)],
        actor="system",
    )
    assert [item.pk for item in created] == sorted(item.pk for item in created)
    assert MemoryRevision.objects.filter(item__owner=owner).count() == 3


def test_supersede_archives_the_old_item_with_a_revision(owner):
    old = remember(owner, "My dentist is Dr. Alves.", kind="fact")
    new = remember(owner, "My dentist is Dr. Chen.", kind="fact", supersedes=old)
    old.refresh_from_db()
    assert old.status == Status.ARCHIVED and old.valid_to is not None
    assert reasons(old)[-1] == f"superseded by [m:{new.pk}]"
    assert new.supersedes == old


def test_forget_hides_and_undo_restores(owner):
    item = remember(owner, "I am allergic to penicillin.", kind="fact")
    memory_set_status(item=item, status=Status.PROPOSED, actor="assistant")
    memory_forget(item=item, actor="user")
    item.refresh_from_db()
    assert item.is_forgotten and item.status == Status.ARCHIVED
    found = memory_search(
        owner=owner, query="penicillin allergy", statuses=("proposed", "archived")
    )
    assert found == []
    with pytest.raises(ValueError, match="undo"):
        memory_set_status(item=item, status=Status.ACTIVE, actor="user")
    memory_unforget(item=item, actor="user")
    item.refresh_from_db()
    assert not item.is_forgotten and item.status == Status.PROPOSED
    assert reasons(item)[-2:] == ["forgotten", "forget undone"]


def test_forget_permanently_erases_text_vector_and_revision_text(owner):
    item = remember(owner, "My PIN is 4471.", quote="pin 4471", kind="fact", source_ref="x1")
    memory_update(item=item, text="My PIN is 9921.", actor="user")
    memory_forget_permanently(item=item, actor="user", changed_by=owner)
    item.refresh_from_db()
    assert (item.text, item.quote, item.source_ref, item.embedding) == ("", "", "", None)
    assert item.is_redacted and item.is_forgotten
    texts = set(item.revisions.values_list("old_text", flat=True))
    texts |= set(item.revisions.values_list("new_text", flat=True))
    assert texts == {REDACTED}
    assert reasons(item)[-1] == "forgotten permanently"
    assert not MemoryRevision.objects.filter(new_text__contains="4471").exists()
    assert memory_search(owner=owner, query="PIN 4471", statuses=("active", "archived")) == []
    with pytest.raises(ValueError, match="for good"):
        memory_unforget(item=item, actor="user")
    with pytest.raises(ValueError):
        memory_update(item=item, text="back again", actor="user")


def test_forget_all_soft_then_permanently(owner, outsider):
    for text in ("I like jazz.", "I like sailing."):
        remember(owner, text)
    kept = remember(outsider, "I like jazz too.")
    assert memory_forget_all(owner=owner, actor="user") == 2
    assert not MemoryItem.objects.owned_by(owner).visible().exists()
    assert memory_forget_all(owner=owner, actor="user", permanently=True) == 2
    assert set(MemoryItem.objects.owned_by(owner).values_list("text", flat=True)) == {""}
    kept.refresh_from_db()
    assert kept.text == "I like jazz too." and not kept.is_forgotten


def test_restore_a_revision(owner):
    item = remember(owner, "I run on Mondays.")
    memory_update(item=item, text="I run on Tuesdays.", actor="user")
    first = item.revisions.order_by("id").first()
    edited_at = MemoryItem.objects.get(pk=item.pk).updated_at
    before = timezone.now()
    restored = memory_revision_restore(revision=first, actor="user")
    after = timezone.now()
    assert restored.text == "I run on Mondays."
    assert reasons(restored)[-1] == f"restored revision {first.pk}"
    stored = MemoryItem.objects.get(pk=item.pk).updated_at
    assert edited_at < before <= stored <= after  # moved forward, to the time of the restore
