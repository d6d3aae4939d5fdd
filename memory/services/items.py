"""Creating and editing memory items. Every change writes one revision, through
revisions.memory_change (or memories_change)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from memory import events
from memory.embedding import configured_model_name, embed_texts
from memory.models import MemoryItem, Status
from memory.services.revisions import (
    Change,
    memories_change,
    memory_change,
    revisions_record_created,
)
from memory.services.validation import (
    MemoryFieldError,
    clean_actor,
    clean_choice,
    clean_spec,
    clean_text,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def memory_create(
    *,
    owner: User,
    text: str,
    kind: str,
    source: str,
    actor: str,
    source_message=None,
    quote: str = "",
    source_ref: str = "",
    occurred_at: datetime | None = None,
    status: str = Status.ACTIVE,
    pinned: bool = False,
    confidence: float | None = None,
    reason: str = "",
    thread_key: str = "",
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    supersedes: MemoryItem | None = None,
    changed_by: User | None = None,
) -> MemoryItem:
    """Remember one thing. `supersedes` archives the item it replaces (with a revision)."""
    spec = {
        "text": text,
        "kind": kind,
        "source": source,
        "status": status,
        "source_message": source_message,
        "quote": quote,
        "source_ref": source_ref,
        "thread_key": thread_key,
        "occurred_at": occurred_at,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "pinned": pinned,
        "confidence": confidence,
        "supersedes": supersedes,
    }
    (item,) = memory_bulk_create(
        owner=owner, items=[spec], actor=actor, changed_by=changed_by, reason=reason
    )
    return item


def memory_bulk_create(
    *,
    owner: User,
    items: Sequence[dict[str, Any]],
    actor: str,
    changed_by: User | None = None,
    reason: str = "",
    batch_size: int | None = None,
    vectors: Sequence | None = None,
) -> list[MemoryItem]:
    """Remember many things at once: one batched embedding pass, one transaction.

    Each dict takes memory_create's keyword arguments (text is required). Raises
    MemoryFieldError naming the first bad item; nothing is written then. `vectors`, when
    given, are the texts' embeddings by the configured model, computed by the caller.
    """
    actor = clean_actor(actor)
    specs = []
    for index, raw in enumerate(items):
        try:
            specs.append(clean_spec(raw))
        except MemoryFieldError as error:
            raise MemoryFieldError(f"items[{index}].{error.field}", error.message) from None
        superseded = specs[-1]["supersedes"]
        if superseded is not None and superseded.owner_id != owner.pk:
            raise MemoryFieldError(f"items[{index}].supersedes", "belongs to another owner")
    if not specs:
        return []
    if vectors is None:
        # Embed before the transaction: no locks are held while the model runs.
        vectors = list(embed_texts([spec["text"] for spec in specs], batch_size=batch_size))
    elif len(vectors) != len(specs):
        raise ValueError(f"{len(vectors)} vectors for {len(specs)} memories")
    model_name = configured_model_name()
    now = timezone.now()
    rows = [
        MemoryItem(
            owner=owner,
            embedding=vector,
            embedding_model=model_name,
            created_at=now,
            **spec,
        )
        for spec, vector in zip(specs, vectors, strict=True)
    ]
    with transaction.atomic():
        MemoryItem.objects.bulk_create(rows, batch_size=500)
        revisions_record_created(
            items=rows, actor=actor, changed_by=changed_by, reason=reason, created_at=now
        )
        for row in rows:
            if row.supersedes is not None:
                memory_archive_superseded(
                    old_id=row.supersedes.pk, new=row, actor=actor, changed_by=changed_by
                )
        events.memory_changed_send(
            action=events.CREATED, owner=owner, changed_by=changed_by, actor=actor, items=rows,
            detail={"count": len(rows)},
        )  # fmt: skip
    return rows


def memory_archive_superseded(
    *,
    old_id: int,
    new: MemoryItem,
    actor: str,
    changed_by: User | None = None,
    reason: str = "",
    only_live: bool = False,
) -> MemoryItem | None:
    """Archive the memory that `new` replaces (valid_to set, one revision saying why).

    With `only_live` (a proposal accepted after it was made), an item that is no longer
    active, or forgotten, is left alone. Returns the archived item, if any."""

    def archive(old: MemoryItem) -> Change | None:
        if only_live and (old.status != Status.ACTIVE or old.is_forgotten):
            return None
        old.status = Status.ARCHIVED
        old.valid_to = old.valid_to or timezone.now()
        return Change(("status", "valid_to"), reason or f"superseded by {new.tag}")

    archived = memories_change(
        items=MemoryItem.objects.filter(pk=old_id),
        apply=archive,
        actor=actor,
        changed_by=changed_by,
    )
    return archived[0] if archived else None


def memory_update(
    *,
    item: MemoryItem,
    text: str,
    actor: str,
    changed_by: User | None = None,
    reason: str = "",
) -> MemoryItem:
    """Change what a memory says; re-embeds it. An unchanged text writes nothing."""
    actor = clean_actor(actor)
    text = clean_text(text)
    if item.is_redacted:
        raise ValueError(f"{item.tag} was forgotten for good and cannot be edited.")
    vector = embed_texts([text])[0]

    def edit(locked: MemoryItem) -> Change | None:
        if locked.text == text:
            return None
        locked.text = text
        locked.embedding = vector
        locked.embedding_model = configured_model_name()
        return Change(("text", "embedding", "embedding_model"), reason or "edited")

    def audit(locked: MemoryItem) -> None:
        events.memory_changed_send(
            action=events.EDITED, owner=locked.owner, changed_by=changed_by, actor=actor,
            items=[locked], detail={"count": 1},
        )  # fmt: skip

    locked = memory_change(item=item, apply=edit, actor=actor, changed_by=changed_by, after=audit)
    locked.refresh_from_db(fields=["search"])
    return locked


def memory_set_status(
    *,
    item: MemoryItem,
    status: str,
    actor: str,
    changed_by: User | None = None,
    reason: str = "",
) -> MemoryItem:
    """Archive, re-activate, or accept/reject a proposed memory. Forgotten ones need unforget."""
    actor = clean_actor(actor)
    status = clean_choice(status, "status", Status)

    def set_status(locked: MemoryItem) -> Change | None:
        if locked.is_forgotten:
            raise ValueError(f"{locked.tag} is forgotten; undo the forget first.")
        if locked.status == status:
            return None
        old_status, locked.status = locked.status, status
        return Change(("status",), reason or f"{old_status} → {status}")

    return memory_change(item=item, apply=set_status, actor=actor, changed_by=changed_by)


def memory_pin(
    *,
    item: MemoryItem,
    actor: str,
    pinned: bool = True,
    changed_by: User | None = None,
    reason: str = "",
) -> MemoryItem:
    """Pin (or unpin) a memory: pinned ones are preferred by retrieval."""
    actor = clean_actor(actor)

    def pin(locked: MemoryItem) -> Change | None:
        if locked.pinned == pinned:
            return None
        locked.pinned = pinned
        return Change(("pinned",), reason or ("pinned" if pinned else "unpinned"))

    def audit(locked: MemoryItem) -> None:
        events.memory_changed_send(
            action=events.PINNED if pinned else events.UNPINNED, owner=locked.owner,
            changed_by=changed_by, actor=actor, items=[locked], detail={"count": 1},
        )  # fmt: skip

    return memory_change(item=item, apply=pin, actor=actor, changed_by=changed_by, after=audit)


def memory_mark_used(*, items: Iterable[MemoryItem]) -> int:
    """Record that these memories were put in front of the model (bookkeeping, no revision)."""
    ids = {item.pk for item in items}
    if not ids:
        return 0
    return MemoryItem.objects.filter(pk__in=ids).update(
        last_used_at=timezone.now(), use_count=F("use_count") + 1
    )
