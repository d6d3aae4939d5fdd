"""Importing a memory export: all or nothing, and nothing twice.

A memory already in the owner's memory (same text and kind, not forgotten) is skipped,
so importing the same export again adds nothing. The file's history is kept as imported
provenance (see export_schema.ImportRevision). Small files are imported inside the request;
bigger ones go to the background through memory.hooks, and that run calls `memory_import`
with a progress callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction

from memory import events
from memory.embedding import embed_texts
from memory.models import Actor, MemoryItem
from memory.services.items import memory_bulk_create
from memory.services.revisions import revisions_import
from memory.services.transfer import ImportRecord, memory_import_plan

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_LOCK_NAMESPACE = 0x4D454D49  # pg_advisory_xact_lock(namespace, owner id): one import at a time
_PRESENT_BATCH = 1000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportResult:
    added: int
    skipped: int  # already present: same text and kind

    @property
    def summary(self) -> str:
        added = f"Imported {_plural(self.added)}."
        if not self.skipped:
            return added
        were = "was" if self.skipped == 1 else "were"
        return f"{added} {_plural(self.skipped).capitalize()} {were} already there and skipped."


def _plural(count: int) -> str:
    return f"{count:,} {'memory' if count == 1 else 'memories'}"


def _key(record: ImportRecord) -> tuple[str, str]:
    return record.spec["text"], record.spec["kind"]


def _present(owner, records: Sequence[ImportRecord]) -> dict[tuple[str, str], int]:
    """(text, kind) -> id of the owner's memories that match a record (not forgotten)."""
    texts = sorted({record.spec["text"] for record in records})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(texts), _PRESENT_BATCH):
        rows = (
            MemoryItem.objects.owned_by(owner)
            .visible()
            .filter(text__in=texts[start : start + _PRESENT_BATCH])
            .order_by("id")
            .values_list("text", "kind", "id")
        )
        for text, kind, pk in rows:
            found.setdefault((text, kind), pk)
    return found


def _embed(texts: list[str], progress: Progress | None) -> list:
    """Vectors in steps, outside any transaction, so progress can be seen as it goes."""
    step = settings.MEMORY_EMBED_BATCH_SIZE * 4
    vectors: list = []
    for start in range(0, len(texts), step):
        vectors.extend(embed_texts(texts[start : start + step]))
        if progress is not None:
            progress(len(vectors), len(texts))
    return vectors


def _write(
    *,
    owner: User,
    records: list[ImportRecord],
    present: dict[tuple[str, str], int],
    fresh: list[ImportRecord],
    vectors: list,
    changed_by: User | None,
) -> int:
    """Inside the transaction: the new memories, their history, and `supersedes` links
    (to a new memory, or to the one already there that its record was skipped for)."""
    created = memory_bulk_create(
        owner=owner,
        items=[record.spec for record in fresh],
        vectors=vectors,
        actor=Actor.IMPORT,
        changed_by=changed_by,
        reason="imported",
    )
    targets = {
        record.old_id: present[_key(record)]
        for record in records
        if record.old_id is not None and _key(record) in present
    }
    for item, record in zip(created, fresh, strict=True):
        if record.old_id is not None:
            targets[record.old_id] = item.pk
        if record.created_at:
            item.created_at = record.created_at
    for item, record in zip(created, fresh, strict=True):
        if record.supersedes is not None:
            item.supersedes_id = targets[record.supersedes]
    MemoryItem.objects.bulk_update(created, ["created_at", "supersedes"], batch_size=1000)
    revisions_import(
        history=[(item, record.revisions) for item, record in zip(created, fresh, strict=True)]
    )
    return len(created)


def _import(
    *,
    owner: User,
    records: list[ImportRecord],
    changed_by: User | None = None,
    progress: Progress | None = None,
    finish: Callable[[], Any] | None = None,
) -> ImportResult:
    present = _present(owner, records)
    fresh = [record for record in records if _key(record) not in present]
    vectors = _embed([record.spec["text"] for record in fresh], progress)
    pairs = list(zip(fresh, vectors, strict=True))
    with transaction.atomic():
        # One import per owner at a time; then look again: a parallel import may have
        # added some of these meanwhile.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, owner.pk])
        present = _present(owner, records)
        pairs = [(record, vector) for record, vector in pairs if _key(record) not in present]
        added = _write(
            owner=owner,
            records=records,
            present=present,
            fresh=[record for record, _ in pairs],
            vectors=[vector for _, vector in pairs],
            changed_by=changed_by,
        )
        if finish is not None:
            finish()
        events.memory_changed_send(
            action=events.IMPORTED, owner=owner, changed_by=changed_by, actor=Actor.IMPORT,
            detail={"added": added, "skipped": len(records) - added},
        )  # fmt: skip
    return ImportResult(added=added, skipped=len(records) - added)


def memory_import(
    *,
    owner: User,
    data: dict[str, Any],
    changed_by: User | None = None,
    progress: Progress | None = None,
    finish: Callable[[], Any] | None = None,
) -> ImportResult:
    """Add the memories of an export to `owner`'s memory, skipping those already there.

    Everything is validated before anything is written, and written in one transaction:
    a bad file changes nothing. Texts are re-embedded with the configured model; the
    source message link is dropped (message ids belong to the exporting installation),
    the quote is kept; `supersedes` links are re-pointed inside the file. `progress(done,
    total)` is called while embedding; `finish()` runs inside the import's transaction (a
    background run deletes its stored file there, so the file is imported only once).
    """
    records = memory_import_plan(data=data)
    return _import(
        owner=owner, records=records, changed_by=changed_by, progress=progress, finish=finish
    )
