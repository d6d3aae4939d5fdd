"""One way to change a memory: every write path leaves exactly one revision saying who
(actor, changed_by) and why, and only memory/services/revisions.py writes revision rows."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memory.models import MemoryItem, MemoryRevision, Status
from memory.services import (
    REDACTED,
    memory_create,
    memory_export,
    memory_forget,
    memory_forget_all,
    memory_forget_permanently,
    memory_import,
    memory_pin,
    memory_revision_restore,
    memory_set_status,
    memory_unforget,
    memory_update,
)
from memory.services.review import (
    MemoryReviewError,
    memory_accept,
    memory_mark_wrong,
    memory_reject,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _new(owner, text: str, **fields) -> MemoryItem:
    fields = {"kind": "fact", "source": "stated", "actor": "user", **fields}
    return memory_create(owner=owner, text=text, **fields)


def _proposal(owner, item):
    """A proposal replacing `item`, linked but not yet archiving it (as pipeline_save does)."""
    proposal = _new(owner, "I live in Bergen.", actor="assistant", status=Status.PROPOSED)
    MemoryItem.objects.filter(pk=proposal.pk).update(supersedes=item)
    proposal.refresh_from_db()
    item.other = proposal
    return item


def _supersede(owner, item):
    item.other = _new(owner, "I live in Oslo.", actor="assistant", supersedes=item)
    return item


def _restore(owner, item):
    first = item.revisions.order_by("created_at", "id").first()
    memory_revision_restore(revision=first, actor="user", changed_by=owner)
    item.other = first
    return item


def _tag(item) -> str:
    other = item.other
    return other.tag if isinstance(other, MemoryItem) else str(other.pk)


def _forget(owner, item):
    memory_forget(item=item, actor="user")
    return item


def _edit(owner, item):
    memory_update(item=item, text="I live in Porto.", actor="user")
    return item


def _forget_all(permanently: bool):
    def act(owner, item):
        assert memory_forget_all(owner=owner, permanently=permanently, changed_by=owner) == 1
        return item

    return act


# name: (set-up or None, the change -> the item to check, actor, reason, its changed_by is
# the owner, revisions written on other items). "{tag}" in a reason is _tag(item).
PATHS = {
    "create": (None, lambda o, i: _new(o, "I take the 8:10 train.", changed_by=o),
               "user", "created", True, 0),
    "update": (None, lambda o, i: memory_update(item=i, text="I live in Faro.", actor="user",
                                                changed_by=o),
               "user", "edited", True, 0),
    "status": (None, lambda o, i: memory_set_status(item=i, status="archived", actor="user",
                                                    changed_by=o),
               "user", "active → archived", True, 0),
    "mark wrong": (None, lambda o, i: memory_mark_wrong(item=i, changed_by=o),
                   "user", "Marked wrong by the user", True, 0),
    "pin": (None, lambda o, i: memory_pin(item=i, actor="user", changed_by=o),
            "user", "pinned", True, 0),
    "supersede": (None, _supersede, "assistant", "superseded by {tag}", False, 1),
    "forget": (None, lambda o, i: memory_forget(item=i, actor="user", changed_by=o),
               "user", "forgotten", True, 0),
    "unforget": (_forget, lambda o, i: memory_unforget(item=i, actor="user", changed_by=o),
                 "user", "forget undone", True, 0),
    "restore": (_edit, _restore, "user", "restored revision {tag}", True, 0),
    "forget for good": (_edit, lambda o, i: memory_forget_permanently(
                            item=i, actor="system", changed_by=o) or i,
                        "system", "forgotten permanently", True, 0),
    "forget all": (None, _forget_all(False), "user", "forgotten (forget all)", True, 0),
    "forget all for good": (_edit, _forget_all(True), "user", "forgotten permanently", True, 0),
    "accept with supersede": (_proposal, lambda o, i: memory_accept(item=i.other, changed_by=o)
                              and i,
                              "user", "superseded by {tag} (accepted in review)", True, 1),
}  # fmt: skip


@pytest.mark.parametrize("path", list(PATHS))
def test_every_write_path_records_exactly_one_revision(owner, path):
    set_up, act, actor, reason, by_owner, elsewhere = PATHS[path]
    item = _new(owner, "I live in Lisbon.")
    if set_up is not None:
        item = set_up(owner, item)
    before = set(MemoryRevision.objects.values_list("pk", flat=True))

    target = act(owner, item)

    written = MemoryRevision.objects.exclude(pk__in=before)
    (revision,) = written.filter(item=target)
    assert written.exclude(item=target).count() == elsewhere
    assert revision.actor == actor
    assert revision.reason == reason.format(tag=_tag(target) if "{tag}" in reason else "")
    assert revision.changed_by == (owner if by_owner else None)
    target.refresh_from_db()
    assert revision.new_status == target.status
    if "for good" in path:
        # The closing revision keeps its reason; the texts and reasons before it are erased.
        assert (revision.old_text, revision.new_text, target.text) == (REDACTED, REDACTED, "")
        assert set(target.revisions.exclude(pk=revision.pk).values_list("reason", flat=True)) == {
            REDACTED
        }
    else:
        assert revision.new_text == target.text


def test_a_change_that_changes_nothing_records_nothing(owner):
    item = _new(owner, "I live in Lisbon.")
    memory_update(item=item, text="I live in Lisbon.", actor="user")
    memory_set_status(item=item, status="active", actor="user")
    memory_pin(item=item, actor="user", pinned=False)
    memory_unforget(item=item, actor="user")
    with pytest.raises(MemoryReviewError):
        memory_reject(item=item)
    assert item.revisions.count() == 1


def test_a_refused_change_writes_nothing(owner):
    item = _new(owner, "I live in Lisbon.")
    memory_forget(item=item, actor="user")
    with pytest.raises(ValueError, match="undo"):
        memory_set_status(item=item, status="active", actor="user")
    item.refresh_from_db()
    assert item.status == Status.ARCHIVED and item.revisions.count() == 2


def test_forget_all_is_one_update_of_the_items_and_one_insert_of_revisions(owner):
    items = [_new(owner, f"Fact number {n}.") for n in range(5)]
    with CaptureQueriesContext(connection) as queries:
        assert memory_forget_all(owner=owner, changed_by=owner) == 5
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum(s.startswith('UPDATE "memory_memoryitem"') for s in statements) == 1
    assert sum(s.startswith('INSERT INTO "memory_memoryrevision"') for s in statements) == 1
    assert all(item.revisions.count() == 2 for item in items)


def test_imported_history_and_the_import_revision_are_recorded(owner, outsider):
    item = _new(outsider, "I live in Lisbon.")
    memory_update(item=item, text="I live in Oslo.", actor="user")
    data = json.loads(json.dumps(memory_export(owner=outsider)))
    memory_import(owner=owner, data=data, changed_by=owner)
    imported = MemoryItem.objects.owned_by(owner).get()
    rows = [
        (rev.actor, rev.source_actor, rev.changed_by_id, rev.reason)
        for rev in imported.revisions.order_by("created_at", "id")
    ]
    assert rows == [
        ("import", "user", None, "created"),
        ("import", "user", None, "edited"),
        ("import", "", owner.pk, "imported"),
    ]


WRITES = {"create", "bulk_create", "update", "save", "get_or_create", "update_or_create"}


def _revision_writes(path: Path) -> list[str]:
    """Calls in `path` that write revision rows: MemoryRevision(...) built, or a write
    method called on something that names MemoryRevision or an item's revisions."""
    source = path.read_text()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "MemoryRevision":
            found.append(f"{path.name}:{node.lineno} MemoryRevision(...)")
        elif isinstance(func, ast.Attribute) and func.attr in WRITES:
            receiver = ast.get_source_segment(source, func.value) or ""
            if "MemoryRevision" in receiver or "revisions" in receiver or "revision" in receiver:
                found.append(f"{path.name}:{node.lineno} {receiver[:40]}.{func.attr}")
    return found


def test_one_module_writes_revision_rows():
    files = [
        path
        for part in ("memory", "assistant", "connectors", "inference")
        if (ROOT / part).is_dir()
        for path in (ROOT / part).rglob("*.py")
        if "migrations" not in path.parts
    ]
    writers = {
        str(path.relative_to(ROOT)): _revision_writes(path)
        for path in files
        if _revision_writes(path)
    }
    assert list(writers) == ["memory/services/revisions.py"], writers
